-- Who read or changed the people registry, and when (GDPR art. 5(2), 30): the action, the
-- person and the fields given by name, never their values. Erasing a person keeps their
-- lines: they hold no details.
CREATE TABLE people_trail
(
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL CHECK (action IN ('registered', 'updated', 'erased', 'read', 'listed')),
    person_id TEXT,
    detail    TEXT NOT NULL
);

CREATE INDEX people_trail_person ON people_trail (person_id, at);
CREATE INDEX people_trail_at ON people_trail (at);

-- The path a key's request was sent to, so that erasing a person also forgets the answers and
-- fingerprints of requests to their record (`PUT /people/{id}` answers without the id).
ALTER TABLE idempotency_keys ADD COLUMN path TEXT;
