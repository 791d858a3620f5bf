//! Who may come in, and how much they may hold: the public edge's admission control.
//!
//! These are policies, not HTTP: which client a request counts against (behind trusted
//! proxies), the per-client rate limits, and the process-wide memory budget for bodies in
//! flight. The HTTP layer asks them and translates their refusals (429, 503).

pub mod client;
pub mod memory;
pub mod rate_limit;
