//! Delivery to a real SMTP server: a small SMTP sink on loopback inside the test.

mod client;
mod newsletter;
mod sink;
mod tls;

use std::sync::Arc;

use kontor_domain::Locale;
use kontor_mail::{Composer, Delivery, OutboxWorker, SmtpConfig, SmtpSender};
use kontor_store::Store;

async fn store() -> Store {
    let s = Store::connect("sqlite::memory:").await.unwrap();
    s.migrate().await.unwrap();
    s
}

fn worker(store: &Store, port: u16) -> OutboxWorker {
    let config = SmtpConfig::parse(
        &format!("smtp://127.0.0.1:{port}"),
        "Kontor <noreply@kontor.example>",
    )
    .unwrap();
    OutboxWorker::new(
        store.clone(),
        Delivery::Smtp(Box::new(SmtpSender::new(config))),
        Arc::new(tokio::sync::Notify::new()),
    )
}

async fn enqueue(store: &Store, to: &str, now: i64) {
    let mail =
        Composer::new("https://exchange.example").sign_in(to, Locale::Zh, "王芳", "123456", "tok");
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_mail(&mail, now).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn mails_reach_the_smtp_server_once_with_proper_headers() {
    let sink = sink::Sink::start(0).await;
    let store = store().await;
    let now = kontor_domain::now_micros();
    for i in 0..5 {
        enqueue(&store, &format!("p{i}@example.cn"), now).await;
    }
    let mut w = worker(&store, sink.port);
    assert_eq!(w.deliver_due_at(now).await.unwrap(), 5);
    assert_eq!(
        w.deliver_due_at(now).await.unwrap(),
        0,
        "nothing is delivered twice"
    );
    let got = sink.messages();
    assert_eq!(got.len(), 5);
    assert_eq!(
        sink.connections(),
        1,
        "one connection is reused for all mails"
    );
    let m = &got[0];
    assert_eq!(m.from, "noreply@kontor.example");
    assert_eq!(m.to, vec!["p0@example.cn".to_string()]);
    // The From header ends in `@kontor.example>` too: look at the Message-ID line itself.
    let message_id = m
        .data
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .unwrap_or_else(|| panic!("a Message-ID: {}", m.data));
    assert!(message_id.ends_with("@kontor.example>"), "{message_id}");
    assert!(m.data.contains("multipart/alternative"));
    assert!(
        m.data.contains("Subject: =?utf-8?"),
        "non-ASCII subjects are encoded: {}",
        m.data
    );
    assert_eq!(store.outbox_counts().await.unwrap().sent, 5);
}

#[tokio::test]
async fn when_the_server_is_down_mail_waits_and_goes_out_later() {
    // A port with nothing listening: connection refused.
    let port = sink::free_port();
    let store = store().await;
    let now = kontor_domain::now_micros();
    enqueue(&store, "li@example.cn", now).await;
    let mut w = worker(&store, port);
    assert_eq!(w.deliver_due_at(now).await.unwrap(), 1);
    let mail = &store.outbox(None, 1).await.unwrap()[0];
    assert_eq!((mail.status.as_str(), mail.attempts), ("pending", 1));
    assert!(mail.last_error.is_some());
    // Not retried before its backoff has passed…
    assert_eq!(w.deliver_due_at(now + 1_000_000).await.unwrap(), 0);
    // …and delivered once the server is back.
    let sink = sink::Sink::start(port).await;
    assert_eq!(w.deliver_due_at(now + 31_000_000).await.unwrap(), 1);
    assert_eq!(sink.messages().len(), 1);
    let mail = &store.outbox(None, 1).await.unwrap()[0];
    assert_eq!((mail.status.as_str(), mail.attempts), ("sent", 2));
}

#[tokio::test]
async fn a_permanent_refusal_is_recorded_and_not_retried() {
    let sink = sink::Sink::start(0).await;
    sink.refuse_recipient("gone@example.de");
    let store = store().await;
    let now = kontor_domain::now_micros();
    enqueue(&store, "gone@example.de", now).await;
    enqueue(&store, "here@example.de", now + 1).await;
    let mut w = worker(&store, sink.port);
    assert_eq!(w.deliver_due_at(now + 2).await.unwrap(), 2);
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.sent, counts.failed, counts.pending), (1, 1, 0));
    assert_eq!(w.deliver_due_at(now + 10_000_000_000).await.unwrap(), 0);
    assert_eq!(
        sink.messages().len(),
        1,
        "the next mail still went out after the refusal"
    );
}
