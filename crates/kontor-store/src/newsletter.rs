//! Newsletter issues (one edition per language) and their delivery queue.
//!
//! Sending starts in one transaction: the editions are frozen (rendered text and HTML) and one
//! queue row per confirmed subscriber is inserted by a single `INSERT … SELECT`. Workers claim
//! batches of rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; one writer on SQLite),
//! and mark each row sent only while they still hold it (see `kontor_mail::bulk`).

use kontor_domain::{Keyed, Locale, Topic};

use crate::{Pool, Result, Store, StoreError, Tx, Uuid, exec, new_id, read};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Issue {
    pub id: Uuid,
    pub title: String,
    /// draft | scheduled | sending | sent
    pub status: String,
    pub include_events: bool,
    /// A topic key: only subscribers who chose it (or no topic at all) get the issue.
    pub topic: Option<String>,
    pub send_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const ISSUE_COLUMNS: &str = "id, title, status, include_events, topic, send_at, started_at, finished_at, created_at, updated_at";
/// Subscribers per statement when marking a batch sent (SQLite allows 32,766 parameters).
const MARK_CHUNK: usize = 500;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Edition {
    pub issue_id: Uuid,
    pub locale: String,
    pub subject: String,
    pub intro: String,
    pub rendered_text: Option<String>,
    pub rendered_html: Option<String>,
}

/// One edition of an issue that went out, as the archive lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArchivedEdition {
    pub issue_id: Uuid,
    pub started_at: Option<i64>,
    pub locale: String,
    pub subject: String,
}

/// What the editor writes for an issue.
#[derive(Debug, Clone)]
pub struct IssueFields {
    /// The editor's name for the issue (not shown to readers).
    pub title: String,
    pub include_events: bool,
    /// Only for the subscribers of this topic (and those who chose none); `None`: everyone.
    pub topic: Option<Topic>,
    pub editions: Vec<EditionInput>,
}

/// What the editor writes for one language.
#[derive(Debug, Clone)]
pub struct EditionInput {
    pub locale: Locale,
    pub subject: String,
    pub intro: String,
}

/// One edition as sent: `{{unsubscribe_url}}` is replaced per recipient.
#[derive(Debug, Clone)]
pub struct RenderedEdition {
    pub locale: Locale,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The placeholder in rendered editions for the recipient's unsubscribe URL.
pub const UNSUBSCRIBE_PLACEHOLDER: &str = "{{unsubscribe_url}}";

/// One queued message as a worker sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub issue_id: Uuid,
    pub subscriber_id: Uuid,
    pub claim_id: Uuid,
    pub attempts: i32,
    pub email: String,
    pub locale: String,
    pub unsubscribe_token: String,
    /// The subscriber's status now: anything but `confirmed` is skipped.
    pub subscriber_status: String,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
    pub first_sent_at: Option<i64>,
    pub last_sent_at: Option<i64>,
}

impl Progress {
    pub fn total(&self) -> i64 {
        self.queued + self.sent + self.failed + self.skipped
    }
    /// Messages per second between the first and the last message sent.
    pub fn rate(&self) -> f64 {
        match (self.first_sent_at, self.last_sent_at) {
            (Some(a), Some(b)) if b > a => self.sent as f64 / ((b - a) as f64 / 1e6),
            _ => 0.0,
        }
    }
}

