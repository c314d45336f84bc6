//! What every aggregate's endpoints share: their reads and command endpoints (one macro each),
//! answering a command with the new version as ETag (the command itself runs in `crate::app`),
//! and paging a record's history.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::Aggregate;
use incubator_domain::DomainRule;
use incubator_projections::log;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{etag, page_limit};
use super::AppState;
use crate::store::EventRepo;

/// A JSON answer carrying `version` as its ETag.
pub fn with_etag(status: StatusCode, body: impl Serialize, version: u64) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(v) = etag(version).parse() {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// Loads aggregate `id`'s state and version; 404 naming `what` when it does not exist.
pub async fn load<A, S>(
    state: &AppState,
    store: &PersistedEventStore<EventRepo, A>,
    id: Uuid,
    what: &str,
    state_of: impl FnOnce(A) -> Option<S>,
) -> Result<(S, u64), ApiError>
where
    A: Aggregate,
    A::Error: DomainRule,
{
    let (aggregate, version) = state.store.load(store, &id.to_string()).await?;
    state_of(aggregate)
        .map(|s| (s, version))
        .ok_or_else(|| ApiError::not_found(format!("no {what} with id {id}")))
}

/// Refuses (404 `unknown_person`) a command naming people who are not in the registry: an id
/// mistyped into an event would stay in the log for good, naming no one.
pub async fn require_registered(
    state: &AppState,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<(), ApiError> {
    // On the commands' connections: a command never waits behind reads.
    let missing = crate::people::unregistered(&state.store.commands, ids).await?;
    match missing.first() {
        None => Ok(()),
        Some(id) => Err(ApiError::Rule {
            kind: incubator_domain::RuleKind::NotFound,
            code: "unknown_person",
            detail: format!(
                "no person {id} is in the people registry: register them first (POST /api/v1/people)"
            ),
        }),
    }
}

/// Which state of a record to show: the current one by default.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The state as it was at this instant (RFC 3339), rebuilt from the events recorded up to
    /// it.
    #[param(inline)]
    as_of: Option<incubator_domain::values::Moment>,
    /// The state after its first N events (N ≥ 1).
    version: Option<u64>,
}

/// The registry's entry for person `id` as a record shows it: a name, or erased.
pub async fn person(state: &AppState, id: Uuid) -> Result<crate::people::PersonRef, ApiError> {
    crate::people::describe(&state.store.read, [id])
        .await?
        .remove(&id)
        .ok_or_else(|| ApiError::internal(&"the registry answered no reference"))
}

/// Loads aggregate `id`'s state and version as `at` asks: the current state (through the
/// store, snapshots and all), or a past one rebuilt from its events alone — snapshots never
/// change a past answer. 404 naming `what` when it did not exist then.
pub async fn load_at<A, S>(
    state: &AppState,
    store: &PersistedEventStore<EventRepo, A>,
    id: Uuid,
    what: &str,
    at: &AsOfQuery,
    state_of: impl FnOnce(A) -> Option<S>,
) -> Result<(S, u64), ApiError>
where
    A: Aggregate,
    A::Error: DomainRule,
{
    let (instant, version) = match (at.as_of, at.version) {
        (None, None) => return load(state, store, id, what, state_of).await,
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "version",
                "ask for a past state by `as_of` or by `version`, not both",
            ))
        }
        (_, Some(0)) => return Err(ApiError::invalid("version", "versions start at 1")),
        (t, v) => (
            t.map(log_instant),
            v.map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
        ),
    };
    let db = &state.store.read;
    let mut conn = db.pool.acquire().await?;
    let mut aggregate = A::default();
    let mut at_version = 0i64;
    'read: loop {
        let events = log::read_stream(
            &mut conn,
            db.dialect,
            A::TYPE,
            &id.to_string(),
            at_version,
            500,
        )
        .await?;
        if events.is_empty() {
            break;
        }
        for e in events {
            if version.is_some_and(|v| e.sequence > v)
                || instant
                    .as_ref()
                    .is_some_and(|t| e.recorded_at.as_str() > t.as_str())
            {
                break 'read;
            }
            let event: A::Event = serde_json::from_str(&e.payload).map_err(|err| {
                ApiError::internal(&format!("event {} does not decode: {err}", e.position()))
            })?;
            aggregate.apply(event);
            at_version = e.sequence;
        }
    }
    if version.is_some_and(|v| at_version < v) {
        return Err(ApiError::not_found(format!(
            "the {what} {id} has no version {}",
            version.unwrap_or_default()
        )));
    }
    let found = (at_version > 0).then(|| state_of(aggregate)).flatten();
    found
        .map(|s| (s, at_version as u64))
        .ok_or_else(|| ApiError::not_found(format!("no {what} with id {id} at that time")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The sequence after which the page starts (the previous page's `next`).
    after: Option<u32>,
    /// Events per page, 1 to 500 (default 50).
    limit: Option<u32>,
}

/// One event as stored, with its coordinates and metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Its place in the global log.
    pub position: i64,
    /// Its place in the record's own history (1, 2, …).
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// When it was committed (RFC 3339, UTC).
    pub recorded_at: String,
    /// The event as stored: an object named by its type, or the bare name of an event
    /// without fields (`"ResidencyAccepted"`).
    #[schema(value_type = serde_json::Value)]
    pub payload: Value,
    /// `actor`, `role`, `correlation_id`, and `reason` / `idempotency_key` /
    /// `client_request_id` when given.
    #[schema(value_type = Object)]
    pub metadata: Value,
}

impl From<log::LoggedEvent> for EventView {
    /// The stored JSON as it is; text that does not parse (which the log's writers never
    /// store) is shown as a string rather than dropped.
    fn from(e: log::LoggedEvent) -> Self {
        let json = |text: String| serde_json::from_str(&text).unwrap_or(Value::String(text));
        Self {
            position: e.position(),
            sequence: e.sequence,
            payload: json(e.payload),
            metadata: json(e.metadata),
            event_type: e.event_type,
            event_version: e.event_version,
            recorded_at: e.recorded_at,
        }
    }
}

/// One page of a record's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// `Startup`, `Mentor`, `Space`, …
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    /// The page's events (`items`, as every page names its entries).
    pub items: Vec<EventView>,
    /// The cursor of the next page (`?after=`), null on the last: a string, as every cursor.
    pub next: Option<String>,
}

