//! Export for auditors and funders: the log as JSON Lines (commit order, metadata, hashes) and
//! each read model's tables as CSV; and import of an exported log into an empty store.

use std::io::{BufRead, Write};

use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{Column, Row};

use crate::db::{insert_json_rows_as, JsonColumn, ReadDb};
use crate::log::{read_after, Checkpoint};

/// Events per read or insert.
const BATCH: i64 = 2_000;

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the store already holds {0} events: import only into an empty store")]
    NotEmpty(i64),
    #[error("line {line}: {detail}")]
    Line { line: u64, detail: String },
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Writes every committed event, in commit order, one JSON object per line: its position,
/// stream, sequence, type, version, payload, metadata, recording time and seal hash (null while
/// not sealed). Returns the number of events written.
pub async fn export_log(
    db: &ReadDb,
    out: &mut impl Write,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, ImportError> {
    let mut conn = db.pool.acquire().await?;
    let mut at = Checkpoint::default();
    let mut n = 0u64;
    loop {
        let events = read_after(&mut conn, db.dialect, at, BATCH).await?;
        let Some(last) = events.last() else {
            break;
        };
        at = last.checkpoint;
        let chain = crate::audit::chain_rows(&mut conn, &events).await?;
        for e in &events {
            let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(json!(t));
            let line = json!({
                "position": e.position(),
                "aggregate_type": e.aggregate_type,
                "aggregate_id": e.aggregate_id,
                "sequence": e.sequence,
                "event_type": e.event_type,
                "event_version": e.event_version,
                "payload": parse(&e.payload),
                "metadata": parse(&e.metadata),
                "recorded_at": e.recorded_at,
                "hash": chain.get(&e.position()).map(|(_, hash)| hash),
            });
            writeln!(out, "{line}")?;
            n += 1;
        }
        progress(n);
    }
    out.flush()?;
    Ok(n)
}

/// Reads an exported log into an empty store, in the file's order, in one transaction: the
/// events keep their global positions, streams, sequences, payloads, metadata and recording
/// times, so the read models and the seal come out the same. Returns the number imported.
pub async fn import_log(
    db: &ReadDb,
    input: impl BufRead,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, ImportError> {
    let mut tx = db.pool.begin().await?;
    let held: i64 = sqlx::query("SELECT COUNT(*) AS n FROM events")
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    if held > 0 {
        return Err(ImportError::NotEmpty(held));
    }
    let columns = [
        ("position", JsonColumn::Int),
        ("aggregate_type", JsonColumn::Text),
        ("aggregate_id", JsonColumn::Text),
        ("sequence", JsonColumn::Int),
        ("event_type", JsonColumn::Text),
        ("event_version", JsonColumn::Text),
        ("payload", JsonColumn::Json),
        ("metadata", JsonColumn::Json),
        ("recorded_at", JsonColumn::Timestamp),
    ];
    let mut rows = Vec::new();
    let mut n = 0u64;
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |detail: String| ImportError::Line {
            line: i as u64 + 1,
            detail,
        };
        let v: Value = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("`{k}` is missing or not text")))
        };
        let sequence = v
            .get("sequence")
            .and_then(Value::as_i64)
            .filter(|s| *s >= 1)
            .ok_or_else(|| bad("`sequence` is missing or not a positive integer".into()))?;
        let json_text = |k: &str, variant_name: bool| {
            v.get(k)
                .filter(|p| p.is_object() || (variant_name && p.is_string()))
                .map(Value::to_string)
                .ok_or_else(|| {
                    bad(if variant_name {
                        format!("`{k}` is missing, or neither an object nor an event name")
                    } else {
                        format!("`{k}` is missing or not an object")
                    })
                })
        };
        let recorded_at = text("recorded_at")?;
        if chrono::DateTime::parse_from_rfc3339(&recorded_at).is_err() {
            return Err(bad("`recorded_at` is not an RFC 3339 instant".into()));
        }
        let position = v
            .get("position")
            .and_then(Value::as_i64)
            .filter(|p| *p >= 1)
            .ok_or_else(|| bad("`position` is missing or not a positive integer".into()))?;
        rows.push(json!([
            position,
            text("aggregate_type")?,
            text("aggregate_id")?,
            sequence,
            text("event_type")?,
            text("event_version")?,
            // An event without fields (`ResidencyAccepted`) is stored as its bare name.
            json_text("payload", true)?,
            json_text("metadata", false)?,
            recorded_at
        ]));
        if rows.len() as i64 == BATCH {
            n += rows.len() as u64;
            insert_json_rows_as(
                &mut tx,
                db.dialect,
                "events",
                &columns,
                std::mem::take(&mut rows),
                true,
            )
            .await?;
            progress(n);
        }
    }
    n += rows.len() as u64;
    insert_json_rows_as(&mut tx, db.dialect, "events", &columns, rows, true).await?;
    if db.dialect == crate::db::Dialect::Postgres {
        // The next command's event comes after the imported ones.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('events', 'position'), \
             (SELECT COALESCE(MAX(position), 0) + 1 FROM events), false)",
        )
        .execute(&mut *tx)
        .await?;
    }
    // The file is the record: its events are sealed as they are, in the same transaction
    // (the sealer then numbers them and chains the digests).
    let last = crate::log::head_position(&mut tx).await?;
    crate::audit::adopt_up_to(&mut tx, db.dialect, last).await?;
    tx.commit().await?;
    progress(n);
    Ok(n)
}

fn csv_cell(out: &mut String, cell: &str) {
    if cell.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

/// A text cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one), neutralised by a leading apostrophe, which spreadsheets show as text
/// (OWASP's advice for CSV injection). Numbers are written as they are: `-5` stays a number.
fn inert(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

fn cell(row: &AnyRow, i: usize) -> String {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        v.map(|v| v.to_string()).unwrap_or_default()
    } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        v.map(inert).unwrap_or_default()
    } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        v.map(|v| v.to_string()).unwrap_or_default()
    } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        v.map(|v| v.to_string()).unwrap_or_default()
    } else {
        String::new()
    }
}

/// One read-model table as CSV: a header line, then every row, sorted, so that two stores
/// holding the same model give the same file. An empty table gives an empty file.
pub async fn table_csv(db: &ReadDb, table: &str) -> Result<String, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT * FROM {table}"))
        .fetch_all(&db.pool)
        .await?;
    let Some(first) = rows.first() else {
        return Ok(String::new());
    };
    let mut header = String::new();
    for (i, c) in first.columns().iter().enumerate() {
        if i > 0 {
            header.push(',');
        }
        csv_cell(&mut header, c.name());
    }
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut line = String::new();
            for i in 0..r.columns().len() {
                if i > 0 {
                    line.push(',');
                }
                csv_cell(&mut line, &cell(r, i));
            }
            line
        })
        .collect();
    lines.sort_unstable();
    let mut out = header;
    out.push('\n');
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let mut out = String::new();
        csv_cell(&mut out, "plain");
        out.push(',');
        csv_cell(&mut out, "a, \"b\"");
        assert_eq!(out, "plain,\"a, \"\"b\"\"\"");
    }

    #[test]
    fn text_a_spreadsheet_would_run_is_neutralised() {
        for (text, shown) in [
            (
                "=HYPERLINK(\"https://evil.example/\")",
                "'=HYPERLINK(\"https://evil.example/\")",
            ),
            ("+33 stage", "'+33 stage"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Slag Light", "Slag Light"),
            ("1535°", "1535°"),
        ] {
            assert_eq!(inert(text.to_owned()), shown);
        }
    }
}
