//! What the record and read-model modules of the API import: the axum extractors and
//! answers, the API's own extractors and errors, the OpenAPI helpers.

pub(super) use axum::extract::State;
pub(super) use axum::http::StatusCode;
pub(super) use axum::response::Response;
pub(super) use axum::Json;
pub(super) use serde::{Deserialize, Serialize};
pub(super) use utoipa::{IntoParams, ToSchema};
pub(super) use utoipa_axum::router::OpenApiRouter;
pub(super) use uuid::Uuid;

pub(super) use super::common::{self, accepted, today, Created, EventsQuery, History};
pub(super) use super::error::ApiError;
pub(super) use super::extract::{page_limit, parse_id, ApiJson, ApiPath, ApiQuery};
pub(super) use super::fresh::{Freshness, ModelQuery, NoQuery, Page};
pub(super) use super::openapi::{CommandErrors, ListErrors, RecordReadErrors};
pub(super) use super::{AppState, Caller};
