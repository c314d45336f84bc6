-- Spaces keep every booking in their state (they used to forget those that ended before the
-- latest decision time, which a clock running ahead made unsafe): the snapshots that forgot
-- some are dropped, and each space is rebuilt from its events on its next load.
DELETE FROM snapshots WHERE aggregate_type = 'Space';

-- Mentorship: a closed startup or residency no longer holds its mentors, and residents'
-- mentors can be released. The model is emptied and its checkpoint reset, so the projector
-- rebuilds it from the log.
DELETE FROM rm_mentorship_sessions;
DELETE FROM rm_mentorship_assignments;
DELETE FROM rm_mentorship_mentees;
DELETE FROM rm_mentorship_mentors;
UPDATE projector_checkpoints SET transaction_id = 0, position = 0 WHERE projection = 'mentorship';
