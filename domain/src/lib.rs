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

/// The cqrs-es `Aggregate` of a record whose rules are `decide` (a command to its events,
/// or a typed refusal) and `evolve` (an event folded into the state), both inherent and pure:
/// the name it is stored under is the type's own name.
macro_rules! aggregate {
    ($name:ident, $command:ty, $event:ty, $error:ty) => {
        impl cqrs_es::Aggregate for $name {
            const TYPE: &'static str = stringify!($name);
            type Command = $command;
            type Event = $event;
            type Error = $error;
            type Services = ();

            async fn handle(
                &mut self,
                command: Self::Command,
                _services: &Self::Services,
                sink: &cqrs_es::event_sink::EventSink<Self>,
            ) -> Result<(), Self::Error> {
                for event in self.decide(command)? {
                    sink.write(event, self).await;
                }
                Ok(())
            }

            fn apply(&mut self, event: Self::Event) {
                self.evolve(event);
            }
        }
    };
}
pub(crate) use aggregate;

/// The name of `$value`'s variant, one of `$variant…`, as its type spells it, or as
/// `$variant = "Name"` names it: an event's stored type (`event_type`) and a command's name
/// come from this one list, never from a literal typed beside each variant.
macro_rules! variant_name {
    ($value:expr; $($variant:ident $(= $name:literal)?),+ $(,)?) => {
        match $value {
            $(Self::$variant { .. } => crate::variant_name!(@name $variant $($name)?),)+
        }
    };
    (@name $variant:ident) => {
        stringify!($variant)
    };
    (@name $variant:ident $name:literal) => {
        $name
    };
}
pub(crate) use variant_name;

pub mod collaboration;
pub mod mentor;
pub mod residency;
pub mod rule;
#[cfg(feature = "openapi")]
mod schema;
pub mod space;
pub mod startup;
#[cfg(test)]
mod test_support;
pub mod values;

pub use rule::{AnswerIds, CommandInfo, DomainRule, RuleKind};
