//! Candidates' CVs: one PDF per person, and the one rule for who may read it.

use crate::{Result, Store, Tx, Uuid, exec, read};

/// What is known about a person's CV without reading its bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Cv {
    pub user_id: Uuid,
    /// The name it was uploaded under, for the download.
    pub file_name: String,
    pub size_bytes: i64,
    /// Also shown to the participants of the person's events.
    pub shared: bool,
    pub uploaded_at: i64,
}

const CV_COLUMNS: &str = "user_id, file_name, size_bytes, shared, uploaded_at";

impl Store {
    /// The CV of `user`, if they have one.
    pub async fn cv(&self, user: Uuid) -> Result<Option<Cv>> {
        let sql = format!("SELECT {CV_COLUMNS} FROM cvs WHERE user_id = $1");
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(user)
        .fetch_optional(p))?)
    }

    /// The CV's file name and bytes, read together.
    pub async fn cv_file(&self, user: Uuid) -> Result<Option<(String, Vec<u8>)>> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT file_name, content FROM cvs WHERE user_id = $1"
        )
        .bind(user)
        .fetch_optional(p))?)
    }

    /// Who of the people registered for `event` (pending or approved: those its organisers may
    /// read the CV of) has a CV.
    pub async fn cv_owners_at(&self, event: Uuid) -> Result<std::collections::HashSet<Uuid>> {
        let ids: Vec<Uuid> = read!(self, |p| sqlx::query_scalar(
            "SELECT c.user_id FROM cvs c JOIN registrations r ON r.user_id = c.user_id \
             WHERE r.event_id = $1 AND r.status IN ('pending', 'approved')"
        )
        .bind(event)
        .fetch_all(p))?;
        Ok(ids.into_iter().collect())
    }

    /// Whether `viewer` may read the CV of `person`: the person themselves; an organiser of an
    /// event the person registered for (pending or approved); someone the person asked for a
    /// meeting, while that request is open (an employer deciding on a candidate's request);
    /// someone whose request the person accepted; and, when the person shares it, anyone
    /// approved at an event where the person is approved. Asking someone for a meeting does not
    /// by itself open their CV to the one who asks.
    pub async fn may_see_cv(&self, viewer: Uuid, person: Uuid) -> Result<bool> {
        if viewer == person {
            return Ok(true);
        }
        let allowed: bool = read!(self, |p| {
            sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM registrations r \
                 JOIN event_organisers o ON o.event_id = r.event_id \
                 WHERE r.user_id = $2 AND o.user_id = $1 AND r.status IN ('pending', 'approved')) \
             OR EXISTS (SELECT 1 FROM meeting_requests m \
                 WHERE (m.from_user = $2 AND m.to_user = $1 AND m.status IN ('pending', 'accepted')) \
                 OR (m.from_user = $1 AND m.to_user = $2 AND m.status = 'accepted')) \
             OR EXISTS (SELECT 1 FROM cvs c \
                 JOIN registrations mine ON mine.user_id = c.user_id AND mine.status = 'approved' \
                 JOIN registrations theirs ON theirs.event_id = mine.event_id AND theirs.status = 'approved' \
                 WHERE c.user_id = $2 AND c.shared AND theirs.user_id = $1)"
        )
        .bind(viewer)
        .bind(person)
        .fetch_one(p)
        })?;
        Ok(allowed)
    }
}

impl Tx {
    /// Stores `user`'s CV, replacing the one before; `shared: None` keeps the sharing the one
    /// before had (not shared for a first CV), decided in the same statement.
    pub async fn put_cv(
        &mut self,
        user: Uuid,
        file_name: &str,
        content: &[u8],
        shared: Option<bool>,
        now: i64,
    ) -> Result<()> {
        exec!(self, |x| sqlx::query(
            "INSERT INTO cvs (user_id, file_name, content, size_bytes, shared, uploaded_at) \
             VALUES ($1, $2, $3, $4, COALESCE($5, FALSE), $6) \
             ON CONFLICT (user_id) DO UPDATE SET file_name = excluded.file_name, \
             content = excluded.content, size_bytes = excluded.size_bytes, \
             shared = CASE WHEN $5 IS NULL THEN cvs.shared ELSE excluded.shared END, \
             uploaded_at = excluded.uploaded_at"
        )
        .bind(user)
        .bind(file_name)
        .bind(content)
        .bind(content.len() as i64)
        .bind(shared)
        .bind(now)
        .execute(x))?;
        Ok(())
    }

    /// Whether the CV is also shown to the participants of the person's events; `false`
    /// when there is no CV.
    pub async fn share_cv(&mut self, user: Uuid, shared: bool) -> Result<bool> {
        let n = exec!(self, |x| sqlx::query(
            "UPDATE cvs SET shared = $2 WHERE user_id = $1"
        )
        .bind(user)
        .bind(shared)
        .execute(x))?;
        Ok(n == 1)
    }

    /// Deletes the CV; `false` when there was none.
    pub async fn delete_cv(&mut self, user: Uuid) -> Result<bool> {
        let n = exec!(self, |x| sqlx::query("DELETE FROM cvs WHERE user_id = $1")
            .bind(user)
            .execute(x))?;
        Ok(n == 1)
    }
}
