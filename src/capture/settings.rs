//! `[capture]` settings from `splitmark.toml`.

pub mod network;

use crate::config::Config;

/// Limits and policies of the capture server.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Origins allowed to post cross-origin (default: the site's `base_url` origin).
    pub allowed_origins: Vec<String>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Most fields in one submission.
    pub max_fields: usize,
    /// Sustained requests per minute per client.
    pub rate_per_minute: u32,
    /// Burst allowance per client.
    pub rate_burst: u32,
    /// Honour Do Not Track / Global Privacy Control when assigning on the server.
    pub respect_dnt: bool,
    /// Most exposure beacons answered and not yet committed; past it, beacons get 503.
    pub beacon_queue: usize,
    /// Trusted proxies, timeouts, the connection cap, the metrics listener.
    pub network: network::NetworkSettings,
    /// `contact_within_minutes`: a lead still uncontacted this long after it arrived fires
    /// one `lead.sla_breached` (see `crate::lifecycle::notify`).
    pub contact_within_minutes: Option<f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allowed_origins: Vec::new(),
            max_body_bytes: 64 * 1024,
            max_fields: 100,
            rate_per_minute: 60,
            rate_burst: 20,
            respect_dnt: false,
            beacon_queue: 10_000,
            network: network::NetworkSettings::default(),
            contact_within_minutes: None,
        }
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// `[capture] endpoint`: empty (same origin) or an absolute http(s) URL.
fn check_endpoint(v: &toml::Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if s.is_empty() || s.starts_with("http://") || s.starts_with("https://") => Ok(()),
        _ => Err("[capture] endpoint must be \"\" (same origin) or an absolute http(s) URL".into()),
    }
}

impl Settings {
    /// Reads `[capture]`; unknown keys and wrong types are errors.
    pub fn from_config(config: &Config) -> Result<Settings, String> {
        let mut s = Settings::default();
        let t = &config.capture;
        for (k, v) in t {
            let int = |v: &toml::Value| {
                v.as_integer()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("[capture] {k} must be a positive integer"))
            };
            match k.as_str() {
                "allowed_origins" => {
                    let list = v
                        .as_array()
                        .ok_or("[capture] allowed_origins must be a list of origins")?;
                    s.allowed_origins = list
                        .iter()
                        .map(|o| {
                            o.as_str()
                                .map(|o| o.trim_end_matches('/').to_owned())
                                .ok_or("[capture] allowed_origins must be a list of origins (text)")
                        })
                        .collect::<Result<_, _>>()?;
                }
                "max_body_bytes" => s.max_body_bytes = int(v)? as usize,
                "max_fields" => s.max_fields = int(v)? as usize,
                "beacon_queue" => s.beacon_queue = int(v)? as usize,
                "rate_limit_per_minute" => s.rate_per_minute = int(v)? as u32,
                "rate_limit_burst" => s.rate_burst = int(v)? as u32,
                "respect_dnt" => {
                    s.respect_dnt = v
                        .as_bool()
                        .ok_or("[capture] respect_dnt must be true or false")?
                }
                k if network::KEYS.contains(&k) => s.network.set(k, v)?,
                "contact_within_minutes" => {
                    s.contact_within_minutes = Some(crate::lifecycle::speed::parse_sla_minutes(v)?)
                }
                // Read by the build (forms post there) and by `capture::retention`.
                "endpoint" => check_endpoint(v)?,
                "retention_days" => {
                    super::retention::parse_days(v)?;
                }
                // Delivery targets: read and checked by `crate::delivery::Targets`.
                "webhooks" | "email" | "allow_private_targets" | "retry_schedule" => {}
                other => return Err(format!("[capture] has an unknown setting {other:?}")),
            }
        }
        crate::lifecycle::speed::check_sla_targets(t, s.contact_within_minutes)?;
        if s.allowed_origins.is_empty() {
            s.allowed_origins.extend(origin_of(&config.base_url));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(capture: &str) -> Result<Settings, String> {
        let c = Config::parse(&format!(
            "base_url = \"https://x.test\"\n[capture]\n{capture}"
        ))
        .unwrap();
        Settings::from_config(&c)
    }

    #[test]
    fn contact_within_minutes_is_a_positive_number_of_minutes() {
        const HOOK: &str =
            "[[capture.webhooks]]\nurl = \"https://h.test/\"\nevents = [\"lead.sla_breached\"]\n";
        let with = |v: &str| settings(&format!("contact_within_minutes = {v}\n{HOOK}"));
        assert_eq!(with("5").unwrap().contact_within_minutes, Some(5.0));
        assert_eq!(with("0.5").unwrap().contact_within_minutes, Some(0.5));
        for bad in ["0", "-5", "\"5\"", "20000", "nan"] {
            assert!(with(bad).is_err(), "{bad}");
        }
        // Neither half alone: a deadline nobody hears of, or a subscription that never fires.
        assert!(settings("contact_within_minutes = 5\n")
            .unwrap_err()
            .contains("no webhook or e-mail target"));
        assert!(settings(HOOK).unwrap_err().contains("is not set"));
    }

    #[test]
    fn endpoint_and_retention_are_checked_not_swallowed() {
        assert!(settings("endpoint = \"https://api.x.test\"\nretention_days = 30\n").is_ok());
        assert!(settings("endpoint = \"\"\n").is_ok());
        for bad in [
            "endpoint = 5",
            "endpoint = \"api.x.test\"",
            "retention_days = 0",
            "retention_days = \"30\"",
        ] {
            assert!(settings(bad).is_err(), "{bad}");
        }
        assert!(settings("retention = 30")
            .unwrap_err()
            .contains("unknown setting"));
    }
}
