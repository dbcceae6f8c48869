-- Video rooms. Signalling messages (offer/answer/ICE), kept for a minute. On PostgreSQL an
-- instance stores a message here and sends its id with NOTIFY kontor_room_signals, because an SDP
-- can exceed NOTIFY's 8000-byte payload; every instance then reads the row and hands it to its
-- peers in that room. On SQLite (one instance) messages stay in memory and the table is unused.
-- Keep in step with the other dialect's 0010_room_signals.sql (checked by the schema-parity test).

CREATE TABLE room_signals (
    id UUID PRIMARY KEY,
    -- The meeting whose room this belongs to (no foreign key: the row lives a minute).
    room_id UUID NOT NULL,
    -- The sending connection (random per WebSocket), so a peer does not hear itself.
    sender UUID NOT NULL,
    -- The JSON message, as relayed to the browser.
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX room_signals_created ON room_signals (created_at);

-- How an event's online meetings meet: 'builtin' (Kontor's rooms; also when no row) or 'jitsi'
-- (the Jitsi Meet server configured as jitsi_url).
CREATE TABLE event_video (
    event_id UUID PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    provider TEXT NOT NULL
);
