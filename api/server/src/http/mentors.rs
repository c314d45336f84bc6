//! `/mentors`: register mentors, change their expertise, retire and reactivate them; their
//! state and history.

use super::prelude::*;
use incubator_domain::mentor::{Mentor, MentorCommand, MentorState};
use incubator_domain::values::Day;
use incubator_domain::values::{Expertise, PersonId, Reason};

use crate::people::PersonRef;

/// Every mentor command (officers).
pub fn commands() -> OpenApiRouter<AppState> {
    common::router![register, change_expertise, retire, reactivate]
}

accepted!(
    /// What an accepted mentor command answers.
    MentorAccepted,
    mentor_id;
    run(MentorCommand) on mentors
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MentorRegistration {
    /// The mentor's entry in the people registry (name and contact details live there).
    person_id: PersonId,
    /// 1 to 20 distinct areas.
    #[schema(min_items = 1, max_items = 20)]
    expertise: Vec<Expertise>,
    /// Defaults to today.
    #[serde(default)]
    registered_on: Option<Day>,
}

/// A command on one mentor (`common::command!` with the mentor's kind bound).
macro_rules! mentor_command {
    ($($t:tt)*) => { common::command!("mentor", "mentors", MentorAccepted; $($t)*); };
}

// `POST /mentors`: register a mentor; the id is chosen here (UUID v7).
mentor_command!(
    register,
    "/mentors",
    create,
    "Register a mentor",
    MentorRegistration,
    |state, caller, b| make {
        common::require_registered(&state, [b.person_id.0]).await?;
        MentorCommand::Register {
            person_id: b.person_id,
            expertise: b.expertise,
            registered_on: b.registered_on.map_or_else(today, Day::get),
        }
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ExpertiseBody {
    /// The new list, replacing the old one: 1 to 20 distinct areas.
    #[schema(min_items = 1, max_items = 20)]
    expertise: Vec<Expertise>,
}

mentor_command!(
    change_expertise,
    "/mentors/{id}/expertise",
    200,
    "Replace a mentor's areas of expertise",
    ExpertiseBody,
    |state, caller, id, _, b| make(
        MentorCommand::ChangeExpertise {
            expertise: b.expertise
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RetireBody {
    reason: Reason,
    /// Defaults to today.
    #[serde(default)]
    retired_on: Option<Day>,
}

mentor_command!(
    retire,
    "/mentors/{id}/retire",
    200,
    "Retire a mentor: no new assignments",
    RetireBody,
    |state, caller, id, _, b| make(
        MentorCommand::Retire {
            reason: b.reason,
            retired_on: b.retired_on.map_or_else(today, Day::get),
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReactivateBody {
    reason: Reason,
}

mentor_command!(
    reactivate,
    "/mentors/{id}/reactivate",
    200,
    "Reactivate a retired mentor",
    ReactivateBody,
    |state, caller, id, _, b| make(MentorCommand::Reactivate { reason: b.reason }, None)
);

/// A mentor's current state.
#[derive(Debug, Serialize, ToSchema)]
pub struct MentorView {
    pub mentor_id: Uuid,
    /// The number of events so far (also the `ETag`).
    pub version: u64,
    #[serde(flatten)]
    pub state: MentorState,
    /// The mentor's entry in the registry: name, or erased.
    pub person: PersonRef,
}

common::record_reads!(
    Mentor via mentors, "mentor", "mentors",
    "A mentor's current state",
    MentorView,
    |state, id, version, s| MentorView {
            mentor_id: id,
            version,
            person: common::person(&state, s.person_id.0).await?,
            state: s,
        }
);
