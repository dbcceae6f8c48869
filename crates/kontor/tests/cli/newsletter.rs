//! Crash safety of newsletter sending with the real `kontor` binary: 10,000 confirmed
//! subscribers, the server killed with SIGKILL in the middle of the send and started again; the
//! SMTP sink (in this test process) must count exactly one copy per subscriber. On SQLite always,
//! and on PostgreSQL (a fresh database) when `KONTOR_TEST_DATABASE_URL` names a server
//! (`KONTOR_REQUIRE_POSTGRES=1` makes a missing one an error). Without SMTP, an issue goes to the
//! local mailbox.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kontor_domain::Locale;
use kontor_store::newsletter::{EditionInput, IssueFields};
use kontor_store::{Store, Uuid};

use crate::sink;

const SUBSCRIBERS: usize = 10_000;

struct Setup {
    dir: std::path::PathBuf,
    url: String,
    issue: Uuid,
}

/// SQLite, and PostgreSQL when there is a server.
fn backends() -> Vec<Option<String>> {
    std::iter::once(None)
        .chain(kontor_store::testing::postgres_server().map(Some))
        .collect()
}

/// A fresh database (a SQLite file in a folder of its own, or a new database on the PostgreSQL
/// server of `postgres`) with `subscribers` confirmed subscribers and an issue scheduled for now.
async fn setup(subscribers: usize, postgres: Option<&str>) -> Setup {
    let dir = std::env::temp_dir().join(format!("kontor-crash-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = match postgres {
        None => format!("sqlite://{}/kontor.db", dir.display()),
        Some(server) => kontor_store::testing::fresh_postgres_url(server).await,
    };
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    kontor_store::testing::confirmed_readers(&store, subscribers)
        .await
        .unwrap();
    let now = kontor_domain::now_micros();
    let editions = [Locale::De, Locale::En, Locale::Zh].map(|locale| EditionInput {
        locale,
        subject: format!("Newsletter {}", locale.bcp47()),
        intro: "Hallo, hello, 你好.".into(),
    });
    let mut tx = store.begin().await.unwrap();
    let issue = tx
        .create_issue(
            &IssueFields {
                title: "Crash test".into(),
                include_events: true,
                topic: None,
                editions: editions.to_vec(),
            },
            now,
        )
        .await
        .unwrap();
    tx.schedule_issue(issue, Some(now), now).await.unwrap();
    tx.commit().await.unwrap();
    Setup { dir, url, issue }
}

/// The server process, killed when the test ends however it ends.
struct Kontor(Child);

impl Drop for Kontor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `kontor serve` on the test's database; without `smtp_port`, mail goes to the local mailbox.
fn start_kontor(s: &Setup, smtp_port: Option<u16>, run: usize) -> Kontor {
    let log = std::fs::File::create(s.dir.join(format!("kontor-{run}.log"))).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kontor"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KONTOR_DATABASE_URL", &s.url)
        .env(
            "KONTOR_NEWSLETTER_JOURNAL",
            s.dir.join("newsletter.journal"),
        )
        // The batches the killed process had claimed come back after this (PostgreSQL; on
        // SQLite, one instance, a restart releases them at once).
        .env("KONTOR_NEWSLETTER_LEASE_SECONDS", "15")
        .env("KONTOR_LISTEN", format!("127.0.0.1:{}", sink::free_port()))
        .env("KONTOR_BASE_URL", "https://kontor.example.org")
        .env("KONTOR_MAIL_FROM", "Kontor <newsletter@kontor.example.org>")
        .env("KONTOR_NEWSLETTER_RATE", "0")
        .env("KONTOR_NEWSLETTER_CONNECTIONS", "2")
        .env("KONTOR_NEWSLETTER_RETRY_SECONDS", "1")
        .env("RUST_LOG", "warn,kontor_mail=info")
        .stdout(Stdio::null())
        .stderr(log);
    if let Some(port) = smtp_port {
        command.env("KONTOR_SMTP_URL", format!("smtp://127.0.0.1:{port}"));
    }
    let child = command.spawn().expect("the kontor binary starts");
    Kontor(child)
}

async fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_killed_midway_resumes_and_every_subscriber_gets_exactly_one_copy() {
    killed_midway(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_send_killed_midway_resumes_with_exactly_one_copy_each() {
    if let Some(server) = kontor_store::testing::postgres_server() {
        killed_midway(Some(&server)).await;
    }
}

async fn killed_midway(postgres: Option<&str>) {
    let s = setup(SUBSCRIBERS, postgres).await;
    let sink = sink::Sink::start(0).await;

    let mut first = start_kontor(&s, Some(sink.port), 1);
    // Kill somewhere in the middle, at a point that differs from run to run.
    let kill_at = 2_000 + (kontor_domain::now_micros() as usize % 4_000);
    wait_for("the first messages", Duration::from_secs(60), || {
        sink.messages_received() >= kill_at
    })
    .await;
    first.0.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix.
    first.0.wait().unwrap();
    let at_kill = sink.messages_received();
    assert!(
        at_kill < SUBSCRIBERS,
        "the send finished before the kill ({at_kill}); the test proves nothing"
    );

    let second = start_kontor(&s, Some(sink.port), 2);
    let finished = {
        let store = Store::connect(&s.url).await.unwrap();
        let start = Instant::now();
        loop {
            let issue = store.newsletter_issue(s.issue).await.unwrap();
            if issue.status == "sent" {
                break store.newsletter_progress(s.issue).await.unwrap();
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "the send did not finish after the restart: {:?}",
                store.newsletter_progress(s.issue).await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    // Let a message in flight (if any) land before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(second);

    let counts = sink.counts();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    let missing: Vec<_> = (0..SUBSCRIBERS)
        .map(address)
        .filter(|a| !counts.contains_key(a))
        .collect();
    eprintln!(
        "killed after {at_kill} messages; after restart: {} messages to {} recipients",
        sink.messages_received(),
        counts.len()
    );
    assert!(
        twice.is_empty(),
        "received twice: {:?}",
        &twice[..twice.len().min(10)]
    );
    assert!(
        missing.is_empty(),
        "{} never received, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(sink.messages_received(), SUBSCRIBERS);
    assert_eq!(
        (finished.sent, finished.failed, finished.queued),
        (SUBSCRIBERS as i64, 0, 0)
    );
    let _ = std::fs::remove_dir_all(&s.dir);
}

/// Without SMTP (the demo) a scheduled issue goes to the local mailbox: one message per
/// subscriber, with the List-Unsubscribe pair, and the issue ends `sent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_a_scheduled_issue_lands_in_the_local_mailbox() {
    const READERS: usize = 120;
    for backend in backends() {
        let s = setup(READERS, backend.as_deref()).await;
        let server = start_kontor(&s, None, 1);
        let store = Store::connect(&s.url).await.unwrap();
        let start = Instant::now();
        while store.newsletter_issue(s.issue).await.unwrap().status != "sent" {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "not sent: {:?}",
                store.newsletter_progress(s.issue).await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(server);
        let mails: Vec<_> = store
            .outbox(None, 10 * READERS as i64)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.kind == kontor_mail::mailbox::KIND)
            .collect();
        let mut to: Vec<String> = mails.iter().map(|m| m.recipient.clone()).collect();
        to.sort();
        assert_eq!(to, (0..READERS).map(address).collect::<Vec<_>>());
        for m in &mails {
            let raw = m.raw_message.as_deref().unwrap_or_default();
            assert!(
                raw.contains(
                    "List-Unsubscribe: <https://kontor.example.org/newsletter/unsubscribe/token"
                ),
                "{raw}"
            );
            assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        }
        let p = store.newsletter_progress(s.issue).await.unwrap();
        assert_eq!((p.sent, p.queued), (READERS as i64, 0));
        let _ = std::fs::remove_dir_all(&s.dir);
    }
}

/// The address of reader `i`, as `kontor_store::testing::confirmed_readers` makes them.
fn address(i: usize) -> String {
    format!("reader{i:06}@example.org")
}
