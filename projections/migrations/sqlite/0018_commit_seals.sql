-- Seals are written with their events: each event's `audit_chain` row is inserted in the
-- transaction that appends the event, and numbered (`seal`, commit order) afterwards by the
-- sealer, which also chains the digests. Until then `seal` is NULL. (SQLite cannot drop a
-- NOT NULL in place: the table is copied.)
CREATE TABLE audit_chain_numbered_later
(
    aggregate_type TEXT   NOT NULL,
    aggregate_id   TEXT   NOT NULL,
    sequence       BIGINT NOT NULL,
    seal           BIGINT UNIQUE,
    position       BIGINT NOT NULL,
    hash           TEXT   NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
INSERT INTO audit_chain_numbered_later
    (aggregate_type, aggregate_id, sequence, seal, position, hash)
    SELECT aggregate_type, aggregate_id, sequence, seal, position, hash FROM audit_chain;
DROP TABLE audit_chain;
ALTER TABLE audit_chain_numbered_later RENAME TO audit_chain;
CREATE INDEX audit_chain_position ON audit_chain (position);

-- Events at or before `adopt_to` may lack a chain row: they were written before seals were
-- written with the events (the log as this migration found it), or bulk-loaded by
-- `audit import` or a benchmark. The sealer seals those from the events as they stand; any
-- other event without a chain row was not appended by Incubator and is a finding.
CREATE TABLE audit_epoch
(
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    adopt_to BIGINT  NOT NULL,
    -- How far those have been sealed: opening a store looks only past it.
    sealed_to BIGINT NOT NULL DEFAULT 0
);
INSERT INTO audit_epoch (id, adopt_to) SELECT 1, COALESCE(MAX(position), 0) FROM events;
