-- Matchmaking: opportunities on the marketplace, meeting requests, availability, meetings.
-- Keep in step with ../postgres/0002_matchmaking.sql (checked by the schema-parity test).

ALTER TABLE events ADD COLUMN scheduling TEXT NOT NULL DEFAULT 'self-booking';
ALTER TABLE events ADD COLUMN max_requests INTEGER;
ALTER TABLE events ADD COLUMN max_meetings INTEGER;
-- Who may ask whom, as a JSON list of [requester role, requested role]; NULL: anyone anyone.
ALTER TABLE events ADD COLUMN allowed_pairs TEXT;

CREATE TABLE opportunities (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event_id BLOB REFERENCES events(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '{}',
    sectors TEXT NOT NULL DEFAULT '[]',
    target_countries TEXT NOT NULL DEFAULT '[]',
    languages TEXT NOT NULL DEFAULT '[]',
    interpreter_needed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX opportunities_user ON opportunities (user_id);
CREATE INDEX opportunities_event ON opportunities (event_id);

CREATE TABLE meeting_requests (
    id BLOB PRIMARY KEY,
    event_id BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    from_user BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    to_user BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    opportunity_id BLOB REFERENCES opportunities(id) ON DELETE SET NULL,
    message TEXT,
    priority TEXT NOT NULL CHECK (priority IN ('must', 'would-like')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'cancelled')),
    reason TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    CHECK (from_user <> to_user)
);
CREATE INDEX meeting_requests_to ON meeting_requests (event_id, to_user, status);
CREATE INDEX meeting_requests_from ON meeting_requests (event_id, from_user, status);

CREATE TABLE meetings (
    id BLOB PRIMARY KEY,
    event_id BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    request_id BLOB NOT NULL UNIQUE REFERENCES meeting_requests(id) ON DELETE CASCADE,
    slot_start BIGINT NOT NULL,
    slot_end BIGINT NOT NULL,
    table_no INTEGER,
    mode TEXT NOT NULL CHECK (mode IN ('on-site', 'online')),
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    sequence INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX meetings_event ON meetings (event_id, slot_start);

-- One row per person and slot of a scheduled meeting: the primary key is what makes double
-- booking impossible, however many people book at the same moment, on either database.
CREATE TABLE meeting_attendees (
    event_id BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    slot_start BIGINT NOT NULL,
    meeting_id BLOB NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, user_id, slot_start)
);
CREATE INDEX meeting_attendees_meeting ON meeting_attendees (meeting_id);

-- Slots a participant can attend, and how; no rows: every slot of the event, in the default mode.
CREATE TABLE availability (
    event_id BLOB NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    slot_start BIGINT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('on-site', 'online')),
    PRIMARY KEY (event_id, user_id, slot_start)
);
