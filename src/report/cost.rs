//! Cost per lead, per qualified lead, per opportunity and per customer for each UTM source
//! and campaign, and revenue with its return on ad spend (ROAS = revenue / spend) per
//! campaign. Pure: the store's outcome rows and the spend rows in, figures out.
//!
//! Spend is all-time, like the lead counts it is divided by. A line whose spend or revenue
//! comes in several currencies shows no cost or ROAS rather than a sum of unlike amounts.

use super::money;
use super::spend::SpendRow;
use crate::store::SourceOutcomeRow;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Money in one currency, or the reason there is no single amount.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Amount {
    /// An amount in major units of a currency.
    One(f64, Option<String>),
    /// Several currencies: not summed.
    Mixed(Vec<String>),
}

impl Amount {
    fn single(&self) -> Option<(f64, Option<&str>)> {
        match self {
            Amount::One(a, c) => Some((*a, c.as_deref())),
            Amount::Mixed(_) => None,
        }
    }

    /// `EUR 1,200.00`, or `mixed (EUR, USD)`.
    pub fn display(&self) -> String {
        match self {
            Amount::One(a, c) => money::format(*a, c.as_deref()),
            Amount::Mixed(cs) => format!("mixed ({})", cs.join(", ")),
        }
    }
}

/// Sums of amounts per currency.
#[derive(Default)]
struct Purse(BTreeMap<Option<String>, f64>);

impl Purse {
    fn add(&mut self, currency: Option<String>, amount: f64) {
        *self.0.entry(currency).or_default() += amount;
    }

    fn amount(&self) -> Option<Amount> {
        match self.0.len() {
            0 => None,
            1 => self
                .0
                .iter()
                .next()
                .map(|(c, a)| Amount::One(*a, c.clone())),
            _ => Some(Amount::Mixed(
                self.0
                    .keys()
                    .map(|c| c.clone().unwrap_or_else(|| "none".into()))
                    .collect(),
            )),
        }
    }
}

/// One source's or campaign's leads, what became of them and what they cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostLine {
    /// The `utm_source` or `utm_campaign`, `(none)` without one.
    pub name: String,
    /// Leads (not spam).
    pub leads: u64,
    /// Marketing-qualified leads.
    pub qualified: u64,
    /// Leads that reached `opportunity`.
    pub opportunities: u64,
    /// Leads that reached `customer`.
    pub customers: u64,
    /// Spend, when recorded.
    pub spend: Option<Amount>,
    /// Spend per lead, per qualified lead, per opportunity, per customer (`None` without
    /// spend in one currency or without any of them).
    pub cost_per: [Option<f64>; 4],
    /// The customers' values, when recorded.
    pub revenue: Option<Amount>,
    /// Revenue / spend, when both are in the same currency.
    pub roas: Option<f64>,
}

impl CostLine {
    fn currency(&self) -> Option<&str> {
        self.spend
            .as_ref()
            .and_then(Amount::single)
            .and_then(|s| s.1)
    }

    /// The line as display cells: leads, qualified, opportunities, customers, spend, the
    /// four costs, revenue, ROAS.
    pub fn cells(&self) -> Vec<String> {
        let dash = || "—".to_owned();
        let mut out = vec![
            super::group(self.leads),
            super::group(self.qualified),
            super::group(self.opportunities),
            super::group(self.customers),
            self.spend.as_ref().map_or_else(dash, Amount::display),
        ];
        for c in self.cost_per {
            out.push(c.map_or_else(dash, |c| money::format(c, self.currency())));
        }
        out.push(self.revenue.as_ref().map_or_else(dash, Amount::display));
        out.push(self.roas.map_or_else(dash, |r| format!("{r:.2}x")));
        out
    }
}

/// Column titles of [`CostLine::cells`].
pub const COLUMNS: [&str; 11] = [
    "leads",
    "qualified",
    "opps",
    "customers",
    "spend",
    "per lead",
    "per qualified",
    "per opp",
    "per customer",
    "revenue",
    "ROAS",
];

/// Cost per source and per campaign.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostReport {
    /// Per `utm_source`, most leads first.
    pub sources: Vec<CostLine>,
    /// Per `utm_campaign`, most leads first; revenue and ROAS here.
    pub campaigns: Vec<CostLine>,
    /// Whether any spend is recorded at all.
    pub has_spend: bool,
}

