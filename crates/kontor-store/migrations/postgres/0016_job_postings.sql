-- Job postings: what a posting says beyond its text (kind of work, workplace, place, start,
-- deadline), as JSON on the opportunity; NULL for every other kind of opportunity.
-- Keep in step with the other dialect's 0016_job_postings.sql.

ALTER TABLE opportunities ADD COLUMN job TEXT;
