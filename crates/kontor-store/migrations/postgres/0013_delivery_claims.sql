-- The delivery queue is claimed in ranges, not row by row: see the SQLite migration of the
-- same number for the design.
ALTER TABLE newsletter_deliveries ADD COLUMN seq BIGINT;
UPDATE newsletter_deliveries d SET seq = n.seq
FROM (SELECT issue_id, subscriber_id,
             ROW_NUMBER() OVER (PARTITION BY issue_id ORDER BY subscriber_id) AS seq
      FROM newsletter_deliveries) n
WHERE d.issue_id = n.issue_id AND d.subscriber_id = n.subscriber_id;
ALTER TABLE newsletter_deliveries ALTER COLUMN seq SET NOT NULL;
UPDATE newsletter_deliveries SET next_attempt_at = 0 WHERE attempts = 0;
ALTER TABLE newsletter_deliveries ALTER COLUMN next_attempt_at SET DEFAULT 0;
DROP INDEX newsletter_deliveries_due;
DROP INDEX newsletter_deliveries_claim;
ALTER TABLE newsletter_deliveries DROP COLUMN locked_until;
ALTER TABLE newsletter_deliveries DROP COLUMN claim_id;
ALTER TABLE newsletter_deliveries DROP CONSTRAINT newsletter_deliveries_pkey;
ALTER TABLE newsletter_deliveries ADD PRIMARY KEY (issue_id, seq);
CREATE UNIQUE INDEX newsletter_deliveries_subscriber ON newsletter_deliveries (issue_id, subscriber_id);

ALTER TABLE newsletter_issues ADD COLUMN queue_size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE newsletter_issues ADD COLUMN claimed_up_to BIGINT NOT NULL DEFAULT 0;
UPDATE newsletter_issues SET claimed_up_to = 0, queue_size =
    (SELECT COUNT(*) FROM newsletter_deliveries d WHERE d.issue_id = newsletter_issues.id);

CREATE TABLE newsletter_claims (
    id UUID PRIMARY KEY,
    issue_id UUID NOT NULL REFERENCES newsletter_issues (id) ON DELETE CASCADE,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
CREATE INDEX newsletter_claims_due ON newsletter_claims (locked_until);
CREATE INDEX newsletter_claims_issue ON newsletter_claims (issue_id);
