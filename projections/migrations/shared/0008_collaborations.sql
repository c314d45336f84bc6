-- Read model: collaborations, their participants, milestones and outputs.
CREATE TABLE rm_collab
(
    collaboration_id TEXT NOT NULL PRIMARY KEY,
    title            TEXT NOT NULL,
    stage            TEXT NOT NULL,
    proposed_on      TEXT NOT NULL,
    activated_on     TEXT,
    ended_on         TEXT
);

CREATE TABLE rm_collab_participants
(
    participant_id   TEXT NOT NULL PRIMARY KEY,
    collaboration_id TEXT NOT NULL,
    kind             TEXT NOT NULL,
    party_id         TEXT NOT NULL,
    name             TEXT,
    scope            TEXT,
    discipline       TEXT NOT NULL,
    role             TEXT NOT NULL
);
CREATE INDEX rm_collab_participants_collab ON rm_collab_participants (collaboration_id);

CREATE TABLE rm_collab_milestones
(
    milestone_id     TEXT NOT NULL PRIMARY KEY,
    collaboration_id TEXT NOT NULL,
    title            TEXT NOT NULL,
    due_on           TEXT NOT NULL,
    done_on          TEXT
);
CREATE INDEX rm_collab_milestones_collab ON rm_collab_milestones (collaboration_id);

CREATE TABLE rm_collab_outputs
(
    output_id        TEXT NOT NULL PRIMARY KEY,
    collaboration_id TEXT NOT NULL,
    kind             TEXT NOT NULL,
    title            TEXT NOT NULL,
    made_on          TEXT NOT NULL
);
CREATE INDEX rm_collab_outputs_collab ON rm_collab_outputs (collaboration_id);
