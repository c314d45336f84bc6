//! Tamper evidence: the seal over the event log, and its verification.
//!
//! Every event is sealed in the transaction that appends it ([`crate::append`]): its row in
//! `audit_chain` holds a SHA-256 over the hash of the event before it in its stream and the
//! event's own content and metadata (canonical JSON) — a hash chain per stream. The
//! **sealer** runs beside the read models, under the same projector lease, takes the log in
//! commit order, numbers the seals (`seal`, commit order) and stores for every batch a
//! **digest** in `audit_digests`: a SHA-256 over the previous digest and the batch's event
//! hashes, a chain over the whole log. The latest digest is what an auditor publishes outside
//! the system (`docs/audit.md`). The sealer computes no hash: an event altered after its
//! commit is found altered, however soon after.
//!
//! [`verify`] recomputes everything from the events and names what does not match: an event
//! whose content or metadata changed (`altered`), an event with no seal (`inserted`: only
//! events at or before the epoch of `audit_epoch`, written by an earlier version or
//! bulk-loaded, may lack one, and they are counted as not sealed yet), a sealed event that is
//! gone, the last of a stream included (`missing`), events out of their sealed order
//! (`reordered`), a stream with a hole in its sequence (`gap`), chain rows or digests
//! rewritten (`seal_altered`, `digest_mismatch`).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::db::{insert_json_rows, JsonColumn, ReadDb};
use crate::log::{read_after, read_within, Checkpoint, LoggedEvent};
use crate::projector::{checkpoint, Applied, Conn, Projection, ProjectionError};

/// The sealer's checkpoint name.
pub const SEALER: &str = "audit_seal";

/// The hash before the first event of a stream, and before the first digest.
const GENESIS: [u8; 32] = [0; 32];

/// The sealer: a projection that writes the hash chains and digests. It is not a read model:
/// it has no rebuild (rebuilding the seal from the events would launder any tampering).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sealer;

/// Writes `v` as canonical JSON: object keys sorted, no insignificant white space. The stores
/// give the same JSON back in different forms (PostgreSQL's `jsonb` reorders keys).
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// The hash of `event` chained to `prev`, the hash of the event before it in its stream.
/// Covers the stream, the sequence, the type and version, the payload and metadata (as
/// canonical JSON) and the recording time. Text that is not JSON is hashed as it is.
pub fn event_hash(prev: &[u8; 32], event: &LoggedEvent) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"incubator/event/v1");
    h.update(prev);
    field(&mut h, event.aggregate_type.as_bytes());
    field(&mut h, event.aggregate_id.as_bytes());
    h.update(event.sequence.to_be_bytes());
    field(&mut h, event.event_type.as_bytes());
    field(&mut h, event.event_version.as_bytes());
    let mut json = String::new();
    for text in [&event.payload, &event.metadata] {
        json.clear();
        match serde_json::from_str::<Value>(text) {
            Ok(v) => canonical(&v, &mut json),
            Err(_) => json.push_str(text),
        }
        field(&mut h, json.as_bytes());
    }
    field(&mut h, event.recorded_at.as_bytes());
    h.finalize().into()
}

/// A digest over the previous digest and the hashes of seals `first..=last`, in seal order.
struct DigestHasher(Sha256);

impl DigestHasher {
    fn new(prev: &[u8; 32], first: i64, last: i64) -> Self {
        let mut h = Sha256::new();
        h.update(b"incubator/digest/v1");
        h.update(prev);
        h.update(first.to_be_bytes());
        h.update(last.to_be_bytes());
        Self(h)
    }

    fn add(&mut self, hash: &[u8; 32]) {
        self.0.update(hash);
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

fn unhex(raw: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if hex::decode_to_slice(raw, &mut out).is_err() {
        // A stored hash that is not one: compare as all ones, which no hash equals by chance.
        out = [0xff; 32];
    }
    out
}

/// The latest digest: what to publish outside the system.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DigestRef {
    pub digest_seq: i64,
    /// The last seal it covers: every event sealed up to it.
    pub last_seal: i64,
    /// Hex SHA-256.
    pub digest: String,
    pub sealed_at: String,
}

async fn latest_digest(conn: &mut AnyConnection) -> Result<Option<DigestRef>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT digest_seq, last_seal, digest, sealed_at FROM audit_digests \
         ORDER BY digest_seq DESC LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    row.map(|r| sqlx::FromRow::from_row(&r)).transpose()
}