/// A router of the handlers named, each with its OpenAPI operation.
macro_rules! router {
    ($($handler:ident),* $(,)?) => {
        utoipa_axum::router::OpenApiRouter::new()$(.routes(utoipa_axum::routes!($handler)))*
    };
}
pub(crate) use router;

/// A record's three reads, written once for every aggregate: `GET {base}` (its state now or
/// `?as_of`, with its version as `ETag`), `GET {base}/events` and `GET {base}/history` (one
/// page of its events with who, when and why). `$view` builds the answer from `$state`, the
/// record's `$id`, `$version` and state `$s`; the aggregate's type names its stream.
macro_rules! record_reads {
    (
        $aggregate:ident via $events:ident, $what:literal, $tag:literal, $show_summary:literal,
        $view_ty:ty,
        |$state:ident, $id:ident, $version:ident, $s:ident| $view:expr
    ) => {
        /// Reads of the record's state and history (auditors and officers).
        pub fn reads() -> OpenApiRouter<AppState> {
            common::router![show, events, history]
        }

        #[utoipa::path(
            get,
            path = concat!("/", $tag, "/{id}"),
            tag = $tag,
            summary = $show_summary,
            params(("id" = Uuid, Path, description = "The record's id"), common::AsOfQuery),
            responses(
                (status = 200, description = "The state; `ETag` is its version", body = $view_ty),
                RecordReadErrors,
            ),
            security(("bearer" = [])),
            extensions(("x-role" = json!("auditor"))),
        )]
        async fn show(
            State($state): State<AppState>,
            ApiPath(raw): ApiPath<String>,
            ApiQuery(at): ApiQuery<common::AsOfQuery>,
        ) -> Result<Response, ApiError> {
            let $id = parse_id(&raw, $what)?;
            let ($s, $version) = common::load_at(
                &$state,
                $state.store.$events(),
                $id,
                $what,
                &at,
                |a: $aggregate| a.state,
            )
            .await?;
            let view: $view_ty = $view;
            Ok(common::with_etag(StatusCode::OK, view, $version))
        }

        common::record_history!(
            events,
            concat!("/", $tag, "/{id}/events"),
            $tag,
            concat!("A ", $what, "'s history: its events with metadata, in order"),
            $aggregate,
            $what
        );
        common::record_history!(
            history,
            concat!("/", $tag, "/{id}/history"),
            $tag,
            "The record's history: its events with who, when and why (as /events)",
            $aggregate,
            $what
        );
    };
}
pub(crate) use record_reads;

