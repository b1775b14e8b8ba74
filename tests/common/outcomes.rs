//! Test support standing in for the stage API, which fills the schema-8 columns of `leads`
//! (the first-reached stage times, `revenue_minor`, `currency`). Until it lands, tests write
//! those columns with SQL here, on both stores, exactly as the stage API leaves them: a later
//! step implies the earlier ones. Double opt-in has landed: tests confirm leads through
//! [`splitmark::store::Store::confirm_lead`] where they can, and through `confirmed_ms` here
//! for leads dated in the past (which `confirm_lead` does not look for).

use splitmark::store::{Exposure, NewLead, Utm};

/// What happened to one lead after capture.
#[derive(Clone, Debug, Default)]
pub struct Stages {
    pub confirmed_ms: Option<i64>,
    pub sales_qualified_ms: Option<i64>,
    pub opportunity_ms: Option<i64>,
    pub customer_ms: Option<i64>,
    pub disqualified_ms: Option<i64>,
    pub revenue_minor: Option<i64>,
    pub currency: Option<String>,
}

impl Stages {
    /// The current stage these times imply.
    fn stage(&self) -> &'static str {
        if self.disqualified_ms.is_some() {
            "disqualified"
        } else if self.customer_ms.is_some() {
            "customer"
        } else if self.opportunity_ms.is_some() {
            "opportunity"
        } else if self.sales_qualified_ms.is_some() {
            "sales_qualified"
        } else {
            "new"
        }
    }
}

const UPDATE_SQLITE: &str = "UPDATE leads SET stage = ?1,
    confirmation = CASE WHEN CAST(?2 AS BIGINT) IS NULL THEN confirmation ELSE 'confirmed' END,
    confirmed_ms = COALESCE(?2, confirmed_ms), sales_qualified_ms = ?3, opportunity_ms = ?4,
    customer_ms = ?5, disqualified_ms = ?6, revenue_minor = ?7, currency = ?8 WHERE id = ?9";

/// Writes `stages` onto the leads named, in one transaction, on the store at `db`.
pub async fn set_stages(db: &str, stages: &[(String, Stages)]) {
    if let Some(path) = db.strip_prefix("sqlite:") {
        let mut c = rusqlite::Connection::open(path).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        let tx = c.transaction().unwrap();
        for (id, s) in stages {
            let n = tx
                .execute(
                    UPDATE_SQLITE,
                    rusqlite::params![
                        s.stage(),
                        s.confirmed_ms,
                        s.sales_qualified_ms,
                        s.opportunity_ms,
                        s.customer_ms,
                        s.disqualified_ms,
                        s.revenue_minor,
                        s.currency,
                        id
                    ],
                )
                .unwrap();
            assert_eq!(n, 1, "lead {id}");
        }
        tx.commit().unwrap();
        return;
    }
    let mut c = super::postgres::client(db).await;
    let tx = c.transaction().await.unwrap();
    let st = tx.prepare(&UPDATE_SQLITE.replace('?', "$")).await.unwrap();
    for (id, s) in stages {
        let n = tx
            .execute(
                &st,
                &[
                    &s.stage(),
                    &s.confirmed_ms,
                    &s.sales_qualified_ms,
                    &s.opportunity_ms,
                    &s.customer_ms,
                    &s.disqualified_ms,
                    &s.revenue_minor,
                    &s.currency,
                    id,
                ],
            )
            .await
            .unwrap();
        assert_eq!(n, 1, "lead {id}");
    }
    tx.commit().await.unwrap();
}

/// A goal-form (`demo`) lead of `visitor` in `variant` of `hero`, received at `at_ms`.
pub fn lead(visitor: &str, variant: &str, at_ms: i64, qualified: bool, utm: Utm) -> NewLead {
    NewLead {
        received_at: chrono::DateTime::from_timestamp_millis(at_ms).unwrap(),
        form: "demo".into(),
        answers: serde_json::json!({"email": format!("{visitor}@example.com")})
            .as_object()
            .unwrap()
            .clone(),
        email: Some(format!("{visitor}@example.com")),
        experiment: Some("hero".into()),
        variant: Some(variant.into()),
        attribution_flag: None,
        visitor: Some(visitor.into()),
        page: Some("/".into()),
        referrer: None,
        utm,
        user_agent: None,
        ip_hash: None,
        score: if qualified { 10 } else { 0 },
        qualified,
        spam_reason: None,
        consent: None,
        dedupe_key: format!("k-{visitor}"),
        confirmation: None,
        form_version: None,
    }
}

/// An exposure of `visitor` to `variant` of `experiment` at `at_ms`.
pub fn exposure(experiment: &str, visitor: &str, variant: &str, at_ms: i64) -> Exposure {
    Exposure {
        experiment: experiment.into(),
        variant: variant.into(),
        visitor: visitor.into(),
        page: None,
        at: chrono::DateTime::from_timestamp_millis(at_ms).unwrap(),
    }
}
