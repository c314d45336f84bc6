//! `/mentorship`: the mentorship read model (viewers and up).

use super::prelude::*;
use chrono::NaiveDate;
use incubator_domain::values::Day;
use incubator_projections::mentorship::{self, Mentee, MentorLoad, Period};

use incubator_projections::mentorship::Mentorship;

pub fn router() -> OpenApiRouter<AppState> {
    common::router![mentors, mentees]
}

fn period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Period, ApiError> {
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(ApiError::invalid("to", "the period ends before it starts"));
        }
    }
    Ok(Period { from, to })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MentorsQuery {
    /// Only this mentor.
    mentor: Option<Uuid>,
    /// Count sessions held on or after this day.
    from: Option<Day>,
    /// Count sessions held on or before this day.
    to: Option<Day>,
    /// Mentors per page, 1 to 500 (default 50).
    limit: Option<u32>,
    /// The previous page's `next`.
    after: Option<Uuid>,
}

common::read!(
    (names people)
    /// `GET /mentorship/mentors`: per mentor, current load, mentees, sessions and hours (total,
    /// per month, per year) in the period.
    mentors, "/mentorship/mentors", "mentorship", "viewer",
    "Mentors: load, mentees, sessions and hours per month and year",
    "One page" => Page<MentorLoad>,
    |state, q: ModelQuery<Mentorship, MentorsQuery>, at, actor: axum::Extension<super::Actor>| {
        let axum::Extension(actor) = actor;
        let limit = page_limit(q.limit)?;
        let period = period(q.from.map(Day::get), q.to.map(Day::get))?;
        let mentor = q.mentor.map(|m| m.to_string());
        let after = q.after.map(|a| a.to_string());
        let items = mentorship::mentors(
            &state.store.read,
            mentor.as_deref(),
            period,
            after.as_deref(),
            i64::from(limit) + 1,
        )
        .await?;
        let mut page = Page::of(items, limit, |m| m.mentor_id.clone(), at);
        // Names are personal data: read from the registry now, for those who may see them.
        if actor.role >= crate::auth::Role::Auditor {
            let ids: Vec<uuid::Uuid> = page
                .items
                .iter()
                .filter_map(|m| uuid::Uuid::parse_str(&m.person_id).ok())
                .collect();
            let names = crate::people::describe(&state.store.read, ids).await?;
            for m in &mut page.items {
                m.name = uuid::Uuid::parse_str(&m.person_id)
                    .ok()
                    .and_then(|id| names.get(&id))
                    .and_then(|p| p.name.clone());
            }
        }
        Ok(Json(page))
    }
);

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum MenteeKind {
    Startup,
    /// `resident`, the older name, is read too.
    #[serde(alias = "resident")]
    Residency,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MenteesQuery {
    /// `startup` or `residency`.
    #[param(inline)]
    kind: Option<MenteeKind>,
    /// Only those in the programme who have no mentor.
    #[serde(default)]
    without_mentor: bool,
    from: Option<Day>,
    to: Option<Day>,
    limit: Option<u32>,
    /// The previous page's `next` (`kind:id`).
    after: Option<String>,
}

common::read!(
    /// `GET /mentorship/mentees`: startups and residents with their mentors and hours; with
    /// `without_mentor=true`, who in the programme has no mentor.
    mentees, "/mentorship/mentees", "mentorship", "viewer",
    "Startups and residents: mentors and hours; who has no mentor",
    "One page" => Page<Mentee>,
    |state, q: ModelQuery<Mentorship, MenteesQuery>, at| {
        let limit = page_limit(q.limit)?;
        let period = period(q.from.map(Day::get), q.to.map(Day::get))?;
        let after = match &q.after {
            None => None,
            Some(a) => Some(
                a.split_once(':')
                    .filter(|(k, id)| {
                        matches!(*k, "startup" | "resident") && Uuid::parse_str(id).is_ok()
                    })
                    .ok_or_else(|| {
                        ApiError::invalid("after", "a cursor is `kind:id`, as `next` gives")
                    })?,
            ),
        };
        let kind = q.kind.map(|k| match k {
            MenteeKind::Startup => "startup",
            MenteeKind::Residency => "residency",
        });
        let items = mentorship::mentees(
            &state.store.read,
            kind,
            q.without_mentor,
            period,
            after,
            i64::from(limit) + 1,
        )
        .await?;
        Ok(Json(Page::of(
            items,
            limit,
            |m| format!("{}:{}", m.kind, m.id),
            at,
        )))
    }
);
