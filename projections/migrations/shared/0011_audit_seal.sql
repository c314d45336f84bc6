-- Tamper evidence. `audit_chain` holds, for every sealed event, a SHA-256 over its content,
-- its metadata and the hash of the event before it in its stream; `seal` is the order in
-- which events were sealed (commit order). `audit_digests` chains the sealed events log-wide:
-- each digest covers the events sealed since the one before, and is a hash over that one's
-- digest and theirs. See docs/audit.md.
CREATE TABLE audit_chain
(
    aggregate_type TEXT   NOT NULL,
    aggregate_id   TEXT   NOT NULL,
    sequence       BIGINT NOT NULL,
    seal           BIGINT NOT NULL UNIQUE,
    position       BIGINT NOT NULL,
    hash           TEXT   NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX audit_chain_position ON audit_chain (position);

CREATE TABLE audit_digests
(
    digest_seq BIGINT NOT NULL PRIMARY KEY,
    first_seal BIGINT NOT NULL,
    last_seal  BIGINT NOT NULL,
    digest     TEXT   NOT NULL,
    sealed_at  TEXT   NOT NULL
);
