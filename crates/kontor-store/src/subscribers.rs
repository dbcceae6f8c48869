//! Newsletter subscribers (the `subscribers` table the sending side reads), their double opt-in
//! tokens, the consent texts and the append-only proof of consent.
//!
//! Invariants: tokens arrive hashed; `consent_events` rows are only inserted (a trigger refuses
//! updates) and deleted only by [`Tx::erase_subscriber`]. An erased address stays on the
//! suppression list only as [`address_hash`]; the next confirmed sign-up lifts it.

use kontor_domain::{Email, Keyed, Locale, SubscriberStatus, Topic, UnsubscribeChannel};

use crate::{
    Result, Store, StoreError, Tx, Uuid, exec, from_json, from_key, new_id, read, to_json,
};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Subscriber {
    pub id: Uuid,
    pub email: Email,
    pub locale: Locale,
    pub topics: Vec<Topic>,
    pub status: SubscriberStatus,
    #[serde(skip)]
    pub unsubscribe_token: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct SubscriberRow {
    id: Uuid,
    email: String,
    locale: String,
    topics: String,
    status: String,
    unsubscribe_token: String,
    created_at: i64,
    confirmed_at: Option<i64>,
    unsubscribed_at: Option<i64>,
}

const COLUMNS: &str = "id, email, locale, topics, status, unsubscribe_token, created_at, confirmed_at, unsubscribed_at";

impl TryFrom<SubscriberRow> for Subscriber {
    type Error = StoreError;
    fn try_from(r: SubscriberRow) -> Result<Subscriber> {
        let keys: Vec<String> = from_json("subscribers.topics", &r.topics)?;
        Ok(Subscriber {
            id: r.id,
            email: Email::parse(&r.email)
                .map_err(|_| StoreError::Corrupt("subscribers.email".into()))?,
            locale: from_key("subscribers.locale", &r.locale)?,
            topics: keys
                .iter()
                .map(|k| from_key("subscribers.topics", k))
                .collect::<Result<_>>()?,
            status: from_key("subscribers.status", &r.status)?,
            unsubscribe_token: r.unsubscribe_token,
            created_at: r.created_at,
            confirmed_at: r.confirmed_at,
            unsubscribed_at: r.unsubscribed_at,
        })
    }
}

pub struct NewSubscriber<'a> {
    pub email: &'a Email,
    pub locale: Locale,
    pub topics: &'a [Topic],
    pub status: SubscriberStatus,
    pub unsubscribe_token: &'a str,
}

/// One entry of the proof of consent. Fields that do not apply to a kind stay `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ConsentEvent {
    pub kind: String,
    pub at: i64,
    pub source: Option<String>,
    pub consent_version: Option<i32>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub template: Option<String>,
    pub token_hash: Option<String>,
    pub channel: Option<String>,
    pub claimed_at: Option<i64>,
    pub detail: Option<String>,
    /// `confirmation-queued` and `confirmation-sent`: the outbox mail.
    pub outbox_id: Option<Uuid>,
}

impl ConsentEvent {
    pub fn new(kind: &str, at: i64) -> ConsentEvent {
        ConsentEvent {
            kind: kind.to_string(),
            at,
            ..Default::default()
        }
    }
}

/// One version of the consent text, in each language.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ConsentText {
    pub version: i32,
    pub text_de: String,
    pub text_en: String,
    pub text_zh: String,
    pub created_at: i64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SubscriberCounts {
    pub pending: i64,
    pub confirmed: i64,
    pub unsubscribed: i64,
}

/// A subscriber with where and when the consent was first given, for the CSV export.
#[derive(Debug, Clone)]
pub struct SubscriberWithConsent {
    pub subscriber: Subscriber,
    pub consent_source: Option<String>,
    pub consent_at: Option<i64>,
}

const EVENT_COLUMNS: &str = "kind, at, source, consent_version, ip, user_agent, template, \
     token_hash, channel, claimed_at, detail, outbox_id";

