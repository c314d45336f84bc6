-- Read model: mentorship. Mentors, the startups and residents they mentor, and their sessions.
CREATE TABLE rm_mentorship_mentors
(
    mentor_id     TEXT NOT NULL PRIMARY KEY,
    person_id     TEXT NOT NULL,
    status        TEXT NOT NULL,
    registered_on TEXT NOT NULL
);

-- Startups and residents: who may need a mentor. in_programme is 1 for startups from
-- pre-incubation to acceleration and residents from acceptance to the end of their stay.
CREATE TABLE rm_mentorship_mentees
(
    kind         TEXT  NOT NULL,
    mentee_id    TEXT  NOT NULL,
    name         TEXT  NOT NULL,
    stage        TEXT  NOT NULL,
    in_programme BIGINT  NOT NULL,
    PRIMARY KEY (kind, mentee_id)
);

-- Current assignments (a released mentor's row is removed).
CREATE TABLE rm_mentorship_assignments
(
    mentor_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    mentee_id TEXT NOT NULL,
    PRIMARY KEY (mentor_id, kind, mentee_id)
);
CREATE INDEX rm_mentorship_assignments_mentee ON rm_mentorship_assignments (kind, mentee_id);

CREATE TABLE rm_mentorship_sessions
(
    session_id TEXT  NOT NULL PRIMARY KEY,
    mentor_id  TEXT  NOT NULL,
    kind       TEXT  NOT NULL,
    mentee_id  TEXT  NOT NULL,
    held_on    TEXT  NOT NULL,
    minutes    BIGINT  NOT NULL
);
CREATE INDEX rm_mentorship_sessions_mentor ON rm_mentorship_sessions (mentor_id, held_on);
