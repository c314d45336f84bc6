-- The event log. cqrs-es (through postgres-es) writes aggregate_type … metadata; the database
-- fills the rest:
--   transaction_id  the writing transaction's id. Concurrent transactions can commit their
--                   positions out of order, so readers only read events whose transaction is
--                   older than every transaction still running (pg_snapshot_xmin), in
--                   (transaction_id, position) order: no event can later appear before a
--                   reader's checkpoint.
--   position        a unique, increasing number: the event's global position.
--   recorded_at     when the event was written.
CREATE TABLE events
(
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    position       BIGINT      GENERATED ALWAYS AS IDENTITY,
    aggregate_type TEXT        NOT NULL,
    aggregate_id   TEXT        NOT NULL,
    sequence       BIGINT      NOT NULL CHECK (sequence >= 0),
    event_type     TEXT        NOT NULL,
    event_version  TEXT        NOT NULL,
    payload        JSONB       NOT NULL,
    metadata       JSONB       NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence),
    UNIQUE (position)
);
CREATE INDEX events_commit_order ON events (transaction_id, position);

-- The log is never rewritten.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END;
$$;
CREATE TRIGGER events_no_rewrite
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- Aggregate snapshots, as postgres-es expects them.
CREATE TABLE snapshots
(
    aggregate_type   TEXT   NOT NULL,
    aggregate_id     TEXT   NOT NULL,
    last_sequence    BIGINT NOT NULL CHECK (last_sequence >= 0),
    current_snapshot BIGINT NOT NULL CHECK (current_snapshot >= 0),
    payload          JSONB  NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

-- Where each projection has got to in the log.
CREATE TABLE projector_checkpoints
(
    projection     TEXT   NOT NULL PRIMARY KEY,
    transaction_id BIGINT NOT NULL DEFAULT 0,
    position       BIGINT NOT NULL DEFAULT 0,
    updated_at     TEXT
);
