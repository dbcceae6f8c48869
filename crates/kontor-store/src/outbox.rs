//! The mail outbox. A mail is written here in the same transaction as the change that causes it;
//! a worker claims due mails, delivers them and records the outcome. Nothing is lost when the
//! process dies: a claim is a lease (`locked_until`) that simply runs out.

use kontor_domain::{Keyed, Locale};

use crate::{Pool, Result, Store, Tx, Uuid, autocommit, exec, new_id, read};

/// A fully rendered mail, ready to be queued.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub to: String,
    pub locale: Locale,
    /// The template that made it, e.g. `sign-in-code`.
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxMail {
    pub id: Uuid,
    pub recipient: String,
    pub locale: String,
    pub kind: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub transport: Option<String>,
    pub sent_at: Option<i64>,
    pub created_at: i64,
    /// The whole message with its headers, for newsletters delivered to the local mailbox.
    pub raw_message: Option<String>,
}

const COLUMNS: &str = "id, recipient, locale, kind, subject, body_text, body_html, status, attempts, \
    last_error, transport, sent_at, created_at, raw_message";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

impl Tx {
    pub async fn enqueue_mail(&mut self, mail: &NewMail, now: i64) -> Result<Uuid> {
        self.insert_mail(mail, now, now, None).await
    }

    /// Queues a mail that goes out at `due` unless [`Tx::withdraw_mail`] takes it back first:
    /// the fallback of an action whose next step, in a later transaction, mails something
    /// better. Committed with the action, it goes out even if that step never runs.
    pub async fn enqueue_mail_due(&mut self, mail: &NewMail, now: i64, due: i64) -> Result<Uuid> {
        self.insert_mail(mail, now, due.max(now), None).await
    }

    /// Takes back a queued mail that no worker has claimed yet; `false` when it is on its way
    /// (or gone) already.
    pub async fn withdraw_mail(&mut self, id: Uuid, now: i64) -> Result<bool> {
        let n = exec!(self, |c| sqlx::query(
            "DELETE FROM outbox WHERE id = $1 AND status = 'pending' AND attempts = 0 \
             AND locked_until <= $2"
        )
        .bind(id)
        .bind(now)
        .execute(c))?;
        Ok(n == 1)
    }

    /// Puts a mail straight into the local mailbox (delivered, transport `local`), with the
    /// complete message as it would have travelled: a newsletter without SMTP.
    pub async fn add_to_mailbox(&mut self, mail: &NewMail, raw: &str, now: i64) -> Result<Uuid> {
        self.insert_mail(mail, now, now, Some(raw)).await
    }

    async fn insert_mail(
        &mut self,
        mail: &NewMail,
        now: i64,
        due: i64,
        raw: Option<&str>,
    ) -> Result<Uuid> {
        let id = new_id();
        let (status, attempts, transport, sent_at) = match raw {
            None => ("pending", 0, None, None),
            Some(_) => ("sent", 1, Some("local"), Some(now)),
        };
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO outbox (id, recipient, locale, kind, subject, body_text, body_html, status, \
             attempts, next_attempt_at, transport, sent_at, created_at, raw_message) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )
        .bind(id)
        .bind(&mail.to)
        .bind(mail.locale.key())
        .bind(mail.kind)
        .bind(&mail.subject)
        .bind(&mail.text)
        .bind(&mail.html)
        .bind(status)
        .bind(attempts)
        .bind(due)
        .bind(transport)
        .bind(sent_at)
        .bind(now)
        .bind(raw)
        .execute(c)
        })?;
        Ok(id)
    }
}

impl Store {
    /// Deletes the local mailbox's copies of `kind` written before `before` (without SMTP the
    /// mailbox keeps every newsletter copy: a large list would grow it without end). Mail
    /// waiting for SMTP, and everything sent by SMTP, stays.
    pub async fn delete_local_mail(&self, kind: &str, before: i64) -> Result<u64> {
        Ok(autocommit!(self, |c| sqlx::query(
            "DELETE FROM outbox WHERE transport = 'local' AND kind = $1 AND created_at < $2"
        )
        .bind(kind)
        .bind(before)
        .execute(c))?)
    }

