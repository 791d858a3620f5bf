//! The API suite: the real service over HTTP, on every configured backend (see `helpers`).

mod helpers;

mod admin;
mod attachments;
mod idempotency;
mod intake_json;
mod operations;
mod process;
