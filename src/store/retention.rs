//! Retention and export paging: the types behind [`Store::purge_expired`] and
//! [`Store::lead_page`].
//!
//! # What retention removes
//!
//! * **Leads** older than their form's window (`[forms.<id>] retain_days`, else
//!   `[capture] retention_days`), with every delivery row of those leads: a delivery's
//!   payload is a copy of the lead.
//! * **Exposures** of visitors not seen within the exposure window. An exposure row holds a
//!   visitor id (a first-party cookie value: pseudonymous personal data) and the page it was
//!   seen on, so the row itself is the personal data; there is nothing useful left to keep once
//!   the id is dropped. A row is removed when its *last* activity (`last_ms`) is older than the
//!   window, so every visitor active inside the window keeps its row, its sticky variant and its
//!   views: the report's counts for the retained period are unchanged, and only visitors who
//!   left before it drop out of visitors and conversions alike (the conversion rate stays
//!   unbiased, since their leads are gone too). The exposure window is `[capture]
//!   retention_days`, or, without it, the longest `retain_days` of any form.

use super::{FilterValue, Lead, LeadQuery};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// How long leads and exposures are kept. Built from `splitmark.toml` by the capture server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// `[capture] retention_days`: leads of every form without its own window.
    pub default_days: Option<u32>,
    /// `[forms.<id>] retain_days`, by form id.
    pub forms: BTreeMap<String, u32>,
}

/// Which leads a purge rule covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeadScope {
    /// The leads of one form.
    Form(String),
    /// The leads of every form except these (those have their own rule).
    AllExcept(Vec<String>),
}

/// One purge rule: leads of `scope` received before `cutoff_ms` go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadRule {
    /// The leads it covers.
    pub scope: LeadScope,
    /// Milliseconds since the epoch; older leads are purged.
    pub cutoff_ms: i64,
}

fn cutoff(now: DateTime<Utc>, days: u32) -> i64 {
    (now - Duration::days(i64::from(days))).timestamp_millis()
}

impl RetentionPolicy {
    /// Whether anything is ever purged.
    pub fn is_empty(&self) -> bool {
        self.default_days.is_none() && self.forms.is_empty()
    }

    /// The lead rules at `now`: one per form with its own window, then one for all others.
    pub fn lead_rules(&self, now: DateTime<Utc>) -> Vec<LeadRule> {
        let mut rules: Vec<LeadRule> = self
            .forms
            .iter()
            .map(|(form, days)| LeadRule {
                scope: LeadScope::Form(form.clone()),
                cutoff_ms: cutoff(now, *days),
            })
            .collect();
        if let Some(days) = self.default_days {
            rules.push(LeadRule {
                scope: LeadScope::AllExcept(self.forms.keys().cloned().collect()),
                cutoff_ms: cutoff(now, days),
            });
        }
        rules
    }

    /// Exposures last active before this are purged (see the module documentation).
    pub fn exposure_cutoff_ms(&self, now: DateTime<Utc>) -> Option<i64> {
        self.default_days
            .or_else(|| self.forms.values().copied().max())
            .map(|days| cutoff(now, days))
    }
}

/// What one purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// Leads deleted.
    pub leads: u64,
    /// Exposure rows (visitor ids) deleted.
    pub exposures: u64,
    /// Delivery rows of the deleted leads.
    pub deliveries: u64,
}

/// Leads to page through in time order, oldest first (the CLI export).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageQuery {
    /// Form, experiment, variant, qualified and spam filters (`limit`/`offset` are ignored).
    pub filter: LeadQuery,
    /// Only leads received at or after this (milliseconds since the epoch).
    pub since_ms: Option<i64>,
    /// Only leads received before this (milliseconds since the epoch).
    pub until_ms: Option<i64>,
}

/// Where the next page starts: after the lead with this receive time and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageCursor {
    /// The last lead's receive time in milliseconds.
    pub received_ms: i64,
    /// The last lead's id.
    pub id: String,
}

