-- The optional daily digest: who wants it, and the local date it last went out.
-- Keep in step with ../postgres/0006_daily_digest.sql (checked by the schema-parity test).
ALTER TABLE users ADD COLUMN daily_digest BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN digest_sent_on TEXT;
