-- Changes that span two records (a residency's studio: allocate on the space, then record the
-- arrival or extension; a cancelled residency's studio given back), journalled before their
-- first step and deleted after their last. A row left behind names a change a crash or an
-- outage interrupted: an idempotent retry of the same request resumes it, and past twice a
-- request's lifetime the service finishes or undoes it (docs/architecture.md).
-- Times are milliseconds since the Unix epoch.
CREATE TABLE pending_changes
(
    change_id      TEXT   NOT NULL PRIMARY KEY,
    kind           TEXT   NOT NULL CHECK (kind IN ('arrive', 'extend', 'release')),
    record_id      TEXT   NOT NULL,
    other_id       TEXT   NOT NULL,
    actor          TEXT   NOT NULL,
    role           TEXT   NOT NULL,
    correlation_id TEXT   NOT NULL,
    idem_key       TEXT,
    detail         TEXT   NOT NULL,
    started_at     BIGINT NOT NULL
);

CREATE INDEX pending_changes_record ON pending_changes (record_id, kind);
CREATE INDEX pending_changes_started_at ON pending_changes (started_at);
