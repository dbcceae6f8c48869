//! The `kontor` binary: configuration, subcommands, and the wiring of store, mail worker and web
//! server.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kontor_domain::{Email, Locale, Password, TimeZoneName};
use kontor_mail::{Delivery, OutboxWorker, SmtpConfig, SmtpSender};
use kontor_store::Store;
use kontor_web::{AppState, WebConfig};
use tokio::sync::{Notify, watch};

mod config;
mod demo;
mod newsletter;
mod schedule;

use config::Config;

#[derive(Parser)]
#[command(
    name = "kontor",
    version,
    about = "Kontor: international business exchange — trade fairs with matchmaking, job fairs, partnerships"
)]
struct Cli {
    /// Configuration file (TOML); see `kontor default-config`.
    #[arg(long, short, global = true, env = "KONTOR_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application and deliver mail.
    Serve,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Serve a fresh demo data set from a local folder, with a local mailbox.
    Demo {
        /// Folder for the demo database (wiped and recreated).
        #[arg(long, default_value = "kontor-demo")]
        data: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Seed an empty PostgreSQL database instead (then `kontor serve` on the same database
        /// adds instances: a multi-instance demo).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Print a commented example configuration.
    DefaultConfig,
    /// Administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The meeting optimiser.
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user (or promote an existing one) as platform administrator.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Optional password (at least 10 characters); without one, sign in by e-mail code.
        #[arg(long, env = "KONTOR_ADMIN_PASSWORD")]
        password: Option<String>,
        #[arg(long, default_value = "Europe/Berlin")]
        time_zone: String,
        #[arg(long, default_value = "de")]
        locale: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Schedule(cmd) = cli.command {
        return schedule::run(cmd);
    }
    if let Command::DefaultConfig = cli.command {
        print!("{}", config::EXAMPLE);
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref(), std::env::vars())?;
    init_logs(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve(config).await,
            Command::Migrate => {
                let store = Store::connect(&config.database_url).await?;
                store.migrate().await?;
                println!("schema is up to date");
                Ok(())
            }
            Command::Demo {
                data,
                listen,
                database_url,
            } => demo::run(config, data, listen, database_url).await,
            Command::Admin(AdminCommand::CreateUser {
                email,
                name,
                password,
                time_zone,
                locale,
            }) => {
                create_admin(
                    &config,
                    &email,
                    &name,
                    password.as_deref(),
                    &time_zone,
                    &locale,
                )
                .await
            }
            Command::DefaultConfig | Command::Schedule(_) => unreachable!("handled above"),
        }
    })
}

fn init_logs(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open_store(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url)
        .await
        .with_context(|| format!("cannot open the database {}", redact(url)))?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(url = %config.base_url, listen = %listener.local_addr()?, backend = ?store.backend(), "serving");
    run(store, config, listener, |_| {}).await
}

