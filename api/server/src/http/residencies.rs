//! `/residencies`: artist residencies from application to completion.
//!
//! Arrival, extension and cancellation change the studio's space too: the application layer
//! does it ([`crate::app::studio`]), crash-safe; the handlers here only parse and answer.

use super::prelude::*;
use incubator_domain::residency::{
    Agreement, PublicMoment, PublicMomentKind, Residency, ResidencyCommand, ResidencyState,
};
use incubator_domain::space::Space;
use incubator_domain::values::{
    Day, Expertise, MentorId, Minutes, Money, PersonId, Proposal, Reason, SessionId, Title,
};

use crate::people::PersonRef;

/// Every residency command (officers).
pub fn commands() -> OpenApiRouter<AppState> {
    common::router![
        apply,
        accept,
        decline,
        wait_list,
        sign_agreement,
        arrive,
        extend,
        assign_mentor,
        release_mentor,
        log_session,
        record_public_moment,
        complete,
        cancel
    ]
}

accepted!(
    /// What an accepted residency command answers.
    ResidencyAccepted,
    residency_id,
    allocation_id,
    session_id,
    moment_id;
    run(ResidencyCommand) on residencies
);

/// The answer to a change across the residency and its studio: the residency's events, listed
/// with those appended `before` and `after` them in the studio's space.
fn answer(id: Uuid, done: crate::app::studio::Done) -> Response {
    let version = done.committed.version;
    let mut body = ResidencyAccepted::new(id, done.committed);
    body.events.splice(0..0, done.before);
    body.events.extend(done.after);
    common::answered("residencies", id, version, None, body)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResidencyApplication {
    /// The open call applied to.
    call: Title,
    /// The artist's entry in the people registry.
    artist: PersonId,
    discipline: Expertise,
    proposal: Proposal,
    requested_from: Day,
    requested_to: Day,
    /// Defaults to today.
    #[serde(default)]
    applied_on: Option<Day>,
}

/// A command on one residency (`common::command!` with the residency's kind bound).
macro_rules! residency_command {
    ($($t:tt)*) => { common::command!("residency", "residencies", ResidencyAccepted; $($t)*); };
}

// `POST /residencies`: record an application to an open call.
residency_command!(
    apply,
    "/residencies",
    create,
    "Record an artist's application to an open call",
    ResidencyApplication,
    |state, caller, b| make {
        common::require_registered(&state, [b.artist.0]).await?;
        ResidencyCommand::Apply {
            call: b.call,
            artist: b.artist,
            discipline: b.discipline,
            proposal: b.proposal,
            requested_from: b.requested_from.get(),
            requested_to: b.requested_to.get(),
            applied_on: b.applied_on.map_or_else(today, Day::get),
        }
    }
);

/// A body with nothing in it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Empty {}

residency_command!(
    accept,
    "/residencies/{id}/accept",
    200,
    "Accept the application",
    Empty,
    |state, caller, id, _, _b| run run(&state, &caller, id, ResidencyCommand::Accept, None).await
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResidencyReasonBody {
    reason: Reason,
}

residency_command!(
    decline,
    "/residencies/{id}/decline",
    200,
    "Decline the application",
    ResidencyReasonBody,
    |state, caller, id, _, b| run run(
        &state,
        &caller,
        id,
        ResidencyCommand::Decline { reason: b.reason },
        None
    )
    .await
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OptionalReasonBody {
    #[serde(default)]
    reason: Option<Reason>,
}

residency_command!(
    wait_list,
    "/residencies/{id}/wait-list",
    200,
    "Put the application on the waiting list",
    OptionalReasonBody,
    |state, caller, id, _, b| run run(
        &state,
        &caller,
        id,
        ResidencyCommand::WaitList { reason: b.reason },
        None
    )
    .await
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResidencyAgreementBody {
    starts_on: Day,
    ends_on: Day,
    /// In EUR.
    stipend: Money,
    /// The space to allocate as the studio on arrival.
    studio_id: Uuid,
}

residency_command!(
    sign_agreement,
    "/residencies/{id}/agreement",
    200,
    "Record the signed agreement: dates, stipend, studio",
    ResidencyAgreementBody,
    |state, caller, id, _, b| run {
        // The studio must be a registered space.
        common::load(
            &state,
            state.store.spaces(),
            b.studio_id,
            "space",
            |s: Space| s.state,
        )
        .await?;
        let agreement = Agreement {
            starts_on: b.starts_on.get(),
            ends_on: b.ends_on.get(),
            stipend: b.stipend,
            studio_id: b.studio_id,
        };
        run(
            &state,
            &caller,
            id,
            ResidencyCommand::SignAgreement { agreement },
            None,
        )
        .await
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ArriveBody {
    /// Defaults to today.
    #[serde(default)]
    arrived_on: Option<Day>,
}

residency_command!(
    arrive,
    "/residencies/{id}/arrive",
    200,
    "Record the artist's arrival; allocates the studio until the agreement ends",
    ArriveBody,
    |state, caller, id, _, b| run {
        let arrived_on = b.arrived_on.map_or_else(today, Day::get);
        let done = state
            .app()
            .arrive(&caller, id, arrived_on, Uuid::now_v7())
            .await?;
        Ok(answer(id, done))
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ExtendBody {
    /// The new last day of the stay.
    ends_on: Day,
    reason: Reason,
}

residency_command!(
    extend,
    "/residencies/{id}/extend",
    200,
    "Extend the stay; allocates the studio for the added days",
    ExtendBody,
    |state, caller, id, _, b| run {
        let done = state
            .app()
            .extend(&caller, id, b.ends_on.get(), b.reason)
            .await?;
        Ok(answer(id, done))
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResidentMentorBody {
    mentor_id: MentorId,
}

residency_command!(
    assign_mentor,
    "/residencies/{id}/mentors",
    200,
    "Assign a mentor to the resident",
    ResidentMentorBody,
    |state, caller, id, _, b| run {
        let standing = state.app().mentor_standing(b.mentor_id.0).await?;
        let command = ResidencyCommand::AssignMentor {
            mentor_id: b.mentor_id,
            standing,
        };
        run(&state, &caller, id, command, None).await
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResidentReleaseBody {
    #[serde(default)]
    reason: Option<Reason>,
}

/// `POST /residencies/{id}/mentors/{mentor_id}/release`: the mentor no longer mentors the
/// resident.
#[utoipa::path(
    post,
    path = "/residencies/{id}/mentors/{mentor_id}/release",
    tag = "residencies",
    summary = "Release the resident's mentor",
    params(
        ("id" = Uuid, Path, description = "The residency's id"),
        ("mentor_id" = Uuid, Path, description = "The mentor's id"),
        ("If-Match" = Option<String>, Header, description = "The version the command expects, as the ETag `\"N\"`; 412 if the record moved on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
    ),
    request_body = ResidentReleaseBody,
    responses(
        (status = 200, description = "Accepted: the new version (also the ETag) and where the events landed", body = ResidencyAccepted),
        CommandErrors,
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("officer"))),
)]
async fn release_mentor(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, raw_mentor)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<ResidentReleaseBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&raw, "residency")?;
    let mentor_id = MentorId(parse_id(&raw_mentor, "mentor")?);
    let command = ResidencyCommand::ReleaseMentor {
        mentor_id,
        reason: b.reason,
    };
    run(&state, &caller, id, command, None).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResidentSessionBody {
    mentor_id: MentorId,
    held_on: Day,
    minutes: Minutes,
}

residency_command!(
    log_session,
    "/residencies/{id}/sessions",
    201,
    "Log a mentoring session with the resident",
    ResidentSessionBody,
    |state, caller, id, _, b| run {
        let session_id = SessionId::new();
        let command = ResidencyCommand::LogSession {
            session_id,
            mentor_id: b.mentor_id,
            held_on: b.held_on.get(),
            minutes: b.minutes,
            today: today(),
        };
        run(&state, &caller, id, command, Some(Created::Sub)).await
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MomentBody {
    kind: PublicMomentKind,
    title: Title,
    held_on: Day,
}

residency_command!(
    record_public_moment,
    "/residencies/{id}/public-moments",
    201,
    "Record a public moment: open studio, exhibition, workshop, publication",
    MomentBody,
    |state, caller, id, _, b| run {
        let moment_id = Uuid::now_v7();
        let moment = PublicMoment {
            moment_id,
            kind: b.kind,
            title: b.title,
            held_on: b.held_on.get(),
        };
        run(
            &state,
            &caller,
            id,
            ResidencyCommand::RecordPublicMoment { moment },
            Some(Created::Sub),
        )
        .await
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    /// Defaults to today.
    #[serde(default)]
    completed_on: Option<Day>,
}

residency_command!(
    complete,
    "/residencies/{id}/complete",
    200,
    "Complete the residency (after a public moment)",
    CompleteBody,
    |state, caller, id, _, b| run {
        let command = ResidencyCommand::Complete {
            completed_on: b.completed_on.map_or_else(today, Day::get),
        };
        run(&state, &caller, id, command, None).await
    }
);

residency_command!(
    cancel,
    "/residencies/{id}/cancel",
    200,
    "Cancel the residency from any open stage; gives the studio back",
    ResidencyReasonBody,
    |state, caller, id, _, b| run {
        let done = state.app().cancel(&caller, id, b.reason).await?;
        Ok(answer(id, done))
    }
);

/// A residency's current state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidencyView {
    pub residency_id: Uuid,
    /// The number of events so far (also the `ETag`).
    pub version: u64,
    #[serde(flatten)]
    pub state: ResidencyState,
    /// The artist's entry in the registry: name, or erased.
    pub artist_person: PersonRef,
}

common::record_reads!(
    Residency via residencies, "residency", "residencies",
    "A residency's current state",
    ResidencyView,
    |state, id, version, s| ResidencyView {
            residency_id: id,
            version,
            artist_person: common::person(&state, s.artist.0).await?,
            state: s,
        }
);
