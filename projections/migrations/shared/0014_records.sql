-- Read model: every record of every kind, for the lists officers and auditors browse
-- (GET /startups, /mentors, /spaces, /residencies, /collaborations): what a list filters and
-- searches on, and the record's version. People are named at read time, from the registry.
CREATE TABLE rm_records
(
    kind        TEXT    NOT NULL,
    record_id   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,
    stage       TEXT    NOT NULL,
    cohort      TEXT,
    building    TEXT,
    space_kind  TEXT,
    person_id   TEXT,
    created_on  TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    PRIMARY KEY (kind, record_id)
);
CREATE INDEX rm_records_stage ON rm_records (kind, stage, record_id);

-- The registry's names, lower-cased (Unicode) by the service as they are written, so that a
-- search matches alike on both stores (SQLite's LOWER knows ASCII only; it fills the existing
-- rows, and each is set right at its next change).
ALTER TABLE people ADD COLUMN name_key TEXT;
UPDATE people SET name_key = LOWER(name);

-- One name per concept: a residency taking part in a collaboration is a `residency`, as it is
-- a space's occupant (events say `resident`, still read). The collaborations model is emptied
-- and its checkpoint reset, so the projector rebuilds it with the one name.
DELETE FROM rm_collab_outputs;
DELETE FROM rm_collab_milestones;
DELETE FROM rm_collab_participants;
DELETE FROM rm_collab;
UPDATE projector_checkpoints SET transaction_id = 0, position = 0 WHERE projection = 'collaborations';
