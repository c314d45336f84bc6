//! Reads of a read model: the query string, once the model is fresh enough for the caller, and
//! one page type for every list the models answer.
//!
//! `?min_position=N` (the position a command answered with) makes the read wait, up to
//! [`super::FRESHNESS_WAIT`], until the model has applied the event at `N`, so that a client
//! reads its own writes; every answer says the position the model reflected.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use incubator_projections::projector::Named;
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::extract::parse_query;
use super::{position, wait_for_position, AppState};

/// The query parameter every read-model read takes (documented with [`Freshness`]).
pub(super) const MIN_POSITION: &str = "min_position";

/// `?min_position=`, as the OpenAPI document lists it beside a read's own parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Freshness {
    /// Wait (up to 5 s) until the model has applied the event at this position.
    #[param(minimum = 1)]
    #[allow(dead_code)]
    min_position: Option<i64>,
}

/// The query of a read that takes nothing but `min_position`: any other parameter is refused.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoQuery {}

/// A read of model `M`: the query string as `T` (without `min_position`), read once `M` has
/// applied the event at `?min_position=`, and the position `M` then reflects:
/// `ModelQuery(query, position, _)`.
#[derive(Debug)]
pub struct ModelQuery<M, T>(pub T, pub i64, pub PhantomData<M>);

impl<M, T> FromRequestParts<AppState> for ModelQuery<M, T>
where
    M: Named + Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (query, min_position) = split(parts.uri.query().unwrap_or(""))?;
        wait_for_position(state, M::NAME, min_position).await?;
        Ok(Self(query, position(state, M::NAME), PhantomData))
    }
}

/// The query string as `T`, and `min_position` taken out of it.
fn split<T: DeserializeOwned>(raw: &str) -> Result<(T, Option<i64>), ApiError> {
    let mut min_position = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        if key == MIN_POSITION {
            let n = value.parse::<i64>().map_err(|_| {
                ApiError::invalid(MIN_POSITION, format!("not a position: {value:?}"))
            })?;
            min_position = Some(n);
        } else {
            rest.append_pair(&key, &value);
        }
    }
    Ok((parse_query(&rest.finish())?, min_position))
}

/// One page of a list: its rows, the cursor of the next page (`?after=`, null on the last),
/// and the global log position the read model reflected.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The cursor of the next page (`?after=`), null on the last.
    pub next: Option<String>,
    /// The global log position the read model reflects.
    pub position: i64,
}

impl<T> Page<T> {
    /// A page of the first `limit` of `rows` (fetched as `limit + 1`, so that one more says
    /// there is a next page, named by `key` of the last row shown).
    pub fn of(rows: Vec<T>, limit: u32, key: impl FnOnce(&T) -> String, position: i64) -> Self {
        let (items, next) = super::common::page(rows, limit, key);
        Self {
            items,
            next,
            position,
        }
    }
}
