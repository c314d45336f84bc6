//! Incubator's read side: everything a dashboard or an auditor reads is built here, from the
//! event log only.
//!
//! - [`db`]: the read-side connection (one code path for SQLite and PostgreSQL through sqlx's
//!   `Any` driver) and the schema migrations of the whole database.
//! - [`log`]: reading the event log in commit order, safely on PostgreSQL where concurrent
//!   transactions commit out of order; [`append`]: writing to it, each event with its seal.
//! - [`projector`]: tails the log and applies batches to read models, advancing each model's
//!   checkpoint in the same transaction (exactly-once effect, resumable after a crash).
//! - [`funding`], [`mentorship`], [`space_usage`], [`collaborations`]: the read models and
//!   their queries; [`records`]: every record of every kind, for their lists.
//! - [`keys`]: idempotency keys and the responses they replay.
//! - [`journal`]: changes that span two records, journalled until their last step.
//! - [`people`]: the people registry, apart from the log (personal data; erasable).
//! - [`tokens`]: bearer tokens, by the hash of their secret.
//! - [`models`]: every read model by name; [`rebuild`]: rebuild one from position 0, or check
//!   a live one against a rebuild, row by row.
//! - [`audit`]: the seal (hash chains and digests) and its verification; [`snapshots`]: the
//!   event store's snapshots held to their events.
//!
//! This crate owns the database: its schema (every migration), the event log's and the
//! read models' tables, and the side tables' SQL (the people registry, tokens, idempotency
//! keys, the journal); it knows nothing of HTTP.

pub mod append;
pub mod audit;
pub mod collaborations;
pub mod db;
pub mod export;
pub mod funding;
pub mod journal;
pub mod keys;
pub mod log;
pub mod mentorship;
pub mod models;
pub mod people;
pub mod projector;
pub mod rebuild;
pub mod records;
pub mod snapshots;
pub mod space_usage;
pub mod tokens;

pub use db::{Dialect, ReadDb};
pub use log::{Checkpoint, LoggedEvent};
