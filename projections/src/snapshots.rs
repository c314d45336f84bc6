//! Snapshots held to their events. A snapshot is a shortcut the event store loads a record from
//! (current reads and every command's decision start from it), and it sits outside the seal, so
//! an edit of one in the database would be served and acted on: verification replays each
//! snapshotted stream from its sealed events up to the snapshot's sequence and names every
//! snapshot that differs (`snapshot_altered`).

use cqrs_es::Aggregate;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

/// A snapshot that differs from the replay of its events (verification reports it as a
/// `snapshot_altered` finding).
#[derive(Debug, Clone, PartialEq)]
pub struct Altered {
    /// The position of the stream's event at the snapshot's sequence (0 when it has none).
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The snapshot's sequence.
    pub sequence: i64,
    pub detail: String,
}

/// The snapshots and the events of one stream.
async fn stream(
    conn: &mut AnyConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    last_sequence: i64,
) -> Result<Vec<(i64, i64, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT sequence, position, CAST(payload AS TEXT) AS payload FROM events \
         WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence <= $3 ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(last_sequence)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("sequence")?,
                r.try_get("position")?,
                r.try_get("payload")?,
            ))
        })
        .collect()
}

/// The state of `A` after `events` (their stored payloads), as a snapshot stores it; or why
/// it cannot be had.
fn replayed<A: Aggregate>(events: &[(i64, i64, String)]) -> Result<Value, String> {
    let mut state = A::default();
    for (sequence, _, payload) in events {
        let event: A::Event = serde_json::from_str(payload)
            .map_err(|e| format!("event {sequence} does not decode: {e}"))?;
        state.apply(event);
    }
    serde_json::to_value(&state).map_err(|e| e.to_string())
}

fn replay_of(aggregate_type: &str, events: &[(i64, i64, String)]) -> Option<Result<Value, String>> {
    use incubator_domain::{collaboration, mentor, residency, space, startup};
    Some(match aggregate_type {
        t if t == startup::Startup::TYPE => replayed::<startup::Startup>(events),
        t if t == mentor::Mentor::TYPE => replayed::<mentor::Mentor>(events),
        t if t == space::Space::TYPE => replayed::<space::Space>(events),
        t if t == residency::Residency::TYPE => replayed::<residency::Residency>(events),
        t if t == collaboration::Collaboration::TYPE => {
            replayed::<collaboration::Collaboration>(events)
        }
        _ => return None,
    })
}

/// Every snapshot that does not equal the replay of its stream's events up to its sequence;
/// and how many snapshots were checked.
pub async fn verify(conn: &mut AnyConnection) -> Result<(u64, Vec<Altered>), sqlx::Error> {
    let snapshots = sqlx::query(
        "SELECT aggregate_type, aggregate_id, last_sequence, CAST(payload AS TEXT) AS payload \
         FROM snapshots ORDER BY aggregate_type, aggregate_id, last_sequence",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut findings = Vec::new();
    let mut checked = 0u64;
    for row in &snapshots {
        let aggregate_type: String = row.try_get("aggregate_type")?;
        let aggregate_id: String = row.try_get("aggregate_id")?;
        let last_sequence: i64 = row.try_get("last_sequence")?;
        let stored: String = row.try_get("payload")?;
        let events = stream(conn, &aggregate_type, &aggregate_id, last_sequence).await?;
        checked += 1;
        let position = events.last().map_or(0, |e| e.1);
        let finding = |detail: String| Altered {
            position,
            aggregate_type: aggregate_type.clone(),
            aggregate_id: aggregate_id.clone(),
            sequence: last_sequence,
            detail,
        };
        if events.len() as i64 != last_sequence {
            findings.push(finding(format!(
                "a snapshot at sequence {last_sequence} of a stream with {} events up to it",
                events.len()
            )));
            continue;
        }
        let stored = serde_json::from_str::<Value>(&stored);
        match (replay_of(&aggregate_type, &events), stored) {
            (None, _) => findings.push(finding("a snapshot of no kind of record".into())),
            (Some(Err(e)), _) => findings.push(finding(format!("the replay fails: {e}"))),
            (_, Err(e)) => findings.push(finding(format!("the snapshot does not decode: {e}"))),
            (Some(Ok(replay)), Ok(stored)) if replay != stored => findings.push(finding(
                "differs from the replay of the record's events up to it".into(),
            )),
            _ => {}
        }
    }
    Ok((checked, findings))
}
