//! Per-client submission rate limits, in memory and per replica. The client address is a key
//! in memory only: never stored, never logged. IPv6 clients are keyed by their /64, since one
//! host commonly holds a whole /64.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

#[derive(Debug)]
pub struct ClientRateLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    trust_forwarded_for: bool,
}

impl ClientRateLimiter {
    /// `None` when `per_minute` is 0 (limiting disabled).
    pub fn new(per_minute: u32, burst: u32, trust_forwarded_for: bool) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            trust_forwarded_for,
        })
    }

    /// `Err(wait)` when this client must wait before its next submission.
    pub fn check(&self, headers: &HeaderMap, peer: SocketAddr) -> Result<(), Duration> {
        let client = client_key(self.client_ip(headers, peer));
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets clients that have been quiet long enough to be back at a full burst.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }

    fn client_ip(&self, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
        if self.trust_forwarded_for {
            let forwarded = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                // The last entry is the one the trusted proxy added; earlier ones are the client's say.
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok());
            if let Some(ip) = forwarded {
                return ip;
            }
        }
        peer.ip()
    }
}

fn client_key(ip: IpAddr) -> IpAddr {
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

    #[test]
    fn burst_then_wait() {
        let limiter = ClientRateLimiter::new(1, 2, false).unwrap();
        let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let headers = HeaderMap::new();
        assert!(limiter.check(&headers, peer).is_ok());
        assert!(limiter.check(&headers, peer).is_ok());
        let wait = limiter.check(&headers, peer).unwrap_err();
        assert!(wait > Duration::from_secs(1));
        let other: SocketAddr = "192.0.2.2:5000".parse().unwrap();
        assert!(
            limiter.check(&headers, other).is_ok(),
            "limits are per client"
        );
    }

    #[test]
    fn behind_a_proxy_the_address_it_saw_counts() {
        let limiter = ClientRateLimiter::new(1, 1, true).unwrap();
        let proxy: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        assert!(limiter.check(&headers, proxy).is_ok());
        headers.insert(
            "x-forwarded-for",
            "203.0.113.10, 198.51.100.7".parse().unwrap(),
        );
        assert!(
            limiter.check(&headers, proxy).is_err(),
            "a forged first entry changes nothing"
        );
        headers.insert("x-forwarded-for", "198.51.100.8".parse().unwrap());
        assert!(limiter.check(&headers, proxy).is_ok(), "another client");
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
    }
}