/// How the suppression list keeps an address: SHA-256 of the lower-cased address, in hex. Not
/// keyed (there is no server secret): whoever knows an address can check it against the list.
pub fn address_hash(email: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(email.trim().to_lowercase().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    /// The suppression list ([`address_hash`] of every erased address not signed up again).
    pub async fn suppressed_hashes(&self) -> Result<std::collections::HashSet<String>> {
        let rows: Vec<(String,)> = read!(self, |p| sqlx::query_as(
            "SELECT address_hash FROM suppressed_addresses"
        )
        .fetch_all(p))?;
        Ok(rows.into_iter().map(|(h,)| h).collect())
    }

    pub async fn is_suppressed(&self, email: &Email) -> Result<bool> {
        let row: Option<(i64,)> = read!(self, |p| sqlx::query_as(
            "SELECT suppressed_at FROM suppressed_addresses WHERE address_hash = $1"
        )
        .bind(address_hash(email.as_str()))
        .fetch_optional(p))?;
        Ok(row.is_some())
    }

    pub async fn subscriber(&self, id: Uuid) -> Result<Subscriber> {
        let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE id = $1");
        let row: SubscriberRow =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_one(p))?;
        row.try_into()
    }

    pub async fn subscriber_by_email(&self, email: &Email) -> Result<Option<Subscriber>> {
        let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE email = $1");
        let row: Option<SubscriberRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(email.as_str())
                .fetch_optional(p))?;
        row.map(Subscriber::try_from).transpose()
    }

    /// The subscriber whose unsubscribe token this is (the capability in every newsletter).
    pub async fn subscriber_by_token(&self, token: &str) -> Result<Option<Subscriber>> {
        let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE unsubscribe_token = $1");
        let row: Option<SubscriberRow> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(token)
                .fetch_optional(p))?;
        row.map(Subscriber::try_from).transpose()
    }

    /// The subscriber a confirmation token's hash belongs to, while it is unused and unexpired.
    pub async fn pending_confirmation(&self, token_hash: &str, now: i64) -> Result<Option<Uuid>> {
        let row: Option<(Uuid,)> = read!(self, |p| sqlx::query_as(
            "SELECT subscriber_id FROM subscriber_confirmations \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2"
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(p))?;
        Ok(row.map(|(id,)| id))
    }

    /// True when the link with `token_hash` belongs to a subscriber who is confirmed now: a
    /// second click on a used confirmation link.
    pub async fn confirmed_by(&self, token_hash: &str) -> Result<bool> {
        // COUNT(*) is a BIGINT on both databases (a bare 1 is an INT4 on PostgreSQL).
        let (n,): (i64,) = read!(self, |p| {
            sqlx::query_as(
                "SELECT COUNT(*) FROM subscriber_confirmations c \
                 JOIN subscribers s ON s.id = c.subscriber_id \
                 WHERE c.token_hash = $1 AND s.status = 'confirmed'",
            )
            .bind(token_hash)
            .fetch_one(p)
        })?;
        Ok(n > 0)
    }

    /// Subscribers whose address contains `search` (all when empty), newest first, with the
    /// consent source and date of their first sign-up or import.
    pub async fn subscribers(
        &self,
        search: &str,
        limit: i64,
    ) -> Result<Vec<SubscriberWithConsent>> {
        self.subscribers_from(search, limit, 0).await
    }

    /// Like [`Store::subscribers`], skipping the first `offset` (a page of the admin list).
    pub async fn subscribers_from(
        &self,
        search: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<SubscriberWithConsent>> {
        let cols: Vec<String> = COLUMNS.split(", ").map(|c| format!("s.{c}")).collect();
        let sql = format!(
            "SELECT {}, e.source, COALESCE(e.claimed_at, e.at) FROM subscribers s LEFT JOIN consent_events e ON e.id = \
             (SELECT f.id FROM consent_events f WHERE f.subscriber_id = s.id \
              AND f.kind IN ('signup', 'imported') ORDER BY f.at, f.id LIMIT 1) \
             WHERE s.email LIKE $1 ESCAPE '\\' ORDER BY s.created_at DESC, s.email LIMIT $2 OFFSET $3",
            cols.join(", ")
        );
        let pattern = crate::contains_pattern(&search.trim().to_lowercase());
        type Row = (
            Uuid,
            String,
            String,
            String,
            String,
            String,
            i64,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<i64>,
        );
        let rows: Vec<Row> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(p))?;
        rows.into_iter()
            .map(|r| {
                let subscriber = SubscriberRow {
                    id: r.0,
                    email: r.1,
                    locale: r.2,
                    topics: r.3,
                    status: r.4,
                    unsubscribe_token: r.5,
                    created_at: r.6,
                    confirmed_at: r.7,
                    unsubscribed_at: r.8,
                }
                .try_into()?;
                Ok(SubscriberWithConsent {
                    subscriber,
                    consent_source: r.9,
                    consent_at: r.10,
                })
            })
            .collect()
    }

    /// Every address on the list, in any status (to tell new lines of an import from known ones).
    pub async fn subscriber_emails(&self) -> Result<std::collections::HashSet<String>> {
        let rows: Vec<(String,)> =
            read!(self, |p| sqlx::query_as("SELECT email FROM subscribers")
                .fetch_all(p))?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    pub async fn subscriber_counts(&self) -> Result<SubscriberCounts> {
        let rows: Vec<(String, i64)> = read!(self, |p| sqlx::query_as(
            "SELECT status, COUNT(*) FROM subscribers GROUP BY status"
        )
        .fetch_all(p))?;
        let mut counts = SubscriberCounts::default();
        for (status, n) in rows {
            match status.as_str() {
                "pending" => counts.pending = n,
                "confirmed" => counts.confirmed = n,
                _ => counts.unsubscribed += n,
            }
        }
        Ok(counts)
    }

    /// The proof of consent of one subscriber, oldest first.
    pub async fn consent_events(&self, subscriber: Uuid) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM consent_events WHERE subscriber_id = $1 ORDER BY at, id"
        );
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(subscriber)
        .fetch_all(p))?)
    }

    pub async fn consent_text(&self, version: i32) -> Result<Option<ConsentText>> {
        Ok(read!(self, |p| {
            sqlx::query_as(
            "SELECT version, text_de, text_en, text_zh, created_at FROM consent_texts WHERE version = $1"
        )
        .bind(version)
        .fetch_optional(p)
        })?)
    }
}

