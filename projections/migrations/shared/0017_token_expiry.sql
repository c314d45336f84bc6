-- A token may expire (RFC 3339, UTC): past it, it is refused as a revoked one is. Tokens made
-- before this migration never expire until rotated or revoked.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
CREATE INDEX api_tokens_revoked ON api_tokens (revoked_at);
