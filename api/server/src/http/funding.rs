//! `/funding`: the funding-stage read model.

use super::heavy::{self, LookBack};
use super::prelude::*;
use incubator_domain::startup::Stage;
use incubator_domain::values::hub_local;
use incubator_domain::values::Cohort;
use incubator_domain::values::Moment;
use incubator_projections::funding::{self, Funding, Pipeline, StartupFilter, StartupFunding};
use incubator_projections::models::Model;

pub fn router() -> OpenApiRouter<AppState> {
    common::router![pipeline, cohorts, startups]
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PipelineQuery {
    /// Only this cohort.
    cohort: Option<Cohort>,
    /// The pipeline as it stood at this instant (RFC 3339; a later one is now), replayed
    /// from the log (slower: the whole log up to then is read; auditors and officers only, a
    /// few at a time, 503 `busy` past that).
    #[param(inline)]
    as_of: Option<Moment>,
}

/// The funding pipeline, and the log position it reflects.
#[derive(Debug, Serialize, ToSchema)]
pub struct PipelineView {
    #[serde(flatten)]
    pub pipeline: Pipeline,
    /// The instant asked for, when the pipeline is a past one.
    pub as_of: Option<String>,
    /// The global log position the read model reflects.
    pub position: i64,
}

common::read!(
    /// `GET /funding/pipeline[?cohort=]`: startups per stage and per funding stage, and totals.
    pipeline, "/funding/pipeline", "funding", "viewer",
    "Startups per stage and funding stage, and funding totals per currency",
    "The pipeline" => PipelineView,
    |state, q: ModelQuery<Funding, PipelineQuery>, at, caller: Caller| {
        let cohort = q.cohort.as_ref().map(Cohort::as_str);
        let (p, as_of) = match q.as_of {
            None => {
                let mut conn = state.store.read.pool.acquire().await?;
                (funding::pipeline(&mut conn, cohort, common::today()).await?, None)
            }
            Some(t) => {
                heavy::may_look_back(&caller.actor)?;
                let back = LookBack::of(t);
                let key = format!("pipeline {cohort:?} {}", common::log_instant(back.until));
                let (replay, cohort) = (state.clone(), q.cohort.clone());
                let p = state
                    .heavy
                    .answer(key, back, async move {
                        let model = Model::Funding(Funding);
                        let mut conn = common::model_as_of(&replay, model, back.until).await?;
                        let day = hub_local(back.until.0).date();
                        let cohort = cohort.as_ref().map(Cohort::as_str);
                        Ok(funding::pipeline(&mut conn, cohort, day).await?)
                    })
                    .await?;
                (p, Some(back.until.0.to_rfc3339()))
            }
        };
        Ok(Json(PipelineView {
            pipeline: p,
            as_of,
            position: at,
        }))
    }
);

/// Every cohort's pipeline, and the log position they reflect.
#[derive(Debug, Serialize, ToSchema)]
pub struct CohortsView {
    /// One pipeline per named cohort, in name order.
    pub cohorts: Vec<Pipeline>,
    pub position: i64,
}

common::read!(
    /// `GET /funding/cohorts`: per cohort, startups per stage, conversion between stages, time in
    /// stage and funding totals.
    cohorts, "/funding/cohorts", "funding", "viewer",
    "Per cohort: stages, conversion, time in stage and funding totals",
    "The cohorts" => CohortsView,
    |state, _: ModelQuery<Funding, NoQuery>, at| {
        let today = common::today();
        let mut cohorts = Vec::new();
        let names = funding::cohorts(&state.store.read).await?;
        // One connection for all, taken after the one above was given back: a request never
        // holds two (sixteen such requests would otherwise starve the pool).
        let mut conn = state.store.read.pool.acquire().await?;
        for cohort in names {
            cohorts.push(funding::pipeline(&mut conn, Some(&cohort), today).await?);
        }
        Ok(Json(CohortsView {
            cohorts,
            position: at,
        }))
    }
);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StartupsQuery {
    /// Only startups in this stage.
    stage: Option<Stage>,
    /// Only this cohort.
    cohort: Option<Cohort>,
    /// Startups per page, 1 to 500 (default 50).
    limit: Option<u32>,
    /// The previous page's `next`.
    after: Option<uuid::Uuid>,
}

common::read!(
    /// `GET /funding/startups[?stage=&cohort=&limit=&after=]`: one page of startups; `next` is the
    /// cursor for the following page.
    startups, "/funding/startups", "funding", "viewer",
    "Startups with their stage, funding stage and funding totals, a page at a time",
    "One page" => Page<StartupFunding>,
    |state, q: ModelQuery<Funding, StartupsQuery>, at| {
        let limit = page_limit(q.limit)?;
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
        Ok(Json(Page::of(items, limit, |s| s.startup_id.clone(), at)))
    }
);
