-- The requests waiting for someone's answer, counted on every page they read (at any event,
-- so the (event_id, to_user, status) index does not serve).
-- Keep in step with the other dialect's 0021_waiting_requests.sql.

CREATE INDEX meeting_requests_waiting ON meeting_requests (to_user, status);
