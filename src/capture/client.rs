//! Who the client is: the TCP peer, or, when the peer is a trusted reverse proxy, the address
//! that proxy says it served.
//!
//! One [`Client`] is resolved per request and everything that depends on the client uses it:
//! the rate limit, the stored IP hash and whether the request came over https. Forwarding
//! headers are believed only from a trusted peer, and only as far as the chain of trusted
//! proxies reaches: walking the forwarded addresses from the right (the nearest hop), the
//! first one that is not itself a trusted proxy is the client. Everything left of it was
//! written by that client and may be forged.
//!
//! Only one header family is read, the one the proxy is configured to write
//! ([`ForwardedHeader`]): a proxy that writes `X-Forwarded-For` passes a client's own
//! `Forwarded` header through untouched, so believing both would let a client pick its address.

use hyper::header::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client of one request, as far as the server can tell (the handlers' `peer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    /// The client's address (IPv4-mapped IPv6 addresses are reported as IPv4).
    pub ip: IpAddr,
    /// Whether the client reached the first trusted proxy over https (the server itself
    /// speaks plain HTTP, so a direct client never has).
    pub https: bool,
}

/// Which headers a trusted proxy writes the forwarded chain into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` and `X-Forwarded-Proto` (nginx, Caddy, most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=...;proto=...`.
    Forwarded,
}

impl ForwardedHeader {
    /// Reads the `[capture] forwarded_header` value.
    pub fn parse(name: &str) -> Result<ForwardedHeader, String> {
        match name.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            _ => Err(format!(
                "[capture] forwarded_header must be \"x-forwarded-for\" or \"forwarded\", not {name:?}"
            )),
        }
    }
}

/// The reverse proxies whose forwarding headers are believed, and the header they write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    /// The header family the proxies write.
    pub header: ForwardedHeader,
}

/// One forwarded hop: the address that connected to the next proxy, and over which scheme.
struct Hop<'a> {
    ip: Option<IpAddr>,
    proto: Option<&'a str>,
}

impl TrustedProxies {
    /// Parses `[capture] trusted_proxies`: networks in CIDR notation (`10.0.0.0/8`,
    /// `::1/128`); a bare address means that one host.
    pub fn parse_networks(entries: &[&str]) -> Result<Vec<IpNet>, String> {
        entries
            .iter()
            .map(|e| {
                let e = e.trim();
                let net = match e.parse::<IpNet>() {
                    Ok(n) => n,
                    Err(_) => e.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
                        format!(
                            "[capture] trusted_proxies: {e:?} is not a network; write an address with a prefix length, like \"10.0.0.0/8\" or \"::1/128\""
                        )
                    })?,
                };
                if net != net.trunc() {
                    return Err(format!(
                        "[capture] trusted_proxies: {e:?} has bits set past its prefix length; did you mean \"{}\"?",
                        net.trunc()
                    ));
                }
                Ok(net)
            })
            .collect()
    }

    /// Trusts these networks' peers, reading `header`.
    pub fn new(nets: Vec<IpNet>, header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies { nets, header }
    }

    /// Whether no proxy is trusted (every peer is the client).
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request that arrived from `peer` with `headers`.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> Client {
        let peer = peer.to_canonical();
        let direct = Client {
            ip: peer,
            https: false,
        };
        if !self.trusts(peer) {
            return direct;
        }
        let hops = match self.header {
            ForwardedHeader::XForwardedFor => x_forwarded_hops(headers),
            ForwardedHeader::Forwarded => forwarded_hops(headers),
        };
        let is_https = |p: Option<&str>| p.is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
        // Until a hop names someone else, the client is the peer, and the scheme is what
        // the nearest proxy said.
        let mut client = Client {
            ip: peer,
            https: is_https(hops.last().and_then(|h| h.proto)),
        };
        for hop in hops.iter().rev() {
            // An unreadable entry (`unknown`, an obfuscated name, garbage) ends the chain:
            // nothing left of it can be attributed, so the last hop we could read stands.
            let Some(ip) = hop.ip else { break };
            client = Client {
                ip,
                https: is_https(hop.proto),
            };
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// Values of every `name` header, split on commas, in order.
fn list<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// `X-Forwarded-For` hops, each with its `X-Forwarded-Proto` entry when the proxies
/// appended one per hop, else with the single (nearest proxy's) value.
fn x_forwarded_hops(headers: &HeaderMap) -> Vec<Hop<'_>> {
    let protos = list(headers, "x-forwarded-proto");
    let addrs = list(headers, "x-forwarded-for");
    if addrs.is_empty() {
        return protos
            .last()
            .map(|p| Hop {
                ip: None,
                proto: Some(*p),
            })
            .into_iter()
            .collect();
    }
    let aligned = protos.len() == addrs.len();
    addrs
        .iter()
        .enumerate()
        .map(|(i, a)| Hop {
            ip: node_ip(a),
            proto: if aligned {
                Some(protos[i])
            } else {
                protos.last().copied()
            },
        })
        .collect()
}

/// RFC 7239 `Forwarded` elements: one hop per element, with its own `proto`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Hop<'_>> {
    let mut hops = Vec::new();
    for value in headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for element in split_unquoted(value, ',') {
            let mut hop = Hop {
                ip: None,
                proto: None,
            };
            for pair in split_unquoted(element, ';') {
                let Some((k, v)) = pair.split_once('=') else {
                    continue;
                };
                let v = unquote(v.trim());
                match k.trim().to_ascii_lowercase().as_str() {
                    "for" => hop.ip = node_ip(v),
                    "proto" => hop.proto = Some(v),
                    _ => {}
                }
            }
            hops.push(hop);
        }
    }
    hops
}

