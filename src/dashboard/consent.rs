//! The consent proof on a lead's page: what the visitor agreed to, where, on which version of
//! the form, and when they sent it and confirmed it.

use crate::store::{Confirmation, Lead};
use serde::Serialize;

/// A lead's consent proof as the lead page shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ConsentView {
    /// The consent text the visitor ticked, or empty when the form has none.
    pub consent: String,
    /// The page the form was sent from.
    pub page: String,
    /// The form's version (a hash of the form as shown), or empty for older leads.
    pub form_version: String,
    /// When the form was sent.
    pub submitted: String,
    /// `not asked`, `unconfirmed` or `confirmed`.
    pub confirmation: &'static str,
    /// When the link was clicked, or empty.
    pub confirmed: String,
}

const TIME: &str = "%Y-%m-%d %H:%M:%S UTC";

/// The consent proof of `l`.
pub fn consent_view(l: &Lead) -> ConsentView {
    let n = &l.lead;
    ConsentView {
        consent: n.consent.clone().unwrap_or_default(),
        page: n.page.clone().unwrap_or_default(),
        form_version: n.form_version.clone().unwrap_or_default(),
        submitted: n.received_at.format(TIME).to_string(),
        confirmation: match n.confirmation {
            None => "not asked",
            Some(Confirmation::Unconfirmed) => "unconfirmed",
            Some(Confirmation::Confirmed) => "confirmed",
        },
        confirmed: l
            .confirmed_at
            .map(|t| t.format(TIME).to_string())
            .unwrap_or_default(),
    }
}
