-- The people registry: personal data (names, e-mail, phone) of founders, artists, mentors and
-- partner contacts, kept apart from the append-only log, which refers to people by id only.
-- Erasure (GDPR art. 17) empties a row's details and records who erased it, when and why; the
-- row stays so that every reference shows the person as erased.
CREATE TABLE people
(
    person_id      TEXT NOT NULL PRIMARY KEY,
    name           TEXT,
    email          TEXT,
    phone          TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    erased_at      TEXT,
    erased_by      TEXT,
    erasure_reason TEXT,
    CHECK ((erased_at IS NULL) = (name IS NOT NULL))
);
