//! The `/admin/` dashboard: experiments with their statistics and charts, the leads table and
//! the funnel figures, rendered on the server from the theme's `admin/` templates.
//!
//! No front-end framework and no script: every page is plain HTML with inline SVG, so it
//! works on a phone and under a strict Content-Security-Policy. Lead data reaches the
//! templates only as values, which tera escapes.

pub mod charts;
pub mod funnel;
pub mod session;

use crate::config::Config;
use crate::report::{chance_pct, group, opt, pct, status_name, ExperimentReport, VariantStats};
use crate::store::{DailyVariantCounts, Lead, LeadQuery};
use funnel::{CampaignCost, Funnel};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use tera::{Context, Tera};

/// Leads per page of the leads table.
pub const PAGE_SIZE: u32 = 50;

/// Templates and settings of the dashboard.
pub struct Dashboard {
    tera: Tera,
    costs: BTreeMap<String, CampaignCost>,
    title: String,
}

/// One variant's row of an experiment table, formatted for display.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct VariantRow {
    /// Variant id.
    pub id: String,
    /// Traffic share.
    pub weight: String,
    /// Visitors.
    pub visitors: String,
    /// Conversions.
    pub conversions: String,
    /// Conversion rate.
    pub rate: String,
    /// 95% interval of the rate.
    pub interval: String,
    /// Relative lift over control with its interval.
    pub lift: String,
    /// Fixed-horizon p-value.
    pub p_value: String,
    /// Always-valid p-value.
    pub p_value_sequential: String,
    /// Chance to beat control.
    pub chance: String,
    /// Qualified leads and their rate.
    pub qualified: String,
}

fn row(v: &VariantStats, q: Option<&VariantStats>) -> VariantRow {
    let lift = match (v.lift, v.lift_ci_low, v.lift_ci_high) {
        (Some(l), Some(lo), Some(hi)) => format!(
            "{:+.1}% ({:+.1}% to {:+.1}%)",
            l * 100.0,
            lo * 100.0,
            hi * 100.0
        ),
        (Some(l), _, _) => format!("{:+.1}%", l * 100.0),
        _ => "—".into(),
    };
    VariantRow {
        id: v.id.clone(),
        weight: pct(v.weight),
        visitors: group(v.visitors),
        conversions: group(v.conversions),
        rate: opt(v.rate, pct),
        interval: match (v.ci_low, v.ci_high) {
            (Some(l), Some(h)) => format!("{}–{}", pct(l), pct(h)),
            _ => "—".into(),
        },
        lift,
        p_value: opt(v.p_value, |p| format!("{p:.3}")),
        p_value_sequential: opt(v.p_value_sequential, |p| format!("{p:.3}")),
        chance: opt(v.chance_to_beat_control, chance_pct),
        qualified: match q {
            Some(q) => format!("{} ({})", group(q.conversions), opt(q.rate, pct)),
            None => "—".into(),
        },
    }
}

/// Everything the overview shows about one experiment.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExperimentView {
    /// Experiment id.
    pub id: String,
    /// Goal form.
    pub goal: String,
    /// `running`, `paused`, `finished`.
    pub status: String,
    /// Page the experiment runs on.
    pub page: String,
    /// First exposure.
    pub started_at: Option<String>,
    /// One row per variant, control first.
    pub rows: Vec<VariantRow>,
    /// Rates with intervals as bars.
    pub intervals: charts::IntervalChart,
    /// Cumulative conversion per day.
    pub chart: Option<charts::LineChart>,
    /// The verdict line.
    pub verdict: String,
    /// `srm`, `win` or `wait`: how the template colours the verdict.
    pub verdict_kind: &'static str,
    /// Sample-ratio p-value.
    pub srm: String,
    /// Visitors per variant needed for the minimum detectable effect.
    pub needed: String,
}

