-- Newsletter subscribers. The newsletter's sending side relies on the columns below; the
-- subscription side may add columns and tables (consent records, confirmation tokens).
-- Keep in step with the other dialect's 0007_subscribers.sql (checked by the schema-parity test).

CREATE TABLE subscribers (
    id UUID PRIMARY KEY,
    -- Lower-cased, as the person typed it otherwise.
    email TEXT NOT NULL UNIQUE,
    -- de | en | zh: the language of the edition this person receives.
    locale TEXT NOT NULL,
    -- JSON array of topic keys; empty means every topic.
    topics TEXT NOT NULL DEFAULT '[]',
    -- pending (waiting for double opt-in) | confirmed | unsubscribed
    status TEXT NOT NULL,
    -- Random, URL-safe, unique: /newsletter/unsubscribe/{token} works without signing in,
    -- from every newsletter (visible link and RFC 8058 one-click POST).
    unsubscribe_token TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    unsubscribed_at BIGINT
);
CREATE INDEX subscribers_status ON subscribers (status, locale);

-- ----- Subscription side: double opt-in and proof of consent -----

-- Every version of the consent text shown next to the sign-up form, in each language, kept for
-- ever: a consent event names the version the person saw.
CREATE TABLE consent_texts (
    version INTEGER PRIMARY KEY,
    text_de TEXT NOT NULL,
    text_en TEXT NOT NULL,
    text_zh TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Double opt-in links: only the SHA-256 of the token is stored; a token works once, until it expires.
CREATE TABLE subscriber_confirmations (
    token_hash TEXT PRIMARY KEY,
    subscriber_id UUID NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX subscriber_confirmations_subscriber ON subscriber_confirmations (subscriber_id);

-- The proof of consent: append-only (rows are never updated; deleted only when the person is
-- erased). kind: signup | confirmation-queued | confirmation-sent | confirmed | unsubscribed |
-- imported | preferences.
CREATE TABLE consent_events (
    id UUID PRIMARY KEY,
    subscriber_id UUID NOT NULL REFERENCES subscribers (id),
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    -- signup: the page the form was on; imported: the source named in the file.
    source TEXT,
    consent_version INTEGER REFERENCES consent_texts (version),
    -- As configured (consent_ip): full, truncated (/24, /48) or not stored.
    ip TEXT,
    user_agent TEXT,
    -- confirmation-queued/-sent: the mail template and its version; its token's hash.
    template TEXT,
    token_hash TEXT,
    -- confirmation-queued/-sent: the outbox mail; `-sent` is appended by the outbox worker in the
    -- transaction that marks that mail delivered.
    outbox_id UUID,
    -- unsubscribed: link | one-click | admin | import
    channel TEXT,
    -- imported: when the person consented, as the import file states.
    claimed_at BIGINT,
    -- Anything else worth proving, e.g. who imported or what a preference change set.
    detail TEXT
);
CREATE INDEX consent_events_subscriber ON consent_events (subscriber_id, at);

CREATE FUNCTION consent_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent_events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();
