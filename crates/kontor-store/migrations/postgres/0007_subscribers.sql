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
