//! The `/admin/` dashboard: experiments with their statistics and charts, the leads table and
//! the funnel figures, rendered on the server from the theme's `admin/` templates.
//!
//! No front-end framework and no script: every page is plain HTML with inline SVG, so it
//! works on a phone and under a strict Content-Security-Policy. Lead data reaches the
//! templates only as values, which tera escapes.

pub mod charts;
mod consent;
pub mod cost;
mod deliveries;
mod experiments;
pub mod funnel;
mod leads;
pub mod session;
pub mod stages;
pub mod viewer;

pub use deliveries::DeliveryView;
pub use experiments::{experiment_view, ExperimentView, VariantRow};
pub use leads::{Answer, LeadFilters, LeadRow, LeadsPage, PAGE_SIZE};

use crate::config::Config;
use funnel::{CampaignCost, Funnel};
use std::collections::BTreeMap;
use std::path::Path;
use tera::{Context, Tera};

/// Whether `path` belongs to the dashboard (`/admin`, `/admin/…`).
pub fn is_dashboard_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// Templates and settings of the dashboard.
pub struct Dashboard {
    tera: Tera,
    costs: BTreeMap<String, CampaignCost>,
    title: String,
    root: std::path::PathBuf,
    report: crate::report::spend::ReportConfig,
}

impl Dashboard {
    /// Loads the admin templates of the site's theme and the campaign costs.
    pub fn load(root: &Path, config: &Config) -> Result<Dashboard, String> {
        let (tera, _) =
            crate::site::templates::load(root, config, &|_| {}).map_err(|d| d.to_string())?;
        let costs = funnel::campaign_costs(&config.campaigns)
            .map_err(|e| format!("{}: {e}", crate::config::CONFIG_FILE))?;
        let dash = Dashboard {
            tera,
            costs,
            title: config.title.clone(),
            root: root.to_path_buf(),
            report: config.report.clone(),
        };
        dash.spend()?;
        Ok(dash)
    }

    /// Campaign costs from the configuration.
    pub fn costs(&self) -> &BTreeMap<String, CampaignCost> {
        &self.costs
    }

    /// Every recorded spend: the `[report] spend` file, read afresh so an updated file shows
    /// without a restart, and the `[campaigns]` costs.
    pub fn spend(&self) -> Result<Vec<crate::report::spend::SpendRow>, String> {
        crate::report::spend::load(&self.root, &self.report, &self.costs)
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
        ctx.insert("viewer", &viewer::current());
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
        cost: &cost::CostView,
    ) -> Result<String, String> {
        self.render("admin/index.html", "overview", |c| {
            c.insert("experiments", experiments);
            c.insert("funnel", funnel);
            c.insert("cost", cost);
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
