//! Wiring of the newsletter sender: SMTP settings, DKIM key, rate limit from the configuration.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kontor_mail::SmtpConfig;
use kontor_mail::bulk::{BulkConfig, BulkSender, Journal, NewsletterMailer};
use kontor_mail::dkim::DkimSigner;
use kontor_mail::smtp::Backoff;
use kontor_store::Store;

use crate::config::Config;

/// The newsletter sender, or `None` without SMTP (newsletters need a real mail server).
pub fn sender(store: &Store, config: &Config) -> anyhow::Result<Option<BulkSender>> {
    if config.smtp_url.trim().is_empty() {
        return Ok(None);
    }
    let smtp = SmtpConfig::parse(&config.smtp_url, &config.mail_from)?;
    let dkim = if config.dkim_private_key_path.trim().is_empty() {
        None
    } else {
        anyhow::ensure!(
            !config.dkim_selector.trim().is_empty(),
            "dkim_private_key_path needs dkim_selector"
        );
        let pem = std::fs::read_to_string(&config.dkim_private_key_path)
            .with_context(|| format!("cannot read {}", config.dkim_private_key_path))?;
        Some(DkimSigner::from_pem(
            &smtp.domain,
            config.dkim_selector.trim(),
            &pem,
        )?)
    };
    let mailer = NewsletterMailer::new(smtp.from.clone(), &config.base_url, dkim);
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
        ..BulkConfig::default()
    };
    let (starter_store, base_url) = (store.clone(), config.base_url.clone());
    let starter = Arc::new(move |id| {
        let (store, base_url) = (starter_store.clone(), base_url.clone());
        Box::pin(async move {
            kontor_mail::newsletter::start_issue(&store, &base_url, id, kontor_domain::now_micros())
                .await
        }) as kontor_mail::bulk::StartFuture
    });
    Ok(Some(BulkSender::new(
        store.clone(),
        smtp,
        mailer,
        bulk,
        Journal::open(journal_path(config))
            .with_context(|| format!("cannot open {}", journal_path(config).display()))?,
        starter,
    )))
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
