//! The `incubator` command: the service of `incubator-server` behind a command line, and the
//! tools an operator runs beside it.
//!
//! - [`cli`]: the command line (`serve`, `tokens`, `people`, `projections`, `audit`, `backup`,
//!   `restore`, `demo`, `bench`), dispatching to [`models_cli`] (rebuild, check), [`audit_cli`]
//!   (verify, seal, export, import), [`backup_cli`] (backup, restore), [`demo`] and [`bench`].
//! - [`args`]: the arguments several subcommands share (the event store's URL).
//! - [`progress`]: the progress bar those long runs draw on a terminal.
//!
//! The server crate has no reqwest and no indicatif: only this crate does (`cargo tree -p
//! incubator-server -e normal` shows it).

pub mod args;
pub mod audit_cli;
pub mod backup_cli;
pub mod bench;
pub mod cli;
pub mod demo;
pub mod models_cli;
pub mod progress;
