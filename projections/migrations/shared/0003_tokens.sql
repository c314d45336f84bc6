-- API bearer tokens. Only a SHA-256 hash of each token is kept; the token itself is shown once,
-- when it is created.
CREATE TABLE api_tokens
(
    name       TEXT NOT NULL PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('officer', 'auditor', 'viewer')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
