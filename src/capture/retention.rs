//! Retention in the capture server: the policy from `splitmark.toml`, and the purge that runs
//! once at start and then every hour.

use crate::config::Config;
use crate::store::{RetentionPolicy, SharedStore};
use std::time::Duration;

/// How often the purge runs after the first one at start.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// `[capture] retention_days`, checked: a positive whole number of days.
pub fn parse_days(v: &toml::Value) -> Result<u32, String> {
    v.as_integer()
        .filter(|n| *n > 0)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| "[capture] retention_days must be a positive whole number of days".into())
}

/// The retention policy of `[capture] retention_days` and every `[forms.<id>] retain_days`.
pub fn policy(config: &Config) -> Result<RetentionPolicy, String> {
    let default_days = config
        .capture
        .get("retention_days")
        .map(parse_days)
        .transpose()?;
    let (forms, errs) = crate::forms::parse_forms(&config.forms);
    if let Some(e) = errs.into_iter().next() {
        return Err(e);
    }
    Ok(RetentionPolicy {
        default_days,
        forms: forms
            .into_iter()
            .filter_map(|(id, f)| f.retain_days.map(|d| (id, d)))
            .collect(),
    })
}

/// Runs one purge now and logs what it removed.
pub async fn purge_once(store: &SharedStore, policy: &RetentionPolicy) {
    match store.purge_expired(policy, chrono::Utc::now()).await {
        Ok(c) => eprintln!(
            "Retention: purged {} leads, {} exposures and {} deliveries",
            c.leads, c.exposures, c.deliveries
        ),
        Err(e) => eprintln!("Retention: purge failed, will retry in an hour: {e}"),
    }
}

/// The background task: a purge at once, then every [`PURGE_EVERY`]; nothing when the policy
/// keeps everything.
pub fn spawn(store: SharedStore, policy: RetentionPolicy) -> Option<tokio::task::JoinHandle<()>> {
    spawn_every(store, policy, PURGE_EVERY)
}

/// [`spawn`] with another period (tests).
pub fn spawn_every(
    store: SharedStore,
    policy: RetentionPolicy,
    period: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    if policy.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            purge_once(&store, &policy).await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<RetentionPolicy, String> {
        policy(&Config::parse(&format!("base_url = \"https://x.test\"\n{text}")).unwrap())
    }

    #[test]
    fn the_policy_reads_both_windows() {
        let p = config("[capture]\nretention_days = 30\n[forms.demo]\nfields = []\nretain_days = 7\n[forms.other]\nfields = []\n").unwrap();
        assert_eq!(p.default_days, Some(30));
        assert_eq!(
            p.forms.into_iter().collect::<Vec<_>>(),
            [("demo".to_owned(), 7)]
        );
    }

    #[test]
    fn retention_days_must_be_a_positive_whole_number() {
        for bad in ["0", "-1", "2.5", "\"30\"", "true", "99999999999"] {
            let e = config(&format!("[capture]\nretention_days = {bad}\n")).unwrap_err();
            assert!(
                e.contains("retention_days must be a positive"),
                "{bad}: {e}"
            );
        }
        assert!(config("").unwrap().is_empty());
    }
}
