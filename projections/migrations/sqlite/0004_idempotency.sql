-- Idempotency keys of commands: the first response to a (caller, key), replayed to retries.
-- A row is 'pending' while its command runs, 'done' with the response once answered, and
-- 'unsettled' when the command ended in a transient failure whose effect is unknown (the next
-- retry looks in the log for events carrying the key before running anything).
-- Times are milliseconds since the Unix epoch.
CREATE TABLE idempotency_keys
(
    actor         TEXT    NOT NULL,
    idem_key      TEXT    NOT NULL,
    fingerprint   TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'done', 'unsettled')),
    started_at    INTEGER    NOT NULL,
    head_position INTEGER    NOT NULL,
    status        INTEGER,
    headers       TEXT,
    body          TEXT,
    PRIMARY KEY (actor, idem_key)
);

CREATE INDEX idempotency_keys_started_at ON idempotency_keys (started_at);
