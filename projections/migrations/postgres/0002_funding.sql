-- Read model: funding stage, one row per startup.
CREATE TABLE rm_funding_startups
(
    startup_id         TEXT    NOT NULL PRIMARY KEY,
    name               TEXT    NOT NULL,
    cohort             TEXT,
    stage              TEXT    NOT NULL,
    stage_entered_at   TEXT    NOT NULL,
    funding_stage      TEXT    NOT NULL DEFAULT 'none',
    funding_rank       BIGINT  NOT NULL DEFAULT 0,
    applied_on         TEXT    NOT NULL,
    last_position      BIGINT  NOT NULL
);
CREATE INDEX rm_funding_startups_stage ON rm_funding_startups (stage, cohort);

-- Money per startup, kind (equity, awarded, received) and currency.
CREATE TABLE rm_funding_amounts
(
    startup_id TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    currency   TEXT    NOT NULL,
    cents      BIGINT  NOT NULL,
    PRIMARY KEY (startup_id, kind, currency)
);
