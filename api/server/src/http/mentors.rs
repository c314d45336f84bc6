//! `/mentors`: register mentors, change their expertise, retire and reactivate them; their
//! state and history.

use super::prelude::*;
use incubator_domain::mentor::{Mentor, MentorCommand, MentorState};
use incubator_domain::values::Day;
use incubator_domain::values::{Expertise, PersonId, Reason};

use crate::people::PersonRef;

/// Reads of a mentor's state and history (auditors and officers).
pub fn reads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(events))
        .routes(routes!(history))
}

/// Every mentor command (officers).
pub fn commands() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(change_expertise))
        .routes(routes!(retire))
        .routes(routes!(reactivate))
}

accepted!(
    /// What an accepted mentor command answers.
    MentorAccepted,
    mentor_id
);

/// Runs a mentor command and answers it.
async fn run(
    state: AppState,
    caller: Caller,
    id: Uuid,
    command: MentorCommand,
    created: bool,
) -> Result<Response, ApiError> {
    let committed = common::execute(&state, &caller, state.store.mentors(), id, command).await?;
    let version = committed.version;
    let mut response = common::with_etag(
        common::status(created),
        MentorAccepted::new(id, committed),
        version,
    );
    if created {
        response = common::with_location(response, &format!("/api/v1/mentors/{id}"));
    }
    Ok(response)
}

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

/// `POST /mentors`: register a mentor; the id is chosen here (UUID v7).
#[utoipa::path(
    post,
    path = "/mentors",
    tag = "mentors",
    summary = "Register a mentor",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
    ),
    request_body = MentorRegistration,
    responses(
        (status = 201, description = "Registered; `Location` names the mentor", body = MentorAccepted),
        CommandErrors,
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("officer"))),
)]
async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<MentorRegistration>,
) -> Result<Response, ApiError> {
    common::require_registered(&state, [b.person_id.0]).await?;
    let command = MentorCommand::Register {
        person_id: b.person_id,
        expertise: b.expertise,
        registered_on: b.registered_on.map_or_else(today, Day::get),
    };
    run(state, caller, Uuid::now_v7(), command, true).await
}

/// The parameters every command on one mentor documents.
macro_rules! mentor_command {
    ($name:ident, $path:tt, $summary:tt, $body:ty, |$b:ident| $make:expr) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "mentors",
            summary = $summary,
            params(
                ("id" = Uuid, Path, description = "The mentor's id"),
                ("If-Match" = Option<String>, Header, description = "The version the command expects, as the ETag `\"N\"`; 412 if the record moved on"),
                ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
            ),
            request_body = $body,
            responses(
                (status = 200, description = "Accepted: the new version (also the ETag) and where the events landed", body = MentorAccepted),
                CommandErrors,
            ),
            security(("bearer" = [])),
            extensions(("x-role" = json!("officer"))),
        )]
        async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            ApiPath(raw): ApiPath<String>,
            ApiJson($b): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            let id = parse_id(&raw, "mentor")?;
            run(state, caller, id, $make, false).await
        }
    };
}

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
    "Replace a mentor's areas of expertise",
    ExpertiseBody,
    |b| MentorCommand::ChangeExpertise {
        expertise: b.expertise
    }
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
    "Retire a mentor: no new assignments",
    RetireBody,
    |b| MentorCommand::Retire {
        reason: b.reason,
        retired_on: b.retired_on.map_or_else(today, Day::get),
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReactivateBody {
    reason: Reason,
}

mentor_command!(
    reactivate,
    "/mentors/{id}/reactivate",
    "Reactivate a retired mentor",
    ReactivateBody,
    |b| MentorCommand::Reactivate { reason: b.reason }
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
    ["/mentors/{id}", "/mentors/{id}/events", "/mentors/{id}/history"],
    ["A mentor's current state", "A mentor's history: its events with metadata, in order"],
    MentorView,
    |state, id, version, s| MentorView {
            mentor_id: id,
            version,
            person: common::person(&state, s.person_id.0).await?,
            state: s,
        }
);
