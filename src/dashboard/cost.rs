//! The funnel page's cost tables: cost per step and return on ad spend for each source and
//! campaign, as display cells (figures from [`crate::report::cost`]).

use crate::report::cost::{CostLine, CostReport, COLUMNS};
use serde::Serialize;

/// One source or campaign.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CostRow {
    /// The source or campaign.
    pub name: String,
    /// Cells in the order of [`CostView::columns`].
    pub cells: Vec<String>,
}

/// What the cost section shows.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CostView {
    /// Column titles after the name.
    pub columns: Vec<&'static str>,
    /// Per `utm_source`.
    pub sources: Vec<CostRow>,
    /// Per `utm_campaign`, with revenue and ROAS.
    pub campaigns: Vec<CostRow>,
    /// Whether any spend is recorded.
    pub has_spend: bool,
    /// Why the spend could not be read, if it could not.
    pub error: Option<String>,
}

fn rows(lines: &[CostLine]) -> Vec<CostRow> {
    lines
        .iter()
        .map(|l| CostRow {
            name: l.name.clone(),
            cells: l.cells(),
        })
        .collect()
}

/// The view of a cost report, or of the error that stopped it.
pub fn cost_view(report: Result<&CostReport, String>) -> CostView {
    let (sources, campaigns, has_spend, error) = match report {
        Ok(r) => (rows(&r.sources), rows(&r.campaigns), r.has_spend, None),
        Err(e) => (Vec::new(), Vec::new(), false, Some(e)),
    };
    CostView {
        columns: COLUMNS.to_vec(),
        sources,
        campaigns,
        has_spend,
        error,
    }
}
