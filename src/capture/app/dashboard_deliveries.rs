//! The dashboard's delivery pages: the log (failed first) with a redeliver button, and a
//! lead's page with its deliveries. The redeliver form is a POST; the dashboard's router
//! has already refused it unless it came from this origin with a session (SameSite=Strict),
//! the same rules as logging in.

use super::dashboard::{html, redirect};
use super::App;
use crate::capture::http::Body;
use crate::dashboard::Dashboard;
use crate::store::DeliveryQuery;
use hyper::{Response, StatusCode};

/// Most deliveries the page lists.
const PAGE_ROWS: u32 = 500;

impl App {
    pub(super) async fn deliveries_page(&self, dash: &Dashboard) -> Response<Body> {
        let query = DeliveryQuery {
            limit: PAGE_ROWS,
            ..Default::default()
        };
        match self.store.deliveries(&query).await {
            Ok(rows) => html(StatusCode::OK, dash.deliveries(&rows)),
            Err(e) => self.store_error(&e),
        }
    }

    pub(super) async fn lead_page(&self, dash: &Dashboard, id: &str) -> Response<Body> {
        self.lead_page_with(dash, id, StatusCode::OK, None).await
    }

    /// `POST /admin/deliveries/{id}/redeliver`, then back to the log.
    pub(super) async fn redeliver_page(&self, dash: &Dashboard, path: &str) -> Response<Body> {
        let id = path
            .strip_prefix("/admin/deliveries/")
            .and_then(|p| p.strip_suffix("/redeliver"))
            .and_then(|id| id.parse::<i64>().ok());
        let not_found = || {
            html(
                StatusCode::NOT_FOUND,
                dash.message("Not found", "There is no such delivery."),
            )
        };
        let Some(id) = id else {
            return not_found();
        };
        match self.store.redeliver(id, chrono::Utc::now()).await {
            Ok(true) => redirect("/admin/deliveries", None),
            Ok(false) => not_found(),
            Err(e) => self.store_error(&e),
        }
    }
}
