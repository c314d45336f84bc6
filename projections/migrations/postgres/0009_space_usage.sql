-- Read model: space usage. Spaces with their current terms, allocations with the terms they
-- were made on (a lease keeps its rent), hourly bookings by hub-time day, and startup names.
CREATE TABLE rm_spaces
(
    space_id          TEXT   NOT NULL PRIMARY KEY,
    building          TEXT   NOT NULL,
    kind              TEXT   NOT NULL,
    name              TEXT   NOT NULL,
    area_m2           BIGINT NOT NULL,
    capacity          BIGINT NOT NULL,
    rent_cents        BIGINT NOT NULL,
    opens             TEXT,
    closes            TEXT,
    registered_on     TEXT   NOT NULL,
    decommissioned_on TEXT
);
CREATE INDEX rm_spaces_building ON rm_spaces (building, kind);

CREATE TABLE rm_space_allocations
(
    allocation_id TEXT   NOT NULL PRIMARY KEY,
    space_id      TEXT   NOT NULL,
    occupant_kind TEXT   NOT NULL,
    occupant_id   TEXT   NOT NULL,
    occupant_name TEXT,
    from_on       TEXT   NOT NULL,
    to_on         TEXT,
    area_m2       BIGINT NOT NULL,
    capacity      BIGINT NOT NULL,
    rent_cents    BIGINT NOT NULL
);
CREATE INDEX rm_space_allocations_space ON rm_space_allocations (space_id, from_on);

-- Bookings are most of the log: room first, then day, so that the week view seeks each
-- room's week (a day-first index scans the whole week once per room); it covers utilisation.
CREATE TABLE rm_space_bookings
(
    on_day      TEXT   NOT NULL,
    space_id    TEXT   NOT NULL,
    booking_id  TEXT   NOT NULL PRIMARY KEY,
    booker_kind TEXT   NOT NULL,
    booker_id   TEXT   NOT NULL,
    booker_name TEXT,
    starts_at   TEXT   NOT NULL,
    ends_at     TEXT   NOT NULL,
    minutes     BIGINT NOT NULL
);
CREATE INDEX rm_space_bookings_day ON rm_space_bookings (space_id, on_day) INCLUDE (minutes);

CREATE TABLE rm_space_names
(
    occupant_kind TEXT NOT NULL,
    occupant_id   TEXT NOT NULL,
    name          TEXT NOT NULL,
    PRIMARY KEY (occupant_kind, occupant_id)
);
