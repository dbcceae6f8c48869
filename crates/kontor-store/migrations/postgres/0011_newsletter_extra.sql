-- Newsletters without SMTP, and the suppression list.
-- Keep in step with ../sqlite/0011_newsletter_extra.sql (checked by the schema-parity test).

-- A newsletter message delivered to the local mailbox (no SMTP configured: the demo) keeps the
-- complete message as the SMTP path renders it (headers included), for the mailbox page.
ALTER TABLE outbox ADD COLUMN raw_message TEXT;
