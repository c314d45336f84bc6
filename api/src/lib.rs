//! The `incubator` service: everything that does I/O on behalf of the domain.
//!
//! - [`store`]: opens SQLite or PostgreSQL, wraps the cqrs-es repositories, dispatches
//!   commands (version check, retry on concurrent append, metadata).
//! - [`auth`]: bearer tokens (stored hashed) and roles.
//! - [`people`]: the people registry (personal data, apart from the log; erasable).
//! - [`http`]: the axum API under `/api/v1`, problem+json errors, extractors.
//! - [`server`]: runs the API and the projector until SIGINT/SIGTERM.
//! - [`cli`]: the `incubator` command line, dispatching to [`models_cli`] (rebuild, check),
//!   [`audit_cli`] (verify, seal, export, import), [`demo`] and [`bench`]; [`progress`]: their
//!   progress bar; [`telemetry`]: logging; [`metrics`]: Prometheus.
//!
//! No business rule lives here: they are all in `incubator-domain`.

pub mod audit_cli;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod demo;
pub mod http;
pub mod metrics;
pub mod models_cli;
pub mod people;
pub mod progress;
pub mod server;
pub mod store;
pub mod telemetry;
