//! People with accounts, their sign-in codes, sessions, API tokens, and rate-limit counters.
//! Secrets arrive here already hashed: this crate never sees a code, password or token.

use kontor_domain::{Email, Keyed, Locale, TimeZoneName};

use crate::{Result, Store, StoreError, Tx, Uuid, exec, from_json, new_id, read, to_json, write};

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: Email,
    pub name: String,
    pub job_title: Option<String>,
    pub organisation_id: Option<Uuid>,
    /// Languages the person can meet in, as ISO 639-1 codes.
    pub languages: Vec<String>,
    pub time_zone: TimeZoneName,
    pub locale: Locale,
    pub phone: Option<String>,
    pub contact_public: bool,
    pub is_admin: bool,
    pub password_hash: Option<String>,
    pub email_verified: bool,
    pub created_at: i64,
    /// Wants a morning mail with open requests and the day's meetings.
    pub daily_digest: bool,
    /// The local date (YYYY-MM-DD) the last digest went out.
    pub digest_sent_on: Option<String>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    job_title: Option<String>,
    organisation_id: Option<Uuid>,
    languages: String,
    time_zone: String,
    locale: String,
    phone: Option<String>,
    contact_public: bool,
    is_admin: bool,
    password_hash: Option<String>,
    email_verified_at: Option<i64>,
    created_at: i64,
    daily_digest: bool,
    digest_sent_on: Option<String>,
}

const USER_COLUMNS: &str = "id, email, name, job_title, organisation_id, languages, time_zone, \
     locale, phone, contact_public, is_admin, password_hash, email_verified_at, created_at, daily_digest, \
     digest_sent_on";

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<User> {
        let corrupt = |c: &str| StoreError::Corrupt(format!("users.{c}"));
        Ok(User {
            id: r.id,
            email: Email::parse(&r.email).map_err(|_| corrupt("email"))?,
            name: r.name,
            job_title: r.job_title,
            organisation_id: r.organisation_id,
            languages: from_json("users.languages", &r.languages)?,
            time_zone: TimeZoneName::parse(&r.time_zone).map_err(|_| corrupt("time_zone"))?,
            locale: Locale::parse(&r.locale).map_err(|_| corrupt("locale"))?,
            phone: r.phone,
            contact_public: r.contact_public,
            is_admin: r.is_admin,
            password_hash: r.password_hash,
            email_verified: r.email_verified_at.is_some(),
            created_at: r.created_at,
            daily_digest: r.daily_digest,
            digest_sent_on: r.digest_sent_on,
        })
    }
}

pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub time_zone: TimeZoneName,
    pub locale: Locale,
    pub is_admin: bool,
    pub password_hash: Option<String>,
    pub email_verified: bool,
}

/// What a person may change about themselves on the profile page.
pub struct ProfileUpdate {
    pub name: String,
    pub job_title: Option<String>,
    /// `Some` links the person to an organisation; `None` keeps the link as it is (the person
    /// forms never change it, and a save must not undo an organisation created meanwhile).
    pub organisation_id: Option<Uuid>,
    pub languages: Vec<String>,
    pub time_zone: TimeZoneName,
    pub locale: Locale,
    pub phone: Option<String>,
    pub contact_public: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The outcome of checking a sign-in code.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Valid(Uuid),
    Wrong,
    /// Expired, used, or too many wrong attempts: a new code is needed.
    Exhausted,
}

impl Store {
    pub async fn user(&self, id: Uuid) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: UserRow = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_one(p))?;
        row.try_into()
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row: Option<UserRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(email.as_str())
                .fetch_optional(p))?;
        row.map(User::try_from).transpose()
    }

    /// People of one organisation, by name.
    pub async fn users_of_organisation(&self, organisation: Uuid) -> Result<Vec<User>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE organisation_id = $1 ORDER BY name");
        let rows: Vec<UserRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(organisation)
                .fetch_all(p))?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Everybody, by name (for building the search index).
    pub async fn all_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
        let rows: Vec<UserRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(p))?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Several people at once, by id (one query, for pages that list many).
    pub async fn users_by_ids(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, User>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id IN ({})",
            crate::placeholders(1, ids.len())
        );
        let rows: Vec<UserRow> = read!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p)
        })?;
        rows.into_iter()
            .map(|r| User::try_from(r).map(|u| (u.id, u)))
            .collect()
    }

    /// People who asked for the daily digest.
    pub async fn digest_subscribers(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE daily_digest");
        let rows: Vec<UserRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(p))?;
        rows.into_iter().map(User::try_from).collect()
    }

    pub async fn count_users(&self) -> Result<i64> {
        let (n,): (i64,) = read!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(p))?;
        Ok(n)
    }

    /// The user a session cookie's hash belongs to, if the session is still valid.
    pub async fn user_by_session(&self, id_hash: &str, now: i64) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM users u JOIN sessions s ON s.user_id = u.id \
             WHERE s.id_hash = $1 AND s.expires_at > $2",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row: Option<UserRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id_hash)
                .bind(now)
                .fetch_optional(p))?;
        row.map(User::try_from).transpose()
    }

    /// The user an API token's hash belongs to, if not revoked.
    pub async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM users u JOIN api_tokens t ON t.user_id = u.id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row: Option<UserRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(token_hash)
                .fetch_optional(p))?;
        row.map(User::try_from).transpose()
    }

    pub async fn api_tokens(&self, user: Uuid) -> Result<Vec<ApiToken>> {
        read!(self, |p| sqlx::query_as(
            "SELECT id, name, created_at, last_used_at FROM api_tokens \
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC"
        )
        .bind(user)
        .fetch_all(p))
        .map_err(Into::into)
    }
}

