//! Newsletter sending against the real SMTP sink: headers (RFC 8058, Message-ID), DKIM checked by
//! dkimpy, a server that is down and comes back, temporary and permanent refusals. Runs on SQLite
//! and, when `KONTOR_TEST_DATABASE_URL` is set, on PostgreSQL too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kontor_domain::Locale;
use kontor_mail::SmtpConfig;
use kontor_mail::bulk::{BulkConfig, BulkSender, Journal, NewsletterMailer};
use kontor_mail::dkim::DkimSigner;
use kontor_mail::smtp::Backoff;
use kontor_store::newsletter::{EditionInput, IssueFields};
use kontor_store::{Store, Uuid};
use tokio::sync::{Notify, watch};

use crate::sink::{Sink, free_port};

const BASE: &str = "https://news.example.de";

/// A fresh migrated store and its URL (a file for SQLite, so that plain SQL can reach it).
async fn backends() -> Vec<(Store, String)> {
    let dir = std::env::temp_dir().join(format!("kontor-nl-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/k.db", dir.display());
    let sqlite = Store::connect(&url).await.unwrap();
    sqlite.migrate().await.unwrap();
    let mut out = vec![(sqlite, url)];
    if let Some(server) = kontor_store::testing::postgres_server() {
        let url = kontor_store::testing::fresh_postgres_url(&server).await;
        let pg = Store::connect(&url).await.unwrap();
        pg.migrate().await.unwrap();
        out.push((pg, url));
    }
    out
}

/// Test data: subscribers as the subscription side would have stored them (plain SQL).
async fn add_subscribers(url: &str, people: &[(&str, &str, &str)]) {
    let sql = "INSERT INTO subscribers (id, email, locale, topics, status, unsubscribe_token, created_at) \
               VALUES ($1, $2, $3, '[]', $4, $5, 0)";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for (email, locale, status) in people {
            sqlx::query(sql)
                .bind(Uuid::now_v7())
                .bind(*email)
                .bind(*locale)
                .bind(*status)
                .bind(token(email))
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        for (email, locale, status) in people {
            sqlx::query(sql)
                .bind(Uuid::now_v7())
                .bind(*email)
                .bind(*locale)
                .bind(*status)
                .bind(token(email))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        pool.close().await;
    }
}

fn token(email: &str) -> String {
    format!("tok-{}", email.replace(['@', '.'], "-"))
}

async fn issue(store: &Store) -> Uuid {
    let editions = [
        (
            Locale::De,
            "Neues aus dem Kontor",
            "Liebe Leserinnen und Leser,\n\nwillkommen.",
        ),
        (Locale::En, "News from Kontor", "Dear readers,\n\nwelcome."),
        (Locale::Zh, "Kontor 简报", "亲爱的读者：\n\n欢迎。"),
    ]
    .map(|(locale, subject, intro)| EditionInput {
        locale,
        subject: subject.into(),
        intro: intro.into(),
    });
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .create_issue(
            &IssueFields {
                title: "November".into(),
                include_events: true,
                topic: None,
                editions: editions.to_vec(),
            },
            kontor_domain::now_micros(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

fn smtp(port: u16) -> SmtpConfig {
    let mut c = SmtpConfig::parse(
        &format!("smtp://127.0.0.1:{port}"),
        "Wirtschaftsförderung <newsletter@news.example.de>",
    )
    .unwrap();
    c.timeout = Duration::from_secs(5);
    c
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    journal: std::path::PathBuf,
}

fn start_sender(store: &Store, port: u16, dkim: Option<DkimSigner>) -> Running {
    start_sender_at(store, port, dkim, 0.0)
}

/// The sender with `rate` messages per second over its two connections (0: no limit).
fn start_sender_at(store: &Store, port: u16, dkim: Option<DkimSigner>, rate: f64) -> Running {
    let from = smtp(port).from;
    let config = BulkConfig {
        connections: 2,
        rate_per_second: rate,
        batch: 10,
        retry: Backoff {
            first: Duration::from_millis(300),
            max: Duration::from_secs(1),
            max_attempts: 10,
        },
        poll: Duration::from_millis(200),
        ..BulkConfig::default()
    };
    let starter = kontor_mail::newsletter::starter(store, BASE);
    let journal = std::env::temp_dir().join(format!("kontor-journal-{}", Uuid::now_v7().simple()));
    let sender = BulkSender::new(
        store.clone(),
        smtp(port),
        NewsletterMailer::new(from, BASE, dkim),
        config,
        Journal::open(&journal).unwrap(),
        starter,
    );
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(sender.run(Arc::new(Notify::new()), rx));
    Running {
        stop,
        task,
        journal,
    }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.await.unwrap();
    }
}

/// Waits until the issue has no queued row and is marked sent.
async fn until_sent(store: &Store, id: Uuid, within: Duration) {
    let start = Instant::now();
    loop {
        let p = store.newsletter_progress(id).await.unwrap();
        let issue = store.newsletter_issue(id).await.unwrap();
        if p.total() > 0 && p.queued == 0 && issue.status == "sent" {
            return;
        }
        assert!(
            start.elapsed() < within,
            "not finished in time: {p:?}, issue {}",
            issue.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send_now(store: &Store, id: Uuid) -> u64 {
    kontor_mail::newsletter::start_issue(store, BASE, id, kontor_domain::now_micros())
        .await
        .unwrap()
}

/// Sends a new issue to `people` through the sink on `port` and waits until it is done.
async fn send_issue(
    store: &Store,
    url: &str,
    people: &[(&str, &str, &str)],
    port: u16,
    dkim: Option<DkimSigner>,
) -> (Uuid, u64) {
    add_subscribers(url, people).await;
    let id = issue(store).await;
    let queued = send_now(store, id).await;
    let running = start_sender(store, port, dkim);
    until_sent(store, id, Duration::from_secs(30)).await;
    // Every entry of the send journal is in the database now: once the workers are idle, the
    // journal is emptied (it does not grow while the process runs).
    let start = Instant::now();
    let journal_len = || std::fs::metadata(&running.journal).unwrap().len();
    while journal_len() > 0 && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(journal_len(), 0, "the send journal is emptied when idle");
    running.stop().await;
    (id, queued)
}

/// Parses a raw message with Python's `email` package and prints its decoded text parts.
fn decoded_parts(raw: &str) -> String {
    python(
        "import sys, email, email.policy\n\
         m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)\n\
         for p in m.walk():\n\
         \x20   if p.get_content_maintype() == 'text': print(p.get_content_type()); print(p.get_content())\n",
        raw,
    )
    .1
}

fn python(script: &str, stdin: &str) -> (bool, String) {
    python_with(script, &[], stdin)
}

/// Runs a Python script with arguments and input; returns success and its output.
fn python_with(script: &str, args: &[&str], stdin: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn every_confirmed_subscriber_gets_one_message_with_rfc_8058_headers() {
    for (store, url) in backends().await {
        let sink = Sink::start(0).await;
        let people = [
            ("anna@firma.de", "de", "confirmed"),
            ("bob@company.co.uk", "en", "confirmed"),
            ("li@qiye.cn", "zh", "confirmed"),
            ("waiting@firma.de", "de", "pending"),
            ("left@firma.de", "de", "unsubscribed"),
        ];
        let (id, queued) = send_issue(&store, &url, &people, sink.port, None).await;
        assert_eq!(queued, 3, "only confirmed subscribers");

        let counts = sink.counts();
        assert_eq!(counts.len(), 3, "{counts:?}");
        assert!(counts.values().all(|&n| n == 1), "{counts:?}");
        let messages = sink.messages();
        let bob = messages
            .iter()
            .find(|m| m.to == ["bob@company.co.uk"])
            .unwrap();
        let raw = &bob.data;
        let url = format!(
            "{BASE}/newsletter/unsubscribe/{}",
            token("bob@company.co.uk")
        );
        assert!(
            raw.contains(&format!("\r\nList-Unsubscribe: <{url}>\r\n")),
            "{raw}"
        );
        assert!(
            raw.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("\r\nList-Id: Newsletter <newsletter.news.example.de>\r\n"),
            "{raw}"
        );
        let message_id = raw
            .lines()
            .find(|l| l.starts_with("Message-ID: "))
            .expect("a Message-ID");
        assert!(message_id.ends_with("@news.example.de>"), "{message_id}");
        assert!(raw.contains("MIME-Version: 1.0"));
        assert!(raw.contains("multipart/alternative"));
        assert_eq!(bob.from, "newsletter@news.example.de");
        // The visible link, in both the text and the HTML part.
        let parts = decoded_parts(raw);
        assert!(parts.contains("text/plain") && parts.contains("text/html"));
        assert!(
            parts.contains(&format!("Unsubscribe: {url}")),
            "text part: {parts}"
        );
        // The visible link names the edition's language, for the page it opens.
        assert!(
            parts.contains(&format!("<a href=\"{url}?lang=en\">Unsubscribe</a>")),
            "HTML part: {parts}"
        );
        assert!(parts.contains("Dear readers"));
        // Each reader gets their own language.
        let li = messages.iter().find(|m| m.to == ["li@qiye.cn"]).unwrap();
        assert!(decoded_parts(&li.data).contains("亲爱的读者"));

        let p = store.newsletter_progress(id).await.unwrap();
        assert_eq!((p.sent, p.failed, p.queued), (3, 0, 0));
        // The archive keeps what was sent, without anyone's token.
        let editions = store.newsletter_editions(id).await.unwrap();
        assert!(editions.iter().all(|e| {
            e.rendered_html
                .as_deref()
                .is_some_and(|h| h.contains("{{unsubscribe_url}}"))
        }));
    }
}

/// A fresh 2048-bit RSA key (PKCS#8 PEM) and its public key for the DNS TXT record.
fn rsa_key() -> (String, String) {
    let pem = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .expect("openssl runs");
    assert!(pem.status.success());
    let pem = String::from_utf8(pem.stdout).unwrap();
    let (_, public) = python(
        "import sys, subprocess, base64\n\
         der = subprocess.run(['openssl', 'pkey', '-pubout', '-outform', 'DER'], input=sys.stdin.buffer.read(), capture_output=True, check=True).stdout\n\
         print(base64.b64encode(der).decode(), end='')\n",
        &pem,
    );
    (pem, public)
}

const VERIFY: &str = "import sys, dkim\n\
    key = sys.argv[1]\n\
    def dns(name, timeout=5):\n\
    \x20   assert name == b'news2026._domainkey.news.example.de.', name\n\
    \x20   return ('v=DKIM1; k=rsa; p=' + key).encode()\n\
    msg = sys.stdin.buffer.read()\n\
    d = dkim.DKIM(msg)\n\
    ok = d.verify(dnsfunc=dns)\n\
    sig = [v for k, v in d.headers if k.lower() == b'dkim-signature'][0]\n\
    print('signed headers:', dkim.util.parse_tag_value(sig)[b'h'].decode())\n\
    sys.exit(0 if ok else 1)\n";

fn dkim_verifies(raw: &str, public: &str) -> (bool, String) {
    python_with(VERIFY, &[public], raw)
}

#[tokio::test]
async fn dkim_signatures_verify_with_dkimpy_and_cover_the_list_headers() {
    let (store, url) = backends().await.remove(0);
    let (pem, public) = rsa_key();
    let signer = DkimSigner::from_pem("news.example.de", "news2026", &pem).unwrap();
    let sink = Sink::start(0).await;
    let people = [
        ("bob@company.co.uk", "en", "confirmed"),
        ("li@qiye.cn", "zh", "confirmed"),
    ];
    send_issue(&store, &url, &people, sink.port, Some(signer)).await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    for m in &messages {
        let (ok, out) = dkim_verifies(&m.data, &public);
        assert!(ok, "dkimpy rejects the signature: {out}\n{}", m.data);
        for h in [
            "list-unsubscribe",
            "list-unsubscribe-post",
            "from",
            "message-id",
        ] {
            assert!(
                out.split(':').any(|s| s.trim() == h || s.ends_with(h)),
                "{h} not signed: {out}"
            );
        }
        // One changed character in List-Unsubscribe breaks it, as it must.
        let forged = m.data.replacen(
            "/newsletter/unsubscribe/tok",
            "/newsletter/unsubscribe/TOK",
            1,
        );
        assert_ne!(&forged, &m.data);
        assert!(
            !dkim_verifies(&forged, &public).0,
            "a forged header verified"
        );
    }
}

#[tokio::test]
async fn when_the_smtp_server_is_down_the_queue_waits_and_then_goes_out_once() {
    for (store, url) in backends().await {
        let port = free_port();
        let people: Vec<(String, &str, &str)> = (0..60)
            .map(|i| (format!("p{i}@firma.de"), "de", "confirmed"))
            .collect();
        let refs: Vec<(&str, &str, &str)> = people
            .iter()
            .map(|(e, l, s)| (e.as_str(), *l, *s))
            .collect();
        add_subscribers(&url, &refs).await;
        let id = issue(&store).await;
        send_now(&store, id).await;
        // Nothing listens on the port.
        let running = start_sender(&store, port, None);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let p = store.newsletter_progress(id).await.unwrap();
        assert_eq!((p.sent, p.failed, p.queued), (0, 0, 60), "{p:?}");
        // The store keeps working meanwhile.
        store.ping().await.unwrap();

        let sink = Sink::start(port).await;
        until_sent(&store, id, Duration::from_secs(30)).await;
        running.stop().await;
        let counts = sink.counts();
        assert_eq!(counts.len(), 60);
        assert!(counts.values().all(|&n| n == 1), "{counts:?}");
        let p = store.newsletter_progress(id).await.unwrap();
        assert_eq!((p.sent, p.failed, p.queued), (60, 0, 0));
        sink.stop();
    }
}

#[tokio::test]
async fn temporary_refusals_are_retried_and_permanent_ones_recorded() {
    for (store, url) in backends().await {
        let sink = Sink::start(0).await;
        sink.busy_recipient("busy@firma.de", 2);
        sink.busy_after_data("late@firma.de", 1);
        sink.refuse_recipient("gone@firma.de");
        let people = [
            ("busy@firma.de", "de", "confirmed"),
            ("late@firma.de", "de", "confirmed"),
            ("gone@firma.de", "de", "confirmed"),
            ("fine@firma.de", "en", "confirmed"),
        ];
        let (id, _) = send_issue(&store, &url, &people, sink.port, None).await;
        let counts = sink.counts();
        for who in ["busy@firma.de", "late@firma.de", "fine@firma.de"] {
            assert_eq!(counts.get(who), Some(&1), "{who}: {counts:?}");
        }
        assert_eq!(counts.get("gone@firma.de"), None);
        let p = store.newsletter_progress(id).await.unwrap();
        assert_eq!((p.sent, p.failed, p.queued), (3, 1, 0), "{p:?}");
        let failed = store.failed_deliveries(id, 10).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, "gone@firma.de");
        assert!(failed[0].1.contains("550"), "{failed:?}");
    }
}

#[tokio::test]
async fn the_rate_limit_holds_over_all_connections() {
    let (store, url) = backends().await.remove(0);
    let sink = Sink::start(0).await;
    let people: Vec<String> = (0..30).map(|i| format!("r{i}@firma.de")).collect();
    let refs: Vec<(&str, &str, &str)> = people
        .iter()
        .map(|e| (e.as_str(), "en", "confirmed"))
        .collect();
    add_subscribers(&url, &refs).await;
    let id = issue(&store).await;
    send_now(&store, id).await;
    let started = Instant::now();
    let running = start_sender_at(&store, sink.port, None, 20.0);
    until_sent(&store, id, Duration::from_secs(30)).await;
    let took = started.elapsed();
    running.stop().await;
    assert_eq!(sink.counts().len(), 30);
    // 30 messages at 20 per second: the first goes at once, the last after 29 intervals.
    assert!(took >= Duration::from_millis(1400), "too fast: {took:?}");
}
