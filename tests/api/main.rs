//! The API suite: the real service over HTTP, on every configured backend (see `helpers`).

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly at the first surprise"
)]

mod helpers;

mod admin;
mod attachments;
mod brands;
mod bulk_triage;
mod counts;
mod edge;
mod erasure_traces;
mod export_zip;
mod file_modes;
mod frozen;
mod idempotency;
mod intake_json;
mod internal;
mod kept_stats;
mod key_rotation;
mod mail;
mod monitoring;
mod operations;
mod outbox;
mod outbox_process;
mod privacy;
mod privacy_audit;
mod privacy_cli;
mod privacy_page;
mod process;
mod raw_db;
mod receiver;
mod replicas;
mod served;
mod similar;
mod statistics;
mod triage_changes;
mod triage_view;
mod visibility;
mod webhooks;
mod withdraw;
