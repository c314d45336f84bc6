//! Incubator's domain: what the hub's programme officers may do, and what follows.
//!
//! - [`values`]: newtypes that parse (names, money, currencies, periods). A command only ever
//!   carries values that already passed these checks, so `handle` checks rules, not formats.
//! - [`startup`]: the startup aggregate — stages, funding, mentorship, milestones and KPIs.
//! - [`mentor`]: mentors, their expertise, retirement.
//! - [`space`]: spaces in the three buildings, their allocations and hourly bookings.
//! - [`residency`]: artist residencies from the open call to completion.
//! - [`collaboration`]: interdisciplinary collaborations (S+T+ARTS).
//! - [`rule`]: the classification every domain error maps to (not found, conflict, invalid), so
//!   the API can choose a status without knowing any rule.
//!
//! Nothing here does I/O: time and ids come in with the command, which keeps `handle`
//! deterministic and testable with cqrs-es's `TestFramework`.

pub mod collaboration;
pub mod mentor;
pub mod residency;
pub mod rule;
#[cfg(feature = "openapi")]
mod schema;
pub mod space;
pub mod startup;
pub mod values;

pub use rule::{AnswerIds, CommandInfo, DomainRule, RuleKind};