/// The stored hash of one event, if it was sealed.
async fn stored_hash(
    conn: &mut AnyConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
) -> Result<Option<[u8; 32]>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT hash FROM audit_chain WHERE aggregate_type = $1 AND aggregate_id = $2 \
         AND sequence = $3",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence)
    .fetch_optional(conn)
    .await?;
    Ok(row
        .map(|r| r.try_get::<String, _>("hash"))
        .transpose()?
        .map(|h| unhex(&h)))
}

/// Writes the chain rows of `events` (just appended, or adopted), unnumbered: the hash of
/// each chained to the one before it in its stream (among `events`, else as stored).
pub(crate) async fn seal_appended(
    conn: &mut AnyConnection,
    dialect: crate::Dialect,
    events: &[LoggedEvent],
) -> Result<(), sqlx::Error> {
    let mut heads: HashMap<(&str, &str), (i64, [u8; 32])> = HashMap::new();
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        let key = (e.aggregate_type.as_str(), e.aggregate_id.as_str());
        let prev = match heads.get(&key) {
            Some((seq, hash)) if *seq == e.sequence - 1 => *hash,
            _ if e.sequence <= 1 => GENESIS,
            // Not found: the event before it is missing. Sealed as it stands; verify names
            // the hole.
            _ => stored_hash(conn, key.0, key.1, e.sequence - 1)
                .await?
                .unwrap_or(GENESIS),
        };
        let hash = event_hash(&prev, e);
        heads.insert(key, (e.sequence, hash));
        rows.push(serde_json::json!([
            e.aggregate_type,
            e.aggregate_id,
            e.sequence,
            e.position(),
            hex::encode(hash)
        ]));
    }
    insert_json_rows(
        conn,
        dialect,
        "audit_chain",
        &[
            ("aggregate_type", JsonColumn::Text),
            ("aggregate_id", JsonColumn::Text),
            ("sequence", JsonColumn::Int),
            ("position", JsonColumn::Int),
            ("hash", JsonColumn::Text),
        ],
        rows,
    )
    .await
}

/// The last position whose events may lack a chain row without being a finding: events
/// written before seals were written with them, or bulk-loaded (an import, a benchmark).
async fn adopt_to(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    Ok(epoch(conn).await?.0)
}

/// The epoch (`adopt_to`) and how far the events up to it have been sealed (`sealed_to`).
async fn epoch(conn: &mut AnyConnection) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query("SELECT adopt_to, sealed_to FROM audit_epoch")
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(r) => (r.try_get("adopt_to")?, r.try_get("sealed_to")?),
        None => (0, 0),
    })
}

/// Seals the events at or before the epoch that have no chain row yet, from the events as
/// they stand, as the sealer did before seals were written with the events (run when a store
/// is opened, so that a log written by an earlier version is sealed before anything is
/// appended after it); the number of events sealed.
pub async fn adopt(conn: &mut AnyConnection, dialect: crate::Dialect) -> Result<u64, sqlx::Error> {
    let (to, sealed_to) = epoch(conn).await?;
    if sealed_to >= to {
        // Nothing left: opening a store costs no scan of the log.
        return Ok(0);
    }
    let sql = format!(
        "SELECT {} FROM events e WHERE position > $1 AND position <= $2 \
         AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.position = e.position) \
         ORDER BY position LIMIT $3",
        crate::log::columns(dialect)
    );
    let (mut after, mut n) = (sealed_to, 0u64);
    loop {
        let events = sqlx::query(&sql)
            .bind(after)
            .bind(to)
            .bind(BATCH)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(LoggedEvent::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(last) = events.last() else {
            sqlx::query("UPDATE audit_epoch SET sealed_to = $1 WHERE sealed_to < $1")
                .bind(to)
                .execute(&mut *conn)
                .await?;
            return Ok(n);
        };
        after = last.position();
        n += events.len() as u64;
        seal_appended(conn, dialect, &events).await?;
    }
}

/// Moves the epoch up to `position` (after a bulk load of the events up to it, by our own
/// code) and seals what it now covers: [`adopt`].
pub async fn adopt_up_to(
    conn: &mut AnyConnection,
    dialect: crate::Dialect,
    position: i64,
) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE audit_epoch SET adopt_to = $1 WHERE adopt_to < $1")
        .bind(position)
        .execute(&mut *conn)
        .await?;
    adopt(conn, dialect).await
}

