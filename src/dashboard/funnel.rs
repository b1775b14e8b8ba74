//! The sales side's figures: lead volume per day, lead quality, and volume, quality and cost
//! per traffic source and campaign.

use super::charts::{daily_bars, BarChart};
use crate::report::{group, pct};
use crate::store::FunnelRow;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a campaign cost, from `[campaigns.<utm_campaign>]` in `splitmark.toml`.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignCost {
    /// Total spend.
    pub cost: f64,
    /// Shown before amounts (`EUR`), if set.
    pub currency: Option<String>,
}

/// Reads `[campaigns.<name>] cost = …, currency = "…"`; errors name the campaign.
pub fn campaign_costs(table: &toml::Table) -> Result<BTreeMap<String, CampaignCost>, String> {
    let mut out = BTreeMap::new();
    for (name, v) in table {
        let t = v
            .as_table()
            .ok_or_else(|| format!("[campaigns.{name}] must be a table"))?;
        let cost = match t.get("cost") {
            Some(toml::Value::Integer(i)) => *i as f64,
            Some(toml::Value::Float(f)) => *f,
            Some(_) => return Err(format!("[campaigns.{name}] cost must be a number")),
            None => return Err(format!("[campaigns.{name}] needs cost = <number>")),
        };
        if !cost.is_finite() || cost < 0.0 {
            return Err(format!("[campaigns.{name}] cost must be zero or more"));
        }
        let currency = match t.get("currency") {
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(format!("[campaigns.{name}] currency must be a string")),
            None => None,
        };
        if let Some(k) = t.keys().find(|k| *k != "cost" && *k != "currency") {
            return Err(format!("[campaigns.{name}] has an unknown key {k:?}"));
        }
        out.insert(name.clone(), CampaignCost { cost, currency });
    }
    Ok(out)
}

/// Leads and their quality from one source or campaign.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Line {
    /// The `utm_source` or `utm_campaign` value, `(none)` without one.
    pub name: String,
    /// Leads.
    pub leads: u64,
    /// Qualified leads.
    pub qualified: u64,
    /// Qualified share of the leads.
    pub qualified_share: String,
    /// Spend, where configured.
    pub cost: Option<String>,
    /// Spend per lead.
    pub cost_per_lead: Option<String>,
    /// Spend per qualified lead.
    pub cost_per_qualified: Option<String>,
}

/// Everything the funnel section shows.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Funnel {
    /// All non-spam leads.
    pub leads: String,
    /// Qualified leads.
    pub qualified: String,
    /// Qualified share of all leads.
    pub qualified_share: String,
    /// Leads per day, last 30 days.
    pub chart: Option<BarChart>,
    /// Per `utm_source`, most leads first.
    pub sources: Vec<Line>,
    /// Per `utm_campaign`, most leads first, with cost where configured.
    pub campaigns: Vec<Line>,
    /// Unconfirmed and confirmed leads of each double opt-in form (filled by the caller).
    pub confirmations: Vec<crate::store::ConfirmationCounts>,
    /// Time to first contact per form, source and variant (set by the caller from
    /// [`crate::lifecycle::speed::by_group`]).
    pub speed: Vec<crate::lifecycle::speed::SpeedLine>,
}

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        pct(part as f64 / whole as f64)
    }
}

fn money(amount: f64, c: &CampaignCost) -> String {
    match &c.currency {
        Some(cur) => format!("{cur} {amount:.2}"),
        None => format!("{amount:.2}"),
    }
}

fn per(c: &CampaignCost, n: u64) -> Option<String> {
    (n > 0).then(|| money(c.cost / n as f64, c))
}

