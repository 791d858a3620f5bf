//! Which client a request comes from, for per-client limits (intake, login, withdrawal).
//!
//! Behind proxies, the peer is the nearest proxy, and each proxy appends the address it received
//! the request from to `X-Forwarded-For`. Only entries appended by proxies we run can be
//! trusted: everything to their left is whatever the client chose to send. So the client is the
//! entry `trusted_proxy_hops` from the right of the whole list, where the list is every
//! `X-Forwarded-For` header line joined with commas (RFC 9110 §5.3: several lines are one list;
//! HAProxy's `option forwardfor` and several load balancers append a line instead of extending
//! the last one). With no trusted proxy the peer address is the client.
//!
//! The address is a key in memory only: never stored, never logged. IPv6 clients are keyed by
//! their /64, since one host commonly holds a whole /64.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// Derives the rate-limit key of a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientKeyer {
    /// How many proxies we run sit in front of the service, each appending to the list.
    trusted_proxy_hops: usize,
}

impl ClientKeyer {
    pub fn new(trusted_proxy_hops: usize) -> Self {
        Self { trusted_proxy_hops }
    }

    /// The key of the client that sent this request: its address, IPv6 reduced to the /64.
    pub fn key(&self, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
        limit_key(self.address(headers, peer))
    }

    fn address(&self, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
        if self.trusted_proxy_hops == 0 {
            return peer.ip();
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|line| line.to_str().unwrap_or_default().split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .collect();
        // A shorter list than the hops we run holds no client-written entry: its first is the
        // outermost address a proxy of ours saw.
        let position = entries.len().saturating_sub(self.trusted_proxy_hops);
        entries
            .get(position)
            .and_then(|entry| parse_entry(entry))
            .unwrap_or_else(|| peer.ip())
    }
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6([s[0], s[1], s[2], s[3], 0, 0, 0, 0].into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROXY: &str = "10.0.0.1:4000";

    fn key(hops: usize, lines: &[&str]) -> IpAddr {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", line.parse().unwrap());
        }
        ClientKeyer::new(hops).key(&headers, PROXY.parse().unwrap())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(key(0, &["203.0.113.9"]), ip("10.0.0.1"));
    }

    #[test]
    fn one_proxy_the_last_entry_of_all_lines_counts() {
        assert_eq!(key(1, &["203.0.113.9, 198.51.100.7"]), ip("198.51.100.7"));
        // HAProxy appends a line: the client's own line comes first and is not believed.
        assert_eq!(key(1, &["6.6.6.6", "198.51.100.7"]), ip("198.51.100.7"));
        assert_eq!(
            key(1, &["6.6.6.6, 7.7.7.7", "198.51.100.7"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn two_proxies_count_two_from_the_right() {
        assert_eq!(
            key(2, &["6.6.6.6", "198.51.100.7, 10.1.1.1"]),
            ip("198.51.100.7")
        );
        assert_eq!(key(2, &["198.51.100.7"]), ip("198.51.100.7"), "short list");
    }

    #[test]
    fn forged_entries_cannot_change_the_key() {
        let honest = key(1, &["198.51.100.7"]);
        for forged in [
            vec!["1.2.3.4", "198.51.100.7"],
            vec!["1.2.3.4, 5.6.7.8, 198.51.100.7"],
            vec!["garbage", "198.51.100.7"],
        ] {
            assert_eq!(key(1, &forged), honest, "{forged:?}");
        }
    }

    #[test]
    fn ports_brackets_and_garbage() {
        assert_eq!(key(1, &["198.51.100.7:4711"]), ip("198.51.100.7"));
        assert_eq!(key(1, &["[2001:db8::1]:4711"]), ip("2001:db8::"));
        assert_eq!(
            key(1, &["unknown"]),
            ip("10.0.0.1"),
            "falls back to the peer"
        );
        assert_eq!(key(1, &[]), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }
}