impl Tx {
    pub async fn create_issue(&mut self, issue: &IssueFields, now: i64) -> Result<Uuid> {
        let id = new_id();
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO newsletter_issues (id, title, status, include_events, topic, created_at, updated_at) \
             VALUES ($1, $2, 'draft', $3, $4, $5, $5)"
        )
        .bind(id)
        .bind(&issue.title)
        .bind(issue.include_events)
        .bind(issue.topic.map(|t| t.key()))
        .bind(now)
        .execute(c)
        })?;
        self.put_editions(id, &issue.editions).await?;
        Ok(id)
    }

    /// Changes a draft or scheduled issue; a sending or sent issue is not changed (`NotFound`).
    pub async fn update_issue(&mut self, id: Uuid, issue: &IssueFields, now: i64) -> Result<()> {
        let n = exec!(self, |c| {
            sqlx::query(
            "UPDATE newsletter_issues SET title = $2, include_events = $3, topic = $4, updated_at = $5 \
             WHERE id = $1 AND status IN ('draft', 'scheduled')"
        )
        .bind(id)
        .bind(&issue.title)
        .bind(issue.include_events)
        .bind(issue.topic.map(|t| t.key()))
        .bind(now)
        .execute(c)
        })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        exec!(self, |c| sqlx::query(
            "DELETE FROM newsletter_editions WHERE issue_id = $1"
        )
        .bind(id)
        .execute(c))?;
        self.put_editions(id, &issue.editions).await
    }

    async fn put_editions(&mut self, id: Uuid, editions: &[EditionInput]) -> Result<()> {
        for e in editions {
            exec!(self, |c| {
                sqlx::query(
                "INSERT INTO newsletter_editions (issue_id, locale, subject, intro) VALUES ($1, $2, $3, $4)"
            )
            .bind(id)
            .bind(e.locale.key())
            .bind(&e.subject)
            .bind(&e.intro)
            .execute(c)
            })?;
        }
        Ok(())
    }

    /// Schedules a draft (or moves a schedule); `None` turns it back into a draft.
    pub async fn schedule_issue(&mut self, id: Uuid, send_at: Option<i64>, now: i64) -> Result<()> {
        let n = exec!(self, |c| sqlx::query(
            "UPDATE newsletter_issues SET send_at = $2, updated_at = $3, \
             status = CASE WHEN $2 IS NULL THEN 'draft' ELSE 'scheduled' END \
             WHERE id = $1 AND status IN ('draft', 'scheduled')"
        )
        .bind(id)
        .bind(send_at)
        .bind(now)
        .execute(c))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Starts sending: freezes the rendered editions and queues one row per confirmed subscriber
    /// whose language has an edition. Returns the number of queued rows; `NotFound` when the issue
    /// is not a draft or scheduled (e.g. another instance started it first).
    pub async fn start_sending(
        &mut self,
        id: Uuid,
        rendered: &[RenderedEdition],
        now: i64,
    ) -> Result<u64> {
        let n = exec!(self, |c| sqlx::query(
            "UPDATE newsletter_issues SET status = 'sending', started_at = $2, updated_at = $2 \
             WHERE id = $1 AND status IN ('draft', 'scheduled')"
        )
        .bind(id)
        .bind(now)
        .execute(c))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        for r in rendered {
            exec!(self, |c| {
                sqlx::query(
                "UPDATE newsletter_editions SET subject = $3, rendered_text = $4, rendered_html = $5 \
                 WHERE issue_id = $1 AND locale = $2"
            )
            .bind(id)
            .bind(r.locale.key())
            .bind(&r.subject)
            .bind(&r.text)
            .bind(&r.html)
            .execute(c)
            })?;
        }
        // One statement for every recipient: no per-row round trips, however large the list.
        exec!(self, |c| sqlx::query(
            "INSERT INTO newsletter_deliveries (issue_id, subscriber_id, status, next_attempt_at) \
             SELECT $1, s.id, 'queued', $2 FROM subscribers s, newsletter_issues i \
             WHERE i.id = $1 AND s.status = 'confirmed' AND s.locale IN \
             (SELECT e.locale FROM newsletter_editions e WHERE e.issue_id = $1 AND e.rendered_html IS NOT NULL) \
             AND (i.topic IS NULL OR s.topics = '[]' OR s.topics LIKE '%\"' || i.topic || '\"%')"
        )
        .bind(id)
        .bind(now)
        .execute(c))
        .map_err(StoreError::from)
    }
}

impl Tx {
    /// Marks one claimed row sent while its claim still holds it; `false` when it does not
    /// (its lease ran out and another worker took it): then do not deliver it.
    pub async fn mark_delivery_sent(&mut self, d: &Delivery, now: i64) -> Result<bool> {
        let n = exec!(self, |c| {
            sqlx::query(
                "UPDATE newsletter_deliveries SET status = 'sent', sent_at = $4, attempts = attempts + 1, \
                 last_error = NULL, locked_until = 0 WHERE issue_id = $1 AND subscriber_id = $2 \
                 AND claim_id = $3 AND status = 'queued'",
            )
            .bind(d.issue_id)
            .bind(d.subscriber_id)
            .bind(d.claim_id)
            .bind(now)
            .execute(c)
        })?;
        Ok(n == 1)
    }
}

