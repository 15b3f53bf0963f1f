//! Which address a request comes from, for throttling: the peer, or, when the peer is a
//! trusted proxy, the nearest address in `X-Forwarded-For` that is not one. Addresses a client
//! writes into the header itself are never believed unless a trusted proxy passed them on.

use std::net::IpAddr;

use ipnet::IpNet;

/// The client address of a request from `peer` with these `X-Forwarded-For` header values.
pub fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            // A hop that is not an address: nothing before it can be believed.
            return Some(nearest);
        };
        if !is_trusted(&ip) {
            return Some(ip);
        }
        nearest = ip;
    }
    Some(nearest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap_or_default()];
        let none: [&str; 0] = [];
        // A direct client cannot pretend to be another.
        assert_eq!(
            client_ip(Some(ip("198.51.100.9")), ["1.2.3.4"].into_iter(), &trusted),
            Some(ip("198.51.100.9"))
        );
        // Behind a proxy, the nearest untrusted hop; a spoofed hop further left is ignored.
        assert_eq!(
            client_ip(
                Some(ip("10.0.0.2")),
                ["6.6.6.6, 203.0.113.5, 10.0.0.7"].into_iter(),
                &trusted
            ),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), none.into_iter(), &trusted),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            client_ip(
                Some(ip("10.0.0.2")),
                ["garbage, 203.0.113.5"].into_iter(),
                &trusted
            ),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(
            client_ip(
                Some(ip("10.0.0.2")),
                ["203.0.113.5, garbage"].into_iter(),
                &trusted
            ),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(client_ip(None, none.into_iter(), &trusted), None);
    }
}
