-- Who holds a pending idempotency key, and whether it is still there. Each serving process
-- has an instance id and beats in `key_owners` (database time, milliseconds) every half
-- second; a key it claimed names it as `owner`. A retry that finds a key pending whose owner
-- has stopped beating (the process died) settles it at once from the log instead of waiting
-- for the key's lease. `commits` counts the command's appends: each one checks, in its own
-- transaction, that the key is still the attempt's, and counts itself, so a retry that takes
-- a key over can never run the command beside an attempt that is still appending.
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT;
ALTER TABLE idempotency_keys ADD COLUMN commits BIGINT NOT NULL DEFAULT 0;
CREATE TABLE key_owners
(
    instance TEXT   NOT NULL PRIMARY KEY,
    beat_at  BIGINT NOT NULL
);
