//! The leads table: rows formatted for display, filters and pages.

use crate::report::group;
use crate::store::{Lead, LeadQuery};
use serde::Serialize;

/// Leads per page of the leads table.
pub const PAGE_SIZE: u32 = 50;

/// One lead as the leads table shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LeadRow {
    /// Lead id.
    pub id: String,
    /// `2026-11-26 05:03 UTC`.
    pub received: String,
    /// Form id.
    pub form: String,
    /// Email, if the form has one.
    pub email: String,
    /// Qualified?
    pub qualified: bool,
    /// Score.
    pub score: i64,
    /// `experiment / variant`, empty without.
    pub variant: String,
    /// Why the experiment attribution is not counted, if so.
    pub flag: String,
    /// Spam reason, if spam.
    pub spam: String,
    /// `source / campaign`.
    pub source: String,
    /// Page the form was on.
    pub page: String,
    /// Answers in field order, values flattened to text.
    pub answers: Vec<Answer>,
    /// The sales stage's label.
    pub stage: &'static str,
}

/// One answer of a lead.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Answer {
    /// Field name.
    pub name: String,
    /// The value as text (checkbox groups joined with commas).
    pub value: String,
}

pub(super) fn lead_row(l: &Lead) -> LeadRow {
    let n = &l.lead;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let joined = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => format!("{a} / {b}"),
        (Some(a), None) => a.clone(),
        (None, Some(b)) => format!("— / {b}"),
        (None, None) => String::new(),
    };
    LeadRow {
        id: l.id.clone(),
        received: n.received_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        form: n.form.clone(),
        email: s(&n.email),
        qualified: n.qualified,
        score: n.score,
        variant: joined(&n.experiment, &n.variant),
        flag: n
            .attribution_flag
            .map(|f| f.as_str().replace('_', " "))
            .unwrap_or_default(),
        spam: s(&n.spam_reason),
        source: joined(&n.utm.source, &n.utm.campaign),
        page: s(&n.page),
        stage: l.stage.stage.label(),
        answers: n
            .answers
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                Answer {
                    name: k.clone(),
                    value: text,
                }
            })
            .collect(),
    }
}

/// The filters of the leads table as the form shows them.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct LeadFilters {
    /// Form id or empty.
    pub form: String,
    /// Variant id or empty.
    pub variant: String,
    /// `yes`, `no` or empty.
    pub qualified: String,
    /// `yes`, `no` (default) or `all`.
    pub spam: String,
}

impl LeadFilters {
    /// The store query of these filters, every matching lead.
    pub fn query_all(&self) -> LeadQuery {
        let flag = |s: &str| match s {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        };
        let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        LeadQuery {
            form: text(&self.form),
            experiment: None,
            variant: text(&self.variant),
            qualified: flag(&self.qualified),
            // Spam stays out of sight unless asked for.
            spam: match self.spam.as_str() {
                "yes" => Some(true),
                "all" => None,
                _ => Some(false),
            },
            limit: 0,
            offset: 0,
        }
    }

    /// The store query of these filters for 1-based `page`.
    pub fn query(&self, page: u32) -> LeadQuery {
        LeadQuery {
            limit: PAGE_SIZE,
            offset: page.saturating_sub(1).saturating_mul(PAGE_SIZE),
            ..self.query_all()
        }
    }

    /// The query string of these filters and a page.
    pub fn href(&self, page: u32) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("form", &self.form),
            ("variant", &self.variant),
            ("qualified", &self.qualified),
            ("spam", &self.spam),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect();
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A page of the leads table.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LeadsPage {
    /// Active filters.
    pub filters: LeadFilters,
    /// Form ids to filter by.
    pub forms: Vec<String>,
    /// Variant ids to filter by.
    pub variants: Vec<String>,
    /// The rows of this page, newest first.
    pub rows: Vec<LeadRow>,
    /// Leads matching the filters.
    pub total: String,
    /// 1-based page number.
    pub page: u32,
    /// Number of pages.
    pub pages: u32,
    /// Query string of the previous page.
    pub prev: Option<String>,
    /// Query string of the next page.
    pub next: Option<String>,
    /// Query string of the CSV export of these filters.
    pub csv: String,
}

impl LeadsPage {
    /// Assembles a page of `total` matching leads.
    pub fn new(
        filters: LeadFilters,
        forms: Vec<String>,
        variants: Vec<String>,
        leads: &[Lead],
        total: u64,
        page: u32,
    ) -> LeadsPage {
        let pages = (total.div_ceil(u64::from(PAGE_SIZE)) as u32).max(1);
        LeadsPage {
            prev: (page > 1).then(|| filters.href(page - 1)),
            next: (page < pages).then(|| filters.href(page + 1)),
            csv: filters.href(1),
            rows: leads.iter().map(lead_row).collect(),
            total: group(total),
            filters,
            forms,
            variants,
            page,
            pages,
        }
    }
}
