-- Newsletter issues (one edition per language) and their delivery queue.
-- Keep in step with ../sqlite/0008_newsletter_issues.sql (checked by the schema-parity test).

CREATE TABLE newsletter_issues (
    id UUID PRIMARY KEY,
    -- The editor's name for the issue (not shown to readers).
    title TEXT NOT NULL,
    -- draft | scheduled | sending | sent
    status TEXT NOT NULL,
    include_events BOOLEAN NOT NULL DEFAULT TRUE,
    -- A topic key (kontor_domain::Topic): only subscribers who chose it, or chose no topics, get
    -- the issue. NULL: everyone.
    topic TEXT,
    -- When a scheduled issue starts sending.
    send_at BIGINT,
    -- When the delivery queue was created, and when its last row was settled.
    started_at BIGINT,
    finished_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX newsletter_issues_due ON newsletter_issues (status, send_at);

-- One edition per language. rendered_* are frozen when sending starts: the archive shows what
-- was sent; {{unsubscribe_url}} in them is replaced per recipient.
CREATE TABLE newsletter_editions (
    issue_id UUID NOT NULL REFERENCES newsletter_issues (id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    subject TEXT NOT NULL,
    intro TEXT NOT NULL,
    rendered_text TEXT,
    rendered_html TEXT,
    PRIMARY KEY (issue_id, locale)
);

-- The delivery queue: one row per (issue, subscriber), created in one statement when sending
-- starts. status: queued | sent | failed | skipped (unsubscribed before their turn).
-- A row is marked sent after the message body is written and before the final dot (see
-- kontor-mail/src/bulk.rs for the exact guarantee).
CREATE TABLE newsletter_deliveries (
    issue_id UUID NOT NULL REFERENCES newsletter_issues (id) ON DELETE CASCADE,
    subscriber_id UUID NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    -- The claim (one batch of one worker) that holds the row until locked_until.
    claim_id UUID,
    last_error TEXT,
    sent_at BIGINT,
    PRIMARY KEY (issue_id, subscriber_id)
);
CREATE INDEX newsletter_deliveries_due ON newsletter_deliveries (status, next_attempt_at);
CREATE INDEX newsletter_deliveries_claim ON newsletter_deliveries (claim_id);
