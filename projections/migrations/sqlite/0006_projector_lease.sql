-- One projector at a time across processes: the process holding this lease (renewed every
-- second, valid for a few) applies events; the others stand by and take over when it lapses.
-- Times are milliseconds since the Unix epoch.
CREATE TABLE projector_leases
(
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER    NOT NULL
);
