//! `/portfolio`: the collaborations read model (viewers and up).

use super::prelude::*;
use incubator_projections::collaborations::{self, CollaborationRow, Summary};

use super::extract::{page_limit, ApiQuery};
use super::{position, wait_for_position, AppState};

const MODEL: &str = "collaborations";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(summary))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum When {
    /// Proposed or active.
    Active,
    /// Concluded or abandoned.
    Past,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `active` (proposed or active) or `past` (concluded or abandoned); all by default.
    #[param(inline)]
    when: Option<When>,
    limit: Option<u32>,
    after: Option<Uuid>,
    #[param(minimum = 1)]
    min_position: Option<i64>,
}

/// One page of collaborations.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollaborationsPage {
    pub items: Vec<CollaborationRow>,
    pub next: Option<String>,
    pub position: i64,
}

/// `GET /portfolio/collaborations`: collaborations with participants by discipline, partners by
/// scope, milestones due and done, outputs.
#[utoipa::path(
    get,
    path = "/portfolio/collaborations",
    tag = "portfolio",
    summary = "Collaborations: participants by discipline, partners by scope, milestones, outputs",
    params(ListQuery),
    responses((status = 200, description = "One page", body = CollaborationsPage), ListErrors),
    security(("bearer" = [])),
    extensions(("x-role" = json!("viewer"))),
)]
async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<CollaborationsPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    wait_for_position(&state, MODEL, q.min_position).await?;
    let at = position(&state, MODEL);
    let past = q.when.map(|w| matches!(w, When::Past));
    let after = q.after.map(|a| a.to_string());
    let items = collaborations::list(
        &state.store.read,
        past,
        after.as_deref(),
        i64::from(limit) + 1,
    )
    .await?;
    let (items, next) = common::page(items, limit, |c| c.collaboration_id.clone());
    Ok(Json(CollaborationsPage {
        items,
        next,
        position: at,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SummaryQuery {
    #[param(minimum = 1)]
    min_position: Option<i64>,
}

/// The portfolio's figures and the position they reflect.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryView {
    #[serde(flatten)]
    pub summary: Summary,
    pub position: i64,
}

/// `GET /portfolio/summary`: collaborations per stage; disciplines and partner scopes of the
/// active ones; milestones due and done; outputs per kind.
#[utoipa::path(
    get,
    path = "/portfolio/summary",
    tag = "portfolio",
    summary = "The collaborations portfolio at a glance",
    params(SummaryQuery),
    responses((status = 200, description = "The figures", body = SummaryView), ListErrors),
    security(("bearer" = [])),
    extensions(("x-role" = json!("viewer"))),
)]
async fn summary(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> Result<Json<SummaryView>, ApiError> {
    wait_for_position(&state, MODEL, q.min_position).await?;
    let at = position(&state, MODEL);
    Ok(Json(SummaryView {
        summary: collaborations::summary(&state.store.read).await?,
        position: at,
    }))
}