/// Splits on `sep` outside double quotes.
fn split_unquoted(s: &str, sep: char) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty())
}

/// A quoted-string's content (addresses never contain escapes, so none are undone).
fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// The address of a node: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711`. `unknown` and obfuscated names (`_hidden`) have none.
fn node_ip(node: &str) -> Option<IpAddr> {
    let node = unquote(node.trim());
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let host = match node.strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.0,
        None => node.rsplit_once(':')?.0,
    };
    host.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;
    use ForwardedHeader::{Forwarded, XForwardedFor as Xff};

    fn proxies(nets: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::new(TrustedProxies::parse_networks(nets).unwrap(), header)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const LOCAL: &[&str] = &["127.0.0.1/32", "10.0.0.0/8", "::1/128"];
    const XFF: &str = "x-forwarded-for";
    const XFP: &str = "x-forwarded-proto";
    const FWD: &str = "forwarded";

    /// Trusted networks, header family, peer, headers, expected client ip, expected https.
    type Case = (
        &'static [&'static str],
        ForwardedHeader,
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
        bool,
    );

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        // Nobody trusted: the peer is the client, whatever it claims.
        (&[], Xff, "127.0.0.1", &[(XFF, "203.0.113.7"), (XFP, "https")], "127.0.0.1", false),
        // An untrusted peer forging headers is ignored.
        (LOCAL, Xff, "198.51.100.9", &[(XFF, "203.0.113.7"), (XFP, "https")], "198.51.100.9", false),
        // A trusted peer: its rightmost entry is the client.
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "203.0.113.7")], "203.0.113.7", false),
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "203.0.113.7"), (XFP, "https")], "203.0.113.7", true),
        // The client prepended a forged entry; nginx appended the real one.
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "1.2.3.4, 203.0.113.7")], "203.0.113.7", false),
        // A chain of trusted proxies is walked to the first untrusted hop.
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "1.2.3.4, 203.0.113.7, 10.1.2.3")], "203.0.113.7", false),
        // Several header lines are one list.
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "1.2.3.4"), (XFF, "203.0.113.7, 10.1.2.3")], "203.0.113.7", false),
        // Every hop trusted: the farthest one is the client.
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "10.0.0.5, 10.1.2.3")], "10.0.0.5", false),
        // A trusted peer that forwarded nothing is the client itself.
        (LOCAL, Xff, "10.9.9.9", &[], "10.9.9.9", false),
        (LOCAL, Xff, "10.9.9.9", &[(XFP, "https")], "10.9.9.9", true),
        // An unreadable nearest entry: nothing can be attributed past the proxy.
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "203.0.113.7, unknown")], "127.0.0.1", false),
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "garbage, 203.0.113.7")], "203.0.113.7", false),
        // Ports and brackets some proxies add.
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "203.0.113.7:51234")], "203.0.113.7", false),
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "[2001:db8::7]:443")], "2001:db8::7", false),
        (LOCAL, Xff, "::1", &[(XFF, "2001:db8::7")], "2001:db8::7", false),
        // Proto per hop when the proxies appended one each; else the nearest proxy's.
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "203.0.113.7, 10.1.2.3"), (XFP, "https, http")], "203.0.113.7", true),
        (LOCAL, Xff, "127.0.0.1", &[(XFF, "203.0.113.7, 10.1.2.3"), (XFP, "HTTPS")], "203.0.113.7", true),
        // IPv4-mapped IPv6 peers match IPv4 networks, and clients come out as IPv4.
        (LOCAL, Xff, "::ffff:127.0.0.1", &[(XFF, "::ffff:203.0.113.7")], "203.0.113.7", false),
        (LOCAL, Xff, "::ffff:198.51.100.9", &[(XFF, "203.0.113.7")], "198.51.100.9", false),
        // With X-Forwarded-For configured, a passed-through Forwarded header is ignored.
        (LOCAL, Xff, "127.0.0.1", &[(FWD, "for=1.2.3.4;proto=https")], "127.0.0.1", false),
        // RFC 7239.
        (LOCAL, Forwarded, "127.0.0.1", &[(FWD, "for=203.0.113.7;proto=https")], "203.0.113.7", true),
        (LOCAL, Forwarded, "127.0.0.1", &[(FWD, "for=1.2.3.4, for=203.0.113.7;proto=http")], "203.0.113.7", false),
        (LOCAL, Forwarded, "127.0.0.1", &[(FWD, "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.1")], "2001:db8:cafe::17", true),
        (LOCAL, Forwarded, "127.0.0.1", &[(FWD, "For=\"203.0.113.7:8080\"; Proto=HTTPS; by=10.0.0.1")], "203.0.113.7", true),
        (LOCAL, Forwarded, "127.0.0.1", &[(FWD, "for=1.2.3.4"), (FWD, "for=203.0.113.7")], "203.0.113.7", false),
        (LOCAL, Forwarded, "127.0.0.1", &[(FWD, "for=_hidden, for=\"[::1]\"")], "::1", false),
        (LOCAL, Forwarded, "127.0.0.1", &[(FWD, "for=unknown")], "127.0.0.1", false),
        (LOCAL, Forwarded, "198.51.100.9", &[(FWD, "for=203.0.113.7;proto=https")], "198.51.100.9", false),
        // With Forwarded configured, X-Forwarded-* is ignored.
        (LOCAL, Forwarded, "127.0.0.1", &[(XFF, "1.2.3.4"), (XFP, "https")], "127.0.0.1", false),
    ];

    #[test]
    fn resolves_the_client_from_trusted_proxies_only() {
        for (i, (nets, header, peer, pairs, want_ip, want_https)) in CASES.iter().enumerate() {
            let got = proxies(nets, *header).resolve(peer.parse().unwrap(), &headers(pairs));
            let want = Client {
                ip: want_ip.parse().unwrap(),
                https: *want_https,
            };
            assert_eq!(got, want, "case {i}: peer {peer}, {pairs:?}");
        }
    }

    #[test]
    fn networks_are_validated() {
        let nets = TrustedProxies::parse_networks(&["10.0.0.0/8", "::1/128", "192.0.2.1"]);
        assert_eq!(nets.unwrap().len(), 3);
        for (bad, says) in [
            ("10.0.0.0/33", "not a network"),
            ("localhost", "not a network"),
            ("", "not a network"),
            ("10.0.0.1/8", "did you mean \"10.0.0.0/8\""),
        ] {
            let e = TrustedProxies::parse_networks(&[bad]).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert!(ForwardedHeader::parse("Forwarded").is_ok());
        assert!(ForwardedHeader::parse("x-real-ip").is_err());
    }
}
