-- A meeting request may propose a time (a slot start, microseconds): at a self-booking event
-- the meeting is booked there when the request is accepted, if both are still free then.
-- Keep in step with the other dialect's 0018_proposed_slot.sql.

ALTER TABLE meeting_requests ADD COLUMN proposed_slot BIGINT;
