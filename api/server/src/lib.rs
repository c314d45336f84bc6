//! The incubator service: everything that does I/O on behalf of the domain, and nothing that
//! only the demo, the benchmarks or a progress bar needs (those live in `incubator-api`, the
//! `incubator` command, which depends on this crate and never the other way round).
//!
//! - [`store`]: opens SQLite or PostgreSQL, wraps the cqrs-es repositories, dispatches
//!   commands (version check, retry on concurrent append, metadata).
//! - [`app`]: the application layer: commands for a caller, facts from other records, and
//!   the changes that span two records (a residency's studio), crash-safe.
//! - [`auth`]: bearer tokens (stored hashed) and roles.
//! - [`people`]: the people registry (personal data, apart from the log; erasable).
//! - [`http`]: the axum API under `/api/v1`, problem+json errors, extractors.
//! - [`server`]: runs the API and the projector until SIGINT/SIGTERM; [`connections`]: the
//!   connection loop (header-read timeout, connections per address); [`places`]: places
//!   held per key and in all (connections per address, live streams per token).
//! - [`telemetry`]: logging; [`metrics`]: Prometheus.
//!
//! No business rule lives here: they are all in `incubator-domain`.

pub mod app;
pub mod auth;
pub mod connections;
pub mod http;
pub mod metrics;
pub mod places;
/// The people registry lives with the database it is a table of.
pub use incubator_projections::people;
pub mod server;
pub mod store;
pub mod telemetry;
