-- Foundation: people, organisations, accounts, events, registrations, outbox.
-- Instants are BIGINT microseconds since the Unix epoch; enumerations are TEXT keys;
-- user-written text in several languages is a JSON object {"de": …, "en": …, "zh": …} in TEXT.
-- Keep in step with ../postgres/0001_foundation.sql (checked by the schema-parity test).

CREATE TABLE organisations (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    country TEXT NOT NULL,
    city TEXT,
    website TEXT,
    sectors TEXT NOT NULL DEFAULT '[]',
    size TEXT,
    description TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    job_title TEXT,
    organisation_id BLOB REFERENCES organisations(id) ON DELETE SET NULL,
    languages TEXT NOT NULL DEFAULT '[]',
    time_zone TEXT NOT NULL,
    locale TEXT NOT NULL,
    phone TEXT,
    contact_public BOOLEAN NOT NULL DEFAULT FALSE,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    email_verified_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_organisation ON users (organisation_id);

CREATE TABLE login_codes (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    link_hash TEXT NOT NULL UNIQUE,
    attempts INTEGER NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX login_codes_user ON login_codes (user_id, created_at);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

CREATE TABLE events (
    id BLOB PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '{}',
    venue TEXT,
    time_zone TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    registration_opens_at BIGINT NOT NULL,
    registration_closes_at BIGINT NOT NULL,
    needs_approval BOOLEAN NOT NULL,
    roles TEXT NOT NULL,
    published BOOLEAN NOT NULL DEFAULT TRUE,
    created_by BLOB NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE event_sessions (
    id BLOB PRIMARY KEY,
    event_id BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    day TEXT NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    slot_minutes INTEGER NOT NULL,
    breaks TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX event_sessions_event ON event_sessions (event_id, position);

CREATE TABLE event_organisers (
    event_id BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, user_id)
);

CREATE TABLE registrations (
    id BLOB PRIMARY KEY,
    event_id BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    message TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BLOB REFERENCES users(id) ON DELETE SET NULL,
    UNIQUE (event_id, user_id)
);
CREATE INDEX registrations_user ON registrations (user_id);

CREATE TABLE outbox (
    id BLOB PRIMARY KEY,
    recipient TEXT NOT NULL,
    locale TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    transport TEXT,
    sent_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
