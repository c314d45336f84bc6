//! `/collaborations`: interdisciplinary collaborations (S+T+ARTS), from proposal to outputs.

use super::prelude::*;
use incubator_domain::collaboration::{
    CoProduction, CollabMilestone, Collaboration, CollaborationCommand, CollaborationState, Output,
    OutputKind, Participant, PartyKind, Phase, Scope,
};
use incubator_domain::values::{Day, Expertise, OrganisationName, Proposal, Reason, Title};

/// Reads of a collaboration's state and history (auditors and officers).
pub fn reads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(events))
        .routes(routes!(history))
}

/// Every collaboration command (officers).
pub fn commands() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(propose))
        .routes(routes!(join))
        .routes(routes!(leave))
        .routes(routes!(record_agreement))
        .routes(routes!(activate))
        .routes(routes!(add_phase))
        .routes(routes!(set_milestone))
        .routes(routes!(achieve_milestone))
        .routes(routes!(record_output))
        .routes(routes!(conclude))
        .routes(routes!(abandon))
}

accepted!(
    /// What an accepted collaboration command answers.
    CollaborationAccepted,
    collaboration_id,
    participant_id,
    phase_id,
    milestone_id,
    output_id,
);

async fn run(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    command: CollaborationCommand,
    created: Option<Created>,
) -> Result<Response, ApiError> {
    let committed =
        common::execute(state, caller, state.store.collaborations(), id, command).await?;
    let version = committed.version;
    let body = CollaborationAccepted::new(id, committed);
    let mut response = common::with_etag(common::status(created.is_some()), body, version);
    if matches!(created, Some(Created::Record)) {
        response = common::with_location(response, &format!("/api/v1/collaborations/{id}"));
    }
    Ok(response)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProposeBody {
    title: Title,
    challenge: Proposal,
    /// 1 to 100 distinct disciplines.
    #[schema(min_items = 1, max_items = 100)]
    disciplines: Vec<Expertise>,
    /// Defaults to today.
    #[serde(default)]
    proposed_on: Option<Day>,
}

/// `POST /collaborations`: propose a collaboration.
#[utoipa::path(
    post,
    path = "/collaborations",
    tag = "collaborations",
    summary = "Propose an interdisciplinary collaboration",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
    ),
    request_body = ProposeBody,
    responses(
        (status = 201, description = "Proposed; `Location` names the collaboration", body = CollaborationAccepted),
        CommandErrors,
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("officer"))),
)]
async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ProposeBody>,
) -> Result<Response, ApiError> {
    let command = CollaborationCommand::Propose {
        title: b.title,
        challenge: b.challenge,
        disciplines: b.disciplines,
        proposed_on: b.proposed_on.map_or_else(today, Day::get),
    };
    run(
        &state,
        &caller,
        Uuid::now_v7(),
        command,
        Some(Created::Record),
    )
    .await
}

/// A command on one collaboration (and maybe one of its participants or milestones).
macro_rules! collab_command {
    ($name:ident, $path:tt, $status:tt, $summary:tt, $body:ty, $(sub = $sub:tt,)? |$state:ident, $caller:ident, $id:ident, $subid:ident, $b:ident| $run:expr) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "collaborations",
            summary = $summary,
            params(
                ("id" = Uuid, Path, description = "The collaboration's id"),
                $(($sub = Uuid, Path, description = "The participant's or milestone's id"),)?
                ("If-Match" = Option<String>, Header, description = "The version the command expects, as the ETag `\"N\"`; 412 if the record moved on"),
                ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
            ),
            request_body = $body,
            responses(
                (status = $status, description = "Accepted: the new version (also the ETag) and where the events landed", body = CollaborationAccepted),
                CommandErrors,
            ),
            security(("bearer" = [])),
            extensions(("x-role" = json!("officer"))),
        )]
        async fn $name(
            State($state): State<AppState>,
            $caller: Caller,
            ApiPath(raw): ApiPath<Vec<String>>,
            ApiJson($b): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            let $id = parse_id(raw.first().map_or("", String::as_str), "collaboration")?;
            #[allow(unused_variables)]
            let $subid = match raw.get(1) {
                Some(sub) => parse_id(sub, "participant or milestone")?,
                None => $id,
            };
            $run
        }
    };
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct JoinBody {
    kind: PartyKind,
    /// The startup's or residency's id (which must exist), or the partner organisation's.
    party_id: Uuid,
    /// A partner's name (partners only).
    #[serde(default)]
    name: Option<OrganisationName>,
    /// A partner's scope (partners only).
    #[serde(default)]
    scope: Option<Scope>,
    discipline: Expertise,
    role: Title,
}

