-- Private, revocable calendar feeds: one per participant and event.
-- Keep in step with ../postgres/0003_calendar_feeds.sql (checked by the schema-parity test).
CREATE TABLE calendar_feeds (
    token_hash TEXT PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event_id BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX calendar_feeds_owner ON calendar_feeds (user_id, event_id);
