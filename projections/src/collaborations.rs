//! The collaborations read model: active and past collaborations, participants by discipline,
//! partners by scope (local, national, European), milestones due and done, outputs.

use std::collections::BTreeMap;

use incubator_domain::collaboration::{
    Collaboration, CollaborationEvent, OutputKind, PartyKind, Scope,
};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::db::ReadDb;
use crate::log::LoggedEvent;
use crate::projector::{event_of, Applied, Conn, Projection};
use crate::rebuild::Rebuildable;

/// The collaborations projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Collaborations;

fn kind_name(k: PartyKind) -> &'static str {
    match k {
        PartyKind::Startup => "startup",
        PartyKind::Residency => "residency",
        PartyKind::Partner => "partner",
    }
}

fn scope_name(s: Scope) -> &'static str {
    match s {
        Scope::Local => "local",
        Scope::National => "national",
        Scope::European => "european",
    }
}

fn output_name(k: OutputKind) -> &'static str {
    match k {
        OutputKind::Prototype => "prototype",
        OutputKind::Artwork => "artwork",
        OutputKind::Exhibition => "exhibition",
        OutputKind::Publication => "publication",
    }
}

impl Projection for Collaborations {
    fn name(&self) -> &'static str {
        <Self as crate::projector::Named>::NAME
    }

    async fn apply(&self, conn: &mut Conn, _db: &ReadDb, event: &LoggedEvent) -> Applied {
        let Some(payload) = event_of::<Collaboration>(event)? else {
            return Ok(());
        };
        let id = event.aggregate_id.as_str();
        use CollaborationEvent as E;
        match payload {
            E::CollaborationProposed {
                title, proposed_on, ..
            } => {
                sqlx::query(
                    "INSERT INTO rm_collab (collaboration_id, title, stage, proposed_on) \
                     VALUES ($1, $2, 'proposed', $3)",
                )
                .bind(id)
                .bind(title.as_str())
                .bind(proposed_on.to_string())
                .execute(&mut *conn)
                .await?;
            }
            E::ParticipantJoined { participant: p } => {
                sqlx::query(
                    "INSERT INTO rm_collab_participants (participant_id, collaboration_id, kind, \
                     party_id, name, scope, discipline, role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(p.participant_id.to_string())
                .bind(id)
                .bind(kind_name(p.kind))
                .bind(p.party_id.to_string())
                .bind(p.name.as_ref().map(|n| n.as_str().to_owned()))
                .bind(p.scope.map(scope_name))
                .bind(p.discipline.as_str())
                .bind(p.role.as_str())
                .execute(&mut *conn)
                .await?;
            }
            E::ParticipantLeft { participant_id, .. } => {
                sqlx::query("DELETE FROM rm_collab_participants WHERE participant_id = $1")
                    .bind(participant_id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            E::CollaborationActivated { activated_on } => {
                sqlx::query(
                    "UPDATE rm_collab SET stage = 'active', activated_on = $1 \
                     WHERE collaboration_id = $2",
                )
                .bind(activated_on.to_string())
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            E::CollaborationMilestoneSet { milestone } => {
                sqlx::query(
                    "INSERT INTO rm_collab_milestones (milestone_id, collaboration_id, title, due_on) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(milestone.milestone_id.to_string())
                .bind(id)
                .bind(milestone.title.as_str())
                .bind(milestone.due_on.to_string())
                .execute(&mut *conn)
                .await?;
            }
            E::CollaborationMilestoneAchieved {
                milestone_id,
                done_on,
            } => {
                sqlx::query("UPDATE rm_collab_milestones SET done_on = $1 WHERE milestone_id = $2")
                    .bind(done_on.to_string())
                    .bind(milestone_id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            E::OutputRecorded { output } => {
                sqlx::query(
                    "INSERT INTO rm_collab_outputs (output_id, collaboration_id, kind, title, made_on) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(output.output_id.to_string())
                .bind(id)
                .bind(output_name(output.kind))
                .bind(output.title.as_str())
                .bind(output.on.to_string())
                .execute(&mut *conn)
                .await?;
            }
            E::CollaborationConcluded { concluded_on } => {
                end(conn, id, "concluded", &concluded_on.to_string()).await?
            }
            E::CollaborationAbandoned { abandoned_on, .. } => {
                end(conn, id, "abandoned", &abandoned_on.to_string()).await?
            }
            E::CoProductionAgreed { .. } | E::PhaseAdded { .. } => {}
        }
        Ok(())
    }
}

async fn end(conn: &mut AnyConnection, id: &str, stage: &str, on: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rm_collab SET stage = $1, ended_on = $2 WHERE collaboration_id = $3")
        .bind(stage)
        .bind(on)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

impl Rebuildable for Collaborations {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "rm_collab_outputs",
            "rm_collab_milestones",
            "rm_collab_participants",
            "rm_collab",
        ]
    }
}

/// A participant as the overview shows it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParticipantRow {
    pub kind: String,
    pub party_id: String,
    pub name: Option<String>,
    pub scope: Option<String>,
    pub discipline: String,
    pub role: String,
}

/// One collaboration with its participants, milestones and outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollaborationRow {
    pub collaboration_id: String,
    pub title: String,
    pub stage: String,
    pub proposed_on: String,
    pub activated_on: Option<String>,
    pub ended_on: Option<String>,
    pub participants: Vec<ParticipantRow>,
    /// Participants per discipline.
    pub disciplines: BTreeMap<String, i64>,
    /// External partners per scope (local, national, european).
    pub partners_by_scope: BTreeMap<String, i64>,
    pub milestones_due: i64,
    pub milestones_done: i64,
    /// Outputs per kind.
    pub outputs: BTreeMap<String, i64>,
}

/// Collaborations by id after `after`: `active` (proposed or active) or `past` (concluded or
/// abandoned), or all.
pub async fn list(
    db: &ReadDb,
    past: Option<bool>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<CollaborationRow>, sqlx::Error> {
    let stages = match past {
        None => "'proposed', 'active', 'concluded', 'abandoned'",
        Some(false) => "'proposed', 'active'",
        Some(true) => "'concluded', 'abandoned'",
    };
    let rows = sqlx::query(&format!(
        "SELECT collaboration_id, title, stage, proposed_on, activated_on, ended_on FROM rm_collab \
         WHERE collaboration_id > $1 AND stage IN ({stages}) ORDER BY collaboration_id LIMIT $2"
    ))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get("collaboration_id")?;
        let participants: Vec<ParticipantRow> = sqlx::query(
            "SELECT kind, party_id, name, scope, discipline, role FROM rm_collab_participants \
             WHERE collaboration_id = $1 ORDER BY participant_id",
        )
        .bind(&id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(sqlx::FromRow::from_row)
        .collect::<Result<_, sqlx::Error>>()?;
        let mut disciplines = BTreeMap::new();
        let mut partners_by_scope = BTreeMap::new();
        for p in &participants {
            *disciplines.entry(p.discipline.clone()).or_insert(0) += 1;
            if let Some(scope) = &p.scope {
                *partners_by_scope.entry(scope.clone()).or_insert(0) += 1;
            }
        }
        let (mut due, mut done) = (0, 0);
        for m in sqlx::query("SELECT done_on FROM rm_collab_milestones WHERE collaboration_id = $1")
            .bind(&id)
            .fetch_all(&db.pool)
            .await?
        {
            if m.try_get::<Option<String>, _>("done_on")?.is_some() {
                done += 1;
            } else {
                due += 1;
            }
        }
        let mut outputs = BTreeMap::new();
        for o in sqlx::query("SELECT kind FROM rm_collab_outputs WHERE collaboration_id = $1")
            .bind(&id)
            .fetch_all(&db.pool)
            .await?
        {
            *outputs.entry(o.try_get::<String, _>("kind")?).or_insert(0) += 1;
        }
        out.push(CollaborationRow {
            collaboration_id: id,
            title: r.try_get("title")?,
            stage: r.try_get("stage")?,
            proposed_on: r.try_get("proposed_on")?,
            activated_on: r.try_get("activated_on")?,
            ended_on: r.try_get("ended_on")?,
            participants,
            disciplines,
            partners_by_scope,
            milestones_due: due,
            milestones_done: done,
            outputs,
        });
    }
    Ok(out)
}

/// The portfolio at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Collaborations per stage.
    pub stages: BTreeMap<String, i64>,
    /// Participants of active collaborations, per discipline.
    pub disciplines: BTreeMap<String, i64>,
    /// External partners of active collaborations, per scope.
    pub partners_by_scope: BTreeMap<String, i64>,
    pub milestones_due: i64,
    pub milestones_done: i64,
    /// Outputs of all collaborations, per kind.
    pub outputs: BTreeMap<String, i64>,
}

async fn counts(db: &ReadDb, sql: &str) -> Result<BTreeMap<String, i64>, sqlx::Error> {
    sqlx::query(sql)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<String, _>("k")?, r.try_get::<i64, _>("n")?)))
        .collect()
}

/// The whole portfolio's figures.
pub async fn summary(db: &ReadDb) -> Result<Summary, sqlx::Error> {
    let stages = counts(
        db,
        "SELECT stage AS k, COUNT(*) AS n FROM rm_collab GROUP BY stage",
    )
    .await?;
    let disciplines = counts(
        db,
        "SELECT p.discipline AS k, COUNT(*) AS n FROM rm_collab_participants p \
         JOIN rm_collab c ON c.collaboration_id = p.collaboration_id \
         WHERE c.stage = 'active' GROUP BY p.discipline",
    )
    .await?;
    let partners_by_scope = counts(
        db,
        "SELECT p.scope AS k, COUNT(*) AS n FROM rm_collab_participants p \
         JOIN rm_collab c ON c.collaboration_id = p.collaboration_id \
         WHERE c.stage = 'active' AND p.scope IS NOT NULL GROUP BY p.scope",
    )
    .await?;
    let outputs = counts(
        db,
        "SELECT kind AS k, COUNT(*) AS n FROM rm_collab_outputs GROUP BY kind",
    )
    .await?;
    let row = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN done_on IS NULL THEN 1 ELSE 0 END), 0) AS due, \
         COALESCE(SUM(CASE WHEN done_on IS NULL THEN 0 ELSE 1 END), 0) AS done FROM rm_collab_milestones",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok(Summary {
        stages,
        disciplines,
        partners_by_scope,
        milestones_due: row.try_get("due")?,
        milestones_done: row.try_get("done")?,
        outputs,
    })
}