/// The chain rows of `events` (by position: the seal number, if sealed yet, and the event's
/// hash); an event appended by anything but Incubator has none.
pub async fn chain_rows(
    conn: &mut AnyConnection,
    events: &[LoggedEvent],
) -> Result<HashMap<i64, (Option<i64>, String)>, sqlx::Error> {
    let lo = events.iter().map(LoggedEvent::position).min().unwrap_or(0);
    let hi = events.iter().map(LoggedEvent::position).max().unwrap_or(-1);
    let rows = sqlx::query(
        "SELECT position, seal, hash FROM audit_chain WHERE position >= $1 AND position <= $2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("position")?,
                (r.try_get("seal")?, r.try_get("hash")?),
            ))
        })
        .collect()
}

impl Projection for Sealer {
    fn name(&self) -> &'static str {
        SEALER
    }

    async fn apply(&self, conn: &mut Conn, db: &ReadDb, event: &LoggedEvent) -> Applied {
        self.apply_batch(conn, db, std::slice::from_ref(event))
            .await
    }

    /// Numbers the batch's seals in commit order and chains one digest over them. An event
    /// without a chain row was not appended by Incubator: it is left unsealed, and
    /// verification names it.
    async fn apply_batch(&self, conn: &mut Conn, db: &ReadDb, events: &[LoggedEvent]) -> Applied {
        if events.is_empty() {
            return Ok(());
        }
        let chain = chain_rows(conn, events).await?;
        let last_seal: i64 =
            sqlx::query("SELECT CAST(COALESCE(MAX(seal), 0) AS BIGINT) AS n FROM audit_chain")
                .fetch_one(&mut *conn)
                .await?
                .try_get("n")?;
        let mut numbered: Vec<(i64, i64, [u8; 32])> = Vec::with_capacity(events.len());
        for e in events {
            match chain.get(&e.position()) {
                Some((None, hash)) => {
                    let seal = last_seal + 1 + numbered.len() as i64;
                    numbered.push((e.position(), seal, unhex(hash)));
                }
                Some((Some(_), _)) => {}
                None => tracing::warn!(
                    position = e.position(),
                    aggregate_type = %e.aggregate_type,
                    aggregate_id = %e.aggregate_id,
                    "an event without a seal, not appended by Incubator: left unsealed"
                ),
            }
        }
        if numbered.is_empty() {
            return Ok(());
        }
        // Each seal its number, by its position.
        crate::db::update_json_rows(
            conn,
            db.dialect,
            "audit_chain",
            (
                &[("position", JsonColumn::Int)],
                &[crate::db::SetColumn {
                    name: "seal",
                    kind: JsonColumn::Int,
                    keep: false,
                }],
            ),
            numbered
                .iter()
                .map(|(p, s, _)| serde_json::json!([p, s]))
                .collect(),
        )
        .await?;
        let prev_digest = latest_digest(conn).await?;
        let first = last_seal + 1;
        let last = last_seal + numbered.len() as i64;
        let mut digest = DigestHasher::new(
            &prev_digest.as_ref().map_or(GENESIS, |d| unhex(&d.digest)),
            first,
            last,
        );
        for (_, _, hash) in &numbered {
            digest.add(hash);
        }
        let sealed_at = events
            .last()
            .map(|e| e.recorded_at.clone())
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO audit_digests (digest_seq, first_seal, last_seal, digest, sealed_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(prev_digest.map_or(1, |d| d.digest_seq + 1))
        .bind(first)
        .bind(last)
        .bind(hex::encode(digest.finish()))
        .bind(sealed_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// One thing verification found wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    /// `altered`, `inserted`, `missing`, `reordered`, `gap`, `seal_altered`,
    /// `digest_mismatch` or `snapshot_altered`.
    pub kind: &'static str,
    /// The event's global position (of the event as sealed, for a missing one).
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub detail: String,
}

/// What verification found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verified {
    /// Events read (in the range asked).
    pub events: u64,
    /// Events checked against their seal.
    pub sealed: u64,
    /// Events not checked: bulk-loaded or written by an earlier version and not sealed yet
    /// (the next start of the service seals them), or not yet visible in commit order.
    pub unsealed: u64,
    /// Events checked against the seal written with them that no digest covers yet (the
    /// sealer numbers them and chains a digest over them within a second).
    pub undigested: u64,
    /// Digests recomputed.
    pub digests: u64,
    /// Snapshots replayed from their events and compared (when the whole log is verified).
    pub snapshots: u64,
    /// Whether every event read was checked against its seal and nothing was found: false as
    /// well when events are not sealed yet, since nothing was proven about them.
    pub intact: bool,
    /// `intact`, `broken` (something was found) or `incomplete` (nothing was found, but some
    /// events are not sealed yet and so were not checked).
    pub verdict: &'static str,
    /// The first broken event in commit order, as `findings[0]`.
    pub first: Option<Finding>,
    /// What was found, in commit order (at most 100).
    pub findings: Vec<Finding>,
    /// Findings in all, beyond the 100 listed too.
    pub found: u64,
    /// The latest digest, to publish or to compare with one published.
    pub latest_digest: Option<DigestRef>,
}

const MAX_FINDINGS: usize = 100;

/// Seals every committed event not sealed yet, in batches, as the server's sealer would (for
/// stores written while no server ran: the demo, an import); the number of batches sealed.
pub async fn seal_all(db: &ReadDb) -> Result<u64, ProjectionError> {
    let mut batches = 0u64;
    while crate::projector::step(db, &Sealer, 5_000).await?.is_some() {
        batches += 1;
    }
    Ok(batches)
}

/// Events read per query.
const BATCH: i64 = 5_000;

/// A range of global positions, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
}

