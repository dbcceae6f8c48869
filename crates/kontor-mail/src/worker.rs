//! The outbox worker: claims due mails, delivers them, records the outcome, retries with backoff.

use std::sync::Arc;
use std::time::Duration;

use kontor_store::Store;
use kontor_store::outbox::OutboxMail;
use tokio::sync::{Notify, watch};

use crate::smtp::{Backoff, SmtpSender};

/// Where mails go.
pub enum Delivery {
    /// Nowhere outside: the mail stays in the outbox, marked delivered, and the administrator
    /// reads it in the browser's mailbox page (the demo, and setups without SMTP).
    LocalMailbox,
    Smtp(Box<SmtpSender>),
}

impl Delivery {
    fn name(&self) -> &'static str {
        match self {
            Delivery::LocalMailbox => "local",
            Delivery::Smtp(_) => "smtp",
        }
    }
}

pub struct OutboxWorker {
    store: Store,
    delivery: Delivery,
    wake: Arc<Notify>,
    /// How long a claim holds before another worker may take the mail.
    lease: Duration,
    batch: i64,
}

/// Retries of the outbox: 30 s, 1 min, 2 min, … capped at one hour, ten attempts.
pub const BACKOFF: Backoff = Backoff {
    first: Duration::from_secs(30),
    max: Duration::from_secs(3600),
    max_attempts: 10,
};

impl OutboxWorker {
    pub fn new(store: Store, delivery: Delivery, wake: Arc<Notify>) -> Self {
        OutboxWorker {
            store,
            delivery,
            wake,
            lease: Duration::from_secs(120),
            batch: 50,
        }
    }

    /// Delivers every mail that is due now; returns how many were attempted.
    pub async fn deliver_due(&mut self) -> Result<usize, kontor_store::StoreError> {
        self.deliver_due_at(kontor_domain::now_micros()).await
    }

    /// Delivers every mail due at `now` (microseconds); tests use it to step through retries.
    pub async fn deliver_due_at(&mut self, now: i64) -> Result<usize, kontor_store::StoreError> {
        let mut attempted = 0;
        loop {
            let mails = self
                .store
                .claim_due_mail(now, self.lease.as_micros() as i64, self.batch)
                .await?;
            if mails.is_empty() {
                return Ok(attempted);
            }
            for mail in mails {
                attempted += 1;
                self.deliver(&mail, now).await?;
            }
        }
    }

    async fn deliver(
        &mut self,
        mail: &OutboxMail,
        now: i64,
    ) -> Result<(), kontor_store::StoreError> {
        let result = match &mut self.delivery {
            Delivery::LocalMailbox => Ok(()),
            Delivery::Smtp(sender) => sender.send(mail).await,
        };
        match result {
            Ok(()) => {
                tracing::info!(mail = %mail.id, kind = %mail.kind, via = self.delivery.name(), "mail delivered");
                self.store
                    .mark_mail_sent(mail.id, self.delivery.name(), now)
                    .await
            }
            Err(e) => {
                let attempts = mail.attempts + 1;
                let retry_at = BACKOFF.retry_at(&e, attempts, now);
                tracing::warn!(mail = %mail.id, error = %e, attempts, retry = retry_at.is_some(), "mail not delivered");
                self.store
                    .mark_mail_attempt_failed(mail.id, &e.to_string(), retry_at)
                    .await
            }
        }
    }

    /// Runs until `shutdown` turns true: delivers what is due, then sleeps until woken by a new
    /// mail or for `poll` at most.
    pub async fn run(mut self, poll: Duration, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::error!(error = %e, "outbox worker could not read the outbox");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        if let Delivery::Smtp(s) = &mut self.delivery {
            s.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::SendError;

    #[test]
    fn backoff_grows_and_is_capped_and_ends() {
        assert_eq!(BACKOFF.delay(0), Duration::from_secs(30));
        assert_eq!(BACKOFF.delay(1), Duration::from_secs(60));
        assert_eq!(BACKOFF.delay(20), Duration::from_secs(3600));
        let later = SendError::Temporary("451".into());
        assert_eq!(BACKOFF.retry_at(&later, 1, 0), Some(30_000_000));
        assert_eq!(
            BACKOFF.retry_at(&later, 10, 0),
            None,
            "the tenth attempt was the last"
        );
        let never = SendError::Permanent("550".into());
        assert_eq!(BACKOFF.retry_at(&never, 1, 0), None);
    }
}
