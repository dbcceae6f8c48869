-- When the reminder for a meeting went out (NULL: not yet).
-- Keep in step with ../postgres/0004_meeting_reminders.sql (checked by the schema-parity test).
ALTER TABLE meetings ADD COLUMN reminded_at BIGINT;
CREATE INDEX meetings_reminders ON meetings (status, slot_start);
