//! `/funding`: the funding-stage read model.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use incubator_domain::startup::Stage;
use incubator_domain::values::Cohort;
use incubator_projections::funding::{self, StartupFilter};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{page_limit, ApiQuery};
use super::{position, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/funding/pipeline", get(pipeline))
        .route("/funding/startups", get(startups))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineQuery {
    cohort: Option<Cohort>,
}

/// `GET /funding/pipeline[?cohort=]`: startups per stage and per funding stage, and totals.
async fn pipeline(
    state: State<AppState>,
    ApiQuery(q): ApiQuery<PipelineQuery>,
) -> Result<Json<Value>, ApiError> {
    let at = position(&state);
    let p = funding::pipeline(&state.store.read, q.cohort.as_ref().map(Cohort::as_str)).await?;
    let mut body = serde_json::to_value(p).map_err(|e| ApiError::internal(&e))?;
    body["position"] = json!(at);
    Ok(Json(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartupsQuery {
    stage: Option<Stage>,
    cohort: Option<Cohort>,
    limit: Option<u32>,
    after: Option<uuid::Uuid>,
}

/// `GET /funding/startups[?stage=&cohort=&limit=&after=]`: one page of startups; `next` is the
/// cursor for the following page.
async fn startups(
    state: State<AppState>,
    ApiQuery(q): ApiQuery<StartupsQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(q.limit)?;
    let at = position(&state);
    let items = funding::startups(
        &state.store.read,
        &StartupFilter {
            stage: q.stage,
            cohort: q.cohort.map(String::from),
            after: q.after.map(|a| a.to_string()),
            limit: i64::from(limit) + 1,
        },
    )
    .await?;
    let more = items.len() > limit as usize;
    let items: Vec<_> = items.into_iter().take(limit as usize).collect();
    let next = more
        .then(|| items.last().map(|s| s.startup_id.clone()))
        .flatten();
    Ok(Json(
        json!({ "items": items, "next": next, "position": at }),
    ))
}
