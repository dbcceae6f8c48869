-- Candidates' CVs: one PDF per person, in the database (so every instance serves it), deleted
-- with the person. Who may read it is decided in one place: Store::may_see_cv.
-- Keep in step with the other dialect's 0017_cvs.sql.

CREATE TABLE cvs (
    user_id UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    content BYTEA NOT NULL,
    size_bytes BIGINT NOT NULL,
    -- Shown to the participants of the events the person takes part in, not only to the
    -- organisers and to those they exchanged a meeting request with.
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    uploaded_at BIGINT NOT NULL
);