    /// Claims up to `limit` due mails for `lease_micros`; another worker (or instance) will not
    /// see them until the lease runs out.
    pub async fn claim_due_mail(
        &self,
        now: i64,
        lease_micros: i64,
        limit: i64,
    ) -> Result<Vec<OutboxMail>> {
        let due = "status = 'pending' AND next_attempt_at <= $1 AND locked_until <= $1";
        let rows = match &self.pool {
            // One writer connection: select-then-update cannot race with another claim.
            Pool::Sqlite { writer, .. } => {
                let sql = format!(
                    "UPDATE outbox SET locked_until = $2 WHERE id IN \
                     (SELECT id FROM outbox WHERE {due} ORDER BY created_at LIMIT $3) RETURNING {COLUMNS}"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(now)
                    .bind(now + lease_micros)
                    .bind(limit)
                    .fetch_all(writer)
                    .await?
            }
            Pool::Postgres(p) => {
                let sql = format!(
                    "UPDATE outbox SET locked_until = $2 WHERE id IN \
                     (SELECT id FROM outbox WHERE {due} ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     RETURNING {COLUMNS}"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(now)
                    .bind(now + lease_micros)
                    .bind(limit)
                    .fetch_all(p)
                    .await?
            }
        };
        Ok(rows)
    }

    pub async fn mark_mail_sent(&self, id: Uuid, transport: &str, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        exec!(tx, |c| {
            sqlx::query(
            "UPDATE outbox SET status = 'sent', transport = $2, sent_at = $3, attempts = attempts + 1, \
             last_error = NULL WHERE id = $1"
        )
        .bind(id)
        .bind(transport)
        .bind(now)
        .execute(c)
        })?;
        // A newsletter confirmation mail: its delivery joins the proof of consent, in this
        // transaction (the sign-up recorded `confirmation-queued` with this mail's id).
        exec!(tx, |c| {
            sqlx::query(
            "INSERT INTO consent_events (id, subscriber_id, kind, at, template, token_hash, outbox_id) \
             SELECT $2, q.subscriber_id, 'confirmation-sent', $3, q.template, q.token_hash, q.outbox_id \
             FROM consent_events q WHERE q.outbox_id = $1 AND q.kind = 'confirmation-queued' \
             AND NOT EXISTS (SELECT 1 FROM consent_events s \
                             WHERE s.outbox_id = $1 AND s.kind = 'confirmation-sent')"
        )
        .bind(id)
        .bind(new_id())
        .bind(now)
        .execute(c)
        })?;
        tx.commit().await
    }

    /// Records a failed attempt: retried at `retry_at`, or failed for good when `None`.
    pub async fn mark_mail_attempt_failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        exec!(tx, |c| sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2, locked_until = 0, \
             status = CASE WHEN $3 IS NULL THEN 'failed' ELSE 'pending' END, \
             next_attempt_at = COALESCE($3, next_attempt_at) WHERE id = $1"
        )
        .bind(id)
        .bind(error)
        .bind(retry_at)
        .execute(c))?;
        tx.commit().await
    }

    /// Mails newest first, optionally for one recipient: the demo mailbox and the admin's view.
    pub async fn outbox(&self, recipient: Option<&str>, limit: i64) -> Result<Vec<OutboxMail>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE ($1 IS NULL OR recipient = $1) ORDER BY created_at DESC LIMIT $2"
        );
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(recipient)
        .bind(limit)
        .fetch_all(p))?)
    }

    pub async fn outbox_mail(&self, id: Uuid) -> Result<OutboxMail> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(id)
        .fetch_one(p))?)
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let rows: Vec<(String, i64)> = read!(self, |p| sqlx::query_as(
            "SELECT status, COUNT(*) FROM outbox GROUP BY status"
        )
        .fetch_all(p))?;
        let mut c = OutboxCounts::default();
        for (status, n) in rows {
            match status.as_str() {
                "pending" => c.pending = n,
                "sent" => c.sent = n,
                _ => c.failed = n,
            }
        }
        Ok(c)
    }
}
