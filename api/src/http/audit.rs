//! `/audit`: the auditor's desk (auditors and officers).

use axum::extract::State;
use axum::Json;
use incubator_projections::audit::{self, Range, Verified};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi::ListErrors;
use super::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify))
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
    Ok(Json(
        audit::verify(&state.store.read, range, &|_| {}).await?,
    ))
}
