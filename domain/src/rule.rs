//! How a broken rule is classified, independent of any transport.

/// The kind of a command rejection. The API maps these to HTTP statuses (404, 409, 422).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// The command names something that does not exist.
    NotFound,
    /// The command is valid on its own but the current state forbids it.
    Conflict,
    /// A value in the command is unacceptable whatever the state.
    Invalid,
}

/// Implemented by every aggregate's error type.
pub trait DomainRule: std::error::Error {
    /// What kind of rejection this is.
    fn kind(&self) -> RuleKind;
    /// A stable, machine-readable code (`snake_case`), used in problem `type` URIs.
    fn code(&self) -> &'static str;
}

/// Implemented by every aggregate's event type: the sub-record an event brings into being, if
/// any, by the name a command's answer gives its id (`session_id`, `allocation_id`, …). The
/// answer to a command, and the answer recovered from the log for a retried one, both read it
/// here, so they name the same ids.
pub trait AnswerIds {
    /// The answer's field and the id, when this event creates a sub-record.
    fn answer_id(&self) -> Option<(&'static str, uuid::Uuid)>;
}

/// Implemented by every aggregate's command type: what metrics, logs and metadata need.
pub trait CommandInfo {
    /// The command's name (`PascalCase`), for metrics and logs.
    fn name(&self) -> &'static str;
    /// The reason the officer gave, if the command carries one; it goes into the events'
    /// metadata as well as their payload, so the audit feed shows it for every event.
    fn reason(&self) -> Option<&crate::values::Reason>;
}
