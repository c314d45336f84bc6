//! `/audit`: the auditor's desk (auditors and officers).

use super::prelude::*;
use incubator_domain::values::Moment;
use incubator_projections::audit::{self, Range, Verified};
use incubator_projections::log::{feed, FeedFilter};
use incubator_projections::models::Model;
use incubator_projections::rebuild::{self, Checked};
use incubator_projections::records::RecordKind;
use incubator_projections::Checkpoint;

use super::common::EventView;
use super::extract::{page_limit, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    common::router![verify, events, consistency]
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct FeedQuery {
    /// `Startup`, `Mentor`, `Space`, `Residency` or `Collaboration` (another value is a 422
    /// naming these).
    #[param(inline)]
    aggregate_type: Option<RecordKind>,
    aggregate_id: Option<Uuid>,
    /// An event type, e.g. `StageAdvanced`.
    event_type: Option<String>,
    /// The name of the token that sent the command.
    actor: Option<String>,
    /// Recorded at or after this instant (RFC 3339).
    #[param(inline)]
    from: Option<Moment>,
    /// Recorded at or before this instant (RFC 3339).
    #[param(inline)]
    to: Option<Moment>,
    /// Events per page, 1 to 500 (default 50).
    limit: Option<u32>,
    /// The previous page's `next`.
    after: Option<String>,
}

/// One event of the audit feed: a record's event with the record named.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    #[serde(flatten)]
    pub event: EventView,
}

/// One page of the audit feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Feed {
    /// The page's events (`items`, as every page names its entries).
    pub items: Vec<AuditEvent>,
    /// The cursor of the next page (`?after=`), null when the page is the last so far (new
    /// events will follow it: poll again with the last cursor you had).
    pub next: Option<String>,
}

fn cursor(c: Checkpoint) -> String {
    format!("{}.{}", c.transaction_id, c.position)
}

fn parse_cursor(raw: &str) -> Option<Checkpoint> {
    let (t, p) = raw.split_once('.')?;
    Some(Checkpoint {
        transaction_id: t.parse().ok().filter(|t: &i64| *t >= 0)?,
        position: p.parse().ok().filter(|p: &i64| *p >= 0)?,
    })
}

/// `GET /audit/events`: the whole log in commit order with every event's metadata (who, when,
/// why), a page at a time; filters by aggregate, event type, actor and time.
#[utoipa::path(
    get,
    path = "/audit/events",
    tag = "audit",
    summary = "The audit feed: the log in commit order, with who, when and why",
    params(FeedQuery),
    responses((status = 200, description = "One page", body = Feed), ListErrors),
    security(("bearer" = [])),
    extensions(("x-role" = json!("auditor"))),
)]
async fn events(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> Result<Json<Feed>, ApiError> {
    let limit = page_limit(q.limit)?;
    let after = match q.after.as_deref() {
        None => Checkpoint::default(),
        Some(raw) => parse_cursor(raw)
            .ok_or_else(|| ApiError::invalid("after", "not a cursor this feed gave"))?,
    };
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to < from {
            return Err(ApiError::invalid("to", "the period ends before it starts"));
        }
    }
    let filter = FeedFilter {
        aggregate_type: q.aggregate_type.map(|k| k.aggregate_type().to_owned()),
        aggregate_id: q.aggregate_id.map(|id| id.to_string()),
        event_type: q.event_type,
        actor: q.actor,
        from: q.from.map(common::log_instant),
        to: q.to.map(common::log_instant),
    };
    let db = &state.store.read;
    let mut conn = db.pool.acquire().await?;
    let mut rows = feed(&mut conn, db.dialect, &filter, after, i64::from(limit) + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(|e| cursor(e.checkpoint))
    });
    let events = rows
        .into_iter()
        .map(|mut e| AuditEvent {
            aggregate_type: std::mem::take(&mut e.aggregate_type),
            aggregate_id: std::mem::take(&mut e.aggregate_id),
            event: EventView::from(e),
        })
        .collect();
    Ok(Json(Feed {
        items: events,
        next: next.flatten(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct VerifyQuery {
    /// The first global position to check (default: the start of the log).
    from_position: Option<i64>,
    /// The last global position to check (default: the end of the log).
    to_position: Option<i64>,
}

/// `GET /audit/verify`: recomputes the hash chains and digests of the events in a range and
/// compares them with the seal; `intact` is false and `first` names the first broken event
/// when anything differs. The answer is 200 either way: the report is the result.
#[utoipa::path(
    get,
    path = "/audit/verify",
    tag = "audit",
    summary = "Verify that the log matches its seal (hash chains and digests)",
    params(VerifyQuery),
    responses((status = 200, description = "The verification report", body = Verified), ListErrors),
    security(("bearer" = [])),
    extensions(("x-role" = json!("auditor"))),
)]
async fn verify(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> Result<Json<Verified>, ApiError> {
    let range = Range {
        from: q.from_position.unwrap_or(0),
        to: q.to_position.unwrap_or(i64::MAX),
    };
    if range.to < range.from {
        return Err(ApiError::invalid(
            "to_position",
            "the range ends before it starts",
        ));
    }
    // One check at a time (503 `busy` meanwhile), on the heavy pool's connections.
    let _turn = state.heavy.check_turn()?;
    let db = state.store.heavy.clone();
    let verified = state
        .heavy
        .run(async move { Ok(audit::verify(&db, range, &|_| {}).await?) })
        .await?;
    Ok(Json(verified))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConsistencyQuery {
    /// One read model (default: every one).
    model: Option<String>,
}

/// Every read model replayed from the log and compared with the live one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Consistency {
    /// Whether every model checked equals its replay.
    pub consistent: bool,
    pub models: Vec<Checked>,
}

/// `GET /audit/consistency`: replays each read model from the log, up to the position the live
/// one has reached, and compares the two row by row (what `incubator projections check` does).
/// Read-only, and it holds nothing commands or projectors wait on: the live model is read in
/// one snapshot, the replay is written to temporary copies. One check at a time.
#[utoipa::path(
    get,
    path = "/audit/consistency",
    tag = "audit",
    summary = "Replay equals live: every read model rebuilt aside and compared row by row",
    params(ConsistencyQuery),
    responses((status = 200, description = "The comparison", body = Consistency), ListErrors),
    security(("bearer" = [])),
    extensions(("x-role" = json!("auditor"))),
)]
async fn consistency(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> Result<Json<Consistency>, ApiError> {
    let models = match q.model.as_deref() {
        None => Model::ALL.to_vec(),
        Some(name) => vec![Model::named(name).ok_or_else(|| {
            ApiError::invalid(
                "model",
                format!(
                    "no read model {name:?}; there are {}",
                    Model::names().join(", ")
                ),
            )
        })?],
    };
    // One check at a time (503 `busy` meanwhile), on the heavy pool's connections.
    let _turn = state.heavy.check_turn()?;
    let db = state.store.heavy.clone();
    let out = state
        .heavy
        .run(async move {
            let mut out = Vec::new();
            for model in models {
                out.push(rebuild::check(&db, &model, &|_| {}).await?);
            }
            Ok(out)
        })
        .await?;
    Ok(Json(Consistency {
        consistent: out.iter().all(|c| c.differences() == 0),
        models: out,
    }))
}
