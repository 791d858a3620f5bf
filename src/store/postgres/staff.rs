//! PostgreSQL: staff accounts, sessions, API tokens, as `store::shared::staff` writes them,
//! with PostgreSQL's numbered placeholders.

use super::PostgresStore;
use crate::store::shared::staff::staff_store;

staff_store!(PostgresStore, ["$1", "$2", "$3", "$4", "$5"]);