impl Range {
    pub const ALL: Range = Range {
        from: 0,
        to: i64::MAX,
    };

    fn contains(&self, position: i64) -> bool {
        self.from <= position && position <= self.to
    }
}

#[derive(sqlx::FromRow)]
struct Seal {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    /// Its number in commit order; none until the sealer numbers it.
    seal: Option<i64>,
    position: i64,
    hash: String,
}

fn seal_of(r: &sqlx::any::AnyRow) -> Result<Seal, sqlx::Error> {
    sqlx::FromRow::from_row(r)
}

/// A batch of events after `at`, and the seals at their positions (those in `range`).
async fn read_batch(
    db: ReadDb,
    at: Checkpoint,
    range: Range,
) -> Result<(Vec<LoggedEvent>, HashMap<i64, Seal>), sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    conn.close_on_drop();
    let events = read_within(&mut conn, db.dialect, at, (range.from, range.to), BATCH).await?;
    let positions = events
        .iter()
        .map(|e| e.position())
        .filter(|p| range.contains(*p));
    let (lo, hi) = positions.fold((i64::MAX, i64::MIN), |(lo, hi), p| (lo.min(p), hi.max(p)));
    let mut seals = HashMap::new();
    if lo <= hi {
        for r in sqlx::query(
            "SELECT aggregate_type, aggregate_id, sequence, seal, position, hash FROM audit_chain \
             WHERE position >= $1 AND position <= $2",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *conn)
        .await?
        {
            let s = seal_of(&r)?;
            seals.insert(s.position, s);
        }
    }
    Ok((events, seals))
}

/// A finding about the event sealed as number `seal`, named from its seal (only findings
/// need the name, so the seals are read without it).
async fn sealed_finding(
    conn: &mut AnyConnection,
    seal: i64,
    position: i64,
    kind: &'static str,
    detail: String,
) -> Result<Finding, sqlx::Error> {
    let id = sqlx::query(
        "SELECT aggregate_type, aggregate_id, sequence FROM audit_chain WHERE seal = $1",
    )
    .bind(seal)
    .fetch_one(conn)
    .await?;
    Ok(Finding {
        kind,
        position,
        aggregate_type: id.try_get("aggregate_type")?,
        aggregate_id: id.try_get("aggregate_id")?,
        sequence: id.try_get("sequence")?,
        detail,
    })
}

/// What the pass over the seals found.
#[derive(Default)]
struct SealPass {
    /// Every seal in the range and its position, in seal order.
    seals: Vec<(i64, i64)>,
    findings: Vec<Finding>,
    digests: u64,
}