impl Tx {
    /// Writes a consent text version unless it is stored already (texts never change).
    pub async fn keep_consent_text(&mut self, text: &ConsentText) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "INSERT INTO consent_texts (version, text_de, text_en, text_zh, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING"
        )
        .bind(text.version)
        .bind(&text.text_de)
        .bind(&text.text_en)
        .bind(&text.text_zh)
        .bind(text.created_at)
        .execute(c))?;
        Ok(())
    }

    /// A new subscriber; [`StoreError::Conflict`] when the address is on the list already.
    pub async fn create_subscriber(&mut self, new: &NewSubscriber<'_>, now: i64) -> Result<Uuid> {
        Ok(self
            .create_subscribers(std::slice::from_ref(new), now)
            .await?[0])
    }

    /// Several new subscribers in few statements; ids in the order given.
    pub async fn create_subscribers(
        &mut self,
        all: &[NewSubscriber<'_>],
        now: i64,
    ) -> Result<Vec<Uuid>> {
        self.insert_subscribers(all, now, "").await
    }

    /// An import: like [`Tx::create_subscribers`], but an address that is on the list already
    /// (e.g. a sign-up that landed after the import read the list) is left alone: `None` there.
    pub async fn import_subscribers(
        &mut self,
        all: &[NewSubscriber<'_>],
        now: i64,
    ) -> Result<Vec<Option<Uuid>>> {
        let ids = self
            .insert_subscribers(all, now, " ON CONFLICT (email) DO NOTHING")
            .await?;
        let mut inserted = std::collections::HashSet::new();
        for chunk in ids.chunks(BATCH) {
            let sql = format!(
                "SELECT id FROM subscribers WHERE id IN ({})",
                crate::placeholders(1, chunk.len())
            );
            let rows: Vec<(Uuid,)> = crate::write!(self, |c| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(c)
            })?;
            inserted.extend(rows.into_iter().map(|(id,)| id));
        }
        Ok(ids
            .into_iter()
            .map(|id| inserted.contains(&id).then_some(id))
            .collect())
    }

    async fn insert_subscribers(
        &mut self,
        all: &[NewSubscriber<'_>],
        now: i64,
        on_conflict: &str,
    ) -> Result<Vec<Uuid>> {
        let mut ids = Vec::with_capacity(all.len());
        for chunk in all.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO subscribers (id, email, locale, topics, status, unsubscribe_token, \
                 created_at, confirmed_at, unsubscribed_at) VALUES {}{on_conflict}",
                placeholders(chunk.len(), 9)
            );
            let chunk_ids: Vec<Uuid> = chunk.iter().map(|_| new_id()).collect();
            exec!(self, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for (new, id) in chunk.iter().zip(&chunk_ids) {
                    let at = |status| (new.status == status).then_some(now);
                    q = q
                        .bind(*id)
                        .bind(new.email.as_str())
                        .bind(new.locale.key())
                        .bind(topics_json(new.topics))
                        .bind(new.status.key())
                        .bind(new.unsubscribe_token)
                        .bind(now)
                        .bind(at(SubscriberStatus::Confirmed))
                        .bind(at(SubscriberStatus::Unsubscribed));
                }
                q.execute(c)
            })?;
            ids.extend(chunk_ids);
        }
        Ok(ids)
    }

    /// Appends to the proof of consent.
    pub async fn add_consent_event(&mut self, subscriber: Uuid, e: &ConsentEvent) -> Result<()> {
        self.add_consent_events(&[(subscriber, e.clone())]).await
    }

    /// Appends several entries to the proof of consent in few statements.
    pub async fn add_consent_events(&mut self, events: &[(Uuid, ConsentEvent)]) -> Result<()> {
        for chunk in events.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO consent_events (id, subscriber_id, kind, at, source, consent_version, \
                 ip, user_agent, template, token_hash, channel, claimed_at, detail, outbox_id) \
                 VALUES {}",
                placeholders(chunk.len(), 14)
            );
            exec!(self, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for (subscriber, e) in chunk {
                    q = q
                        .bind(new_id())
                        .bind(*subscriber)
                        .bind(&e.kind)
                        .bind(e.at)
                        .bind(&e.source)
                        .bind(e.consent_version)
                        .bind(&e.ip)
                        .bind(&e.user_agent)
                        .bind(&e.template)
                        .bind(&e.token_hash)
                        .bind(&e.channel)
                        .bind(e.claimed_at)
                        .bind(&e.detail)
                        .bind(e.outbox_id);
                }
                q.execute(c)
            })?;
        }
        Ok(())
    }

    pub async fn create_confirmation(
        &mut self,
        subscriber: Uuid,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        exec!(self, |c| {
            sqlx::query(
            "INSERT INTO subscriber_confirmations (token_hash, subscriber_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)"
        )
        .bind(token_hash)
        .bind(subscriber)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        })?;
        Ok(())
    }

    /// Uses a confirmation token once and confirms its subscriber, spending their other unused
    /// tokens; `None` when the token is unknown, used or expired, or the subscriber is confirmed
    /// already (then drop the transaction). Guarded in SQL, so two clicks at once confirm once.
    pub async fn confirm_subscription(
        &mut self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Uuid>> {
        let row: Option<(Uuid,)> = crate::write!(self, |c| sqlx::query_as(
            "SELECT subscriber_id FROM subscriber_confirmations \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2"
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(c))?;
        let Some((id,)) = row else { return Ok(None) };
        let used = exec!(self, |c| {
            sqlx::query(
            "UPDATE subscriber_confirmations SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL"
        )
        .bind(token_hash)
        .bind(now)
        .execute(c)
        })?;
        if used == 0 {
            return Ok(None);
        }
        // The person's other links (from earlier sign-ups) are spent too: one confirmation, one
        // welcome mail, one `confirmed` event.
        exec!(self, |c| sqlx::query(
            "UPDATE subscriber_confirmations SET used_at = $2 \
             WHERE subscriber_id = $1 AND used_at IS NULL"
        )
        .bind(id)
        .bind(now)
        .execute(c))?;
        let confirmed = exec!(self, |c| {
            sqlx::query(
            "UPDATE subscribers SET status = 'confirmed', confirmed_at = $2, unsubscribed_at = NULL \
             WHERE id = $1 AND status <> 'confirmed'"
        )
        .bind(id)
        .bind(now)
        .execute(c)
        })?;
        if confirmed == 0 {
            return Ok(None);
        }
        // New consent: an erased address is no longer suppressed.
        let (email,): (String,) = crate::write!(self, |c| sqlx::query_as(
            "SELECT email FROM subscribers WHERE id = $1"
        )
        .bind(id)
        .fetch_one(c))?;
        exec!(self, |c| sqlx::query(
            "DELETE FROM suppressed_addresses WHERE address_hash = $1"
        )
        .bind(address_hash(&email))
        .execute(c))?;
        Ok(Some(id))
    }

    /// A person who had left signs up again: back to `pending` until they confirm.
    pub async fn reopen_subscription(
        &mut self,
        id: Uuid,
        locale: Locale,
        topics: &[Topic],
    ) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE subscribers SET status = 'pending', locale = $2, topics = $3 \
             WHERE id = $1 AND status = 'unsubscribed'"
        )
        .bind(id)
        .bind(locale.key())
        .bind(topics_json(topics))
        .execute(c))?;
        Ok(())
    }

    /// Unsubscribes and records how; `false` when the person was already off the list.
    pub async fn unsubscribe(
        &mut self,
        id: Uuid,
        channel: UnsubscribeChannel,
        event: ConsentEvent,
    ) -> Result<bool> {
        let changed = exec!(self, |c| sqlx::query(
            "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = $2 \
             WHERE id = $1 AND status <> 'unsubscribed'"
        )
        .bind(id)
        .bind(event.at)
        .execute(c))?;
        if changed == 0 {
            return Ok(false);
        }
        let event = ConsentEvent {
            kind: "unsubscribed".into(),
            channel: Some(channel.key().into()),
            ..event
        };
        self.add_consent_event(id, &event).await?;
        Ok(true)
    }

    pub async fn set_subscriber_preferences(
        &mut self,
        id: Uuid,
        locale: Locale,
        topics: &[Topic],
    ) -> Result<()> {
        exec!(self, |c| sqlx::query(
            "UPDATE subscribers SET locale = $2, topics = $3 WHERE id = $1"
        )
        .bind(id)
        .bind(locale.key())
        .bind(topics_json(topics))
        .execute(c))?;
        Ok(())
    }

    /// GDPR Art. 17: removes the person, their tokens and their proof of consent; the address
    /// stays on the suppression list as its [`address_hash`] (no import brings it back).
    pub async fn erase_subscriber(&mut self, id: Uuid, now: i64) -> Result<bool> {
        let email: Option<(String,)> = crate::write!(self, |c| sqlx::query_as(
            "SELECT email FROM subscribers WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(c))?;
        let Some((email,)) = email else {
            return Ok(false);
        };
        exec!(self, |c| sqlx::query(
            "INSERT INTO suppressed_addresses (address_hash, suppressed_at) VALUES ($1, $2) \
             ON CONFLICT (address_hash) DO NOTHING"
        )
        .bind(address_hash(&email))
        .bind(now)
        .execute(c))?;
        self.delete_subscriber_with_traces(id).await
    }

    /// Deletes a subscriber and everything that names them: the newsletter mails of the outbox
    /// (confirmation, welcome, copies in the local mailbox), the proof of consent and the
    /// confirmation links. Returns whether the subscriber was there.
    async fn delete_subscriber_with_traces(&mut self, id: Uuid) -> Result<bool> {
        for sql in [
            "DELETE FROM outbox WHERE kind LIKE 'newsletter-%' \
             AND recipient = (SELECT email FROM subscribers WHERE id = $1)",
            "DELETE FROM consent_events WHERE subscriber_id = $1",
            "DELETE FROM subscriber_confirmations WHERE subscriber_id = $1",
        ] {
            exec!(self, |c| sqlx::query(sql).bind(id).execute(c))?;
        }
        let n = exec!(self, |c| sqlx::query(
            "DELETE FROM subscribers WHERE id = $1"
        )
        .bind(id)
        .execute(c))?;
        Ok(n > 0)
    }

    /// Removes sign-ups nobody confirmed (nobody consented; keep no data): pending, never
    /// confirmed, created before `before`, and holding no confirmation link that still works at
    /// `now` (someone who signed up again yesterday keeps their fresh link). One transaction: the
    /// candidates are chosen once (and locked on PostgreSQL, so a confirmation cannot land in
    /// between), then their proof, links, newsletter mails and rows go.
    pub async fn delete_stale_pending(&mut self, before: i64, now: i64) -> Result<u64> {
        let lock = match self.inner {
            crate::TxInner::Postgres(_) => " FOR UPDATE",
            crate::TxInner::Sqlite(_) => "",
        };
        let sql = format!(
            "SELECT id FROM subscribers s WHERE status = 'pending' AND confirmed_at IS NULL \
             AND created_at < $1 AND NOT EXISTS (SELECT 1 FROM subscriber_confirmations c \
             WHERE c.subscriber_id = s.id AND c.used_at IS NULL AND c.expires_at > $2){lock}"
        );
        let stale: Vec<(Uuid,)> =
            crate::write!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(before)
                .bind(now)
                .fetch_all(c))?;
        let mut removed = 0;
        for (id,) in stale {
            removed += u64::from(self.delete_subscriber_with_traces(id).await?);
        }
        Ok(removed)
    }
}

/// Rows per multi-row `INSERT`. Measured on 10,000 imported lines (debug build): 1 row per
/// statement 11 s (SQLite) / 18 s (PostgreSQL), 50 rows 4.5 s / 4.1 s, 500 rows 15 s / 3.3 s:
/// SQLite slows down on very long statements.
const BATCH: usize = 50;

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` values.
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn topics_json(topics: &[Topic]) -> String {
    to_json(&topics.iter().map(|t| t.key()).collect::<Vec<_>>())
}
