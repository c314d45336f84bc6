//! `GET /startups`, `/mentors`, `/spaces`, `/residencies`, `/collaborations`: paged,
//! filterable lists of the records themselves (auditors and officers), from the records read
//! model. Names of people come from the registry at read time.

use super::prelude::*;
use incubator_domain::collaboration::CollaborationStage;
use incubator_domain::mentor::MentorStatus;
use incubator_domain::residency::ResidencyStage;
use incubator_domain::space::{Building, SpaceKind};
use incubator_domain::startup::Stage;
use incubator_domain::values::Cohort;
use incubator_projections::records::{self, RecordFilter, RecordKind, RecordRow, Records};

pub fn router() -> OpenApiRouter<AppState> {
    common::router![startups, mentors, spaces, residencies, collaborations]
}

/// What every list takes besides its filters.
struct Paging {
    q: Option<String>,
    limit: Option<u32>,
    after: Option<Uuid>,
    /// The position the records model reflected when the list was read.
    position: i64,
}

/// A list's query: its filters, then the search and paging every list takes.
macro_rules! list_query {
    ($name:ident { $($(#[$meta:meta])* $field:ident: $ty:ty,)* }) => {
        #[derive(Debug, Deserialize, IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        struct $name {
            $($(#[$meta])* $field: $ty,)*
            /// Part of the name (or, for mentors and residencies, of the person's name), in
            /// any case.
            #[param(min_length = 1, max_length = 200)]
            q: Option<String>,
            /// Records per page, 1 to 500 (default 50).
            #[param(minimum = 1, maximum = 500)]
            limit: Option<u32>,
            /// The previous page's `next`.
            after: Option<Uuid>,
        }

        impl $name {
            fn paging(&self, position: i64) -> Paging {
                Paging {
                    q: self.q.clone(),
                    limit: self.limit,
                    after: self.after,
                    position,
                }
            }
        }
    };
}

fn snake(v: &impl Serialize) -> Option<String> {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

async fn page(
    state: &AppState,
    kind: RecordKind,
    paging: Paging,
    mut filter: RecordFilter,
) -> Result<Json<Page<RecordRow>>, ApiError> {
    let limit = page_limit(paging.limit)?;
    if let Some(q) = &paging.q {
        if q.trim().is_empty() || q.chars().count() > 200 {
            return Err(ApiError::invalid("q", "a search is 1 to 200 characters"));
        }
    }
    filter.search = paging.q.map(|q| q.trim().to_owned());
    filter.after = paging.after.map(|a| a.to_string());
    filter.limit = i64::from(limit) + 1;
    let mut conn = state.store.read.pool.acquire().await?;
    let items = records::list(&mut conn, kind, &filter).await?;
    Ok(Json(Page::of(
        items,
        limit,
        |r| r.id.clone(),
        paging.position,
    )))
}

/// A startup's stage as its list filters it: one of the stages, or `voided` (records entered
/// by mistake, which are in no other stage's list).
#[derive(Debug, Clone, Copy)]
enum ListStage {
    Stage(Stage),
    Voided,
}

impl ListStage {
    fn as_str(self) -> &'static str {
        match self {
            Self::Stage(s) => s.as_str(),
            Self::Voided => "voided",
        }
    }
}

impl<'de> Deserialize<'de> for ListStage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        if raw == "voided" {
            return Ok(Self::Voided);
        }
        Stage::parse(&raw).map(Self::Stage).ok_or_else(|| {
            let names: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
            serde::de::Error::custom(format!(
                "unknown stage `{raw}`, expected one of {} or voided",
                names.join(", ")
            ))
        })
    }
}

impl utoipa::PartialSchema for ListStage {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let names = Stage::ALL.iter().map(|s| s.as_str()).chain(["voided"]);
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(names))
            .into()
    }
}

impl ToSchema for ListStage {}

list_query!(StartupsQuery {
    #[param(inline)]
    stage: Option<ListStage>,
    cohort: Option<Cohort>,
});

common::read!(
    (names people)
    /// `GET /startups`: the startups, by application order.
    startups, "/startups", "startups", "auditor",
    "The startups: filter by stage and cohort, search by name, page by cursor",
    "One page of startups" => Page<RecordRow>,
    |state, q: ModelQuery<Records, StartupsQuery>, at| {
        let filter = RecordFilter {
            stage: q.stage.map(|s| s.as_str().to_owned()),
            cohort: q.cohort.as_ref().map(|c| c.as_str().to_owned()),
            ..Default::default()
        };
        page(&state, RecordKind::Startup, q.paging(at), filter).await
    }
);

list_query!(MentorsQuery {
    /// `active` or `retired`.
    #[param(inline)]
    status: Option<MentorStatus>,
});

common::read!(
    (names people)
    /// `GET /mentors`: the mentors, named from the registry.
    mentors, "/mentors", "mentors", "auditor",
    "The mentors: filter by status, search by name, page by cursor",
    "One page of mentors" => Page<RecordRow>,
    |state, q: ModelQuery<Records, MentorsQuery>, at| {
        let filter = RecordFilter {
            stage: q.status.as_ref().and_then(snake),
            ..Default::default()
        };
        page(&state, RecordKind::Mentor, q.paging(at), filter).await
    }
);

list_query!(SpacesQuery {
    #[param(inline)]
    building: Option<Building>,
    #[param(inline)]
    kind: Option<SpaceKind>,
});

common::read!(
    (names people)
    /// `GET /spaces`: the spaces of the three buildings.
    spaces, "/spaces", "spaces", "auditor",
    "The spaces: filter by building and kind, search by name, page by cursor",
    "One page of spaces" => Page<RecordRow>,
    |state, q: ModelQuery<Records, SpacesQuery>, at| {
        let filter = RecordFilter {
            building: q.building.as_ref().and_then(snake),
            space_kind: q.kind.as_ref().and_then(snake),
            ..Default::default()
        };
        page(&state, RecordKind::Space, q.paging(at), filter).await
    }
);

list_query!(ResidenciesQuery {
    #[param(inline)]
    stage: Option<ResidencyStage>,
});

common::read!(
    (names people)
    /// `GET /residencies`: the residencies, each with its artist named from the registry.
    residencies, "/residencies", "residencies", "auditor",
    "The residencies: filter by stage, search by open call or artist, page by cursor",
    "One page of residencies" => Page<RecordRow>,
    |state, q: ModelQuery<Records, ResidenciesQuery>, at| {
        let filter = RecordFilter {
            stage: q.stage.map(|s| s.to_string()),
            ..Default::default()
        };
        page(&state, RecordKind::Residency, q.paging(at), filter).await
    }
);

list_query!(CollaborationsQuery {
    #[param(inline)]
    stage: Option<CollaborationStage>,
});

common::read!(
    (names people)
    /// `GET /collaborations`: the collaborations.
    collaborations, "/collaborations", "collaborations", "auditor",
    "The collaborations: filter by stage, search by title, page by cursor",
    "One page of collaborations" => Page<RecordRow>,
    |state, q: ModelQuery<Records, CollaborationsQuery>, at| {
        let filter = RecordFilter {
            stage: q.stage.map(|s| s.to_string()),
            ..Default::default()
        };
        page(&state, RecordKind::Collaboration, q.paging(at), filter).await
    }
);
