//! feedbackd: collects feedback from the WebApp's widgets and keeps it private.
//!
//! The way a submission travels: [`http`] reads the request, [`domain`] parses its fields,
//! [`attachments`] streams files into [`blobs`], [`privacy`] seals contact details, and
//! [`store`] commits everything in one transaction before the 201 goes out.

pub mod admission;
pub mod app;
pub mod attachments;
pub mod blobs;
pub mod cli;
pub mod config;
pub mod domain;
#[cfg(test)]
mod fuzz;
pub mod housekeeping;
pub mod http;
#[cfg(test)]
mod layering;
pub mod metrics;
pub mod notify;
pub mod privacy;
pub mod staff;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod triage;
pub mod useragent;

pub use app::Application;
pub use config::Settings;
pub use state::AppState;
