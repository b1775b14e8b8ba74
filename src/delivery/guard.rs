//! Which addresses a webhook may reach (the SSRF policy).
//!
//! A webhook URL is written by whoever edits `splitmark.toml`, but the host it names resolves
//! to whatever its DNS says at the moment of the attempt. [`super::http`] resolves on every
//! attempt, asks [`refusal`] about every address and connects only to an address that passed.
//! By default only globally routable unicast addresses pass; `allow_private_targets = true`
//! lets loopback and private networks through (an on-premises CRM), never the cloud metadata
//! service and never an address that is not unicast.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` may not be reached, or `None` when it may.
pub fn refusal(ip: IpAddr, allow_private: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4, allow_private),
        IpAddr::V6(v6) => refusal_v6(v6, allow_private),
    }
}

/// What to add to a refusal of `ip`: how to allow it, when the setting would.
pub fn hint(ip: IpAddr, allow_private: bool) -> &'static str {
    if !allow_private && refusal(ip, true).is_none() {
        " (refused unless [capture] allow_private_targets = true)"
    } else {
        ""
    }
}

/// Addresses refused whatever the setting.
fn always_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("the cloud metadata address")
    } else if o[0] == 0 {
        Some("an unspecified (\"this network\") address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if ip.is_broadcast() || o[0] >= 240 {
        Some("a reserved address")
    } else {
        None
    }
}

/// Addresses refused unless private targets are allowed.
fn private_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("a shared (carrier-grade NAT) address")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("an IETF protocol address")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("a benchmarking address")
    } else if ip.is_documentation() {
        Some("a documentation address")
    } else {
        None
    }
}

fn refusal_v4(ip: Ipv4Addr, allow_private: bool) -> Option<&'static str> {
    always_v4(ip).or_else(|| (!allow_private).then(|| private_v4(ip)).flatten())
}

/// The IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4), which is
/// what a connection to it would reach.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if (s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified())
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        // IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks) and the NAT64
        // well-known prefix 64:ff9b::/96.
        Some(tail)
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        )) // 6to4
    } else {
        None
    }
}

fn refusal_v6(ip: Ipv6Addr, allow_private: bool) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return refusal_v4(v4, allow_private);
    }
    let s = ip.segments();
    let always = if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254) {
        Some("the cloud metadata address")
    } else if ip.is_unspecified() {
        Some("the unspecified address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if s[..4] == [0x100, 0, 0, 0] {
        Some("a discard-only address")
    } else {
        None
    };
    if always.is_some() || allow_private {
        return always;
    }
    if ip.is_loopback() {
        Some("a loopback address")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("a unique-local address")
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some("a link-local address")
    } else if (s[0] & 0xffc0) == 0xfec0 {
        Some("a site-local address")
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Some("a documentation address")
    } else if s[0] == 0x2001 && s[1] == 0 {
        Some("a Teredo address")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str, allow_private: bool) -> bool {
        refusal(ip.parse().unwrap(), allow_private).is_some()
    }

    #[test]
    fn private_and_special_addresses_are_refused_by_default() {
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(refused(ip, false), "{ip} must be refused");
        }
    }

    proptest::proptest! {
        /// An IPv4 address written as IPv6 (mapped, NAT64, 6to4) is judged as itself.
        #[test]
        fn embedded_ipv4_is_judged_as_ipv4(o: [u8; 4], allow: bool) {
            let v4 = Ipv4Addr::from(o);
            let [a, b, c, d] = o.map(u16::from);
            let want = refusal(IpAddr::V4(v4), allow);
            for v6 in [
                v4.to_ipv6_mapped(),
                Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, (a << 8) | b, (c << 8) | d),
                Ipv6Addr::new(0x2002, (a << 8) | b, (c << 8) | d, 0, 0, 0, 0, 1),
            ] {
                proptest::prop_assert_eq!(refusal(IpAddr::V6(v6), allow), want, "{}", v6);
            }
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
        ] {
            assert!(!refused(ip, false), "{ip} must pass");
        }
    }

    #[test]
    fn allow_private_opens_private_networks_but_never_metadata_or_non_unicast() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "192.168.1.1",
            "::1",
            "::ffff:127.0.0.1",
            "fd12::1",
        ] {
            assert!(!refused(ip, true), "{ip} must pass with allow_private");
        }
        for ip in [
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "fd00:ec2::254",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "ff02::1",
        ] {
            assert!(refused(ip, true), "{ip} must be refused always");
        }
        assert_eq!(
            refusal("169.254.169.254".parse().unwrap(), true),
            Some("the cloud metadata address")
        );
    }
}
