//! What the two backends share: SQL that differs only in its placeholders, and the parts of
//! queries that `sqlx::QueryBuilder` numbers for each backend itself. What truly differs (row
//! types, upserts, full-text search, locking, arrays against JSON) stays in `sqlite/` and
//! `postgres/`.

pub(super) mod facets;
pub(super) mod filters;
pub(super) mod personal;
pub(super) mod staff;
pub(super) mod stats;
pub(super) mod writer_queue;
