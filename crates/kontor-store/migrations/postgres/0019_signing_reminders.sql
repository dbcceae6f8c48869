-- A signatory who has not signed a week after sending is reminded once, with a new link.
-- Keep in step with the other dialect's 0019_signing_reminders.sql.

ALTER TABLE agreement_signatories ADD COLUMN reminded_at BIGINT;
