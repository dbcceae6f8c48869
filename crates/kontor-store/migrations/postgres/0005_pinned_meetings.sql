-- Meetings the organiser pinned: a re-run of the optimiser keeps them in their slot.
-- Keep in step with ../sqlite/0005_pinned_meetings.sql (checked by the schema-parity test).
ALTER TABLE meetings ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT FALSE;