#[derive(Default)]
struct Acc {
    counts: [u64; 4],
    spend: Purse,
    revenue: Purse,
}

fn line(name: Option<String>, acc: &Acc, with_revenue: bool) -> CostLine {
    let spend = acc.spend.amount();
    let single = spend.as_ref().and_then(Amount::single);
    let cost_per = acc
        .counts
        .map(|n| single.filter(|_| n > 0).map(|(s, _)| s / n as f64));
    let revenue = with_revenue.then(|| acc.revenue.amount()).flatten();
    let roas = match (single, revenue.as_ref().and_then(Amount::single)) {
        (Some((s, sc)), Some((r, rc))) if sc == rc && s > 0.0 => Some(r / s),
        _ => None,
    };
    CostLine {
        name: name.unwrap_or_else(|| "(none)".into()),
        leads: acc.counts[0],
        qualified: acc.counts[1],
        opportunities: acc.counts[2],
        customers: acc.counts[3],
        spend,
        cost_per,
        revenue,
        roas,
    }
}

fn lines(map: BTreeMap<Option<String>, Acc>, with_revenue: bool) -> Vec<CostLine> {
    let mut out: Vec<CostLine> = map
        .into_iter()
        .map(|(name, acc)| line(name, &acc, with_revenue))
        .collect();
    out.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Cost per step for each source and campaign. Spend without a source counts only for its
/// campaign, spend without a campaign only for its source.
pub fn build(rows: &[SourceOutcomeRow], spend: &[SpendRow]) -> CostReport {
    let mut sources: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    let mut campaigns: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    for r in rows {
        for (map, key) in [
            (&mut sources, r.utm_source.clone()),
            (&mut campaigns, r.utm_campaign.clone()),
        ] {
            let acc = map.entry(key).or_default();
            for (slot, n) in
                acc.counts
                    .iter_mut()
                    .zip([r.leads, r.qualified, r.opportunities, r.customers])
            {
                *slot += n;
            }
            if r.revenue_minor != 0 {
                let scale = money::minor_per_major(r.currency.as_deref());
                acc.revenue
                    .add(r.currency.clone(), r.revenue_minor as f64 / scale);
            }
        }
    }
    for s in spend {
        if s.source.is_some() {
            sources
                .entry(s.source.clone())
                .or_default()
                .spend
                .add(s.currency.clone(), s.amount);
        }
        if s.campaign.is_some() {
            campaigns
                .entry(s.campaign.clone())
                .or_default()
                .spend
                .add(s.currency.clone(), s.amount);
        }
    }
    CostReport {
        sources: lines(sources, false),
        campaigns: lines(campaigns, true),
        has_spend: !spend.is_empty(),
    }
}

/// The cost tables for `splitmark report`, from the site's spend and the store; `None` when
/// the site records no spend.
pub async fn load(
    root: &std::path::Path,
    store: &dyn crate::store::Store,
) -> anyhow::Result<Option<String>> {
    if !root.join(crate::config::CONFIG_FILE).exists() {
        return Ok(None);
    }
    let config = crate::config::Config::load(root).map_err(|d| anyhow::anyhow!("{d}"))?;
    let campaigns = crate::dashboard::funnel::campaign_costs(&config.campaigns)
        .map_err(|e| anyhow::anyhow!("{}: {e}", crate::config::CONFIG_FILE))?;
    let spend = super::spend::load(root, &config.report, &campaigns).map_err(anyhow::Error::msg)?;
    if spend.is_empty() {
        return Ok(None);
    }
    let rows = store.source_outcomes().await?;
    Ok(Some(render(&build(&rows, &spend))))
}

/// The cost report as aligned terminal tables.
pub fn render(c: &CostReport) -> String {
    let mut s = String::new();
    for (title, lines) in [("utm_source", &c.sources), ("utm_campaign", &c.campaigns)] {
        let cells: Vec<(String, Vec<String>)> =
            lines.iter().map(|l| (l.name.clone(), l.cells())).collect();
        let name_w = cells
            .iter()
            .map(|c| c.0.chars().count())
            .chain([title.len()])
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, h)| {
                cells
                    .iter()
                    .map(|c| c.1[i].chars().count())
                    .chain([h.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        s.push_str(&format!("{title:<name_w$}"));
        for (h, w) in COLUMNS.iter().zip(&widths) {
            s.push_str(&format!("  {h:>w$}"));
        }
        s.push('\n');
        for (name, row) in &cells {
            s.push_str(&format!("{name:<name_w$}"));
            for (c, w) in row.iter().zip(&widths) {
                s.push_str(&format!("  {c:>w$}"));
            }
            s.push('\n');
        }
        s.push('\n');
    }
    let currencies: BTreeSet<&str> = c.campaigns.iter().filter_map(|l| l.currency()).collect();
    if currencies.len() > 1 {
        s.push_str("Campaigns are paid in several currencies: compare costs within one.\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        source: &str,
        campaign: &str,
        counts: [u64; 4],
        revenue: (i64, &str),
    ) -> SourceOutcomeRow {
        SourceOutcomeRow {
            utm_source: Some(source.into()),
            utm_campaign: Some(campaign.into()),
            currency: (revenue.0 != 0).then(|| revenue.1.into()),
            leads: counts[0],
            qualified: counts[1],
            opportunities: counts[2],
            customers: counts[3],
            revenue_minor: revenue.0,
        }
    }

    fn spend(source: Option<&str>, campaign: Option<&str>, amount: f64, cur: &str) -> SpendRow {
        SpendRow {
            date: None,
            source: source.map(Into::into),
            campaign: campaign.map(Into::into),
            amount,
            currency: Some(cur.into()),
        }
    }

    #[test]
    fn cost_per_step_and_roas() {
        let rows = [
            row("google", "spring", [40, 20, 8, 4], (400_000, "EUR")),
            row("linkedin", "spring", [10, 5, 2, 1], (0, "EUR")),
            row("linkedin", "autumn", [5, 1, 0, 0], (0, "EUR")),
        ];
        let spend = [
            spend(Some("google"), Some("spring"), 800.0, "EUR"),
            spend(Some("linkedin"), Some("spring"), 200.0, "EUR"),
            spend(None, Some("autumn"), 50.0, "USD"),
        ];
        let c = build(&rows, &spend);
        let spring = c.campaigns.iter().find(|l| l.name == "spring").unwrap();
        assert_eq!(spring.spend, Some(Amount::One(1000.0, Some("EUR".into()))));
        assert_eq!(
            spring.cost_per,
            [Some(20.0), Some(40.0), Some(100.0), Some(200.0)]
        );
        assert_eq!(
            spring.revenue,
            Some(Amount::One(4000.0, Some("EUR".into())))
        );
        assert_eq!(spring.roas, Some(4.0));
        let autumn = c.campaigns.iter().find(|l| l.name == "autumn").unwrap();
        assert_eq!(autumn.cost_per, [Some(10.0), Some(50.0), None, None]);
        assert_eq!(autumn.roas, None, "no revenue");
        let linkedin = c.sources.iter().find(|l| l.name == "linkedin").unwrap();
        // The autumn spend has no source, so linkedin's spend is its spring spend only.
        assert_eq!(linkedin.cost_per[0], Some(200.0 / 15.0));
        assert_eq!(linkedin.revenue, None, "revenue is shown per campaign");
        assert_eq!(
            spring.cells()[4..].to_vec(),
            [
                "EUR 1,000.00",
                "EUR 20.00",
                "EUR 40.00",
                "EUR 100.00",
                "EUR 200.00",
                "EUR 4,000.00",
                "4.00x"
            ]
        );
    }

    #[test]
    fn several_currencies_are_not_summed() {
        let rows = [row("google", "spring", [10, 0, 0, 1], (1_000, "USD"))];
        let spend = [
            spend(Some("google"), Some("spring"), 10.0, "EUR"),
            spend(Some("google"), Some("spring"), 10.0, "USD"),
        ];
        let c = build(&rows, &spend);
        let spring = &c.campaigns[0];
        assert_eq!(
            spring.spend,
            Some(Amount::Mixed(vec!["EUR".into(), "USD".into()]))
        );
        assert_eq!(spring.cost_per, [None; 4]);
        assert_eq!(spring.roas, None);
        assert_eq!(spring.cells()[4], "mixed (EUR, USD)");
        let one = build(&rows, &spend[..1]);
        assert_eq!(one.campaigns[0].roas, None, "EUR spend, USD revenue");
    }
}