/// The seal numbers to walk for `range`: from the first to the last seal of its events,
/// widened to the first and last seals of the digests that cover them (a digest is checked
/// whole), or the whole chain for the whole log. Empty (`first > last`) when nothing in the
/// range is sealed.
async fn seal_window(conn: &mut AnyConnection, range: Range) -> Result<(i64, i64), sqlx::Error> {
    if range == Range::ALL {
        return Ok((1, i64::MAX));
    }
    let ends = sqlx::query(
        "SELECT MIN(seal) AS lo, MAX(seal) AS hi FROM audit_chain \
         WHERE position >= $1 AND position <= $2",
    )
    .bind(range.from)
    .bind(range.to)
    .fetch_one(&mut *conn)
    .await?;
    let (Some(lo), Some(hi)) = (
        ends.try_get::<Option<i64>, _>("lo")?,
        ends.try_get::<Option<i64>, _>("hi")?,
    ) else {
        return Ok((1, 0));
    };
    let widened = sqlx::query(
        "SELECT COALESCE(MIN(first_seal), $1) AS lo, COALESCE(MAX(last_seal), $2) AS hi \
         FROM audit_digests WHERE last_seal >= $1 AND first_seal <= $2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_one(&mut *conn)
    .await?;
    Ok((
        widened.try_get::<i64, _>("lo")?.min(lo),
        widened.try_get::<i64, _>("hi")?.max(hi),
    ))
}

/// The seals in order: no numbers missing, and every digest recomputed from the stored hashes.
/// Runs beside the pass over the events.
async fn seal_pass(db: ReadDb, range: Range) -> Result<SealPass, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    conn.close_on_drop();
    let mut pass = SealPass::default();
    // The seals of the range's events, widened to whole digests: only they are walked.
    let (first, last) = seal_window(&mut conn, range).await?;
    let mut after = first - 1;
    let mut expected_seal = None::<i64>;
    let mut digests = sqlx::query(
        "SELECT digest_seq, first_seal, last_seal, digest FROM audit_digests \
         WHERE last_seal >= $1 - 1 AND first_seal <= $2 ORDER BY digest_seq",
    )
    .bind(first)
    .bind(last)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok((
            r.try_get::<i64, _>("digest_seq")?,
            r.try_get::<i64, _>("first_seal")?,
            r.try_get::<i64, _>("last_seal")?,
            r.try_get::<String, _>("digest")?,
        ))
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?
    .into_iter()
    .peekable();
    let mut prev_digest = GENESIS;
    let mut current: Option<(i64, i64, String, DigestHasher, bool)> = None;
    loop {
        let rows = sqlx::query(
            "SELECT seal, position, hash FROM audit_chain WHERE seal > $1 AND seal <= $3 \
             ORDER BY seal LIMIT $2",
        )
        .bind(after)
        .bind(BATCH)
        .bind(last)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let seal: i64 = r.try_get("seal")?;
            let position: i64 = r.try_get("position")?;
            let hash: String = r.try_get("hash")?;
            after = seal;
            let in_range = range.contains(position);
            let mut kinds: Vec<(&'static str, String)> = Vec::new();
            if let Some(expected) = expected_seal {
                if seal != expected && in_range {
                    kinds.push((
                        "seal_altered",
                        format!("seal numbers {expected} to {} are gone", seal - 1),
                    ));
                }
            }
            expected_seal = Some(seal + 1);
            if in_range {
                pass.seals.push((seal, position));
            }
            // Digests: start the one that covers this seal; fold the stored hash in.
            if current.is_none() {
                for (seq, first, last, digest) in digests.by_ref() {
                    if first <= seal && seal <= last {
                        let checked = first == seal;
                        current = Some((
                            seq,
                            last,
                            digest,
                            DigestHasher::new(&prev_digest, first, last),
                            checked,
                        ));
                        break;
                    }
                    prev_digest = unhex(&digest);
                }
            }
            let finished = match current.as_mut() {
                Some((_, last, _, hasher, _)) => {
                    hasher.add(&unhex(&hash));
                    seal == *last
                }
                None => false,
            };
            if finished {
                if let Some((seq, _, digest, hasher, checked)) = current.take() {
                    let stored = unhex(&digest);
                    if checked {
                        pass.digests += 1;
                        if hasher.finish() != stored && in_range {
                            kinds.push((
                                "digest_mismatch",
                                format!(
                                    "digest {seq} does not cover the sealed events as they stand"
                                ),
                            ));
                        }
                    }
                    prev_digest = stored;
                }
            }
            for (kind, detail) in kinds {
                pass.findings
                    .push(sealed_finding(&mut conn, seal, position, kind, detail).await?);
            }
        }
    }
    Ok(pass)
}

