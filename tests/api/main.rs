//! The API suite: the real service over HTTP, on every configured backend (see `helpers`).

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly at the first surprise"
)]

mod helpers;

mod admin;
mod attachments;
mod counts;
mod idempotency;
mod intake_json;
mod internal;
mod monitoring;
mod operations;
mod privacy;
mod process;
mod replicas;
mod statistics;
mod triage_view;
