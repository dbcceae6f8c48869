//! Newsletter issues (one edition per language) and their delivery queue.
//!
//! Sending starts in one transaction: the editions are frozen (rendered text and HTML) and one
//! numbered queue row per confirmed subscriber is inserted by a single `INSERT … SELECT`.
//! Workers claim ranges of rows with a lease: the next range past the issue's cursor, or a
//! range whose lease ran out (its holder died, gave it back, or a row in it waits for a retry).
//! A claim is one row of `newsletter_claims`; the queue rows are written only when a message
//! is settled, and only while the claim is still held (see `kontor_mail::bulk`). Invariant:
//! every queued row is past its issue's cursor or inside exactly one claim's range.

use kontor_domain::{Keyed, Locale, Topic};

use crate::{Result, Store, StoreError, Tx, Uuid, autocommit, exec, new_id, read, write};

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
/// Rows per statement when marking a batch sent (SQLite allows 32,766 parameters).
const MARK_CHUNK: usize = 500;
/// Claims taken (and settled at once) in one call when ranges hold nothing due.
const EMPTY_CLAIMS_PER_CALL: usize = 64;

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
    /// The row's number within its issue's queue.
    pub seq: i64,
    pub subscriber_id: Uuid,
    #[sqlx(skip)]
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

/// Who an issue `i` goes to, apart from the language of its editions: a confirmed subscriber
/// `s` who chose its topic or none. Shared by the send and by the count shown before it.
const RECIPIENT: &str = "s.status = 'confirmed' \
     AND (i.topic IS NULL OR s.topics = '[]' OR s.topics LIKE '%\"' || i.topic || '\"%')";

impl Progress {
    pub fn total(&self) -> i64 {
        self.queued + self.sent + self.failed + self.skipped
    }
    /// Messages per second between the first and the last message sent; none until two were
    /// sent at different moments (a handful sent within the clock's tick has no rate to tell).
    pub fn rate(&self) -> Option<f64> {
        match (self.first_sent_at, self.last_sent_at) {
            (Some(a), Some(b)) if b > a => Some(self.sent as f64 / ((b - a) as f64 / 1e6)),
            _ => None,
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
        let queued = exec!(self, |c| {
            sqlx::query(
            sqlx::AssertSqlSafe(format!(
                "INSERT INTO newsletter_deliveries (issue_id, seq, subscriber_id, status) \
                 SELECT $1, ROW_NUMBER() OVER (ORDER BY s.id), s.id, 'queued' \
                 FROM subscribers s, newsletter_issues i \
                 WHERE i.id = $1 AND {RECIPIENT} AND s.locale IN \
                 (SELECT e.locale FROM newsletter_editions e WHERE e.issue_id = $1 AND e.rendered_html IS NOT NULL)"
            ))
        )
        .bind(id)
        .execute(c)
        })?;
        exec!(self, |c| sqlx::query(
            "UPDATE newsletter_issues SET queue_size = $2, claimed_up_to = 0 WHERE id = $1"
        )
        .bind(id)
        .bind(queued as i64)
        .execute(c))?;
        Ok(queued)
    }
}

impl Tx {
    /// Marks one claimed row sent while its claim still holds it; `false` when it does not
    /// (its lease ran out and another worker took it): then do not deliver it.
    pub async fn mark_delivery_sent(&mut self, d: &Delivery, now: i64) -> Result<bool> {
        let n = exec!(self, |c| {
            sqlx::query(
                "UPDATE newsletter_deliveries SET status = 'sent', sent_at = $4, attempts = attempts + 1, \
                 last_error = NULL WHERE issue_id = $1 AND seq = $2 AND status = 'queued' \
                 AND EXISTS (SELECT 1 FROM newsletter_claims WHERE id = $3)",
            )
            .bind(d.issue_id)
            .bind(d.seq)
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

    /// The confirmed subscribers an issue's topic reaches, counted by language: who gets it
    /// once their language has an edition (the selection of `start_sending`).
    pub async fn newsletter_audience(&self, issue: Uuid) -> Result<Vec<(String, i64)>> {
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!(
                "SELECT s.locale, COUNT(*) FROM subscribers s, newsletter_issues i \
                 WHERE i.id = $1 AND {RECIPIENT} GROUP BY s.locale ORDER BY s.locale"
            )
        ))
        .bind(issue)
        .fetch_all(p))?)
    }

