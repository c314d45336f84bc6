-- A token's name is the actor auditors read in every event its holder causes: a revoked
-- token's name may be given to a new token (a rotation, or the same person again), so the
-- name is unique among active tokens only, and the secret's hash keys the row.
CREATE TABLE api_tokens_by_hash
(
    token_hash TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('officer', 'auditor', 'viewer')),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
INSERT INTO api_tokens_by_hash (token_hash, name, role, created_at, revoked_at)
SELECT token_hash, name, role, created_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_by_hash RENAME TO api_tokens;
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;
