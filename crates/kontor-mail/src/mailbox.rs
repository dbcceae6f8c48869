//! Newsletters without SMTP (the demo, an install without `smtp_url`): every message of an issue
//! goes to the local mailbox (`/mailbox`), rendered exactly as [`crate::bulk`] renders it for
//! SMTP ([`NewsletterMailer::render`]: headers, `List-Unsubscribe`, DKIM when configured).
//!
//! Exactly once, without a window: a batch of claimed queue rows is rendered first, then one
//! transaction marks each row sent (only while its claim holds it) and writes its mailbox row.
//! A crash before the commit leaves the rows queued; after it, both are there.

use std::sync::Arc;
use std::time::Duration;

use kontor_domain::{Keyed, Locale};
use kontor_store::newsletter::Delivery;
use kontor_store::outbox::NewMail;
use kontor_store::{Store, StoreError};
use tokio::sync::{Notify, watch};

use crate::bulk::{
    EditionParts, Editions, NewsletterMailer, Starter, close_finished_issues,
    release_claims_of_a_dead_run, start_due_issues,
};

/// The `kind` of a newsletter message in the outbox (erasing a subscriber removes these too).
pub const KIND: &str = "newsletter-issue";

/// Drains the newsletter queue into the local mailbox; starts scheduled issues and closes
/// finished ones.
pub struct MailboxSender {
    store: Store,
    mailer: NewsletterMailer,
    /// Starts scheduled issues (renders and freezes the editions).
    starter: Starter,
    /// Rows per claim and transaction.
    pub batch: i64,
    /// How long a claim holds.
    pub lease: Duration,
    /// How often to look for due work when nobody wakes us.
    pub poll: Duration,
}

/// One rendered message, ready for the transaction.
struct Ready {
    row: Delivery,
    mail: NewMail,
    raw: String,
}

impl MailboxSender {
    pub fn new(store: Store, mailer: NewsletterMailer, starter: Starter) -> Self {
        MailboxSender {
            store,
            mailer,
            starter,
            batch: 100,
            lease: Duration::from_secs(120),
            poll: Duration::from_secs(5),
        }
    }

    /// Starts the scheduled issues that are due, delivers every queued message and marks the
    /// issues with nothing left `sent`. Returns how many messages went into the mailbox.
    pub async fn deliver_due(&self) -> Result<u64, StoreError> {
        start_due_issues(&self.store, &self.starter).await?;
        let mut delivered = 0;
        let editions = Editions::default();
        loop {
            let now = kontor_domain::now_micros();
            let rows = self
                .store
                .claim_deliveries(now, self.lease.as_micros() as i64, self.batch)
                .await?;
            let Some(claim) = rows.first().map(|r| r.claim_id) else {
                break;
            };
            match self.deliver(rows, &editions).await {
                Ok(n) => {
                    delivered += n;
                    self.store.settle_claim(claim).await?;
                }
                Err(e) => {
                    // The batch was not written: its queued rows go back at once.
                    let now = kontor_domain::now_micros();
                    if let Err(r) = self.store.release_deliveries(claim, now).await {
                        tracing::warn!(error = %r, "newsletter claims not released");
                    }
                    return Err(e);
                }
            }
        }
        close_finished_issues(&self.store).await;
        Ok(delivered)
    }

    /// One claimed batch: skipped and failed rows are settled first, then the rest in one
    /// transaction (read and render before it: SQLite has one writer).
    async fn deliver(&self, rows: Vec<Delivery>, editions: &Editions) -> Result<u64, StoreError> {
        let mut ready = Vec::with_capacity(rows.len());
        for row in rows {
            if row.subscriber_status != "confirmed" {
                self.store.mark_delivery_skipped(&row).await?;
                continue;
            }
            let edition = match editions.get(&self.store, &row).await? {
                Some(e) => e,
                None => {
                    let why = format!("no {} edition", row.locale);
                    self.store.mark_delivery_failed(&row, &why, None).await?;
                    continue;
                }
            };
            match self.render(&row, &edition) {
                Ok((mail, raw)) => ready.push(Ready { row, mail, raw }),
                Err(e) => {
                    tracing::warn!(issue = %row.issue_id, to = %row.email, error = %e, "newsletter message not delivered");
                    self.store
                        .mark_delivery_failed(&row, &e.to_string(), None)
                        .await?;
                }
            }
        }
        if ready.is_empty() {
            return Ok(0);
        }
        let now = kontor_domain::now_micros();
        let mut tx = self.store.begin().await?;
        let mut n = 0;
        for r in &ready {
            if tx.mark_delivery_sent(&r.row, now).await? {
                tx.add_to_mailbox(&r.mail, &r.raw, now).await?;
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    fn render(
        &self,
        row: &Delivery,
        edition: &EditionParts,
    ) -> Result<(NewMail, String), crate::smtp::SendError> {
        let raw = self.mailer.render(
            edition,
            row.issue_id,
            row.subscriber_id,
            &row.email,
            &row.unsubscribe_token,
        )?;
        let (text, html) = edition.bodies_for(&self.mailer.unsubscribe_url(&row.unsubscribe_token));
        let mail = NewMail {
            to: row.email.clone(),
            locale: Locale::from_key(&row.locale).unwrap_or(Locale::En),
            kind: KIND,
            subject: edition.subject.clone(),
            text,
            html,
        };
        Ok((mail, String::from_utf8_lossy(&raw).into_owned()))
    }

    /// Runs until `shutdown` turns true; `wake` is notified when an editor starts a send.
    pub async fn run(self, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        release_claims_of_a_dead_run(&self.store).await;
        loop {
            match self.deliver_due().await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(messages = n, "newsletter messages put in the local mailbox")
                }
                Err(e) => tracing::warn!(error = %e, "newsletter queue not drained"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}