    pub async fn confirmed_subscriber_count(&self) -> Result<i64> {
        Ok(read!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM subscribers WHERE status = 'confirmed'"
        )
        .fetch_one(p))?)
    }

    /// Claims a range of queue rows for `lease_micros` under a fresh claim id and returns its
    /// due rows (at most `limit`, all of one issue). Ranges whose lease ran out come first, then
    /// the next range of the issue that started first. Empty: nothing is due.
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_micros: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        for _ in 0..EMPTY_CLAIMS_PER_CALL {
            let mut tx = self.begin().await?;
            let Some(claim) = tx
                .claim_range(now, now + lease_micros, limit.max(1))
                .await?
            else {
                return Ok(vec![]);
            };
            let rows = tx.due_rows(&claim, now).await?;
            if rows.is_empty() {
                // Everything in the range was settled, or waits for a retry.
                tx.settle_claim(claim.id).await?;
                tx.commit().await?;
                continue;
            }
            tx.commit().await?;
            return Ok(rows);
        }
        Ok(vec![])
    }

    /// Marks claimed rows `(issue, seq, claim)` sent, each only while its claim still holds it.
    /// Returns how many were marked. Each statement stands alone: every row's mark is right
    /// by itself, and what a failure leaves unmarked the send journal still holds.
    ///
    /// A batch's rows are mostly consecutive: one statement per (issue, claim) names them as
    /// ranges of numbers (`seq BETWEEN a AND b OR …`, up to [`MARK_CHUNK`] ranges), not one by
    /// one. On SQLite every statement is a round trip to its worker thread, and binding a
    /// number per row cost more than the update itself.
    pub async fn mark_deliveries_sent(&self, rows: &[(Uuid, i64, Uuid)], now: i64) -> Result<u64> {
        let mut groups: Vec<((Uuid, Uuid), Vec<i64>)> = Vec::new();
        for &(issue, seq, claim) in rows {
            match groups.iter_mut().find(|(key, _)| *key == (issue, claim)) {
                Some((_, seqs)) => seqs.push(seq),
                None => groups.push(((issue, claim), vec![seq])),
            }
        }
        let mut n = 0;
        for ((issue, claim), seqs) in &mut groups {
            let runs = consecutive_runs(seqs);
            for chunk in runs.chunks(MARK_CHUNK) {
                let ranges = (0..chunk.len())
                    .map(|i| format!("seq BETWEEN ${} AND ${}", 2 * i + 4, 2 * i + 5))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                let sql = format!(
                    "UPDATE newsletter_deliveries SET status = 'sent', sent_at = $3, \
                     attempts = attempts + 1, last_error = NULL \
                     WHERE issue_id = $1 AND status = 'queued' AND ({ranges}) \
                     AND EXISTS (SELECT 1 FROM newsletter_claims WHERE id = $2)"
                );
                n += autocommit!(self, |c| {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                        .bind(*issue)
                        .bind(*claim)
                        .bind(now);
                    for &(first, last) in chunk {
                        q = q.bind(first).bind(last);
                    }
                    q.execute(c)
                })?;
            }
        }
        Ok(n)
    }

    /// Marks the send journal's `(issue, subscriber)` rows sent, whoever holds them now: the
    /// journal says the message went out. For the start-up after a crash.
    pub async fn mark_journal_sent(&self, rows: &[(Uuid, Uuid)], now: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let mut n = 0;
        for chunk in rows.chunks(MARK_CHUNK / 2) {
            let list = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE newsletter_deliveries SET status = 'sent', sent_at = $1, \
                 attempts = attempts + 1, last_error = NULL \
                 WHERE status = 'queued' AND (issue_id, subscriber_id) IN (VALUES {list})"
            );
            n += exec!(tx, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(now);
                for (issue, subscriber) in chunk {
                    q = q.bind(issue).bind(subscriber);
                }
                q.execute(c)
            })?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Records a failed attempt of a claimed row: queued again at `retry_at` (its claim
    /// keeps it), or failed for good when `None`.
    pub async fn mark_delivery_failed(
        &self,
        d: &Delivery,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<()> {
        autocommit!(self, |c| {
            sqlx::query(
                "UPDATE newsletter_deliveries SET last_error = $4, attempts = attempts + 1, \
             status = CASE WHEN $5 IS NULL THEN 'failed' ELSE 'queued' END, \
             next_attempt_at = COALESCE($5, next_attempt_at) \
             WHERE issue_id = $1 AND seq = $2 AND status = 'queued' \
             AND EXISTS (SELECT 1 FROM newsletter_claims WHERE id = $3)",
            )
            .bind(d.issue_id)
            .bind(d.seq)
            .bind(d.claim_id)
            .bind(error)
            .bind(retry_at)
            .execute(c)
        })?;
        Ok(())
    }

    /// The subscriber left before their turn.
    pub async fn mark_delivery_skipped(&self, d: &Delivery) -> Result<()> {
        autocommit!(self, |c| {
            sqlx::query(
                "UPDATE newsletter_deliveries SET status = 'skipped' \
             WHERE issue_id = $1 AND seq = $2 AND status = 'queued' \
             AND EXISTS (SELECT 1 FROM newsletter_claims WHERE id = $3)",
            )
            .bind(d.issue_id)
            .bind(d.seq)
            .bind(d.claim_id)
            .execute(c)
        })?;
        Ok(())
    }

    /// A worker is done with its claim: the range is released for good when nothing in it is
    /// queued any more, otherwise it waits for its next retry.
    pub async fn settle_claim(&self, claim_id: Uuid) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.settle_claim(claim_id).await?;
        tx.commit().await
    }

    /// Gives a claim back untouched (e.g. the worker stops, or the server is down): another
    /// worker takes the range over from `retry_at` on.
    pub async fn release_deliveries(&self, claim_id: Uuid, retry_at: i64) -> Result<()> {
        autocommit!(self, |c| sqlx::query(
            "UPDATE newsletter_claims SET locked_until = $2 WHERE id = $1"
        )
        .bind(claim_id)
        .bind(retry_at)
        .execute(c))?;
        Ok(())
    }

    /// Ends every claim's lease at once. Only for a single instance (SQLite) at start-up: the
    /// claims of a process that died need not wait for their leases to run out.
    pub async fn release_all_delivery_claims(&self) -> Result<u64> {
        let n = autocommit!(self, |c| sqlx::query(
            "UPDATE newsletter_claims SET locked_until = 0 WHERE locked_until > 0"
        )
        .execute(c))?;
        Ok(n)
    }

    /// Issues whose queue has no row left to send are `sent`; returns how many finished.
    /// By the queue's invariant, that is: the cursor is at the end and no claim is left.
    pub async fn finish_newsletter_issues(&self, now: i64) -> Result<u64> {
        let n = autocommit!(self, |c| sqlx::query(
            "UPDATE newsletter_issues SET status = 'sent', finished_at = $1, updated_at = $1 \
             WHERE status = 'sending' AND claimed_up_to >= queue_size AND NOT EXISTS \
             (SELECT 1 FROM newsletter_claims c WHERE c.issue_id = newsletter_issues.id)"
        )
        .bind(now)
        .execute(c))?;
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

/// A claimed range of one issue's queue.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
struct Claim {
    id: Uuid,
    issue_id: Uuid,
    first_seq: i64,
    last_seq: i64,
}

impl Tx {
    /// Takes a range over whose lease ran out, or else the next `limit` rows past the cursor of
    /// the issue that started first; `None` when there is neither.
    async fn claim_range(&mut self, now: i64, until: i64, limit: i64) -> Result<Option<Claim>> {
        let postgres = matches!(self.inner, crate::TxInner::Postgres(_));
        // PostgreSQL: concurrent workers pass over each other's ranges, but queue up on an
        // issue's cursor (a short lock) instead of finding nothing to do.
        let (skip_locked, lock) = if postgres {
            (" FOR UPDATE SKIP LOCKED", " FOR UPDATE")
        } else {
            ("", "")
        };
        let id = new_id();
        let sql = format!(
            "SELECT id, issue_id, first_seq, last_seq FROM newsletter_claims \
             WHERE locked_until <= $1 ORDER BY locked_until LIMIT 1{skip_locked}"
        );
        let lapsed: Option<Claim> =
            write!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(now)
                .fetch_optional(c))?;
        if let Some(old) = lapsed {
            exec!(self, |c| sqlx::query(
                "UPDATE newsletter_claims SET id = $2, locked_until = $3 WHERE id = $1"
            )
            .bind(old.id)
            .bind(id)
            .bind(until)
            .execute(c))?;
            return Ok(Some(Claim { id, ..old }));
        }
        let sql = format!(
            "SELECT id, claimed_up_to, queue_size FROM newsletter_issues \
             WHERE status = 'sending' AND claimed_up_to < queue_size \
             ORDER BY started_at, id LIMIT 1{lock}"
        );
        let next: Option<(Uuid, i64, i64)> =
            write!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_optional(c))?;
        let Some((issue_id, cursor, size)) = next else {
            return Ok(None);
        };
        let claim = Claim {
            id,
            issue_id,
            first_seq: cursor + 1,
            last_seq: (cursor + limit).min(size),
        };
        exec!(self, |c| sqlx::query(
            "UPDATE newsletter_issues SET claimed_up_to = $2 WHERE id = $1"
        )
        .bind(issue_id)
        .bind(claim.last_seq)
        .execute(c))?;
        exec!(self, |c| sqlx::query(
            "INSERT INTO newsletter_claims (id, issue_id, first_seq, last_seq, locked_until) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(claim.id)
        .bind(claim.issue_id)
        .bind(claim.first_seq)
        .bind(claim.last_seq)
        .bind(until)
        .execute(c))?;
        Ok(Some(claim))
    }

    /// The claim's rows that are queued and due, in queue order, under the claim's id.
    async fn due_rows(&mut self, claim: &Claim, now: i64) -> Result<Vec<Delivery>> {
        const FROM: &str = "FROM newsletter_deliveries d JOIN subscribers s ON s.id = d.subscriber_id \
             WHERE d.issue_id = $1 AND d.seq BETWEEN $2 AND $3 AND d.status = 'queued' \
             AND d.next_attempt_at <= $4";
        match &mut self.inner {
            crate::TxInner::Sqlite(c) => {
                // One value instead of a row per recipient: SQLite's thread hands each row
                // over to the caller separately, with a wake-up each, which cost more than
                // reading the row (in the newsletter bench, about 5 µs per recipient).
                let sql = format!(
                    "SELECT json_group_array(json_array(d.seq, hex(d.subscriber_id), d.attempts, \
                     s.email, s.locale, s.unsubscribe_token, s.status)) {FROM}"
                );
                let json: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(claim.issue_id)
                    .bind(claim.first_seq)
                    .bind(claim.last_seq)
                    .bind(now)
                    .fetch_one(&mut **c)
                    .await?;
                type Row = (i64, String, i32, String, String, String, String);
                let rows: Vec<Row> = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("delivery rows: {e}")))?;
                let mut out = Vec::with_capacity(rows.len());
                for (seq, subscriber, attempts, email, locale, token, status) in rows {
                    out.push(Delivery {
                        issue_id: claim.issue_id,
                        seq,
                        subscriber_id: Uuid::try_parse(&subscriber)
                            .map_err(|e| StoreError::Corrupt(format!("subscriber id: {e}")))?,
                        claim_id: claim.id,
                        attempts,
                        email,
                        locale,
                        unsubscribe_token: token,
                        subscriber_status: status,
                    });
                }
                out.sort_unstable_by_key(|d| d.seq);
                Ok(out)
            }
            crate::TxInner::Postgres(c) => {
                let sql = format!(
                    "SELECT d.issue_id, d.seq, d.subscriber_id, d.attempts, s.email, s.locale, \
                     s.unsubscribe_token, s.status AS subscriber_status {FROM} ORDER BY d.seq"
                );
                let mut rows: Vec<Delivery> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(claim.issue_id)
                    .bind(claim.first_seq)
                    .bind(claim.last_seq)
                    .bind(now)
                    .fetch_all(&mut **c)
                    .await?;
                for r in &mut rows {
                    r.claim_id = claim.id;
                }
                Ok(rows)
            }
        }
    }

    /// Deletes the claim if nothing in its range is queued; otherwise its lease ends when the
    /// first of its queued rows is due again.
    async fn settle_claim(&mut self, claim_id: Uuid) -> Result<()> {
        let gone = exec!(self, |c| sqlx::query(
            "DELETE FROM newsletter_claims WHERE id = $1 AND NOT EXISTS \
             (SELECT 1 FROM newsletter_deliveries d WHERE d.issue_id = newsletter_claims.issue_id \
              AND d.seq BETWEEN newsletter_claims.first_seq AND newsletter_claims.last_seq \
              AND d.status = 'queued')"
        )
        .bind(claim_id)
        .execute(c))?;
        if gone == 0 {
            exec!(self, |c| sqlx::query(
                "UPDATE newsletter_claims SET locked_until = (SELECT MIN(d.next_attempt_at) \
                 FROM newsletter_deliveries d WHERE d.issue_id = newsletter_claims.issue_id \
                 AND d.seq BETWEEN newsletter_claims.first_seq AND newsletter_claims.last_seq \
                 AND d.status = 'queued') WHERE id = $1"
            )
            .bind(claim_id)
            .execute(c))?;
        }
        Ok(())
    }
}

/// `seqs` sorted and cut into runs of consecutive numbers, as (first, last).
fn consecutive_runs(seqs: &mut [i64]) -> Vec<(i64, i64)> {
    seqs.sort_unstable();
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &seq in seqs.iter() {
        match runs.last_mut() {
            Some((_, last)) if seq <= *last + 1 => *last = seq,
            _ => runs.push((seq, seq)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_cover_exactly_the_numbers_given() {
        let mut seqs = vec![7, 3, 4, 5, 9, 10, 5, 1];
        assert_eq!(
            super::consecutive_runs(&mut seqs),
            vec![(1, 1), (3, 5), (7, 7), (9, 10)]
        );
        assert!(super::consecutive_runs(&mut []).is_empty());
    }
}
