-- Funding read model: the day each stage was entered and left, for conversion and time in
-- stage per cohort. The model is emptied and its checkpoint reset, so the projector rebuilds
-- it from the log with the new columns filled.
ALTER TABLE rm_funding_startups ADD COLUMN stage_entered_on TEXT;

CREATE TABLE rm_funding_stage_periods
(
    startup_id TEXT NOT NULL,
    stage      TEXT NOT NULL,
    entered_on TEXT NOT NULL,
    left_on    TEXT,
    PRIMARY KEY (startup_id, stage)
);

DELETE FROM rm_funding_amounts;
DELETE FROM rm_funding_startups;
UPDATE projector_checkpoints SET transaction_id = 0, position = 0 WHERE projection = 'funding';