/// One path of a record's history (`/events`, and `/history`, which answers the same).
macro_rules! record_history {
    ($name:ident, $path:expr, $tag:expr, $summary:expr, $aggregate:ty, $what:expr) => {
        #[utoipa::path(
                    get,
                    path = $path,
                    tag = $tag,
                    summary = $summary,
                    params(("id" = Uuid, Path, description = "The record's id"), EventsQuery),
                    responses(
                        (status = 200, description = "One page of events", body = History),
                        RecordReadErrors,
                    ),
                    security(("bearer" = [])),
                    extensions(("x-role" = json!("auditor"))),
                )]
        async fn $name(
            State(state): State<AppState>,
            ApiPath(raw): ApiPath<String>,
            ApiQuery(q): ApiQuery<EventsQuery>,
        ) -> Result<Json<History>, ApiError> {
            let id = parse_id(&raw, $what)?;
            let kind = <$aggregate as cqrs_es::Aggregate>::TYPE;
            common::history(&state, kind, $what, id, q).await
        }
    };
}
pub(crate) use record_history;

/// One page of aggregate `id`'s events; 404 naming `what` when it has none.
pub async fn history(
    state: &AppState,
    aggregate_type: &str,
    what: &str,
    id: Uuid,
    q: EventsQuery,
) -> Result<Json<History>, ApiError> {
    let limit = page_limit(q.limit)?;
    let after = i64::from(q.after.unwrap_or(0));
    let db = &state.store.read;
    let mut conn = db.pool.acquire().await?;
    let events = log::read_stream(
        &mut conn,
        db.dialect,
        aggregate_type,
        &id.to_string(),
        after,
        i64::from(limit) + 1,
    )
    .await?;
    if events.is_empty() && after == 0 {
        return Err(ApiError::not_found(format!("no {what} with id {id}")));
    }
    let (events, next) = page(events, limit, |e| e.sequence.to_string());
    let events = events.into_iter().map(EventView::from).collect();
    Ok(Json(History {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: id,
        items: events,
        next,
    }))
}

/// Splits a fetch of up to `limit + 1` rows into one page of `limit` and the cursor of the next
/// page (the last row's key, when there is a next page).
pub fn page<T, C>(mut items: Vec<T>, limit: u32, key: impl FnOnce(&T) -> C) -> (Vec<T>, Option<C>) {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = if more { items.last().map(key) } else { None };
    (items, next)
}

/// Today in hub time (Luxembourg): the default day of a command or a read.
pub fn today() -> chrono::NaiveDate {
    incubator_domain::values::hub_local(chrono::Utc::now()).date()
}

