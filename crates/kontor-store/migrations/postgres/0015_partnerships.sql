-- Partnerships: partner cities, agreements with their signatories, and the timeline.
-- Keep in step with the other dialect's 0015_partnerships.sql.

CREATE TABLE partner_cities (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    -- JSON object locale -> text (LocalizedText)
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    since_year INTEGER,
    description TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE agreements (
    id UUID PRIMARY KEY,
    city_id UUID NOT NULL REFERENCES partner_cities(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    -- JSON LocalizedText
    title TEXT NOT NULL,
    -- JSON LocalizedText: the text in each language it is signed in (Markdown)
    body TEXT NOT NULL,
    -- JSON array of cooperation field keys
    fields TEXT NOT NULL DEFAULT '[]',
    -- draft | signing | signed
    status TEXT NOT NULL,
    -- SHA-256 of the frozen text, set when it is sent for signature
    digest TEXT,
    sent_at BIGINT,
    signed_at BIGINT,
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX agreements_city ON agreements (city_id);

CREATE TABLE agreement_signatories (
    agreement_id UUID NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    -- what they sign as: "Lord Mayor of Cologne"
    capacity TEXT NOT NULL,
    email TEXT NOT NULL,
    locale TEXT NOT NULL,
    -- SHA-256 of the signing link's token, set when the agreement is sent
    token_hash TEXT UNIQUE,
    signed_name TEXT,
    signed_at BIGINT,
    PRIMARY KEY (agreement_id, position)
);

CREATE TABLE partnership_milestones (
    id UUID PRIMARY KEY,
    city_id UUID NOT NULL REFERENCES partner_cities(id) ON DELETE CASCADE,
    -- YYYY-MM-DD
    happened_on TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- JSON LocalizedText
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX partnership_milestones_city ON partnership_milestones (city_id, happened_on);
