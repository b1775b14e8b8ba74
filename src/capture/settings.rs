//! `[capture]` settings from `splitmark.toml`.

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
        }
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
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
                        .filter_map(|o| o.as_str())
                        .map(|o| o.trim_end_matches('/').to_owned())
                        .collect();
                }
                "max_body_bytes" => s.max_body_bytes = int(v)? as usize,
                "max_fields" => s.max_fields = int(v)? as usize,
                "rate_limit_per_minute" => s.rate_per_minute = int(v)? as u32,
                "rate_limit_burst" => s.rate_burst = int(v)? as u32,
                "respect_dnt" => {
                    s.respect_dnt = v
                        .as_bool()
                        .ok_or("[capture] respect_dnt must be true or false")?
                }
                "endpoint" | "retention_days" => {}
                // Delivery targets: read and checked by `crate::delivery::Targets`.
                "webhooks" | "email" | "allow_private_targets" => {}
                other => return Err(format!("[capture] has an unknown setting {other:?}")),
            }
        }
        if s.allowed_origins.is_empty() {
            s.allowed_origins.extend(origin_of(&config.base_url));
        }
        Ok(s)
    }
}
