//! Arguments more than one subcommand takes.

/// The event store a command and its subcommands work on (`--database-url`, anywhere on the line).
#[derive(Debug, clap::Args)]
pub struct StoreUrl {
    /// The event store: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://incubator.db",
        global = true
    )]
    pub database_url: String,
}