/// The overview's view of an experiment report and its daily counts.
pub fn experiment_view(
    r: &ExperimentReport,
    daily: &[DailyVariantCounts],
    page: &str,
) -> ExperimentView {
    let ids: Vec<String> = r.variants.iter().map(|v| v.id.clone()).collect();
    let verdict_kind = if r.srm_warning {
        "srm"
    } else if r.verdict.contains(" beats ") {
        "win"
    } else {
        "wait"
    };
    ExperimentView {
        id: r.id.clone(),
        goal: r.goal.clone(),
        status: status_name(r.status),
        page: page.to_owned(),
        started_at: r.started_at.as_deref().map(|s| {
            chrono::DateTime::parse_from_rfc3339(s).map_or_else(
                |_| s.to_owned(),
                |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
            )
        }),
        rows: r
            .variants
            .iter()
            .map(|v| row(v, r.qualified_stats.iter().find(|q| q.id == v.id)))
            .collect(),
        intervals: charts::intervals(r),
        chart: charts::cumulative(daily, &ids),
        verdict: r.verdict.clone(),
        verdict_kind,
        srm: opt(r.srm_p_value, |p| format!("{p:.3}")),
        needed: r
            .needed_visitors_per_variant
            .map_or_else(|| "—".into(), group),
    }
}

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
}

/// One answer of a lead.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Answer {
    /// Field name.
    pub name: String,
    /// The value as text (checkbox groups joined with commas).
    pub value: String,
}

fn lead_row(l: &Lead) -> LeadRow {
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
            .and_then(|f| serde_json::to_value(f).ok())
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_default(),
        spam: s(&n.spam_reason),
        source: joined(&n.utm.source, &n.utm.campaign),
        page: s(&n.page),
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
    /// The store query of these filters for 1-based `page`.
    pub fn query(&self, page: u32) -> LeadQuery {
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
            limit: PAGE_SIZE,
            offset: page.saturating_sub(1).saturating_mul(PAGE_SIZE),
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

impl Dashboard {
    /// Loads the admin templates of the site's theme and the campaign costs.
    pub fn load(root: &Path, config: &Config) -> Result<Dashboard, String> {
        let (tera, _) =
            crate::site::templates::load(root, config, &|_| {}).map_err(|d| d.to_string())?;
        let costs = funnel::campaign_costs(&config.campaigns)
            .map_err(|e| format!("{}: {e}", crate::config::CONFIG_FILE))?;
        Ok(Dashboard {
            tera,
            costs,
            title: config.title.clone(),
        })
    }

    /// Campaign costs from the configuration.
    pub fn costs(&self) -> &BTreeMap<String, CampaignCost> {
        &self.costs
    }

    fn render(
        &self,
        name: &str,
        section: &str,
        fill: impl FnOnce(&mut Context),
    ) -> Result<String, String> {
        let mut ctx = Context::new();
        ctx.insert("site_title", &self.title);
        ctx.insert("section", section);
        ctx.insert("splitmark_version", env!("CARGO_PKG_VERSION"));
        fill(&mut ctx);
        self.tera
            .render(name, &ctx)
            .map_err(|e| crate::site::templates::error_chain(&e))
    }

    /// The login form, with an error message after a failed attempt.
    pub fn login(&self, error: Option<&str>) -> Result<String, String> {
        self.render("admin/login.html", "login", |c| c.insert("error", &error))
    }

    /// The overview: experiments and funnel.
    pub fn overview(
        &self,
        experiments: &[ExperimentView],
        funnel: &Funnel,
    ) -> Result<String, String> {
        self.render("admin/index.html", "overview", |c| {
            c.insert("experiments", experiments);
            c.insert("funnel", funnel);
        })
    }

    /// The leads table.
    pub fn leads(&self, page: &LeadsPage) -> Result<String, String> {
        self.render("admin/leads.html", "leads", |c| c.insert("leads", page))
    }

    /// A page with a heading and one message (not found, dashboard disabled).
    pub fn message(&self, heading: &str, text: &str) -> Result<String, String> {
        self.render("admin/message.html", "message", |c| {
            c.insert("heading", heading);
            c.insert("message", text);
        })
    }
}
