//! The `[capture]` settings about connections: trusted proxies, timeouts, the connection cap
//! and the metrics listener.

use crate::capture::client::{ForwardedHeader, TrustedProxies};
use crate::capture::server::ConnectionLimits;
use std::net::SocketAddr;
use std::time::Duration;

/// The keys this part of `[capture]` reads.
pub const KEYS: &[&str] = &[
    "trusted_proxies",
    "forwarded_header",
    "header_timeout_secs",
    "body_timeout_secs",
    "idle_timeout_secs",
    "max_connections",
    "metrics_bind",
];

/// Longest timeout accepted: longer ones are almost certainly a unit mistake.
const MAX_TIMEOUT_SECS: i64 = 3600;

/// How the server treats connections and who it believes about the client.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkSettings {
    /// Reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// Timeouts and the cap on open connections.
    pub limits: ConnectionLimits,
    /// A second listener that serves `/metrics` without a token.
    pub metrics_bind: Option<SocketAddr>,
}

impl NetworkSettings {
    /// Applies one `[capture]` key from [`KEYS`].
    pub fn set(&mut self, key: &str, v: &toml::Value) -> Result<(), String> {
        let secs = |v: &toml::Value| {
            v.as_integer()
                .filter(|n| (1..=MAX_TIMEOUT_SECS).contains(n))
                .map(|n| Duration::from_secs(n as u64))
                .ok_or_else(|| {
                    format!("[capture] {key} must be a whole number of seconds from 1 to {MAX_TIMEOUT_SECS}")
                })
        };
        match key {
            "trusted_proxies" => {
                let list = v
                    .as_array()
                    .and_then(|a| a.iter().map(toml::Value::as_str).collect::<Option<Vec<_>>>())
                    .ok_or("[capture] trusted_proxies must be a list of networks, like [\"127.0.0.1/32\", \"::1/128\"]")?;
                let header = self.trusted_proxies.header;
                self.trusted_proxies =
                    TrustedProxies::new(TrustedProxies::parse_networks(&list)?, header);
            }
            "forwarded_header" => {
                let name = v
                    .as_str()
                    .ok_or("[capture] forwarded_header must be a string")?;
                self.trusted_proxies.header = ForwardedHeader::parse(name)?;
            }
            "header_timeout_secs" => self.limits.header_timeout = secs(v)?,
            "body_timeout_secs" => self.limits.body_timeout = secs(v)?,
            "idle_timeout_secs" => self.limits.idle_timeout = secs(v)?,
            "max_connections" => {
                self.limits.max_connections = v
                    .as_integer()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or("[capture] max_connections must be a whole number from 1 to 1000000")?
                    as usize
            }
            "metrics_bind" => {
                let addr = v
                    .as_str()
                    .ok_or("[capture] metrics_bind must be a string")?;
                self.metrics_bind = Some(addr.parse().map_err(|_| {
                    format!("[capture] metrics_bind must be an address with a port, like \"127.0.0.1:9100\", not {addr:?}")
                })?);
            }
            other => unreachable!("{other} is not a network key"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::server::MAX_CONNECTIONS;

    fn apply(toml_text: &str) -> Result<NetworkSettings, String> {
        let t: toml::Table = toml_text.parse().unwrap();
        let mut s = NetworkSettings::default();
        for (k, v) in &t {
            assert!(KEYS.contains(&k.as_str()));
            s.set(k, v)?;
        }
        Ok(s)
    }

    #[test]
    fn reads_every_key() {
        let s = apply(
            "trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]\nforwarded_header = \"forwarded\"\nheader_timeout_secs = 2\nbody_timeout_secs = 3\nidle_timeout_secs = 4\nmax_connections = 50\nmetrics_bind = \"127.0.0.1:9100\"\n",
        )
        .unwrap();
        assert!(s.trusted_proxies.trusts("::1".parse().unwrap()));
        assert_eq!(s.trusted_proxies.header, ForwardedHeader::Forwarded);
        assert_eq!(s.limits.header_timeout, Duration::from_secs(2));
        assert_eq!(s.limits.body_timeout, Duration::from_secs(3));
        assert_eq!(s.limits.idle_timeout, Duration::from_secs(4));
        assert_eq!(s.limits.max_connections, 50);
        assert_eq!(s.metrics_bind, Some("127.0.0.1:9100".parse().unwrap()));
        let d = NetworkSettings::default();
        assert!(d.trusted_proxies.is_empty());
        assert_eq!(d.limits.max_connections, MAX_CONNECTIONS);
        assert_eq!(d.limits.header_timeout, Duration::from_secs(10));
    }

    #[test]
    fn refuses_bad_values_clearly() {
        for (bad, says) in [
            ("trusted_proxies = \"10.0.0.0/8\"", "must be a list"),
            ("trusted_proxies = [\"10.0.0.0/80\"]", "not a network"),
            (
                "forwarded_header = \"x-real-ip\"",
                "forwarded_header must be",
            ),
            ("header_timeout_secs = 0", "from 1 to 3600"),
            ("body_timeout_secs = 1.5", "whole number of seconds"),
            ("idle_timeout_secs = 86400", "from 1 to 3600"),
            ("max_connections = -1", "max_connections must be"),
            ("metrics_bind = \"localhost\"", "like \"127.0.0.1:9100\""),
        ] {
            let e = apply(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
