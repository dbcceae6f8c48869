-- When each signatory's current link was mailed (sending, a new link, a reminder): a reminder
-- is due a week after that, not after the agreement's first sending.
-- Keep in step with the other dialect's 0020_signing_link_sent.sql.

ALTER TABLE agreement_signatories ADD COLUMN link_sent_at BIGINT;
