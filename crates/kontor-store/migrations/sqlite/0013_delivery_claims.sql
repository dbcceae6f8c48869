-- The delivery queue is claimed in ranges, not row by row. Each issue's rows are numbered
-- (seq, 1..queue_size); a worker takes the next range past the issue's cursor (claimed_up_to)
-- as one row of newsletter_claims, and only marking a message sent writes its queue row. A
-- range stays claimed until none of its rows is queued: when its holder dies or gives it back,
-- or a row waits for a retry, the claim's lease (locked_until) runs out and another worker
-- takes the whole range over. So every queued row is past its issue's cursor or inside exactly
-- one claim, and an issue is finished when its cursor is at the end and it has no claim left.
-- In the newsletter bench the per-row claim cost 8 µs and the per-row index changes 3 µs of
-- the database's 13 µs per message.
CREATE TABLE newsletter_deliveries_ranged (
    issue_id BLOB NOT NULL REFERENCES newsletter_issues (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    subscriber_id BLOB NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- 0 until an attempt failed for the time being.
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at BIGINT,
    PRIMARY KEY (issue_id, seq)
) WITHOUT ROWID;
INSERT INTO newsletter_deliveries_ranged
    (issue_id, seq, subscriber_id, status, attempts, next_attempt_at, last_error, sent_at)
SELECT issue_id, ROW_NUMBER() OVER (PARTITION BY issue_id ORDER BY subscriber_id), subscriber_id,
       status, attempts, CASE WHEN attempts > 0 THEN next_attempt_at ELSE 0 END, last_error, sent_at
FROM newsletter_deliveries;
DROP TABLE newsletter_deliveries;
ALTER TABLE newsletter_deliveries_ranged RENAME TO newsletter_deliveries;
-- Each subscriber at most once per issue.
CREATE UNIQUE INDEX newsletter_deliveries_subscriber ON newsletter_deliveries (issue_id, subscriber_id);

ALTER TABLE newsletter_issues ADD COLUMN queue_size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE newsletter_issues ADD COLUMN claimed_up_to BIGINT NOT NULL DEFAULT 0;
-- Issues being sent start over at the cursor; their rows already sent are passed over.
UPDATE newsletter_issues SET claimed_up_to = 0, queue_size =
    (SELECT COUNT(*) FROM newsletter_deliveries d WHERE d.issue_id = newsletter_issues.id);

CREATE TABLE newsletter_claims (
    -- Changes whenever another worker takes the range over: a late holder marks nothing.
    id BLOB PRIMARY KEY,
    issue_id BLOB NOT NULL REFERENCES newsletter_issues (id) ON DELETE CASCADE,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
CREATE INDEX newsletter_claims_due ON newsletter_claims (locked_until);
CREATE INDEX newsletter_claims_issue ON newsletter_claims (issue_id);