impl Store {
    pub async fn newsletter_issues(&self) -> Result<Vec<Issue>> {
        let sql = format!("SELECT {ISSUE_COLUMNS} FROM newsletter_issues ORDER BY created_at DESC");
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(p))?)
    }

    /// Sent issues, newest first: the public archive.
    /// Every edition of the issues that went out, newest issue first, for the public archive:
    /// one query, without the rendered bodies.
    pub async fn newsletter_archive(&self) -> Result<Vec<ArchivedEdition>> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT i.id AS issue_id, i.started_at, e.locale, e.subject \
             FROM newsletter_issues i JOIN newsletter_editions e ON e.issue_id = i.id \
             WHERE i.status IN ('sending', 'sent') AND e.rendered_html IS NOT NULL \
             ORDER BY i.started_at DESC, i.id, e.locale"
        )
        .fetch_all(p))?)
    }

    pub async fn newsletter_issue(&self, id: Uuid) -> Result<Issue> {
        let sql = format!("SELECT {ISSUE_COLUMNS} FROM newsletter_issues WHERE id = $1");
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(id)
        .fetch_one(p))?)
    }

    pub async fn newsletter_editions(&self, id: Uuid) -> Result<Vec<Edition>> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT issue_id, locale, subject, intro, rendered_text, rendered_html \
             FROM newsletter_editions WHERE issue_id = $1 ORDER BY locale"
        )
        .bind(id)
        .fetch_all(p))?)
    }

    /// Scheduled issues whose time has come.
    pub async fn due_newsletter_issues(&self, now: i64) -> Result<Vec<Uuid>> {
        Ok(read!(self, |p| {
            sqlx::query_scalar(
            "SELECT id FROM newsletter_issues WHERE status = 'scheduled' AND send_at <= $1 ORDER BY send_at"
        )
        .bind(now)
        .fetch_all(p)
        })?)
    }

    pub async fn confirmed_subscriber_count(&self) -> Result<i64> {
        Ok(read!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM subscribers WHERE status = 'confirmed'"
        )
        .fetch_one(p))?)
    }

    /// Claims up to `limit` due queue rows for `lease_micros` under a fresh claim id.
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_micros: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let claim = new_id();
        let due = "status = 'queued' AND next_attempt_at <= $1 AND locked_until <= $1";
        let n = match &self.pool {
            // One writer connection: select-then-update cannot race with another claim.
            Pool::Sqlite { writer, .. } => {
                let sql = format!(
                    "UPDATE newsletter_deliveries SET locked_until = $2, claim_id = $3 \
                     WHERE (issue_id, subscriber_id) IN \
                     (SELECT issue_id, subscriber_id FROM newsletter_deliveries WHERE {due} LIMIT $4)"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(now)
                    .bind(now + lease_micros)
                    .bind(claim)
                    .bind(limit)
                    .execute(writer)
                    .await?
                    .rows_affected()
            }
            Pool::Postgres(p) => {
                let sql = format!(
                    "UPDATE newsletter_deliveries SET locked_until = $2, claim_id = $3 \
                     WHERE (issue_id, subscriber_id) IN \
                     (SELECT issue_id, subscriber_id FROM newsletter_deliveries WHERE {due} LIMIT $4 \
                      FOR UPDATE SKIP LOCKED)"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(now)
                    .bind(now + lease_micros)
                    .bind(claim)
                    .bind(limit)
                    .execute(p)
                    .await?
                    .rows_affected()
            }
        };
        if n == 0 {
            return Ok(vec![]);
        }
        let sql = "SELECT d.issue_id, d.subscriber_id, d.claim_id, d.attempts, s.email, s.locale, \
                   s.unsubscribe_token, s.status AS subscriber_status \
                   FROM newsletter_deliveries d JOIN subscribers s ON s.id = d.subscriber_id \
                   WHERE d.claim_id = $1 AND d.status = 'queued'";
        // Read on the writer (SQLite): the claim just committed there.
        let rows = match &self.pool {
            Pool::Sqlite { writer, .. } => {
                sqlx::query_as(sql).bind(claim).fetch_all(writer).await?
            }
            Pool::Postgres(p) => sqlx::query_as(sql).bind(claim).fetch_all(p).await?,
        };
        Ok(rows)
    }

    /// Marks claimed rows `(issue, subscriber, claim)` sent in one transaction, each only while
    /// its claim still holds it. Returns how many were marked.
    ///
    /// One statement per (issue, claim) and up to [`MARK_CHUNK`] subscribers, not one per row:
    /// on SQLite every statement is a round trip to its worker thread, and the sender marks a
    /// whole batch at a time.
    pub async fn mark_deliveries_sent(&self, rows: &[(Uuid, Uuid, Uuid)], now: i64) -> Result<u64> {
        let mut groups: Vec<((Uuid, Uuid), Vec<Uuid>)> = Vec::new();
        for &(issue, subscriber, claim) in rows {
            match groups.iter_mut().find(|(key, _)| *key == (issue, claim)) {
                Some((_, subscribers)) => subscribers.push(subscriber),
                None => groups.push(((issue, claim), vec![subscriber])),
            }
        }
        let mut tx = self.begin().await?;
        let mut n = 0;
        for ((issue, claim), subscribers) in &groups {
            for chunk in subscribers.chunks(MARK_CHUNK) {
                let list = (0..chunk.len())
                    .map(|i| format!("${}", i + 4))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "UPDATE newsletter_deliveries SET status = 'sent', sent_at = $3, \
                     attempts = attempts + 1, last_error = NULL \
                     WHERE issue_id = $1 AND claim_id = $2 AND status = 'queued' \
                     AND subscriber_id IN ({list})"
                );
                n += exec!(tx, |c| {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                        .bind(issue)
                        .bind(claim)
                        .bind(now);
                    for s in chunk {
                        q = q.bind(s);
                    }
                    q.execute(c)
                })?;
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Records a failed attempt of a claimed row: queued again at `retry_at`, or failed for
    /// good when `None`.
    pub async fn mark_delivery_failed(
        &self,
        d: &Delivery,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        exec!(tx, |c| {
            sqlx::query(
            "UPDATE newsletter_deliveries SET last_error = $4, locked_until = 0, claim_id = NULL, \
             attempts = attempts + 1, \
             status = CASE WHEN $5 IS NULL THEN 'failed' ELSE 'queued' END, \
             next_attempt_at = COALESCE($5, next_attempt_at) \
             WHERE issue_id = $1 AND subscriber_id = $2 AND claim_id = $3 AND status = 'queued'"
        )
        .bind(d.issue_id)
        .bind(d.subscriber_id)
        .bind(d.claim_id)
        .bind(error)
        .bind(retry_at)
        .execute(c)
        })?;
        tx.commit().await
    }

    /// Gives claimed rows back untouched (e.g. the worker stops, or the rate limit is reached).
    pub async fn release_deliveries(&self, claim_id: Uuid, retry_at: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        exec!(tx, |c| {
            sqlx::query(
            "UPDATE newsletter_deliveries SET locked_until = 0, claim_id = NULL, next_attempt_at = $2 \
             WHERE claim_id = $1 AND status = 'queued'"
        )
        .bind(claim_id)
        .bind(retry_at)
        .execute(c)
        })?;
        tx.commit().await
    }

    /// The subscriber left before their turn.
    pub async fn mark_delivery_skipped(&self, d: &Delivery) -> Result<()> {
        let mut tx = self.begin().await?;
        exec!(tx, |c| {
            sqlx::query(
            "UPDATE newsletter_deliveries SET status = 'skipped', locked_until = 0, claim_id = NULL \
             WHERE issue_id = $1 AND subscriber_id = $2 AND claim_id = $3 AND status = 'queued'"
        )
        .bind(d.issue_id)
        .bind(d.subscriber_id)
        .bind(d.claim_id)
        .execute(c)
        })?;
        tx.commit().await
    }

    /// Ends every claim at once. Only for a single instance (SQLite) at start-up: the claims
    /// of a process that died need not wait for their leases to run out.
    pub async fn release_all_delivery_claims(&self) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = exec!(tx, |c| sqlx::query(
            "UPDATE newsletter_deliveries SET locked_until = 0, claim_id = NULL \
             WHERE status = 'queued' AND claim_id IS NOT NULL"
        )
        .execute(c))?;
        tx.commit().await?;
        Ok(n)
    }

    /// Issues whose queue has no row left to send are `sent`; returns how many finished.
    pub async fn finish_newsletter_issues(&self, now: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = exec!(tx, |c| sqlx::query(
            "UPDATE newsletter_issues SET status = 'sent', finished_at = $1, updated_at = $1 \
             WHERE status = 'sending' AND NOT EXISTS (SELECT 1 FROM newsletter_deliveries d \
             WHERE d.issue_id = newsletter_issues.id AND d.status = 'queued')"
        )
        .bind(now)
        .execute(c))?;
        tx.commit().await?;
        Ok(n)
    }

    pub async fn newsletter_progress(&self, id: Uuid) -> Result<Progress> {
        let rows: Vec<(String, i64, Option<i64>, Option<i64>)> = read!(self, |p| sqlx::query_as(
            "SELECT status, COUNT(*), MIN(sent_at), MAX(sent_at) FROM newsletter_deliveries \
             WHERE issue_id = $1 GROUP BY status"
        )
        .bind(id)
        .fetch_all(p))?;
        let mut out = Progress::default();
        for (status, n, first, last) in rows {
            match status.as_str() {
                "queued" => out.queued = n,
                "sent" => {
                    out.sent = n;
                    out.first_sent_at = first;
                    out.last_sent_at = last;
                }
                "failed" => out.failed = n,
                _ => out.skipped = n,
            }
        }
        Ok(out)
    }

    /// Failed rows of an issue with their last error, for the editor.
    pub async fn failed_deliveries(&self, id: Uuid, limit: i64) -> Result<Vec<(String, String)>> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT s.email, COALESCE(d.last_error, '') FROM newsletter_deliveries d \
             JOIN subscribers s ON s.id = d.subscriber_id \
             WHERE d.issue_id = $1 AND d.status = 'failed' ORDER BY s.email LIMIT $2"
        )
        .bind(id)
        .bind(limit)
        .fetch_all(p))?)
    }
}
