//! `/startups`: one task-shaped endpoint per startup command, the current state with its ETag,
//! and the event history.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use incubator_domain::startup::{FundingKind, RoundKind, Stage, Startup, StartupCommand};
use incubator_domain::values::{
    Cohort, GrantId, InvestorName, MentorId, MilestoneId, Minutes, Money, OrganisationName,
    PersonId, ProgrammeName, Reason, RoundId, Sector, SessionId, Title, YearMonth,
};
use incubator_projections::log;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{etag, page_limit, parse_id, ApiJson, ApiQuery};
use super::{AppState, Caller};
use crate::store::CommandError;

/// Reads of a startup's own state and history (auditors and officers).
pub fn reads() -> Router<AppState> {
    Router::new()
        .route("/startups/{id}", get(show))
        .route("/startups/{id}/events", get(events))
}

/// Every startup command (officers).
pub fn commands() -> Router<AppState> {
    Router::new()
        .route("/startups", post(apply))
        .route("/startups/{id}/advance", post(advance))
        .route("/startups/{id}/reject", post(reject))
        .route("/startups/{id}/withdraw", post(withdraw))
        .route("/startups/{id}/exit", post(exit))
        .route("/startups/{id}/cohort", post(assign_cohort))
        .route("/startups/{id}/equity-rounds", post(record_round))
        .route("/startups/{id}/funding", post(award_funding))
        .route(
            "/startups/{id}/funding/{grant_id}/tranches",
            post(pay_tranche),
        )
        .route("/startups/{id}/mentors", post(assign_mentor))
        .route(
            "/startups/{id}/mentors/{mentor_id}/release",
            post(release_mentor),
        )
        .route("/startups/{id}/sessions", post(log_session))
        .route("/startups/{id}/milestones", post(set_milestone))
        .route(
            "/startups/{id}/milestones/{milestone_id}/achieve",
            post(achieve_milestone),
        )
        .route("/startups/{id}/kpis", post(record_kpis))
}

/// A command about to run: the state and who sent it.
struct Ctx {
    state: AppState,
    caller: Caller,
}

