-- Newsletters without SMTP, and the suppression list.
-- Keep in step with ../sqlite/0011_newsletter_extra.sql (checked by the schema-parity test).

-- A newsletter message delivered to the local mailbox (no SMTP configured: the demo) keeps the
-- complete message as the SMTP path renders it (headers included), for the mailbox page.
ALTER TABLE outbox ADD COLUMN raw_message TEXT;

-- The suppression list: addresses of erased subscribers (GDPR Art. 17), kept only as the
-- SHA-256 of the lower-cased address in hex (Kontor has no server secret to key it with, so a
-- known address can be checked against the list; no address can be read from it). A CSV import
-- skips these addresses; a fresh self sign-up is new consent, and its confirmation lifts the
-- suppression.
CREATE TABLE suppressed_addresses (
    address_hash TEXT PRIMARY KEY NOT NULL,
    suppressed_at BIGINT NOT NULL
);
