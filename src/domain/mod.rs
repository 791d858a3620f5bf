//! The contract's rules, as types that parse raw input before any I/O happens.
//!
//! Nothing here touches the network, the disk or a clock: a `RawForm` goes in, and either a
//! fully valid [`Submission`] or the complete list of failing fields comes out.

pub mod fields;
mod form;
pub mod outbox;
mod patch;
pub mod redact;
mod terms;
mod triage;
mod zone;

pub use fields::{
    Button, ContactEmail, ContactName, FieldError, Kind, Message, PageUrl, Rating,
    ScreenResolution, Summary, VersionLabel,
};
pub use form::{
    Browser, Contact, Environment, RawForm, RawValue, SpamSignals, Submission, TEXT_FIELDS,
    ValidationErrors,
};
pub use patch::{Labels, MAX_LABELS, TriagePatch};
pub use terms::Terms;
pub use triage::{Role, Status, parse_label, parse_staff_name};
pub use zone::TeamTimeZone;