fn lines(
    totals: BTreeMap<Option<String>, (u64, u64)>,
    costs: Option<&BTreeMap<String, CampaignCost>>,
) -> Vec<Line> {
    let mut out: Vec<Line> = totals
        .into_iter()
        .map(|(name, (leads, qualified))| {
            let cost = costs.and_then(|c| c.get(name.as_deref()?));
            Line {
                name: name.unwrap_or_else(|| "(none)".into()),
                leads,
                qualified,
                qualified_share: share(qualified, leads),
                cost: cost.map(|c| money(c.cost, c)),
                cost_per_lead: cost.and_then(|c| per(c, leads)),
                cost_per_qualified: cost.and_then(|c| per(c, qualified)),
            }
        })
        .collect();
    out.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Aggregates the store's funnel rows; campaigns with a cost but no leads are listed too.
pub fn build(rows: &[FunnelRow], costs: &BTreeMap<String, CampaignCost>) -> Funnel {
    let mut days: BTreeMap<NaiveDate, (u64, u64)> = BTreeMap::new();
    let mut sources: BTreeMap<Option<String>, (u64, u64)> = BTreeMap::new();
    let mut campaigns: BTreeMap<Option<String>, (u64, u64)> = BTreeMap::new();
    for name in costs.keys() {
        campaigns.entry(Some(name.clone())).or_default();
    }
    for r in rows {
        for (map, key) in [
            (&mut sources, r.utm_source.clone()),
            (&mut campaigns, r.utm_campaign.clone()),
        ] {
            let e = map.entry(key).or_default();
            e.0 += r.leads;
            e.1 += r.qualified;
        }
        let e = days.entry(r.day).or_default();
        e.0 += r.leads;
        e.1 += r.qualified;
    }
    let leads: u64 = days.values().map(|d| d.0).sum();
    let qualified: u64 = days.values().map(|d| d.1).sum();
    let per_day: Vec<(NaiveDate, u64, u64)> =
        days.into_iter().map(|(d, (l, q))| (d, l, q)).collect();
    Funnel {
        leads: group(leads),
        qualified: group(qualified),
        qualified_share: share(qualified, leads),
        chart: daily_bars(&per_day, 30),
        sources: lines(sources, None),
        campaigns: lines(campaigns, Some(costs)),
        confirmations: Vec::new(),
        speed: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        day: &str,
        source: Option<&str>,
        campaign: Option<&str>,
        leads: u64,
        qualified: u64,
    ) -> FunnelRow {
        FunnelRow {
            day: day.parse().unwrap(),
            utm_source: source.map(Into::into),
            utm_campaign: campaign.map(Into::into),
            leads,
            qualified,
        }
    }

    #[test]
    fn costs_per_lead_and_per_qualified_lead() {
        let costs: toml::Table =
            toml::from_str("[spring]\ncost = 1200\ncurrency = \"EUR\"\n[idle]\ncost = 50.5\n")
                .unwrap();
        let costs = campaign_costs(&costs).unwrap();
        let rows = [
            row("2026-03-01", Some("google"), Some("spring"), 30, 6),
            row("2026-03-02", Some("linkedin"), Some("spring"), 10, 4),
            row("2026-03-02", None, None, 5, 0),
        ];
        let f = build(&rows, &costs);
        assert_eq!((f.leads.as_str(), f.qualified.as_str()), ("45", "10"));
        assert_eq!(f.qualified_share, "22.2%");
        let spring = f.campaigns.iter().find(|c| c.name == "spring").unwrap();
        assert_eq!(spring.leads, 40);
        assert_eq!(spring.cost.as_deref(), Some("EUR 1200.00"));
        assert_eq!(spring.cost_per_lead.as_deref(), Some("EUR 30.00"));
        assert_eq!(spring.cost_per_qualified.as_deref(), Some("EUR 120.00"));
        let idle = f.campaigns.iter().find(|c| c.name == "idle").unwrap();
        assert_eq!((idle.leads, idle.cost_per_lead.clone()), (0, None));
        assert_eq!(idle.cost.as_deref(), Some("50.50"));
        let none = f.campaigns.iter().find(|c| c.name == "(none)").unwrap();
        assert_eq!((none.leads, none.cost.clone()), (5, None));
        assert_eq!(f.sources[0].name, "google");
        assert_eq!(f.sources[0].qualified_share, "20.0%");
        assert_eq!(f.chart.unwrap().bars.len(), 2);
    }

    #[test]
    fn bad_cost_tables_are_named() {
        for (src, needle) in [
            ("[x]\ncost = \"a lot\"\n", "cost must be a number"),
            ("[x]\ncurrency = \"EUR\"\n", "needs cost"),
            ("[x]\ncost = -1\n", "zero or more"),
            ("[x]\ncost = 1\ncots = 2\n", "unknown key"),
            ("x = 1\n", "must be a table"),
        ] {
            let t: toml::Table = toml::from_str(src).unwrap();
            let err = campaign_costs(&t).unwrap_err();
            assert!(err.contains(needle) && err.contains("campaigns.x"), "{err}");
        }
    }

    #[test]
    fn an_empty_store_has_no_chart() {
        let f = build(&[], &BTreeMap::new());
        assert_eq!(f.qualified_share, "—");
        assert!(f.chart.is_none() && f.sources.is_empty() && f.campaigns.is_empty());
    }
}
