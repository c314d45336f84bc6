//! `/collaborations`: interdisciplinary collaborations (S+T+ARTS), from proposal to outputs.

use super::prelude::*;
use incubator_domain::collaboration::{
    CoProduction, CollabMilestone, Collaboration, CollaborationCommand, CollaborationState, Output,
    OutputKind, Participant, PartyKind, Phase, Scope,
};
use incubator_domain::values::{Day, Expertise, OrganisationName, Proposal, Reason, Title};

/// Every collaboration command (officers).
pub fn commands() -> OpenApiRouter<AppState> {
    common::router![
        propose,
        join,
        leave,
        record_agreement,
        activate,
        add_phase,
        set_milestone,
        achieve_milestone,
        record_output,
        conclude,
        abandon
    ]
}

accepted!(
    /// What an accepted collaboration command answers.
    CollaborationAccepted,
    collaboration_id,
    participant_id,
    phase_id,
    milestone_id,
    output_id;
    run(CollaborationCommand) on collaborations
);

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

/// A command on one collaboration (`common::command!` with the collaboration's kind bound).
macro_rules! collab_command {
    ($($t:tt)*) => { common::command!("collaboration", "collaborations", CollaborationAccepted; $($t)*); };
}

// `POST /collaborations`: propose a collaboration.
collab_command!(
    propose,
    "/collaborations",
    create,
    "Propose an interdisciplinary collaboration",
    ProposeBody,
    |state, caller, b| make {
        CollaborationCommand::Propose {
            title: b.title,
            challenge: b.challenge,
            disciplines: b.disciplines,
            proposed_on: b.proposed_on.map_or_else(today, Day::get),
        }
    }
);

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
    |state, caller, id, _sub, b| run {
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
    sub = "participant_id" ("participant"),
    |state, caller, id, participant, b| run run(
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
    |state, caller, id, _sub, b| run {
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
    |state, caller, id, _sub, b| run run(
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
    |state, caller, id, _sub, b| run {
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
    |state, caller, id, _sub, b| run {
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
    sub = "milestone_id" ("milestone"),
    |state, caller, id, milestone, b| run run(
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
    |state, caller, id, _sub, b| run {
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
    |state, caller, id, _sub, b| run run(
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
    |state, caller, id, _sub, b| run run(
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
    "A collaboration's current state",
    CollaborationView,
    |state, id, version, s| CollaborationView {
            collaboration_id: id,
            version,
            state: s,
        }
);
