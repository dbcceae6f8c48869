//! Newsletter throughput benchmark (not a test; see bench/newsletter/README.md).
//!
//! In one run, against one local counting SMTP sink (its own thread and runtime):
//! 1. raw: a bare client blasts one pre-rendered message N times over C connections (the
//!    sink's acceptance rate: the ceiling for any client on this machine), before and again
//!    after step 2; Kontor is compared with the mean of the two;
//! 2. kontor: the real sender (`BulkSender`: queue in SQLite, claim, render, commit before the
//!    final dot) sends one issue to N confirmed subscribers over C connections;
//! 3. nagle: the raw client again, fewer messages, with and without TCP_NODELAY.
//!
//! Usage: newsletter_bench [messages=100000] [connections=4] [nagle_messages=1000] [pin=1]
//!
//! With pin=1 (and at least two cores) the sink's thread runs on core 0 and everything else
//! (the clients, Kontor's workers, SQLite's threads) on the other cores, as if the SMTP server
//! were another machine: the sink's acceptance rate is then its own capacity, and the question
//! is whether the sender keeps up with it. pin=0 lets both compete for every core.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kontor_domain::Locale;
use kontor_mail::SmtpConfig;
use kontor_mail::bulk::{
    BulkConfig, BulkSender, EditionParts, Envelope, Journal, NewsletterMailer, SmtpClient, Template,
};
use kontor_store::newsletter::{EditionInput, IssueFields};
use kontor_store::{Store, Uuid};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const BASE: &str = "https://kontor.example.org";

/// Counts accepted messages and remembers when the first and the last were accepted.
#[derive(Default)]
struct Counter {
    accepted: AtomicU64,
    first_us: AtomicU64,
    last_us: AtomicU64,
}

/// Runs the calling thread (and the threads it starts later) on the cores of `list` ("0",
/// "1-3"), with util-linux's taskset: the workspace forbids `unsafe`, which sched_setaffinity
/// would need.
fn pin_to(list: &str) {
    let me = std::fs::read_link("/proc/thread-self").expect("Linux /proc");
    let tid = me
        .file_name()
        .and_then(|t| t.to_str())
        .expect("a thread id");
    let ok = std::process::Command::new("taskset")
        .args(["-p", "-c", list, tid])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "taskset -p -c {list} {tid} failed (apt-get install util-linux)"
    );
}

/// The SMTP server under test: ours (counting in-process), or an external one on `port` (e.g.
/// Postfix's smtp-sink, see run.sh), whose acceptance the clients time from their replies.
struct Sink {
    port: u16,
    counter: Option<Arc<Counter>>,
    epoch: Instant,
}

/// Where a measurement started.
struct Mark {
    accepted: u64,
    started_us: u64,
    wall: Instant,
    /// Wall clock, as the database records `sent_at`.
    started_at: i64,
    cpu: f64,
}

/// CPU seconds (user + system) this process has used, all threads (the sink's too, when it
/// is ours).
fn process_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    // After the command name in parentheses: state is field 3; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

impl Mark {
    /// CPU microseconds this process used per message since the mark.
    fn cpu_per_message(&self, n: u64) -> f64 {
        (process_cpu() - self.cpu) * 1e6 / n as f64
    }
}

impl Sink {
    fn mark(&self) -> Mark {
        Mark {
            accepted: self
                .counter
                .as_ref()
                .map_or(0, |c| c.accepted.load(Ordering::Relaxed)),
            started_us: self.epoch.elapsed().as_micros() as u64,
            wall: Instant::now(),
            started_at: kontor_domain::now_micros(),
            cpu: process_cpu(),
        }
    }

    /// Messages accepted per second since `m`: as our sink counted them, from its first to
    /// its last acceptance; for an external sink, `n` messages over the time since `m` (call
    /// it when the last reply is in).
    fn rate(&self, m: &Mark, n: u64) -> f64 {
        match &self.counter {
            Some(c) => sink_rate(c, m.accepted, m.started_us),
            None => n as f64 / m.wall.elapsed().as_secs_f64(),
        }
    }
}

