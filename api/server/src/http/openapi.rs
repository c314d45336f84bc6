//! The OpenAPI document: generated from the handlers' `#[utoipa::path]` annotations and the
//! types they take and give, by the same `OpenApiRouter` that routes requests, so a route
//! cannot exist without its entry. Served at `/api/v1/openapi.json`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::content::Content;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::error::PROBLEM_JSON;

/// The base document: title, version, the bearer scheme, and the shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Incubator",
        description = "The event-sourced programme tracker of a creative hub: commands append \
            events to an append-only log; read models are projections of it. Every error is \
            application/problem+json (RFC 9457) with a stable `type`. Each operation's \
            `x-role` names the weakest role that may call it (viewer < auditor < officer); \
            routes without one need no token.",
        license(name = "EUPL-1.2"),
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem)),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// An RFC 9457 problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:incubator:problem:<code>`; the code is stable.
    #[schema(example = "urn:incubator:problem:invalid_value")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The offending field, as a JSON path or a parameter name (422 only).
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// The record's current version (412 only).
    #[schema(nullable = false)]
    pub current_version: Option<u64>,
    /// The failing readiness checks (`/readyz` 503 only).
    #[schema(value_type = Option<Object>, nullable = false)]
    pub checks: Option<Value>,
}

fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .into()
}

fn responses(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, description)| (status.to_string(), problem(description)))
        .collect()
}

const UNAUTHORIZED: (u16, &str) = (
    401,
    "No bearer token, or an unknown or revoked one (`WWW-Authenticate: Bearer`)",
);
const FORBIDDEN: (u16, &str) = (403, "The token's role may not do this");
const UNAVAILABLE: (u16, &str) = (
    503,
    "The store is unreachable, the server is busy, or the request timed out (`Retry-After`)",
);

/// The errors every command can answer.
pub struct CommandErrors;

impl IntoResponses for CommandErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            (
                400,
                "The body is not JSON, or a header (If-Match, Idempotency-Key) is malformed",
            ),
            UNAUTHORIZED,
            FORBIDDEN,
            (404, "No such record (or sub-record)"),
            (
                409,
                "A rule of the record's lifecycle refuses the command, a concurrent change won \
                 every retry, or another request with the same Idempotency-Key is running",
            ),
            (412, "If-Match names another version than the current one"),
            (413, "The body is larger than the limit"),
            (415, "The body is not application/json"),
            (
                422,
                "A value is unacceptable (`field` names it), a rule refuses it, or the \
                 Idempotency-Key was used for another request",
            ),
            UNAVAILABLE,
        ])
    }
}

/// The errors every read of one record can answer.
pub struct RecordReadErrors;

impl IntoResponses for RecordReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            UNAUTHORIZED,
            FORBIDDEN,
            (404, "No such record"),
            (422, "A query parameter is unacceptable (`field` names it)"),
            UNAVAILABLE,
        ])
    }
}

/// The errors every read of a read model can answer.
pub struct ListErrors;

impl IntoResponses for ListErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            UNAUTHORIZED,
            FORBIDDEN,
            (422, "A query parameter is unacceptable (`field` names it)"),
            UNAVAILABLE,
        ])
    }
}

/// `/readyz`'s failure.
pub struct NotReady;

impl IntoResponses for NotReady {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[(503, "A check failed; `checks` says which")])
    }
}