/// A parameter of a [`PageQuery`]'s WHERE clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageValue {
    /// A filter's value.
    Filter(FilterValue),
    /// A time in milliseconds.
    Int(i64),
    /// A lead id.
    Text(String),
}

impl PageQuery {
    /// The WHERE clause of the filters, the time range and the cursor, with numbered
    /// placeholders `{mark}1`, … as [`LeadQuery::where_clause`] makes them, and the values.
    pub fn where_clause(&self, mark: char, after: Option<&PageCursor>) -> (String, Vec<PageValue>) {
        let (w, filters) = self.filter.where_clause(mark);
        let mut params: Vec<PageValue> = filters.into_iter().map(PageValue::Filter).collect();
        let mut clauses = Vec::new();
        if !w.is_empty() {
            clauses.push(format!("({})", &w["WHERE ".len()..]));
        }
        if let Some(since) = self.since_ms {
            params.push(PageValue::Int(since));
            clauses.push(format!("received_ms >= {mark}{}", params.len()));
        }
        if let Some(until) = self.until_ms {
            params.push(PageValue::Int(until));
            clauses.push(format!("received_ms < {mark}{}", params.len()));
        }
        if let Some(c) = after {
            params.push(PageValue::Int(c.received_ms));
            params.push(PageValue::Text(c.id.clone()));
            let n = params.len();
            clauses.push(format!("(received_ms, id) > ({mark}{}, {mark}{n})", n - 1));
        }
        let w = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        (w, params)
    }
}

impl PageCursor {
    /// The cursor after `lead`.
    pub fn after(lead: &Lead) -> PageCursor {
        PageCursor {
            received_ms: lead.lead.received_at.timestamp_millis(),
            id: lead.id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_window_overrides_the_default_and_exposures_follow_the_default() {
        let now = DateTime::from_timestamp(100 * 86_400, 0).unwrap();
        let p = RetentionPolicy {
            default_days: Some(30),
            forms: [("demo".to_owned(), 7)].into(),
        };
        let rules = p.lead_rules(now);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].scope, LeadScope::Form("demo".into()));
        assert_eq!(rules[0].cutoff_ms, 93 * 86_400_000);
        assert_eq!(rules[1].scope, LeadScope::AllExcept(vec!["demo".into()]));
        assert_eq!(rules[1].cutoff_ms, 70 * 86_400_000);
        assert_eq!(p.exposure_cutoff_ms(now), Some(70 * 86_400_000));
    }

    #[test]
    fn page_clauses_number_their_placeholders_after_the_filters() {
        let q = PageQuery {
            filter: LeadQuery {
                form: Some("demo".into()),
                spam: Some(false),
                ..LeadQuery::default()
            },
            since_ms: Some(5),
            until_ms: Some(9),
        };
        let cursor = PageCursor {
            received_ms: 7,
            id: "x".into(),
        };
        let (w, p) = q.where_clause('$', Some(&cursor));
        assert_eq!(
            w,
            "WHERE (form = $1 AND spam_reason IS NULL) AND received_ms >= $2 AND received_ms < $3 AND (received_ms, id) > ($4, $5)"
        );
        assert_eq!(p.len(), 5);
        assert_eq!(PageQuery::default().where_clause('?', None).0, "");
    }

    #[test]
    fn without_a_default_only_forms_with_a_window_are_purged() {
        let now = DateTime::from_timestamp(100 * 86_400, 0).unwrap();
        let p = RetentionPolicy {
            default_days: None,
            forms: [("a".to_owned(), 7), ("b".to_owned(), 20)].into(),
        };
        assert_eq!(p.lead_rules(now).len(), 2);
        assert_eq!(p.exposure_cutoff_ms(now), Some(80 * 86_400_000));
        assert!(RetentionPolicy::default().is_empty());
        assert_eq!(RetentionPolicy::default().exposure_cutoff_ms(now), None);
    }
}