impl Tx {
    pub async fn create_user(&mut self, new: NewUser, now: i64) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |c| sqlx::query(
            "INSERT INTO users (id, email, name, time_zone, locale, is_admin, password_hash, \
             email_verified_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(id)
        .bind(new.email.as_str())
        .bind(&new.name)
        .bind(new.time_zone.as_str())
        .bind(new.locale.key())
        .bind(new.is_admin)
        .bind(&new.password_hash)
        .bind(new.email_verified.then_some(now))
        .bind(now)
        .execute(c))?;
        Ok(id)
    }

    /// The user's organisation as it is now, with the user's row locked until the transaction
    /// ends: two saves of the organisation form at once must not both create one.
    pub async fn organisation_of_user_for_update(&mut self, user: Uuid) -> Result<Option<Uuid>> {
        let row: Option<(Option<Uuid>,)> = write!(self, |c| {
            sqlx::query_as(
            "UPDATE users SET organisation_id = organisation_id WHERE id = $1 RETURNING organisation_id"
        )
        .bind(user)
        .fetch_optional(c)
        })?;
        Ok(row.ok_or(StoreError::NotFound)?.0)
    }

    /// Links a person without an organisation to `organisation`, leaving every other field as
    /// it is (a person-form save at the same moment must not be undone).
    pub async fn link_organisation(&mut self, user: Uuid, organisation: Uuid) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE users SET organisation_id = $2 WHERE id = $1 AND organisation_id IS NULL"
        )
        .bind(user)
        .bind(organisation)
        .execute(c))?;
        Ok(())
    }

    pub async fn update_profile(&mut self, user: Uuid, p: &ProfileUpdate) -> Result<()> {
        let done = exec!(self, |c| {
            sqlx::query(
            "UPDATE users SET name = $2, job_title = $3, organisation_id = COALESCE($4, organisation_id), languages = $5, \
             time_zone = $6, locale = $7, phone = $8, contact_public = $9 WHERE id = $1"
        )
        .bind(user)
        .bind(&p.name)
        .bind(&p.job_title)
        .bind(p.organisation_id)
        .bind(to_json(&p.languages))
        .bind(p.time_zone.as_str())
        .bind(p.locale.key())
        .bind(&p.phone)
        .bind(p.contact_public)
        .execute(c)
        })?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn set_daily_digest(&mut self, user: Uuid, on: bool) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE users SET daily_digest = $2 WHERE id = $1"
        )
        .bind(user)
        .bind(on)
        .execute(c))?;
        Ok(())
    }

    /// Records that the digest for local date `day` went out; `false` when it already had.
    pub async fn mark_digest_sent(&mut self, user: Uuid, day: &str) -> Result<bool> {
        let n = exec!(self, |c| {
            sqlx::query(
            "UPDATE users SET digest_sent_on = $2 WHERE id = $1 AND (digest_sent_on IS NULL OR digest_sent_on <> $2)"
        )
        .bind(user)
        .bind(day)
        .execute(c)
        })?;
        Ok(n == 1)
    }

    pub async fn set_locale(&mut self, user: Uuid, locale: Locale) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE users SET locale = $2 WHERE id = $1"
        )
        .bind(user)
        .bind(locale.key())
        .execute(c))?;
        Ok(())
    }

    pub async fn set_password_hash(&mut self, user: Uuid, hash: Option<&str>) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE users SET password_hash = $2 WHERE id = $1"
        )
        .bind(user)
        .bind(hash)
        .execute(c))?;
        Ok(())
    }

    pub async fn set_admin(&mut self, user: Uuid, is_admin: bool) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE users SET is_admin = $2 WHERE id = $1"
        )
        .bind(user)
        .bind(is_admin)
        .execute(c))?;
        Ok(())
    }

    /// Stores a new sign-in code and link for a user; older unused ones stop working.
    pub async fn create_login_code(
        &mut self,
        user: Uuid,
        code_hash: &str,
        link_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE login_codes SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL"
        )
        .bind(user)
        .bind(now)
        .execute(c))?;
        exec!(self, |c| sqlx::query(
            "INSERT INTO login_codes (id, user_id, code_hash, link_hash, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(new_id())
        .bind(user)
        .bind(code_hash)
        .bind(link_hash)
        .bind(expires_at)
        .bind(now)
        .execute(c))?;
        Ok(())
    }

    /// Checks the code typed for `user`; every check counts against `max_attempts`.
    /// A valid code is used up and the e-mail address counts as verified.
    pub async fn check_login_code(
        &mut self,
        user: Uuid,
        code_hash: &str,
        now: i64,
        max_attempts: i32,
    ) -> Result<CodeCheck> {
        // Every check counts as an attempt, counted before the comparison in one statement:
        // parallel guesses on PostgreSQL cannot all read the same old count.
        let row: Option<(Uuid, String)> = write!(self, |c| {
            sqlx::query_as(
            "UPDATE login_codes SET attempts = attempts + 1 WHERE attempts < $3 AND id = \
             (SELECT id FROM login_codes WHERE user_id = $1 AND used_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC LIMIT 1) RETURNING id, code_hash"
        )
        .bind(user)
        .bind(now)
        .bind(max_attempts)
        .fetch_optional(c)
        })?;
        let Some((id, stored)) = row else {
            return Ok(CodeCheck::Exhausted);
        };
        if stored != code_hash {
            return Ok(CodeCheck::Wrong);
        }
        if !self.use_login_code(id, user, now).await? {
            return Ok(CodeCheck::Exhausted);
        }
        Ok(CodeCheck::Valid(user))
    }

    /// Uses the sign-in link with this hash, if it is still valid.
    pub async fn use_login_link(&mut self, link_hash: &str, now: i64) -> Result<Option<Uuid>> {
        let row: Option<(Uuid, Uuid)> = write!(self, |c| {
            sqlx::query_as(
            "SELECT id, user_id FROM login_codes WHERE link_hash = $1 AND used_at IS NULL AND expires_at > $2"
        )
        .bind(link_hash)
        .bind(now)
        .fetch_optional(c)
        })?;
        let Some((id, user)) = row else {
            return Ok(None);
        };
        if !self.use_login_code(id, user, now).await? {
            return Ok(None);
        }
        Ok(Some(user))
    }

    /// Marks a code (or link) used; false when another request used it first (two clicks on
    /// one link at once), so that one code opens one session.
    async fn use_login_code(&mut self, id: Uuid, user: Uuid, now: i64) -> Result<bool> {
        let used = exec!(self, |c| sqlx::query(
            "UPDATE login_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL"
        )
        .bind(id)
        .bind(now)
        .execute(c))?;
        if used == 0 {
            return Ok(false);
        }
        exec!(self, |c| sqlx::query(
            "UPDATE users SET email_verified_at = $2 WHERE id = $1 AND email_verified_at IS NULL"
        )
        .bind(user)
        .bind(now)
        .execute(c))?;
        Ok(true)
    }

    pub async fn create_session(
        &mut self,
        id_hash: &str,
        user: Uuid,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(id_hash)
        .bind(user)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        })?;
        Ok(())
    }

    pub async fn delete_session(&mut self, id_hash: &str) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "DELETE FROM sessions WHERE id_hash = $1"
        )
        .bind(id_hash)
        .execute(c))?;
        Ok(())
    }

    /// Removes expired sessions, codes and rate-limit windows.
    pub async fn sweep_expired(&mut self, now: i64, rate_window_before: i64) -> Result<u64> {
        let mut n = 0;
        n += exec!(self, |c| sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1"
        )
        .bind(now)
        .execute(c))?;
        n += exec!(self, |c| sqlx::query(
            "DELETE FROM login_codes WHERE expires_at <= $1"
        )
        .bind(now)
        .execute(c))?;
        n += exec!(self, |c| sqlx::query(
            "DELETE FROM rate_limits WHERE window_start < $1"
        )
        .bind(rate_window_before)
        .execute(c))?;
        Ok(n)
    }

    pub async fn create_api_token(
        &mut self,
        user: Uuid,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(id)
        .bind(user)
        .bind(name)
        .bind(token_hash)
        .bind(now)
        .execute(c)
        })?;
        Ok(id)
    }

    pub async fn revoke_api_token(&mut self, user: Uuid, token: Uuid, now: i64) -> Result<()> {
        let done = exec!(self, |c| {
            sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL"
        )
        .bind(token)
        .bind(user)
        .bind(now)
        .execute(c)
        })?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Takes back one hit of `bucket` in the window (a request that turned out to be no abuse).
    pub async fn refund_rate_limit(&mut self, bucket: &str, window_start: i64) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE rate_limits SET hits = hits - 1 \
             WHERE bucket = $1 AND window_start = $2 AND hits > 0"
        )
        .bind(bucket)
        .bind(window_start)
        .execute(c))?;
        Ok(())
    }

    /// Counts one hit in the fixed window of `bucket` starting at `window_start` and returns the
    /// hits so far, this one included. Atomic on both backends, so limits hold across instances.
    pub async fn hit_rate_limit(&mut self, bucket: &str, window_start: i64) -> Result<i64> {
        let (hits,): (i32,) = write!(self, |c| sqlx::query_as(
            "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 \
             RETURNING hits"
        )
        .bind(bucket)
        .bind(window_start)
        .fetch_one(c))?;
        Ok(hits.into())
    }
}
