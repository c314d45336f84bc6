//! `/people`: the people registry. Officers add, correct and erase people's details; officers
//! and auditors read them. Command answers never echo the details (answers are kept for
//! idempotent retries, and erasure must leave no copy behind).

use super::prelude::*;
use axum::response::IntoResponse;
use axum::Extension;
use incubator_domain::values::Reason;

use crate::app::Actor;
use crate::people::{self, Details, PeopleError, Person, TrailEntry};

/// Reads (auditors and officers).
pub fn reads() -> OpenApiRouter<AppState> {
    common::router![show, list, trail]
}

/// Writes (officers).
pub fn commands() -> OpenApiRouter<AppState> {
    common::router![create, update, erase]
}

impl From<PeopleError> for ApiError {
    fn from(e: PeopleError) -> Self {
        match e {
            PeopleError::NotFound(id) => ApiError::not_found(format!("no person with id {id}")),
            PeopleError::Erased(_) => ApiError::Rule {
                kind: incubator_domain::RuleKind::Conflict,
                code: "person_erased",
                detail: e.to_string(),
            },
            PeopleError::Db(e) => e.into(),
        }
    }
}

/// Registry rows carry no version: an `If-Match` naming one is a mistake.
fn unversioned(caller: &Caller) -> Result<(), ApiError> {
    match caller.expected_version {
        Some(_) => Err(ApiError::Malformed {
            detail: "people records carry no version: send no If-Match".into(),
        }),
        None => Ok(()),
    }
}

/// What a registry write answers: the person's id only.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonAccepted {
    pub person_id: Uuid,
}

/// `POST /people`: add a person's details; the id is chosen here (UUID v7).
#[utoipa::path(
    post,
    path = "/people",
    tag = "people",
    summary = "Add a person to the registry",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
    ),
    request_body = Details,
    responses(
        (status = 201, description = "Added; `Location` names the person", body = PersonAccepted),
        CommandErrors,
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("officer"))),
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(details): ApiJson<Details>,
) -> Result<Response, ApiError> {
    unversioned(&caller)?;
    let id = people::create(&state.store.commands, &details, &caller.actor.name).await?;
    let mut response =
        (StatusCode::CREATED, Json(PersonAccepted { person_id: id })).into_response();
    response = common::with_location(response, &format!("/api/v1/people/{id}"));
    Ok(response)
}

/// `PUT /people/{id}`: replace a person's details (409 once erased).
#[utoipa::path(
    put,
    path = "/people/{id}",
    tag = "people",
    summary = "Correct a person's details",
    params(
        ("id" = Uuid, Path, description = "The person's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
    ),
    request_body = Details,
    responses(
        (status = 200, description = "Replaced", body = PersonAccepted),
        CommandErrors,
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("officer"))),
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(details): ApiJson<Details>,
) -> Result<Json<PersonAccepted>, ApiError> {
    unversioned(&caller)?;
    let id = parse_id(&raw, "person")?;
    people::update(&state.store.commands, id, &details, &caller.actor.name).await?;
    Ok(Json(PersonAccepted { person_id: id }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EraseBody {
    /// Why, e.g. "request under GDPR art. 17 of 2026-11-20".
    reason: Reason,
}

/// `POST /people/{id}/erase`: erase a person's details for good (GDPR art. 17). Events that
/// refer to the person stay; every response then shows them as erased.
#[utoipa::path(
    post,
    path = "/people/{id}/erase",
    tag = "people",
    summary = "Erase a person's details (GDPR art. 17)",
    params(
        ("id" = Uuid, Path, description = "The person's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
    ),
    request_body = EraseBody,
    responses(
        (status = 200, description = "Erased (or already erased): the tombstone", body = Person),
        CommandErrors,
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("officer"))),
)]
async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(b): ApiJson<EraseBody>,
) -> Result<Json<Person>, ApiError> {
    unversioned(&caller)?;
    let id = parse_id(&raw, "person")?;
    let person = people::erase(
        &state.store.commands,
        id,
        &caller.actor.name,
        b.reason.as_str(),
    )
    .await?;
    tracing::info!(person_id = %id, "person erased");
    Ok(Json(person))
}

/// `GET /people/{id}`: a person's details, or the fact of their erasure. The read is recorded
/// in the registry's trail (who, when; not what).
#[utoipa::path(
    get,
    path = "/people/{id}",
    tag = "people",
    summary = "A person's details (or that they were erased)",
    params(("id" = Uuid, Path, description = "The person's id")),
    responses((status = 200, description = "The person", body = Person), RecordReadErrors),
    security(("bearer" = [])),
    extensions(("x-role" = json!("auditor"))),
)]
async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Person>, ApiError> {
    let id = parse_id(&raw, "person")?;
    let person = people::get(&state.store.read, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no person with id {id}")))?;
    people::record_read(&state.store.read, &actor.name, Some(id), 1).await?;
    Ok(Json(person))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// People per page, 1 to 500 (default 50).
    limit: Option<u32>,
    /// The previous page's `next`.
    after: Option<Uuid>,
}

/// One page of the registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeoplePage {
    pub items: Vec<Person>,
    /// The cursor of the next page (`?after=`), null on the last.
    pub next: Option<Uuid>,
}

/// `GET /people[?limit=&after=]`: the registry, a page at a time, by id; each page read is
/// recorded in the registry's trail.
#[utoipa::path(
    get,
    path = "/people",
    tag = "people",
    summary = "The people registry, a page at a time",
    params(ListQuery),
    responses((status = 200, description = "One page", body = PeoplePage), ListErrors),
    security(("bearer" = [])),
    extensions(("x-role" = json!("auditor"))),
)]
async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<PeoplePage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let items = people::list(&state.store.read, q.after, i64::from(limit) + 1).await?;
    let (items, next) = common::page(items, limit, |p| p.person_id);
    people::record_read(&state.store.read, &actor.name, None, items.len()).await?;
    Ok(Json(PeoplePage { items, next }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TrailQuery {
    /// Only this person's lines.
    person: Option<Uuid>,
    /// Lines, 1 to 500 (default 50), newest first.
    limit: Option<u32>,
}

/// The registry's trail, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrailPage {
    pub items: Vec<TrailEntry>,
}

/// `GET /people/trail[?person=&limit=]`: who read or changed the registry, when, and which
/// fields (never their values), newest first.
#[utoipa::path(
    get,
    path = "/people/trail",
    tag = "people",
    summary = "Who read or changed the people registry",
    params(TrailQuery),
    responses((status = 200, description = "The latest lines", body = TrailPage), ListErrors),
    security(("bearer" = [])),
    extensions(("x-role" = json!("auditor"))),
)]
async fn trail(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TrailQuery>,
) -> Result<Json<TrailPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let items = people::trail_of(&state.store.read, q.person, i64::from(limit)).await?;
    Ok(Json(TrailPage { items }))
}