impl Ctx {
    /// Runs a command; answers with the new version as ETag and where its events landed.
    /// `created` names a sub-record the command created (`"grant_id"` and its id).
    async fn run(
        self,
        id: Uuid,
        command: StartupCommand,
        created: Option<(&'static str, Uuid)>,
    ) -> Result<Response, ApiError> {
        let reason = command.reason().map(|r| r.as_str().to_owned());
        let name = command.name();
        let store = &self.state.store;
        let outcome = store
            .execute(
                store.startups(),
                &id.to_string(),
                command,
                self.caller.expected_version,
                self.caller.metadata(reason.as_deref()),
            )
            .await;
        let label = match &outcome {
            Ok(_) => "accepted",
            Err(CommandError::Rule(_)) => "refused",
            Err(CommandError::VersionMismatch { .. }) => "version_mismatch",
            Err(CommandError::Conflict) => "conflict",
            Err(CommandError::Unavailable(_)) => "unavailable",
            Err(CommandError::Internal(_)) => "error",
        };
        self.state.metrics.command(name, label);
        match &outcome {
            Ok(_) => tracing::info!(command = name, outcome = label, "command"),
            Err(e) => tracing::info!(command = name, outcome = label, reason = %e, "command"),
        }
        let committed = outcome?;
        let mut body = json!({
            "startup_id": id,
            "version": committed.version,
            "position": committed.checkpoint.map(|c| c.position),
            "events": committed.event_types,
        });
        let status = if let Some((field, sub_id)) = created {
            body[field] = json!(sub_id);
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let mut response = (status, Json(body)).into_response();
        if let Ok(v) = etag(committed.version).parse() {
            response.headers_mut().insert(header::ETAG, v);
        }
        Ok(response)
    }
}

macro_rules! command_handler {
    ($name:ident, $body:ty, |$id:ident, $b:ident| $make:expr) => {
        async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(raw): Path<String>,
            ApiJson($b): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            let $id = parse_id(&raw, "startup")?;
            let ctx = Ctx { state, caller };
            let (command, created): (StartupCommand, Option<(&'static str, Uuid)>) = $make;
            ctx.run($id, command, created).await
        }
    };
}

/// A sub-record id from the path (`/funding/{grant_id}/…`).
macro_rules! sub_command_handler {
    ($name:ident, $body:ty, $what:literal, |$sub:ident, $b:ident| $make:expr) => {
        async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path((raw, raw_sub)): Path<(String, String)>,
            ApiJson($b): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            let id = parse_id(&raw, "startup")?;
            let $sub = parse_id(&raw_sub, $what)?;
            let ctx = Ctx { state, caller };
            ctx.run(id, $make, None).await
        }
    };
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyBody {
    name: OrganisationName,
    #[serde(default)]
    sector: Option<Sector>,
    founders: Vec<PersonId>,
    #[serde(default)]
    cohort: Option<Cohort>,
    #[serde(default)]
    applied_on: Option<NaiveDate>,
}

/// `POST /startups`: register an application; the id is chosen here (UUID v7).
async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ApplyBody>,
) -> Result<Response, ApiError> {
    if b.founders.len() > 20 {
        return Err(ApiError::invalid("founders", "at most 20 founders"));
    }
    let id = Uuid::now_v7();
    let ctx = Ctx { state, caller };
    let mut response = ctx
        .run(
            id,
            StartupCommand::Apply {
                name: b.name,
                sector: b.sector,
                founders: b.founders,
                cohort: b.cohort,
                applied_on: b.applied_on.unwrap_or_else(today),
            },
            None,
        )
        .await?;
    *response.status_mut() = StatusCode::CREATED;
    if let Ok(v) = format!("/api/v1/startups/{id}").parse() {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `GET /startups/{id}`: the current state, rebuilt from snapshot and events, with its version
/// as ETag.
async fn show(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&raw, "startup")?;
    let (startup, version): (Startup, u64) = state
        .store
        .load(state.store.startups(), &id.to_string())
        .await?;
    let Some(s) = startup.state else {
        return Err(ApiError::not_found(format!("no startup with id {id}")));
    };
    let mut body = serde_json::to_value(&s).map_err(|e| ApiError::internal(&e))?;
    body["startup_id"] = json!(id);
    body["version"] = json!(version);
    let mut response = Json(body).into_response();
    if let Ok(v) = etag(version).parse() {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    /// The sequence after which the page starts (the previous page's `next`).
    after: Option<u32>,
    limit: Option<u32>,
}

/// `GET /startups/{id}/events[?after=&limit=]`: the startup's events with their metadata, in
/// order, one page at a time; `next` is the cursor for the following page.
async fn events(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&raw, "startup")?;
    let limit = page_limit(q.limit)?;
    let after = i64::from(q.after.unwrap_or(0));
    let db = &state.store.read;
    let mut conn = db.pool.acquire().await?;
    let mut events = log::read_stream(
        &mut conn,
        db.dialect,
        "Startup",
        &id.to_string(),
        after,
        i64::from(limit) + 1,
    )
    .await?;
    if events.is_empty() && after == 0 {
        return Err(ApiError::not_found(format!("no startup with id {id}")));
    }
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let next = more.then(|| events.last().map(|e| e.sequence)).flatten();
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| {
            json!({
                "position": e.position(),
                "sequence": e.sequence,
                "event_type": e.event_type,
                "event_version": e.event_version,
                "recorded_at": e.recorded_at,
                "payload": serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::Null),
                "metadata": serde_json::from_str::<Value>(&e.metadata).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(Json(
        json!({ "startup_id": id, "events": events, "next": next }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    #[serde(default)]
    to: Option<Stage>,
    #[serde(default)]
    override_reason: Option<Reason>,
}

command_handler!(advance, AdvanceBody, |_id, b| (
    StartupCommand::Advance {
        to: b.to,
        override_reason: b.override_reason,
    },
    None
));

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: Reason,
}

command_handler!(reject, ReasonBody, |_id, b| (
    StartupCommand::Reject { reason: b.reason },
    None
));
command_handler!(withdraw, ReasonBody, |_id, b| (
    StartupCommand::Withdraw { reason: b.reason },
    None
));
command_handler!(exit, ReasonBody, |_id, b| (
    StartupCommand::Exit { reason: b.reason },
    None
));

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CohortBody {
    cohort: Cohort,
}

command_handler!(assign_cohort, CohortBody, |_id, b| (
    StartupCommand::AssignCohort { cohort: b.cohort },
    None
));

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoundBody {
    round: RoundKind,
    amount: Money,
    investors: Vec<InvestorName>,
    closed_on: NaiveDate,
}

command_handler!(record_round, RoundBody, |_id, b| {
    if b.investors.len() > 50 {
        return Err(ApiError::invalid("investors", "at most 50 investors"));
    }
    let round_id = RoundId::new();
    (
        StartupCommand::RecordEquityRound {
            round_id,
            round: b.round,
            amount: b.amount,
            investors: b.investors,
            closed_on: b.closed_on,
        },
        Some(("round_id", round_id.0)),
    )
});

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AwardBody {
    programme: ProgrammeName,
    kind: FundingKind,
    amount: Money,
    awarded_on: NaiveDate,
}

command_handler!(award_funding, AwardBody, |_id, b| {
    let grant_id = GrantId::new();
    (
        StartupCommand::AwardFunding {
            grant_id,
            programme: b.programme,
            kind: b.kind,
            amount: b.amount,
            awarded_on: b.awarded_on,
        },
        Some(("grant_id", grant_id.0)),
    )
});

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrancheBody {
    amount: Money,
    paid_on: NaiveDate,
}

sub_command_handler!(pay_tranche, TrancheBody, "funding", |grant, b| {
    StartupCommand::PayTranche {
        grant_id: GrantId(grant),
        amount: b.amount,
        paid_on: b.paid_on,
    }
});

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MentorBody {
    mentor_id: MentorId,
}

command_handler!(assign_mentor, MentorBody, |_id, b| (
    StartupCommand::AssignMentor {
        mentor_id: b.mentor_id,
    },
    None
));

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    #[serde(default)]
    reason: Option<Reason>,
}

sub_command_handler!(release_mentor, ReleaseBody, "mentor", |mentor, b| {
    StartupCommand::ReleaseMentor {
        mentor_id: MentorId(mentor),
        reason: b.reason,
    }
});

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionBody {
    mentor_id: MentorId,
    held_on: NaiveDate,
    minutes: Minutes,
    #[serde(default)]
    topics: Vec<Title>,
}

command_handler!(log_session, SessionBody, |_id, b| {
    if b.topics.len() > 20 {
        return Err(ApiError::invalid("topics", "at most 20 topics"));
    }
    let session_id = SessionId::new();
    (
        StartupCommand::LogSession {
            session_id,
            mentor_id: b.mentor_id,
            held_on: b.held_on,
            minutes: b.minutes,
            topics: b.topics,
        },
        Some(("session_id", session_id.0)),
    )
});

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MilestoneBody {
    title: Title,
    #[serde(default)]
    due_on: Option<NaiveDate>,
}

command_handler!(set_milestone, MilestoneBody, |_id, b| {
    let milestone_id = MilestoneId::new();
    (
        StartupCommand::SetMilestone {
            milestone_id,
            title: b.title,
            due_on: b.due_on,
        },
        Some(("milestone_id", milestone_id.0)),
    )
});

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AchieveBody {
    #[serde(default)]
    achieved_on: Option<NaiveDate>,
}

sub_command_handler!(
    achieve_milestone,
    AchieveBody,
    "milestone",
    |milestone, b| {
        StartupCommand::AchieveMilestone {
            milestone_id: MilestoneId(milestone),
            achieved_on: b.achieved_on.unwrap_or_else(today),
        }
    }
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KpiBody {
    month: YearMonth,
    revenue: Money,
    headcount: u32,
    customers: u32,
}

command_handler!(record_kpis, KpiBody, |_id, b| {
    if b.headcount > 100_000 {
        return Err(ApiError::invalid(
            "headcount",
            "headcount must be at most 100000",
        ));
    }
    (
        StartupCommand::RecordKpis {
            month: b.month,
            revenue: b.revenue,
            headcount: b.headcount,
            customers: b.customers,
        },
        None,
    )
});