/// Runs the web server, the outbox worker and the janitor until SIGTERM or Ctrl-C, then stops
/// them in order: no new requests, requests in flight finish, the worker ends its current mail.
pub async fn run(
    store: Store,
    config: Config,
    listener: tokio::net::TcpListener,
    on_ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    let delivery = if config.smtp_url.trim().is_empty() {
        Delivery::LocalMailbox
    } else {
        Delivery::Smtp(Box::new(SmtpSender::new(SmtpConfig::parse(
            &config.smtp_url,
            &config.mail_from,
        )?)))
    };
    let wake = Arc::new(Notify::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = OutboxWorker::new(store.clone(), delivery, wake.clone());
    let worker = tokio::spawn(worker.run(Duration::from_secs(5), stop_rx.clone()));
    let newsletter_wake = Arc::new(Notify::new());
    let newsletter = newsletter::sender(&store, &config)?;
    let newsletter_smtp = newsletter.is_smtp();
    let newsletter = tokio::spawn(newsletter.run(newsletter_wake.clone(), stop_rx.clone()));
    let janitor = tokio::spawn(janitor(store.clone(), stop_rx));

    let mut web = WebConfig::new(config.base_url.clone());
    web.mailbox_public = config.mailbox_public;
    web.trust_forwarded_for = config.trust_forwarded_for;
    web.video = config.video();
    web.consent_ip = config.consent_ip;
    web.newsletter_wake = newsletter_wake;
    web.newsletter_smtp = newsletter_smtp;
    web.privacy_url = config.privacy_url.clone();
    let multi_instance = store.backend() == kontor_store::Backend::Postgres;
    let state = AppState::new(store, web, wake);
    let started = std::time::Instant::now();
    let indexed = state.reindex().await.context("building the search index")?;
    tracing::info!(
        documents = indexed,
        ms = started.elapsed().as_millis() as u64,
        "search index built"
    );
    let reminders = tokio::spawn(remind(
        state.clone(),
        config.reminder_minutes,
        stop_tx.subscribe(),
    ));
    // Other instances write too: pick up their changes every few minutes.
    let refresher =
        multi_instance.then(|| tokio::spawn(refresh_index(state.clone(), stop_tx.subscribe())));
    on_ready(listener.local_addr()?);
    kontor_web::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("web server stopped; stopping the mail worker");
    let _ = stop_tx.send(true);
    let _ = worker.await;
    let _ = janitor.await;
    let _ = newsletter.await;
    let _ = reminders.await;
    if let Some(task) = refresher {
        let _ = task.await;
    }
    Ok(())
}

/// Queues meeting reminders (unless `minutes` is 0), daily digests and agreement signing
/// reminders every minute, and rebuilds the search index when the Berlin day changes.
async fn remind(state: AppState, minutes: i64, mut stop: watch::Receiver<bool>) {
    let mut day = kontor_domain::TimeZoneName::berlin().today();
    loop {
        // Job postings close at the end of a Berlin day: their facet follows.
        let today = kontor_domain::TimeZoneName::berlin().today();
        if today != day {
            day = today;
            if let Err(e) = state.reindex().await {
                tracing::warn!(error = %e, "search index refresh failed");
            }
        }
        if minutes > 0 {
            match kontor_web::send_due_reminders(&state, minutes).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(meetings = n, "meeting reminders queued"),
                Err(e) => tracing::warn!(error = %e, "meeting reminders failed"),
            }
        }
        match kontor_web::send_digests(&state, kontor_domain::now_micros()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(people = n, "daily digests queued"),
            Err(e) => tracing::warn!(error = %e, "daily digests failed"),
        }
        match kontor_web::send_signing_reminders(&state, kontor_domain::now_micros()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(signatories = n, "signing reminders queued"),
            Err(e) => tracing::warn!(error = %e, "signing reminders failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Rebuilds the search index every five minutes (several instances share one database).
async fn refresh_index(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(300)) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = state.reindex().await {
            tracing::warn!(error = %e, "search index refresh failed");
        }
    }
}

/// Removes expired sessions, codes and rate-limit windows, unconfirmed sign-ups after a week
/// and the local mailbox's newsletter copies after 30 days, once an hour.
async fn janitor(store: Store, mut stop: watch::Receiver<bool>) {
    loop {
        let now = kontor_domain::now_micros();
        match store.begin().await {
            Ok(mut tx) => match tx.sweep_expired(now, now - 86_400_000_000).await {
                Ok(n) => {
                    if tx.commit().await.is_ok() && n > 0 {
                        tracing::info!(removed = n, "expired sessions and codes removed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "janitor failed"),
            },
            Err(e) => tracing::warn!(error = %e, "janitor could not open a transaction"),
        }
        // Newsletter sign-ups nobody confirmed within a week: nobody consented, keep no data.
        if let Ok(mut tx) = store.begin().await {
            match tx.delete_stale_pending(now - 7 * 86_400_000_000, now).await {
                Ok(n) if tx.commit().await.is_ok() && n > 0 => {
                    tracing::info!(removed = n, "unconfirmed newsletter sign-ups removed")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "removing unconfirmed sign-ups failed"),
            }
        }
        // Newsletter copies in the local mailbox (no SMTP): a month is enough to look at them.
        let kind = kontor_mail::mailbox::KIND;
        match store
            .delete_local_mail(kind, now - 30 * 86_400_000_000)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                removed = n,
                "old newsletter copies removed from the mailbox"
            ),
            Err(e) => tracing::warn!(error = %e, "removing old mailbox copies failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn create_admin(
    config: &Config,
    email: &str,
    name: &str,
    password: Option<&str>,
    zone: &str,
    locale: &str,
) -> anyhow::Result<()> {
    let email = Email::parse(email)
        .map_err(|_| anyhow::anyhow!("`{email}` is not a valid e-mail address"))?;
    let time_zone = TimeZoneName::parse(zone)
        .map_err(|_| anyhow::anyhow!("`{zone}` is not an IANA time zone"))?;
    let locale =
        Locale::parse(locale).map_err(|_| anyhow::anyhow!("the language must be de, en or zh"))?;
    let hash = match password {
        Some(p) => Some(kontor_web::hash_password(&Password::parse(p).map_err(
            |_| anyhow::anyhow!("the password needs 10 to 200 characters"),
        )?)?),
        None => None,
    };
    let store = open_store(&config.database_url).await?;
    let mut tx = store.begin().await?;
    match store.user_by_email(&email).await? {
        Some(user) => {
            tx.set_admin(user.id, true).await?;
            if let Some(h) = &hash {
                tx.set_password_hash(user.id, Some(h)).await?;
            }
            println!("{email} is now an administrator");
        }
        None => {
            let new = kontor_store::accounts::NewUser {
                email: email.clone(),
                name: name.trim().to_string(),
                time_zone,
                locale,
                is_admin: true,
                password_hash: hash,
                email_verified: true,
            };
            tx.create_user(new, kontor_domain::now_micros()).await?;
            println!("created administrator {email}");
        }
    }
    tx.commit().await?;
    Ok(())
}
