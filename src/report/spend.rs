//! Ad spend, from a CSV file the site keeps next to its content:
//!
//! ```toml
//! [report]
//! spend = "data/spend.csv"
//! ```
//!
//! ```csv
//! date,source,campaign,amount,currency
//! 2026-03-01,google,spring,120.50,EUR
//! ```
//!
//! A file rather than an admin API: ad platforms export daily spend as CSV, a file is
//! reviewed and versioned with the site, needs no credentials to write, and `splitmark
//! report` reads it offline. One row per day, source and campaign (either may be empty when
//! the platform does not say); amounts in major units, zero or more, with an ISO 4217
//! code. Errors name `file:line`. The older `[campaigns.<utm_campaign>] cost` entries count
//! as spend of their campaign without a source.

use super::super::dashboard::funnel::CampaignCost;
use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// `[report]` in `splitmark.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// The spend file, relative to the site root.
    #[serde(default, deserialize_with = "spend_path")]
    pub spend: Option<String>,
}

fn spend_path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    let p = Path::new(&s);
    let inside = p.is_relative()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside || p.extension().is_none_or(|e| e != "csv") {
        return Err(serde::de::Error::custom(format!(
            "spend must be a relative path to a .csv file inside the site, like \"data/spend.csv\" (got {s:?})"
        )));
    }
    Ok(Some(s))
}

/// Money spent on one day, source and campaign.
#[derive(Clone, Debug, PartialEq)]
pub struct SpendRow {
    /// The day (`None` for `[campaigns]` totals).
    pub date: Option<NaiveDate>,
    /// `utm_source` it paid for, if known.
    pub source: Option<String>,
    /// `utm_campaign` it paid for, if known.
    pub campaign: Option<String>,
    /// Major units of `currency`.
    pub amount: f64,
    /// ISO 4217 code (`None` for a `[campaigns]` cost without one).
    pub currency: Option<String>,
}

const COLUMNS: [&str; 5] = ["date", "source", "campaign", "amount", "currency"];