fn start_sink(pin: bool) -> Sink {
    let counter = Arc::new(Counter::default());
    let epoch = Instant::now();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let c = counter.clone();
    std::thread::spawn(move || {
        if pin {
            pin_to("0");
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, c.clone(), epoch));
            }
        });
    });
    Sink {
        port,
        counter: Some(counter),
        epoch,
    }
}

async fn session(stream: tokio::net::TcpStream, c: Arc<Counter>, epoch: Instant) {
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::with_capacity(64 * 1024, r);
    let mut out: Vec<u8> = b"220 bench ESMTP\r\n".to_vec();
    let mut line = Vec::new();
    let mut in_data = false;
    loop {
        if r.buffer().is_empty() && !out.is_empty() {
            if w.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        line.clear();
        match r.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if in_data {
            if line == b".\r\n" {
                in_data = false;
                let now = epoch.elapsed().as_micros() as u64;
                if c.accepted.fetch_add(1, Ordering::Relaxed) == 0 {
                    c.first_us.store(now, Ordering::Relaxed);
                }
                c.last_us.store(now, Ordering::Relaxed);
                out.extend_from_slice(b"250 ok\r\n");
            }
            continue;
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with(b"EHLO") {
            out.extend_from_slice(b"250-bench\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        } else if upper.starts_with(b"DATA") {
            out.extend_from_slice(b"354 go\r\n");
            in_data = true;
        } else if upper.starts_with(b"QUIT") {
            let _ = w.write_all(b"221 bye\r\n").await;
            return;
        } else {
            out.extend_from_slice(b"250 ok\r\n");
        }
    }
}

fn smtp(port: u16) -> SmtpConfig {
    SmtpConfig::parse(
        &format!("smtp://127.0.0.1:{port}"),
        "Wirtschaftsförderung <newsletter@kontor.example.org>",
    )
    .unwrap()
}

/// Accepted messages per second as the sink saw them, from `before` on.
fn sink_rate(c: &Counter, before: u64, started_us: u64) -> f64 {
    let n = c.accepted.load(Ordering::Relaxed) - before;
    let span = c.last_us.load(Ordering::Relaxed).saturating_sub(started_us) as f64 / 1e6;
    n as f64 / span.max(1e-9)
}

/// The bare client: like the real sender (each final dot pipelined with the next envelope) but
/// with no database and one message rendered and dot-stuffed once.
async fn raw_blast(port: u16, data: Arc<Vec<u8>>, n: usize, conns: usize, nodelay: bool) {
    let per = n / conns;
    let mut tasks = Vec::new();
    for k in 0..conns {
        let data = data.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = SmtpClient::connect_with(&smtp(port), nodelay)
                .await
                .unwrap();
            let to = |i: usize| format!("r{k}-{i}@example.org");
            let from = "newsletter@kontor.example.org";
            let eight_bit = c.eight_bit;
            let first = to(0);
            c.begin(&Envelope {
                from,
                to: &first,
                eight_bit,
            })
            .await
            .unwrap();
            for i in 0..per {
                c.write_data(&data).await.unwrap();
                let next = to(i + 1);
                let next = (i + 1 < per).then_some(Envelope {
                    from,
                    to: &next,
                    eight_bit,
                });
                let (verdict, begun) = c.commit_and_finish(|| Ok(()), next.as_ref()).await;
                verdict.unwrap();
                if let Some(begun) = begun {
                    begun.unwrap();
                }
            }
            c.quit().await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

async fn measure_raw(
    sink: &Sink,
    message: Arc<Vec<u8>>,
    n: usize,
    conns: usize,
    nodelay: bool,
) -> f64 {
    let mark = sink.mark();
    raw_blast(sink.port, message, n, conns, nodelay).await;
    let sent = (n / conns * conns) as u64;
    if sink.counter.is_none() && nodelay && n >= 10_000 {
        println!(
            "raw client: {:.1} µs CPU per message",
            mark.cpu_per_message(sent)
        );
    }
    sink.rate(&mark, sent)
}

async fn kontor_run(sink: &Sink, n: usize, conns: usize) {
    let port = sink.port;
    let dir = std::env::temp_dir().join(format!("kontor-bench-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/k.db", dir.display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    kontor_store::testing::confirmed_readers(&store, n)
        .await
        .unwrap();
    let editions = [Locale::De, Locale::En, Locale::Zh].map(|locale| EditionInput {
        locale,
        subject: format!("Newsletter November ({})", locale.bcp47()),
        intro: "Liebe Leserinnen und Leser, dear readers, 亲爱的读者。\n\n".repeat(20),
    });
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .create_issue(
            &IssueFields {
                title: "Bench".into(),
                include_events: false,
                topic: None,
                editions: editions.to_vec(),
            },
            kontor_domain::now_micros(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let queued_at = Instant::now();
    let queued =
        kontor_mail::newsletter::start_issue(&store, BASE, id, kontor_domain::now_micros())
            .await
            .unwrap();
    println!(
        "queue: {queued} rows created in one transaction in {:.2} s",
        queued_at.elapsed().as_secs_f64()
    );

    let config = BulkConfig {
        connections: conns,
        rate_per_second: 0.0,
        poll: Duration::from_millis(100),
        ..BulkConfig::default()
    };
    let starter = kontor_mail::newsletter::starter(&store, BASE);
    let sender = BulkSender::new(
        store.clone(),
        smtp(port),
        NewsletterMailer::new(smtp(port).from, BASE, None),
        config,
        Journal::open(dir.join("newsletter.journal")).unwrap(),
        starter,
    );
    let mark = sink.mark();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(sender.run(Arc::new(tokio::sync::Notify::new()), rx));
    loop {
        match &sink.counter {
            Some(c) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if c.accepted.load(Ordering::Relaxed) - mark.accepted >= queued {
                    break;
                }
            }
            None => {
                // The external sink cannot be asked: the sender closes the issue when its
                // queue is empty (a cheap query; counting the queue would cost the sender).
                tokio::time::sleep(Duration::from_millis(50)).await;
                if store.newsletter_issue(id).await.unwrap().status == "sent" {
                    break;
                }
            }
        }
    }
    let p = store.newsletter_progress(id).await.unwrap();
    let rate = match &sink.counter {
        Some(_) => sink.rate(&mark, queued),
        // From the start to the moment the last batch was recorded, just after its replies.
        None => {
            let last = p.last_sent_at.expect("messages sent");
            p.sent as f64 / ((last - mark.started_at) as f64 / 1e6)
        }
    };
    let elapsed = mark.wall.elapsed().as_secs_f64();
    if sink.counter.is_none() {
        println!(
            "kontor: {:.1} µs CPU per message",
            mark.cpu_per_message(queued)
        );
    }
    let _ = stop.send(true);
    task.await.unwrap();
    println!(
        "kontor: {} messages over {conns} connections in {elapsed:.1} s: {rate:.0} msg/s at the sink \
         (sent {}, failed {}, queued {})",
        queued, p.sent, p.failed, p.queued
    );
    KONTOR_RATE.store(rate.to_bits(), Ordering::Relaxed);
    let _ = std::fs::remove_dir_all(&dir);
}

static KONTOR_RATE: AtomicU64 = AtomicU64::new(0);

/// One edition as Kontor renders it (the English one).
fn edition_parts() -> EditionParts {
    let edition = kontor_mail::newsletter::render_edition(
        Locale::En,
        "Newsletter November (en)",
        &"Liebe Leserinnen und Leser, dear readers, 亲爱的读者。\n\n".repeat(20),
        &[],
        "https://kontor.example.org/newsletter/archive/x",
    );
    EditionParts {
        subject: edition.subject,
        text: edition.text,
        html: edition.html,
    }
}

/// What Kontor sends to a server with 8BITMIME (like both sinks): the edition's template,
/// filled in per recipient.
fn message_template(port: u16) -> (NewsletterMailer, Template) {
    let mailer = NewsletterMailer::new(smtp(port).from, BASE, None);
    let template = mailer
        .template(&edition_parts())
        .expect("the edition travels as 8bit");
    (mailer, template)
}

/// The DATA section as the sender makes it: from the template's dot-stuffed copy.
fn fill(mailer: &NewsletterMailer, template: &Template, i: u128) -> Vec<u8> {
    mailer
        .fill_data(
            template,
            Uuid::from_u128(i),
            Uuid::from_u128(i),
            "reader@example.org",
            "token-000000-abcdefghijklmnopqrstuvwxyz",
        )
        .unwrap()
        .expect("an ASCII address")
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--message-size") {
        // For run.sh: the size of the message the clients send, for Postfix's smtp-source.
        let (mailer, template) = message_template(0);
        let data = fill(&mailer, &template, 0);
        println!("{}", data.len());
        return;
    }
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pin = args.get(3).copied().unwrap_or(1) == 1 && cores >= 2;
    let sink = match std::env::var("SINK_PORT") {
        Ok(port) => Sink {
            port: port.parse().expect("SINK_PORT: a port number"),
            counter: None,
            epoch: Instant::now(),
        },
        Err(_) => start_sink(pin),
    };
    if pin {
        // Before the runtime starts, so that its workers and SQLite's threads inherit it.
        pin_to(&format!("1-{}", cores - 1));
    }
    println!(
        "{}",
        if pin {
            format!("pinned: the sink on core 0, the senders on cores 1..{cores}")
                + if sink.counter.is_none() {
                    " (the external sink pins itself)"
                } else {
                    ""
                }
        } else {
            "not pinned: the sink and the senders share every core".to_string()
        }
    );
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(args, sink));
}

async fn run(args: Vec<usize>, sink: Sink) {
    let port = sink.port;
    let n = args.first().copied().unwrap_or(100_000);
    let conns = args.get(1).copied().unwrap_or(4);
    let nagle_n = args.get(2).copied().unwrap_or(1_000);

    // One message as Kontor renders it (the English edition), rendered once.
    let (mailer, template) = message_template(port);
    let parts = edition_parts();
    let fill = |i: u128| fill(&mailer, &template, i);
    let data = fill(0);
    println!(
        "message: {} bytes; {n} messages, {conns} connections",
        data.len()
    );
    let per_message = |f: &dyn Fn(u128)| {
        let timer = Instant::now();
        for i in 0..2_000u128 {
            f(i);
        }
        timer.elapsed().as_secs_f64() * 1e6 / 2_000.0
    };
    let filled = per_message(&|i| {
        let _ = fill(i);
    });
    let rendered = per_message(&|i| {
        let _ = mailer.render(
            &parts,
            Uuid::from_u128(i),
            Uuid::from_u128(i),
            "reader@example.org",
            "t",
        );
    });
    println!(
        "per message on one core: {filled:.1} µs filled from the template, \
         {rendered:.1} µs rendered as MIME from scratch (servers without 8BITMIME)"
    );
    let message = Arc::new(data);

    let before = measure_raw(&sink, message.clone(), n, conns, true).await;
    println!("raw client (TCP_NODELAY): {before:.0} msg/s accepted by the sink");
    kontor_run(&sink, n, conns).await;
    let kontor = f64::from_bits(KONTOR_RATE.load(Ordering::Relaxed));
    // Once more after Kontor: on a shared machine the sink's rate drifts, and the mean of the
    // runs on either side is the fairer reference.
    let after = measure_raw(&sink, message.clone(), n, conns, true).await;
    println!("raw client again (TCP_NODELAY): {after:.0} msg/s accepted by the sink");
    let raw = (before + after) / 2.0;
    println!(
        "kontor / raw: {:.1} % of the mean of both raw runs (target >= 90 %)",
        100.0 * kontor / raw
    );
    let on = measure_raw(&sink, message.clone(), nagle_n, conns, true).await;
    let off = measure_raw(&sink, message, nagle_n, conns, false).await;
    println!(
        "raw client, {nagle_n} messages: TCP_NODELAY {on:.0} msg/s, Nagle on (no TCP_NODELAY) {off:.0} msg/s"
    );
}