/// An instant as the log writes `recorded_at` (UTC, milliseconds), to compare with it.
pub fn log_instant(t: incubator_domain::values::Moment) -> String {
    t.0.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A connection of the heavy pool on which `model`'s tables hold the model as it was at `t`
/// (see `rebuild::as_of`). Run it in a [`super::heavy::Heavy`] turn.
pub async fn model_as_of(
    state: &AppState,
    model: incubator_projections::models::Model,
    t: incubator_domain::values::Moment,
) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, ApiError> {
    Ok(incubator_projections::rebuild::as_of(&state.store.heavy, &model, &log_instant(t)).await?)
}

/// Adds `Location: path` to a response (a command that created a record).
pub fn with_location(mut response: Response, path: &str) -> Response {
    if let Ok(v) = path.parse() {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// What a command brings into being besides its events, for its answer's status: a record
/// (201 and `Location`) or a sub-record (201, its id in the answer, read from the events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Record,
    Sub,
}

/// The status of a command answer: 201 when it created a record or sub-record.
pub fn status(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// The answer to an accepted command on record `id` of `collection`: `body`, the version as
/// `ETag`, 201 when it `created` a record (with `Location`) or a sub-record, else 200.
pub fn answered(
    collection: &str,
    id: Uuid,
    version: u64,
    created: Option<Created>,
    body: impl Serialize,
) -> Response {
    let response = with_etag(status(created.is_some()), body, version);
    match created {
        Some(Created::Record) => with_location(response, &format!("/api/v1/{collection}/{id}")),
        _ => response,
    }
}

/// One command endpoint, `POST $path`, written once for every record: its OpenAPI operation
/// (path and optional sub-record parameters, `If-Match`, `Idempotency-Key`, the body, the
/// answer, the errors) and its handler; `create` in place of a status is the endpoint that
/// records a new one (201, `Location`, an id chosen here). The record's kind comes first (`$what` names it in a
/// 404, `$tag` groups it, `$answer` is its answer's schema); a module binds those once in a
/// short macro of its own. The handler either `make`s `(command, created)` for the module's
/// `run`, or `run`s an expression of its own (work across records, through `crate::app`).
macro_rules! command {
    (
        $what:literal, $tag:literal, $answer:ty;
        $name:ident, $path:literal, create, $summary:literal, $body:ty,
        |$state:ident, $caller:ident, $b:pat_param| make $make:expr
    ) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = $tag,
            summary = $summary,
            params(
                ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
            ),
            request_body = $body,
            responses(
                (status = 201, description = concat!("Recorded; `Location` names the ", $what), body = $answer),
                CommandErrors,
            ),
            security(("bearer" = [])),
            extensions(("x-role" = json!("officer"))),
        )]
        async fn $name(
            State($state): State<AppState>,
            $caller: Caller,
            ApiJson($b): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            let command = $make;
            run(&$state, &$caller, Uuid::now_v7(), command, Some(Created::Record)).await
        }
    };
    (
        $what:literal, $tag:literal, $answer:ty;
        $name:ident, $path:literal, $status:tt, $summary:literal, $body:ty,
        $(sub = $sub:literal ($sub_what:literal),)?
        |$state:ident, $caller:ident, $id:ident, $subid:pat_param, $b:pat_param| make $make:expr
    ) => {
        common::command!(
            $what, $tag, $answer;
            $name, $path, $status, $summary, $body, $(sub = $sub ($sub_what),)?
            |$state, $caller, $id, $subid, $b| run {
                let (command, created) = $make;
                run(&$state, &$caller, $id, command, created).await
            }
        );
    };
    (
        $what:literal, $tag:literal, $answer:ty;
        $name:ident, $path:literal, $status:tt, $summary:literal, $body:ty,
        $(sub = $sub:literal ($sub_what:literal),)?
        |$state:ident, $caller:ident, $id:ident, $subid:pat_param, $b:pat_param| run $run:expr
    ) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = $tag,
            summary = $summary,
            params(
                ("id" = Uuid, Path, description = "The record's id"),
                $(($sub = Uuid, Path, description = concat!("The ", $sub_what, "'s id")),)?
                ("If-Match" = Option<String>, Header, description = "The version the command expects, as the ETag `\"N\"`; 412 if the record moved on"),
                ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
            ),
            request_body = $body,
            responses(
                (status = $status, description = "Accepted: the new version (also the ETag) and where the events landed", body = $answer),
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
            let $id = parse_id(raw.first().map_or("", String::as_str), $what)?;
            #[allow(unused_variables)]
            let $subid = match raw.get(1) {
                Some(sub) => parse_id(sub, common::command!(@sub $($sub_what)?))?,
                None => $id,
            };
            $run
        }
    };
    (@sub $what:literal) => {
        $what
    };
    (@sub) => {
        "sub-record"
    };
}
pub(crate) use command;

