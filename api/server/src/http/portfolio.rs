//! `/portfolio`: the collaborations read model (viewers and up).

use super::prelude::*;
use incubator_projections::collaborations::{self, CollaborationRow, Summary};

use incubator_projections::collaborations::Collaborations;

pub fn router() -> OpenApiRouter<AppState> {
    common::router![list, summary]
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
}

common::read!(
    /// `GET /portfolio/collaborations`: collaborations with participants by discipline, partners by
    /// scope, milestones due and done, outputs.
    list, "/portfolio/collaborations", "portfolio", "viewer",
    "Collaborations: participants by discipline, partners by scope, milestones, outputs",
    "One page" => Page<CollaborationRow>,
    |state, q: ModelQuery<Collaborations, ListQuery>, at| {
        let limit = page_limit(q.limit)?;
        let past = q.when.map(|w| matches!(w, When::Past));
        let after = q.after.map(|a| a.to_string());
        let items = collaborations::list(
            &state.store.read,
            past,
            after.as_deref(),
            i64::from(limit) + 1,
        )
        .await?;
        Ok(Json(Page::of(
            items,
            limit,
            |c| c.collaboration_id.clone(),
            at,
        )))
    }
);

/// The portfolio's figures and the position they reflect.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryView {
    #[serde(flatten)]
    pub summary: Summary,
    pub position: i64,
}

common::read!(
    /// `GET /portfolio/summary`: collaborations per stage; disciplines and partner scopes of the
    /// active ones; milestones due and done; outputs per kind.
    summary, "/portfolio/summary", "portfolio", "viewer",
    "The collaborations portfolio at a glance",
    "The figures" => SummaryView,
    |state, _: ModelQuery<Collaborations, NoQuery>, at| {
        Ok(Json(SummaryView {
            summary: collaborations::summary(&state.store.read).await?,
            position: at,
        }))
    }
);