/// A spawned task that is aborted when its handle is dropped: a verification's helpers never
/// outlive it (nor keep their connections).
struct Joined<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Joined<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Recomputes the seal of the events in `range` and compares: see the module's documentation.
/// `progress` is called with the events read so far.
pub async fn verify(
    db: &ReadDb,
    range: Range,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Verified, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    // Closed when dropped, as its helpers' are: a pool kept for heavy work holds no idle
    // connections between uses.
    conn.close_on_drop();
    let adopt_to = adopt_to(&mut conn).await?;
    // Every event in the range now, visible in commit order or not yet (on PostgreSQL the
    // log is read up to the cluster's oldest running transaction): those the walk below does
    // not reach are not proven, and are counted as unsealed.
    let present: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM events WHERE position >= 1 AND position >= $1 AND position <= $2",
    )
    .bind(range.from)
    .bind(range.to)
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    let mut findings: Vec<Finding> = Vec::new();
    let mut found = 0u64;
    let mut note = |f: Finding| {
        found += 1;
        if findings.len() < MAX_FINDINGS * 4 {
            findings.push(f);
        }
    };
    let mut out = Verified {
        events: 0,
        sealed: 0,
        unsealed: 0,
        undigested: 0,
        digests: 0,
        snapshots: 0,
        intact: true,
        verdict: "intact",
        first: None,
        findings: Vec::new(),
        found: 0,
        latest_digest: latest_digest(&mut conn).await?,
    };
    // The seals and digests are walked on another connection meanwhile. Every task spawned
    // here ends when the verification does, finished or dropped (a request that timed out).
    let mut seals = Joined(tokio::spawn(seal_pass(db.clone(), range)));
    // Pass 1: the events in commit order, each against the seal at its position.
    let mut heads: HashMap<(String, String), (i64, [u8; 32])> = HashMap::new();
    let mut matched: Vec<bool> = Vec::new();
    let mut unnumbered_seen: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut last_seal_seen = 0i64;
    // The next batch is read (on another connection) while this one is hashed.
    let mut next = Joined(tokio::spawn(read_batch(
        db.clone(),
        Checkpoint::default(),
        range,
    )));
    loop {
        let (events, mut seals) = (&mut next.0)
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("verify: {e}")))??;
        let Some(last) = events.last() else {
            break;
        };
        next = Joined(tokio::spawn(read_batch(db.clone(), last.checkpoint, range)));
        let in_range = events.iter().filter(|e| range.contains(e.position()));
        for e in in_range {
            out.events += 1;
            let key = (e.aggregate_type.clone(), e.aggregate_id.clone());
            let finding = |kind: &'static str, detail: String| Finding {
                kind,
                position: e.position(),
                aggregate_type: e.aggregate_type.clone(),
                aggregate_id: e.aggregate_id.clone(),
                sequence: e.sequence,
                detail,
            };
            let prev = match heads.get(&key) {
                Some((seq, hash)) if *seq == e.sequence - 1 => *hash,
                _ if e.sequence <= 1 => GENESIS,
                Some((seq, _)) => {
                    note(finding(
                        "gap",
                        format!("sequence {} follows {seq} in its stream", e.sequence),
                    ));
                    stored_hash(&mut conn, &key.0, &key.1, e.sequence - 1)
                        .await?
                        .unwrap_or(GENESIS)
                }
                None => match stored_hash(&mut conn, &key.0, &key.1, e.sequence - 1).await? {
                    Some(h) => h,
                    None => {
                        if range.from == 0 {
                            note(finding(
                                "gap",
                                format!("no event {} before it in its stream", e.sequence - 1),
                            ));
                        }
                        GENESIS
                    }
                },
            };
            let hash = event_hash(&prev, e);
            heads.insert(key, (e.sequence, hash));
            let Some(seal) = seals.remove(&e.position()) else {
                if e.position() <= adopt_to {
                    out.unsealed += 1;
                } else {
                    note(finding(
                        "inserted",
                        "an event without a seal: Incubator writes every event with its seal"
                            .into(),
                    ));
                }
                continue;
            };
            out.sealed += 1;
            match seal.seal.map(usize::try_from) {
                Some(Ok(i)) => {
                    if matched.len() <= i {
                        matched.resize(i + 1, false);
                    }
                    matched[i] = true;
                }
                Some(Err(_)) => {}
                None => {
                    out.undigested += 1;
                    unnumbered_seen.insert(e.position());
                }
            }
            if seal.aggregate_type != e.aggregate_type
                || seal.aggregate_id != e.aggregate_id
                || seal.sequence != e.sequence
            {
                note(finding(
                    "altered",
                    format!(
                        "sealed as {} {} #{}",
                        seal.aggregate_type, seal.aggregate_id, seal.sequence
                    ),
                ));
            } else if unhex(&seal.hash) != hash {
                note(finding(
                    "altered",
                    "its content, metadata or the event before it differ from when it was sealed"
                        .into(),
                ));
            }
            if let Some(number) = seal.seal {
                if number < last_seal_seen {
                    note(finding(
                        "reordered",
                        format!("sealed as number {number} after number {last_seal_seen}"),
                    ));
                }
                last_seal_seen = last_seal_seen.max(number);
            }
        }
        progress(out.events);
    }
    let walked = out.events;
    out.unsealed += u64::try_from(present).unwrap_or(0).saturating_sub(walked);
    // Rows no reader of the log ever sees (positions start at 1): put there by hand.
    if range.from <= 0 {
        for r in sqlx::query(
            "SELECT position, aggregate_type, aggregate_id, sequence FROM events \
             WHERE position <= 0 ORDER BY position",
        )
        .fetch_all(&mut *conn)
        .await?
        {
            out.events += 1;
            note(Finding {
                kind: "inserted",
                position: r.try_get("position")?,
                aggregate_type: r.try_get("aggregate_type")?,
                aggregate_id: r.try_get("aggregate_id")?,
                sequence: r.try_get("sequence")?,
                detail: "an event at a position before the start of the log".into(),
            });
        }
    }
    let pass = (&mut seals.0)
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("verify: {e}")))??;
    out.digests = pass.digests;
    for f in pass.findings {
        note(f);
    }
    // Every seal must have been met by its event.
    for (seal, position) in pass.seals {
        let seen = usize::try_from(seal)
            .ok()
            .and_then(|i| matched.get(i).copied())
            .unwrap_or(false);
        if !seen {
            let detail = "sealed, and no longer in the log".to_owned();
            note(sealed_finding(&mut conn, seal, position, "missing", detail).await?);
        }
    }
    // Seals not numbered yet whose event is gone.
    for r in sqlx::query(
        "SELECT position, aggregate_type, aggregate_id, sequence FROM audit_chain \
         WHERE seal IS NULL AND position >= $1 AND position <= $2 ORDER BY position",
    )
    .bind(range.from)
    .bind(range.to)
    .fetch_all(&mut *conn)
    .await?
    {
        let position: i64 = r.try_get("position")?;
        if unnumbered_seen.contains(&position) {
            continue;
        }
        // Not walked: gone, or committed and not yet visible in commit order (counted as
        // unsealed above).
        let there = sqlx::query("SELECT 1 AS one FROM events WHERE position = $1")
            .bind(position)
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
        if !there {
            note(Finding {
                kind: "missing",
                position,
                aggregate_type: r.try_get("aggregate_type")?,
                aggregate_id: r.try_get("aggregate_id")?,
                sequence: r.try_get("sequence")?,
                detail: "sealed with its append, and no longer in the log".into(),
            });
        }
    }
    // Snapshots, which the event store loads records from, against their events.
    if range == Range::ALL {
        let (checked, altered) = crate::snapshots::verify(&mut conn).await?;
        out.snapshots = checked;
        for a in altered {
            note(Finding {
                kind: "snapshot_altered",
                position: a.position,
                aggregate_type: a.aggregate_type,
                aggregate_id: a.aggregate_id,
                sequence: a.sequence,
                detail: a.detail,
            });
        }
    }
    findings.sort_by_key(|f| f.position);
    out.found = found;
    findings.truncate(MAX_FINDINGS);
    out.intact = found == 0 && out.unsealed == 0;
    out.verdict = if found > 0 {
        "broken"
    } else if out.unsealed > 0 {
        "incomplete"
    } else {
        "intact"
    };
    out.first = findings.first().cloned();
    out.findings = findings;
    Ok(out)
}

/// Whether the sealer has sealed everything committed (for tests and the export).
pub async fn sealed_everything(db: &ReadDb) -> Result<bool, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    let sealed_to = checkpoint(db, SEALER).await?;
    Ok(read_after(&mut conn, db.dialect, sealed_to, 1)
        .await?
        .is_empty())
}

/// The number of seals, for progress bars.
pub async fn seal_count(db: &ReadDb) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_chain")
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?;
    Ok(n.max(0) as u64)
}
