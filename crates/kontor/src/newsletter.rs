//! Wiring of the newsletter sender: SMTP settings, DKIM key, rate limit from the configuration;
//! without SMTP, the local mailbox.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kontor_mail::SmtpConfig;
use kontor_mail::bulk::{BulkConfig, BulkSender, Journal, NewsletterMailer};
use kontor_mail::dkim::DkimSigner;
use kontor_mail::mailbox::MailboxSender;
use kontor_mail::smtp::Backoff;
use kontor_store::Store;
use tokio::sync::{Notify, watch};

use crate::config::Config;

/// Where newsletters go: SMTP, or without `smtp_url` the local mailbox (the demo).
pub enum Sender {
    Smtp(BulkSender),
    Mailbox(MailboxSender),
}

impl Sender {
    pub fn is_smtp(&self) -> bool {
        matches!(self, Sender::Smtp(_))
    }

    pub async fn run(self, wake: Arc<Notify>, shutdown: watch::Receiver<bool>) {
        match self {
            Sender::Smtp(s) => s.run(wake, shutdown).await,
            Sender::Mailbox(s) => s.run(wake, shutdown).await,
        }
    }
}

/// The newsletter sender as configured.
pub fn sender(store: &Store, config: &Config) -> anyhow::Result<Sender> {
    let starter = kontor_mail::newsletter::starter(store, &config.base_url);
    if config.smtp_url.trim().is_empty() {
        let from = kontor_mail::smtp::sender_address(&config.mail_from)?;
        let domain = from.email.domain().to_string();
        let mailer = NewsletterMailer::new(from, &config.base_url, dkim(config, &domain)?);
        let mut sender = MailboxSender::new(store.clone(), mailer, starter);
        sender.lease = Duration::from_secs(config.newsletter_lease_seconds);
        return Ok(Sender::Mailbox(sender));
    }
    let smtp = SmtpConfig::parse(&config.smtp_url, &config.mail_from)?;
    let mailer = NewsletterMailer::new(
        smtp.from.clone(),
        &config.base_url,
        dkim(config, &smtp.domain)?,
    );
    let retry = Duration::from_secs(config.newsletter_retry_seconds);
    let bulk = BulkConfig {
        connections: config.newsletter_connections,
        rate_per_second: config.newsletter_rate,
        retry: Backoff {
            first: retry,
            max: Duration::from_secs(3600).max(retry),
            ..BulkConfig::default().retry
        },
        poll: Duration::from_secs(5).min(retry),
        lease: Duration::from_secs(config.newsletter_lease_seconds),
        ..BulkConfig::default()
    };
    let journal = journal_path(config);
    Ok(Sender::Smtp(BulkSender::new(
        store.clone(),
        smtp,
        mailer,
        bulk,
        Journal::open(&journal).with_context(|| format!("cannot open {}", journal.display()))?,
        starter,
    )))
}

/// The DKIM signer when a key is configured.
fn dkim(config: &Config, domain: &str) -> anyhow::Result<Option<DkimSigner>> {
    if config.dkim_private_key_path.trim().is_empty() {
        return Ok(None);
    }
    anyhow::ensure!(
        !config.dkim_selector.trim().is_empty(),
        "dkim_private_key_path needs dkim_selector"
    );
    let pem = std::fs::read_to_string(&config.dkim_private_key_path)
        .with_context(|| format!("cannot read {}", config.dkim_private_key_path))?;
    Ok(Some(DkimSigner::from_pem(
        domain,
        config.dkim_selector.trim(),
        &pem,
    )?))
}

/// The send journal: as configured, else next to the SQLite database, else in the working
/// directory. Every instance needs its own.
pub fn journal_path(config: &Config) -> std::path::PathBuf {
    if !config.newsletter_journal.trim().is_empty() {
        return config.newsletter_journal.trim().into();
    }
    let url = config.database_url.as_str();
    let file = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|f| f.split('?').next().unwrap_or(f))
        .filter(|f| !f.contains(":memory:"));
    match file.and_then(|f| std::path::Path::new(f).parent()) {
        Some(dir) => dir.join("newsletter.journal"),
        None => "newsletter.journal".into(),
    }
}
