//! SQLite: staff accounts, sessions, API tokens, as `store::shared::staff` writes them, with
//! SQLite's `?` placeholders.

use super::SqliteStore;
use crate::store::shared::staff::staff_store;

staff_store!(SqliteStore, ["?", "?", "?", "?", "?"]);