/// Declares the answer of an aggregate's commands: its id, the new version, where the events
/// landed, and the ids of sub-records a command may create; with `; run(Command) on store`,
/// also the module's `run`, one command on a record of `store` (the collection's name) answered.
macro_rules! accepted {
    (
        $(#[$doc:meta])* $name:ident, $id:ident $(, $sub:ident)* $(,)?;
        $run:ident($command:ty) on $store:ident
    ) => {
        common::accepted!($(#[$doc])* $name, $id $(, $sub)*);

        /// Runs a command on one record of the collection and answers it: the accepted answer,
        /// the version as `ETag`, 201 (with `Location` for a new record) when it `created` one.
        async fn $run(
            state: &AppState,
            caller: &Caller,
            id: Uuid,
            command: $command,
            created: Option<Created>,
        ) -> Result<Response, ApiError> {
            let committed = state
                .app()
                .execute(caller, state.store.$store(), id, command)
                .await?;
            let version = committed.version;
            let body = $name::new(id, committed);
            Ok(common::answered(stringify!($store), id, version, created, body))
        }
    };
    ($(#[$doc:meta])* $name:ident, $id:ident $(, $sub:ident)* $(,)?) => {
        $(#[$doc])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub $id: uuid::Uuid,
            /// The record's version after the command (also the `ETag`).
            pub version: u64,
            /// Where the command's last event sits in the global log (null if none was
            /// appended).
            pub position: Option<i64>,
            /// Every event the command appended, with its record (a residency's arrival
            /// lists its studio's allocation too).
            pub events: Vec<$crate::store::Appended>,
            $(
                #[serde(skip_serializing_if = "Option::is_none")]
                #[schema(nullable = false)]
                pub $sub: Option<uuid::Uuid>,
            )*
        }

        impl $name {
            #[allow(dead_code)]
            fn new(id: uuid::Uuid, committed: $crate::store::Committed) -> Self {
                Self {
                    $id: id,
                    version: committed.version,
                    position: committed.checkpoint.map(|c| c.position),
                    $($sub: $crate::store::Appended::find(&committed.events, stringify!($sub)),)*
                    events: committed.events,
                }
            }
        }
    };
}
pub(crate) use accepted;

/// One read-model endpoint, `GET $path`, written once: its OpenAPI operation (the query's
/// parameters with `Freshness`, the answer, `ListErrors`, the role allowed) and its handler,
/// which reads once `$model` has applied the position asked for (`fresh::ModelQuery`): `$q`
/// is the query, `$at` the position the model then reflects.
macro_rules! read {
    // `(names people)` first: the answer names people from the registry, which changes without
    // any model moving; it is computed for each request, never kept or validated by position.
    (
        $((names $people:ident))?
        $(#[$doc:meta])*
        $name:ident, $path:literal, $tag:literal, $role:literal, $summary:literal,
        $described:literal => $answer:ty,
        |$state:ident, $q:tt: ModelQuery<$model:ty, $query:ty>, $at:tt $(, $extra:ident: $extra_ty:ty)*| $body:block
    ) => {
        $(#[$doc])*
        #[utoipa::path(
            get,
            path = $path,
            tag = $tag,
            summary = $summary,
            params(
                $query,
                Freshness,
                ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an answer held: 304 while it still holds"),
            ),
            responses(
                (status = 200, description = $described, body = $answer),
                (status = 304, description = "Not modified: the answer named by `If-None-Match` still holds"),
                ListErrors,
            ),
            security(("bearer" = [])),
            extensions(("x-role" = json!($role))),
        )]
        async fn $name(
            State($state): State<AppState>,
            uri: axum::http::Uri,
            headers: axum::http::HeaderMap,
            $($extra: $extra_ty,)*
            ModelQuery($q, $at, _): ModelQuery<$model, $query>,
        ) -> Result<Response, ApiError> {
            let model = <$model as incubator_projections::projector::Named>::NAME;
            let at = $at;
            let shared = $state.clone();
            let compute = async move {
                let answer: Result<Json<$answer>, ApiError> = async move $body.await;
                answer
            };
            let share = common::read!(@share $($people)?);
            super::answers::answer(&shared, model, at, &uri, &headers, share, compute).await
        }
    };
    (@share people) => {
        false
    };
    (@share) => {
        true
    };
}
pub(crate) use read;
