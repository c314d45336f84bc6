//! Incubator's read side: everything a dashboard or an auditor reads is built here, from the
//! event log only.
//!
//! - [`db`]: the read-side connection (one code path for SQLite and PostgreSQL through sqlx's
//!   `Any` driver) and the schema migrations of the whole database.
//! - [`log`]: reading the event log in commit order, safely on PostgreSQL where concurrent
//!   transactions commit out of order.
//! - [`projector`]: tails the log and applies batches to read models, advancing each model's
//!   checkpoint in the same transaction (exactly-once effect, resumable after a crash).
//! - [`funding`], [`mentorship`], [`space_usage`], [`collaborations`]: the read models and
//!   their queries; [`records`]: every record of every kind, for their lists.
//! - [`journal`]: changes that span two records, journalled until their last step.
//! - [`models`]: every read model by name; [`rebuild`]: rebuild one from position 0, or check
//!   a live one against a rebuild, row by row.
//!
//! This crate knows the event log's tables and the read-model tables; it knows nothing of HTTP.

pub mod audit;
pub mod collaborations;
pub mod db;
pub mod export;
pub mod funding;
pub mod journal;
pub mod log;
pub mod mentorship;
pub mod models;
pub mod projector;
pub mod rebuild;
pub mod records;
pub mod space_usage;

pub use db::{Dialect, ReadDb};
pub use log::{Checkpoint, LoggedEvent};