/// Parses a spend file's text; `name` is how errors call the file.
pub fn parse(name: &str, text: &str) -> Result<Vec<SpendRow>, String> {
    // Spreadsheets save UTF-8 CSV with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("{name}:1: {e}"))?
        .clone();
    if headers.iter().collect::<Vec<_>>() != COLUMNS {
        return Err(format!(
            "{name}:1: the header must be {} (got {})",
            COLUMNS.join(","),
            headers.iter().collect::<Vec<_>>().join(",")
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            format!("{name}:{line}: {e}")
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let at = |msg: String| format!("{name}:{line}: {msg}");
        let field = |i: usize| record.get(i).unwrap_or("");
        let date = NaiveDate::parse_from_str(field(0), "%Y-%m-%d")
            .map_err(|_| at(format!("date {:?} is not YYYY-MM-DD", field(0))))?;
        let amount: f64 = field(3)
            .parse()
            .ok()
            .filter(|a: &f64| a.is_finite() && *a >= 0.0)
            .ok_or_else(|| {
                at(format!(
                    "amount {:?} is not a number of 0 or more",
                    field(3)
                ))
            })?;
        let currency = field(4);
        if !(currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(at(format!(
                "currency {currency:?} is not an ISO 4217 code like EUR"
            )));
        }
        if field(1).is_empty() && field(2).is_empty() {
            return Err(at("a row needs a source, a campaign or both".into()));
        }
        let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        rows.push(SpendRow {
            date: Some(date),
            source: text(field(1)),
            campaign: text(field(2)),
            amount,
            currency: Some(currency.to_owned()),
        });
    }
    Ok(rows)
}

/// Every spend the site records: the file named in `[report] spend` (under `root`) and the
/// `[campaigns]` costs. A campaign with spend in both is an error (it would count twice).
pub fn load(
    root: &Path,
    config: &ReportConfig,
    campaigns: &BTreeMap<String, CampaignCost>,
) -> Result<Vec<SpendRow>, String> {
    let mut rows = match &config.spend {
        Some(rel) => {
            let text = std::fs::read_to_string(root.join(rel))
                .map_err(|e| format!("{rel}: cannot read the spend file ([report] spend): {e}"))?;
            parse(rel, &text)?
        }
        None => Vec::new(),
    };
    for (name, c) in campaigns {
        if rows.iter().any(|r| r.campaign.as_ref() == Some(name)) {
            return Err(format!(
                "campaign {name:?} has spend in both [campaigns.{name}] and {}: keep one",
                config.spend.as_deref().unwrap_or("the spend file")
            ));
        }
        rows.push(SpendRow {
            date: None,
            source: None,
            campaign: Some(name.clone()),
            amount: c.cost,
            currency: c.currency.clone(),
        });
    }
    Ok(rows)
}

/// Spend per campaign in the shape of `[campaigns]` costs (for the leads table's cost
/// columns); campaigns paid in several currencies are left out.
pub fn campaign_totals(rows: &[SpendRow]) -> BTreeMap<String, CampaignCost> {
    let mut by: BTreeMap<String, BTreeMap<Option<String>, f64>> = BTreeMap::new();
    for r in rows {
        if let Some(c) = &r.campaign {
            *by.entry(c.clone())
                .or_default()
                .entry(r.currency.clone())
                .or_default() += r.amount;
        }
    }
    by.into_iter()
        .filter(|(_, m)| m.len() == 1)
        .filter_map(|(name, m)| {
            let (currency, cost) = m.into_iter().next()?;
            Some((name, CampaignCost { cost, currency }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_errors_name_the_line() {
        let ok = parse(
            "spend.csv",
            "date,source,campaign,amount,currency\n2026-03-01,google,spring,120.50,EUR\n2026-03-02,,spring,3,EUR\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].source, None);
        assert_eq!(ok[0].amount, 120.5);
        let bom = "\u{feff}date,source,campaign,amount,currency\n2026-03-01,g,c,1,EUR\n";
        assert_eq!(parse("spend.csv", bom).unwrap().len(), 1);
        for (text, want) in [
            ("date,source,amount\n", "spend.csv:1: the header must be"),
            (
                "date,source,campaign,amount,currency\n2026-03-01,g,c,1,EUR\n03/02/2026,g,c,1,EUR\n",
                "spend.csv:3: date \"03/02/2026\" is not YYYY-MM-DD",
            ),
            (
                "date,source,campaign,amount,currency\n2026-03-01,g,c,-4,EUR\n",
                "spend.csv:2: amount \"-4\" is not a number of 0 or more",
            ),
            (
                "date,source,campaign,amount,currency\n2026-03-01,g,c,4,euro\n",
                "spend.csv:2: currency \"euro\" is not an ISO 4217 code",
            ),
            (
                "date,source,campaign,amount,currency\n2026-03-01,g,c\n",
                "spend.csv:2: ",
            ),
            (
                "date,source,campaign,amount,currency\n2026-03-01,,,4,EUR\n",
                "spend.csv:2: a row needs a source, a campaign or both",
            ),
        ] {
            let err = parse("spend.csv", text).unwrap_err();
            assert!(err.starts_with(want), "{err}");
        }
    }

    #[test]
    fn the_path_is_checked_where_the_config_names_it() {
        for bad in ["/etc/spend.csv", "../spend.csv", "data/spend.txt"] {
            let err = toml::from_str::<ReportConfig>(&format!("spend = {bad:?}\n")).unwrap_err();
            assert!(
                err.to_string().contains("relative path to a .csv file"),
                "{err}"
            );
        }
        assert!(toml::from_str::<ReportConfig>("spent = \"a.csv\"\n").is_err());
        let ok: ReportConfig = toml::from_str("spend = \"data/spend.csv\"\n").unwrap();
        assert_eq!(ok.spend.as_deref(), Some("data/spend.csv"));
    }

    #[test]
    fn a_campaign_may_not_be_paid_twice() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("spend.csv"),
            "date,source,campaign,amount,currency\n2026-03-01,g,spring,1,EUR\n",
        )
        .unwrap();
        let config = ReportConfig {
            spend: Some("spend.csv".into()),
        };
        let mut campaigns = BTreeMap::new();
        campaigns.insert(
            "spring".to_owned(),
            CampaignCost {
                cost: 5.0,
                currency: None,
            },
        );
        let err = load(dir.path(), &config, &campaigns).unwrap_err();
        assert!(
            err.contains("both [campaigns.spring] and spend.csv"),
            "{err}"
        );
        let missing = ReportConfig {
            spend: Some("nope.csv".into()),
        };
        let err = load(dir.path(), &missing, &BTreeMap::new()).unwrap_err();
        assert!(err.starts_with("nope.csv: cannot read"), "{err}");
    }
}