collab_command!(
    join,
    "/collaborations/{id}/participants",
    201,
    "Add a participant: a startup, a resident or an external partner",
    JoinBody,
    |state, caller, id, _sub, b| {
        let key = b.party_id.to_string();
        let known = match b.kind {
            PartyKind::Startup => state
                .store
                .load(state.store.startups(), &key)
                .await?
                .0
                .state
                .is_some(),
            PartyKind::Residency => state
                .store
                .load(state.store.residencies(), &key)
                .await?
                .0
                .state
                .is_some(),
            PartyKind::Partner => true,
        };
        if !known {
            let what = if b.kind == PartyKind::Startup {
                "startup"
            } else {
                "residency"
            };
            return Err(ApiError::not_found(format!(
                "no {what} with id {}",
                b.party_id
            )));
        }
        let participant_id = Uuid::now_v7();
        let participant = Participant {
            participant_id,
            kind: b.kind,
            party_id: b.party_id,
            name: b.name,
            scope: b.scope,
            discipline: b.discipline,
            role: b.role,
        };
        run(
            &state,
            &caller,
            id,
            CollaborationCommand::Join { participant },
            Some(Created::Sub),
        )
        .await
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CollaborationReasonBody {
    reason: Reason,
}

collab_command!(
    leave,
    "/collaborations/{id}/participants/{participant_id}/leave",
    200,
    "A participant leaves",
    CollaborationReasonBody,
    sub = "participant_id",
    |state, caller, id, participant, b| run(
        &state,
        &caller,
        id,
        CollaborationCommand::Leave {
            participant_id: participant,
            reason: b.reason
        },
        None
    )
    .await
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CoProductionBody {
    /// Who owns what.
    ip_terms: Proposal,
    licence: Title,
    /// Defaults to today.
    #[serde(default)]
    signed_on: Option<Day>,
}

collab_command!(
    record_agreement,
    "/collaborations/{id}/agreement",
    200,
    "Record the co-production agreement (intellectual property, licence)",
    CoProductionBody,
    |state, caller, id, _sub, b| {
        let agreement = CoProduction {
            ip_terms: b.ip_terms,
            licence: b.licence,
            signed_on: b.signed_on.map_or_else(today, Day::get),
        };
        run(
            &state,
            &caller,
            id,
            CollaborationCommand::RecordAgreement { agreement },
            None,
        )
        .await
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DayBody {
    /// Defaults to today.
    #[serde(default)]
    on: Option<Day>,
}

collab_command!(
    activate,
    "/collaborations/{id}/activate",
    200,
    "Activate: needs two participants of two disciplines and an agreement",
    DayBody,
    |state, caller, id, _sub, b| run(
        &state,
        &caller,
        id,
        CollaborationCommand::Activate {
            activated_on: b.on.map_or_else(today, Day::get)
        },
        None
    )
    .await
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PhaseBody {
    title: Title,
    starts_on: Day,
    ends_on: Day,
}

collab_command!(
    add_phase,
    "/collaborations/{id}/phases",
    201,
    "Add a phase of the work",
    PhaseBody,
    |state, caller, id, _sub, b| {
        let phase_id = Uuid::now_v7();
        let phase = Phase {
            phase_id,
            title: b.title,
            starts_on: b.starts_on.get(),
            ends_on: b.ends_on.get(),
        };
        run(
            &state,
            &caller,
            id,
            CollaborationCommand::AddPhase { phase },
            Some(Created::Sub),
        )
        .await
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CollaborationMilestoneBody {
    title: Title,
    due_on: Day,
}

collab_command!(
    set_milestone,
    "/collaborations/{id}/milestones",
    201,
    "Set a milestone",
    CollaborationMilestoneBody,
    |state, caller, id, _sub, b| {
        let milestone_id = Uuid::now_v7();
        let milestone = CollabMilestone {
            milestone_id,
            title: b.title,
            due_on: b.due_on.get(),
            done_on: None,
        };
        run(
            &state,
            &caller,
            id,
            CollaborationCommand::SetMilestone { milestone },
            Some(Created::Sub),
        )
        .await
    }
);

collab_command!(
    achieve_milestone,
    "/collaborations/{id}/milestones/{milestone_id}/achieve",
    200,
    "Mark a milestone done",
    DayBody,
    sub = "milestone_id",
    |state, caller, id, milestone, b| run(
        &state,
        &caller,
        id,
        CollaborationCommand::AchieveMilestone {
            milestone_id: milestone,
            done_on: b.on.map_or_else(today, Day::get)
        },
        None
    )
    .await
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OutputBody {
    kind: OutputKind,
    title: Title,
    on: Day,
}

collab_command!(
    record_output,
    "/collaborations/{id}/outputs",
    201,
    "Record an output: prototype, artwork, exhibition, publication",
    OutputBody,
    |state, caller, id, _sub, b| {
        let output_id = Uuid::now_v7();
        let output = Output {
            output_id,
            kind: b.kind,
            title: b.title,
            on: b.on.get(),
        };
        run(
            &state,
            &caller,
            id,
            CollaborationCommand::RecordOutput { output },
            Some(Created::Sub),
        )
        .await
    }
);

collab_command!(
    conclude,
    "/collaborations/{id}/conclude",
    200,
    "Conclude an active collaboration",
    DayBody,
    |state, caller, id, _sub, b| run(
        &state,
        &caller,
        id,
        CollaborationCommand::Conclude {
            concluded_on: b.on.map_or_else(today, Day::get)
        },
        None
    )
    .await
);

collab_command!(
    abandon,
    "/collaborations/{id}/abandon",
    200,
    "Abandon a proposed or active collaboration",
    CollaborationReasonBody,
    |state, caller, id, _sub, b| run(
        &state,
        &caller,
        id,
        CollaborationCommand::Abandon {
            reason: b.reason,
            abandoned_on: today()
        },
        None
    )
    .await
);

/// A collaboration's current state.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollaborationView {
    pub collaboration_id: Uuid,
    /// The number of events so far (also the `ETag`).
    pub version: u64,
    #[serde(flatten)]
    pub state: CollaborationState,
}

common::record_reads!(
    Collaboration via collaborations, "collaboration", "collaborations",
    ["/collaborations/{id}", "/collaborations/{id}/events", "/collaborations/{id}/history"],
    ["A collaboration's current state", "A collaboration's history: its events with metadata, in order"],
    CollaborationView,
    |state, id, version, s| CollaborationView {
            collaboration_id: id,
            version,
            state: s,
        }
);
