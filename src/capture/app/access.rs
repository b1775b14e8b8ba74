//! Which [`Action`] each admin endpoint and dashboard page is: the one table the role check
//! reads. A route missing here is [`Action::Unlisted`], which only admins may use, so a new
//! endpoint is never open to the sales role by accident.

use crate::users::Action;
use hyper::Method;

/// Longest page of `GET /api/v1/leads` that counts as listing (the sales role may); a CSV,
/// an unlimited or a longer listing is an export.
pub const MAX_LIST_PAGE: u32 = 100;

/// The action of an admin API request. `query` reads one query-string parameter.
pub(super) fn api_action(
    method: &Method,
    path: &str,
    query: &dyn Fn(&str) -> Option<String>,
) -> Action {
    let path = path.trim_end_matches('/');
    let under = |prefix: &str| path.starts_with(prefix);
    match *method {
        Method::GET if path == "/api/v1/experiments" || under("/api/v1/experiments/") => {
            Action::ViewExperiments
        }
        Method::GET if path == "/api/v1/leads" => {
            let json = query("format").is_none_or(|f| f == "json");
            let page = query("limit")
                .and_then(|l| l.parse::<u32>().ok())
                .is_some_and(|l| (1..=MAX_LIST_PAGE).contains(&l));
            if json && page {
                Action::ListLeads
            } else {
                Action::ExportLeads
            }
        }
        Method::GET if under("/api/v1/leads/") => Action::ListLeads,
        Method::DELETE if path == "/api/v1/leads" => Action::EraseLeads,
        Method::POST if path == "/api/v1/lead-events" => Action::ChangeStage,
        Method::POST if under("/api/v1/leads/") && path.ends_with("/events") => Action::ChangeStage,
        Method::GET if path == "/api/v1/deliveries" => Action::ListDeliveries,
        Method::POST if under("/api/v1/deliveries/") && path.ends_with("/redeliver") => {
            Action::Redeliver
        }
        Method::GET if path == "/metrics" => Action::ReadMetrics,
        _ => Action::Unlisted,
    }
}

/// The action of a dashboard request (after sign-in).
pub(super) fn dashboard_action(method: &Method, path: &str) -> Action {
    let under = |prefix: &str| path.starts_with(prefix);
    match *method {
        Method::GET if path == "/admin/" => Action::ViewReports,
        Method::GET if path == "/admin/leads.csv" => Action::ExportLeads,
        Method::GET if path == "/admin/leads" || under("/admin/leads/") => Action::ListLeads,
        Method::GET if path == "/admin/queue" => Action::ViewQueue,
        Method::POST if under("/admin/leads/") => Action::ChangeStage,
        Method::GET if path == "/admin/deliveries" => Action::ListDeliveries,
        Method::POST if under("/admin/deliveries/") => Action::Redeliver,
        _ => Action::Unlisted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(method: Method, path: &str, q: &[(&str, &str)]) -> Action {
        let q: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        api_action(&method, path, &|k| {
            q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn every_admin_endpoint_has_its_action() {
        use Action::*;
        assert_eq!(
            api(Method::GET, "/api/v1/experiments", &[]),
            ViewExperiments
        );
        assert_eq!(
            api(Method::GET, "/api/v1/experiments/hero/", &[]),
            ViewExperiments
        );
        assert_eq!(
            api(Method::DELETE, "/api/v1/leads", &[("email", "a@b")]),
            EraseLeads
        );
        assert_eq!(api(Method::GET, "/api/v1/deliveries", &[]), ListDeliveries);
        assert_eq!(
            api(Method::POST, "/api/v1/deliveries/7/redeliver", &[]),
            Redeliver
        );
        assert_eq!(api(Method::GET, "/metrics", &[]), ReadMetrics);
        assert_eq!(
            api(Method::POST, "/api/v1/leads/x/events", &[]),
            ChangeStage
        );
        assert_eq!(api(Method::POST, "/api/v1/lead-events", &[]), ChangeStage);
        assert_eq!(api(Method::PUT, "/api/v1/experiments", &[]), Unlisted);
        assert_eq!(api(Method::POST, "/api/v1/leads", &[]), Unlisted);
    }

    #[test]
    fn a_short_json_page_is_a_listing_and_anything_more_an_export() {
        use Action::*;
        let leads = |q: &[(&str, &str)]| api(Method::GET, "/api/v1/leads", q);
        assert_eq!(leads(&[("limit", "20")]), ListLeads);
        assert_eq!(leads(&[("limit", "100"), ("format", "json")]), ListLeads);
        assert_eq!(leads(&[]), ExportLeads, "no limit is the whole list");
        assert_eq!(leads(&[("limit", "0")]), ExportLeads, "0 means no limit");
        assert_eq!(leads(&[("limit", "101")]), ExportLeads);
        assert_eq!(leads(&[("limit", "20"), ("format", "csv")]), ExportLeads);
    }

    #[test]
    fn every_dashboard_page_has_its_action() {
        use Action::*;
        assert_eq!(dashboard_action(&Method::GET, "/admin/"), ViewReports);
        assert_eq!(dashboard_action(&Method::GET, "/admin/leads"), ListLeads);
        assert_eq!(
            dashboard_action(&Method::GET, "/admin/leads/0190"),
            ListLeads
        );
        assert_eq!(
            dashboard_action(&Method::GET, "/admin/leads.csv"),
            ExportLeads
        );
        assert_eq!(
            dashboard_action(&Method::GET, "/admin/deliveries"),
            ListDeliveries
        );
        assert_eq!(
            dashboard_action(&Method::POST, "/admin/deliveries/3/redeliver"),
            Redeliver
        );
        assert_eq!(
            dashboard_action(&Method::POST, "/admin/leads/x/stage"),
            ChangeStage
        );
        assert_eq!(dashboard_action(&Method::GET, "/admin/users"), Unlisted);
    }
}
