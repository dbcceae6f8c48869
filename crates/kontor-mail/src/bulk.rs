//! Newsletter delivery: a small SMTP client of our own and the workers that drain the delivery
//! queue (`kontor_store::newsletter`).
//!
//! # Exactly once, and the one window left
//!
//! For every message a worker: claims the queue row (a lease under a claim id), sends
//! `MAIL`/`RCPT`/`DATA` (pipelined when offered) and the whole dot-stuffed message **without**
//! the terminating `.` line. Then, in one poll of the task with nothing in between that could
//! yield, it appends `+ issue subscriber claim` to the send [`Journal`] (one `write` to an
//! `O_APPEND` file) and writes `.\r\n` to the socket. Only after the server's reply is the row
//! marked `sent` in the database; on a refusal a `-` line withdraws the journal entry and the row
//! is queued again (4xx, broken connection) or failed (5xx). At start-up the net `+` entries are
//! marked sent before anything is claimed, and the journal is emptied.
//!
//! - Killed before the journal line: the server never got the final dot and drops the message
//!   when the connection closes; the row is still queued and goes out once after restart.
//! - Killed after the dot's `write` returned: the kernel still sends the bytes (the receive
//!   buffer is empty then, so closing does not reset the connection); the server accepts; the
//!   journal says sent; the restart records it: one copy.
//! - Killed between the journal `write` and the socket `write` (two consecutive system calls,
//!   microseconds apart, no await between them): the row counts as sent but the server dropped
//!   the message: **at most one** copy. This is the only window left. (Committing to the
//!   database there instead, as a first version did, left the time for the database's reply to
//!   wake the task — milliseconds on a busy machine, and the crash test lost a message in about
//!   one run in six.)
//! - The server accepted the dot but the connection broke before its reply arrived: we withdraw
//!   the entry and send again, so a second copy is possible. This is SMTP's own ambiguity
//!   (RFC 1047) that no client can close; the Message-ID is the same for every attempt at one
//!   (issue, subscriber), so receivers can de-duplicate.
//! - A claim is never completed after its lease (less a tenth) has run out, so two workers do
//!   not finish the same row. The journal is per instance; an instance that dies and never
//!   returns leaves its window rows to be resent by others once their leases run out.
//! - Durability is the operating system's: the journal and SQLite (WAL, synchronous=NORMAL)
//!   survive a killed process, not a power cut.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use kontor_store::newsletter::{Delivery, UNSUBSCRIBE_PLACEHOLDER};
use kontor_store::{Store, Uuid};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, Notify, watch};

use crate::dkim::DkimSigner;
use crate::smtp::{Security, SendError, SmtpConfig};

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// One SMTP client connection (RFC 5321 with PIPELINING, STARTTLS, AUTH PLAIN).
pub struct SmtpClient {
    io: BufReader<Box<dyn Stream>>,
    pipelining: bool,
    timeout: Duration,
    /// The session is in an unknown state: do not reuse the connection.
    pub broken: bool,
    /// The server takes 8-bit bodies (`8BITMIME`).
    pub eight_bit: bool,
}

fn temporary(e: impl std::fmt::Display) -> SendError {
    SendError::Temporary(e.to_string())
}

/// A server reply: code and text (all lines).
struct Reply {
    code: u16,
    text: String,
}

impl Reply {
    fn check(self, expect: u16) -> Result<Reply, SendError> {
        if self.code == expect || (expect == 250 && (200..300).contains(&self.code)) {
            Ok(self)
        } else if (500..600).contains(&self.code) {
            Err(SendError::Permanent(format!("{} {}", self.code, self.text)))
        } else {
            Err(SendError::Temporary(format!("{} {}", self.code, self.text)))
        }
    }
}

impl SmtpClient {
    /// Connects, greets, upgrades to TLS as configured and authenticates.
    pub async fn connect(c: &SmtpConfig) -> Result<SmtpClient, SendError> {
        Self::connect_with(c, true).await
    }

    /// Like [`SmtpClient::connect`]; `nodelay: false` leaves Nagle's algorithm on (only the
    /// benchmark does that, to show what it costs).
    pub async fn connect_with(c: &SmtpConfig, nodelay: bool) -> Result<SmtpClient, SendError> {
        let tcp = tokio::time::timeout(
            c.timeout,
            tokio::net::TcpStream::connect((c.host.as_str(), c.port)),
        )
        .await
        .map_err(|_| temporary("connect timed out"))?
        .map_err(|e| temporary(format!("connect: {e}")))?;
        // Without it, the short final writes wait for the peer's delayed ACK (~40 ms each).
        tcp.set_nodelay(nodelay).map_err(temporary)?;
        let stream: Box<dyn Stream> = if c.security == Security::Tls {
            Box::new(tls(tcp, c).await?)
        } else {
            Box::new(tcp)
        };
        let mut client = SmtpClient {
            io: BufReader::new(stream),
            pipelining: false,
            timeout: c.timeout,
            broken: false,
            eight_bit: false,
        };
        client.reply().await?.check(220)?;
        let mut extensions = client.ehlo(&c.domain).await?;
        if c.security == Security::StartTls {
            if !extensions.iter().any(|e| e == "STARTTLS") {
                return Err(SendError::Permanent(format!(
                    "{}:{} does not offer STARTTLS, which smtp+starttls:// demands; nothing sent in plain text",
                    c.host, c.port
                )));
            }
            client.command("STARTTLS\r\n").await?.check(220)?;
            let plain = std::mem::replace(
                &mut client.io,
                // A placeholder while the plain stream becomes TLS.
                BufReader::new(Box::new(tokio::io::duplex(1).0)),
            );
            let tls = tls(plain.into_inner(), c).await?;
            client.io = BufReader::new(Box::new(tls));
            extensions = client.ehlo(&c.domain).await?;
        }
        client.pipelining = extensions.iter().any(|e| e == "PIPELINING");
        client.eight_bit = extensions.iter().any(|e| e == "8BITMIME");
        if let (Some(user), Some(pass)) = (&c.username, &c.password) {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
            client
                .command(&format!("AUTH PLAIN {token}\r\n"))
                .await?
                .check(235)?;
        }
        Ok(client)
    }

    async fn ehlo(&mut self, domain: &str) -> Result<Vec<String>, SendError> {
        let reply = self
            .command(&format!("EHLO {domain}\r\n"))
            .await?
            .check(250)?;
        Ok(reply
            .text
            .lines()
            .skip(1)
            .map(|l| {
                l.split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase()
            })
            .collect())
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        let result = self.write_inner(bytes).await;
        self.broken |= result.is_err();
        result
    }

    async fn write_inner(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        let io = self.io.get_mut();
        tokio::time::timeout(self.timeout, async {
            io.write_all(bytes).await?;
            io.flush().await
        })
        .await
        .map_err(|_| temporary("write timed out"))?
        .map_err(|e| temporary(format!("write: {e}")))
    }

    async fn command(&mut self, line: &str) -> Result<Reply, SendError> {
        self.write(line.as_bytes()).await?;
        self.reply().await
    }

    async fn reply(&mut self) -> Result<Reply, SendError> {
        let result = self.reply_inner().await;
        self.broken |= result.is_err();
        result
    }

    async fn reply_inner(&mut self) -> Result<Reply, SendError> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(self.timeout, self.io.read_line(&mut line))
                .await
                .map_err(|_| temporary("reply timed out"))?
                .map_err(|e| temporary(format!("read: {e}")))?;
            if n == 0 {
                return Err(temporary("connection closed by the server"));
            }
            if line.len() < 4 {
                return Err(temporary(format!("malformed reply {line:?}")));
            }
            let code: u16 = line[..3]
                .parse()
                .map_err(|_| temporary(format!("malformed reply {line:?}")))?;
            text.push_str(line[4..].trim_end());
            text.push('\n');
            if line.as_bytes()[3] != b'-' {
                return Ok(Reply {
                    code,
                    text: text.trim_end().to_string(),
                });
            }
        }
    }

    /// `MAIL FROM`, `RCPT TO`, `DATA` (one write when the server offers PIPELINING). After a
    /// refusal the transaction is reset and the connection may be reused unless [`Self::broken`].
    /// `eight_bit`: the message has 8-bit bodies (`BODY=8BITMIME`; only if [`Self::eight_bit`]).
    pub async fn begin(&mut self, from: &str, to: &str, eight_bit: bool) -> Result<(), SendError> {
        let result = self.begin_inner(from, to, eight_bit).await;
        if result.is_err() && !self.broken && self.command("RSET\r\n").await.is_err() {
            self.broken = true;
        }
        result
    }

    async fn begin_inner(
        &mut self,
        from: &str,
        to: &str,
        eight_bit: bool,
    ) -> Result<(), SendError> {
        let body = if eight_bit { " BODY=8BITMIME" } else { "" };
        let mail = format!("MAIL FROM:<{from}>{body}\r\n");
        let rcpt = format!("RCPT TO:<{to}>\r\n");
        let result = if self.pipelining {
            self.write(format!("{mail}{rcpt}DATA\r\n").as_bytes())
                .await?;
            let replies = async {
                let m = self.reply().await?;
                let r = self.reply().await?;
                let d = self.reply().await?;
                Ok::<_, SendError>((m, r, d))
            };
            let (m, r, d) = match replies.await {
                Ok(x) => x,
                Err(e) => {
                    self.broken = true;
                    return Err(e);
                }
            };
            if d.code == 354 && (m.code >= 400 || r.code >= 400) {
                // The server accepted DATA after refusing a recipient (RFC 2920 says it should
                // not): the session expects a message now.
                self.broken = true;
            }
            m.check(250)
                .and_then(|_| r.check(250))
                .and_then(|_| d.check(354))
        } else {
            match self.command(&mail).await?.check(250) {
                Err(e) => Err(e),
                Ok(_) => match self.command(&rcpt).await?.check(250) {
                    Err(e) => Err(e),
                    Ok(_) => self.command("DATA\r\n").await?.check(354),
                },
            }
        };
        result.map(|_| ())
    }

    /// Writes the message, dot-stuffed, without the terminating line. Returns when every byte is
    /// with the kernel.
    pub async fn write_body(&mut self, message: &[u8]) -> Result<(), SendError> {
        self.write(&dot_stuffed(message)).await
    }

    /// Writes the terminating `.` line and reads the server's verdict.
    pub async fn finish(&mut self) -> Result<(), SendError> {
        self.write(b".\r\n").await?;
        self.reply().await?.check(250).map(|_| ())
    }

    /// Runs `commit` (synchronous), then writes the terminating line within the same poll of
    /// the task: nothing between the two can yield, so the process can only die between them
    /// during the few microseconds of two system calls.
    pub async fn commit_and_finish(
        &mut self,
        commit: impl FnOnce() -> std::io::Result<()>,
    ) -> Result<(), FinishError> {
        commit().map_err(FinishError::Commit)?;
        self.write(b".\r\n").await.map_err(FinishError::Send)?;
        self.reply()
            .await
            .and_then(|r| r.check(250))
            .map(|_| ())
            .map_err(FinishError::Send)
    }

    pub async fn quit(mut self) {
        let _ = self.command("QUIT\r\n").await;
    }
}

/// The message as the DATA section carries it (RFC 5321 4.5.2): a line that starts with `.` gets
/// another, and the last line ends with CRLF. Copied line by line, not byte by byte: this runs
/// for every recipient.
fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn tls<S: AsyncRead + AsyncWrite + Unpin + Send>(
    stream: S,
    c: &SmtpConfig,
) -> Result<tokio_rustls::client::TlsStream<S>, SendError> {
    let host = &c.host;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in &c.extra_roots {
        roots.add(cert.clone()).map_err(temporary)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(temporary)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(temporary)?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, stream)
        .await
        .map_err(|e| temporary(format!("TLS: {e}")))
}

/// Why [`SmtpClient::commit_and_finish`] failed.
#[derive(Debug)]
pub enum FinishError {
    /// The commit failed: the terminating line was not written.
    Commit(std::io::Error),
    /// The terminating line was written (or its write failed) and the server did not accept.
    Send(SendError),
}

/// The send journal: one line per message whose final dot is about to be written (`+`), and one
/// when the server then refused it (`-`). Appending is a single `write` to a file opened with
/// `O_APPEND`; the kernel keeps it when the process dies. At start-up the net `+` entries are
/// marked sent in the database and the journal is emptied. One journal per instance.
pub struct Journal {
    path: std::path::PathBuf,
    file: std::sync::Mutex<std::fs::File>,
}

impl Journal {
    pub fn open(path: impl Into<std::path::PathBuf>) -> std::io::Result<Journal> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        Ok(Journal {
            path,
            file: std::sync::Mutex::new(file),
        })
    }

    fn append(&self, sign: char, d: &Delivery) -> std::io::Result<()> {
        use std::io::Write;
        let line = format!(
            "{sign} {} {} {}\n",
            d.issue_id.simple(),
            d.subscriber_id.simple(),
            d.claim_id.simple()
        );
        self.file
            .lock()
            .expect("not poisoned")
            .write_all(line.as_bytes())
    }

    /// (issue, subscriber, claim) of messages recorded as sent and not withdrawn.
    pub fn pending(&self) -> std::io::Result<Vec<(Uuid, Uuid, Uuid)>> {
        let text = std::fs::read_to_string(&self.path)?;
        let mut out: Vec<(Uuid, Uuid, Uuid)> = Vec::new();
        for line in text.lines() {
            let mut parts = line.split(' ');
            let (Some(sign), Some(i), Some(s), Some(c)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue; // a torn last line: its dot was never written
            };
            let (Ok(i), Ok(s), Ok(c)) = (i.parse(), s.parse(), c.parse()) else {
                continue;
            };
            match sign {
                "+" => out.push((i, s, c)),
                _ => out.retain(|e| *e != (i, s, c)),
            }
        }
        Ok(out)
    }

    pub fn clear(&self) -> std::io::Result<()> {
        self.file.lock().expect("not poisoned").set_len(0)
    }
}

/// Builds one newsletter message per recipient.
pub struct NewsletterMailer {
    pub from: Mailbox,
    /// The host of the public URL: Message-IDs and List-Id are on it.
    pub host: String,
    pub base_url: String,
    pub dkim: Option<DkimSigner>,
}

/// The parts of an edition a message needs.
#[derive(Clone, Debug)]
pub struct EditionParts {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl NewsletterMailer {
    pub fn new(from: Mailbox, base_url: &str, dkim: Option<DkimSigner>) -> Self {
        let base_url = base_url.trim_end_matches('/').to_string();
        let host = base_url
            .split_once("://")
            .map_or(base_url.as_str(), |(_, rest)| rest)
            .split(['/', ':'])
            .next()
            .unwrap_or("localhost")
            .to_string();
        NewsletterMailer {
            from,
            host,
            base_url,
            dkim,
        }
    }

    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/newsletter/unsubscribe/{token}", self.base_url)
    }

    /// The complete message (CRLF line ends), DKIM-signed when a key is configured; bodies in
    /// the encoding lettre picks (quoted-printable or base64), for any server.
    pub fn render(
        &self,
        edition: &EditionParts,
        issue: Uuid,
        subscriber: Uuid,
        to: &str,
        token: &str,
    ) -> Result<Vec<u8>, SendError> {
        let to = parse_recipient(to)?;
        let url = self.unsubscribe_url(token);
        let message_id = self.message_id(issue, subscriber);
        let message = self
            .build(edition, Mailbox::new(None, to), &message_id, &url, false)
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        Ok(self.sign(message))
    }

    fn message_id(&self, issue: Uuid, subscriber: Uuid) -> String {
        format!("{}.{}@{}", issue.simple(), subscriber.simple(), self.host)
    }

    fn build(
        &self,
        edition: &EditionParts,
        to: Mailbox,
        message_id: &str,
        url: &str,
        eight_bit: bool,
    ) -> Result<Vec<u8>, String> {
        let text = edition.text.replace(UNSUBSCRIBE_PLACEHOLDER, url);
        let html = edition.html.replace(UNSUBSCRIBE_PLACEHOLDER, url);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&edition.subject)
            .date_now()
            .message_id(Some(format!("<{message_id}>")));
        for (name, value) in [
            ("List-Id", format!("Newsletter <newsletter.{}>", self.host)),
            ("List-Unsubscribe", format!("<{url}>")),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
        ] {
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(name),
                value,
            ));
        }
        let body = if eight_bit {
            use lettre::message::header::{ContentTransferEncoding, ContentType};
            use lettre::message::{Body, SinglePart};
            // lettre's own check refuses 8bit for any line of 76 bytes or more (its encoder's
            // rule of thumb), which every real edition has; RFC 5321/6152 allow 998. So the
            // body is checked here and passed on as it is.
            let part = |kind: ContentType, content: String| {
                let crlf = content.replace("\r\n", "\n").replace('\n', "\r\n");
                let fits = !crlf.contains('\0')
                    && !crlf.replace("\r\n", "").contains('\r')
                    && crlf.split("\r\n").all(|line| line.len() <= 998);
                if !fits {
                    return Err(
                        "not sendable as 8bit: a line over 998 octets, NUL or a bare CR"
                            .to_string(),
                    );
                }
                let body = Body::dangerous_pre_encoded(
                    crlf.into_bytes(),
                    ContentTransferEncoding::EightBit,
                );
                Ok(SinglePart::builder().header(kind).body(body))
            };
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, text)?)
                .singlepart(part(ContentType::TEXT_HTML, html)?)
        } else {
            MultiPart::alternative_plain_html(text, html)
        };
        Ok(builder
            .multipart(body)
            .map_err(|e| e.to_string())?
            .formatted())
    }

    fn sign(&self, message: Vec<u8>) -> Vec<u8> {
        match &self.dkim {
            Some(signer) => {
                let mut signed = signer
                    .sign(&message, kontor_domain::now_micros() / 1_000_000)
                    .into_bytes();
                signed.extend_from_slice(&message);
                signed
            }
            None => message,
        }
    }

    /// The edition rendered once with 8-bit bodies and markers where each recipient differs
    /// (address, Message-ID, unsubscribe URL): [`Self::fill`] then costs a few copies instead of
    /// a MIME encoding per message. `None` when a line is too long for 8bit.
    pub fn template(&self, edition: &EditionParts) -> Option<Template> {
        let to: Address = MARK_TO.parse().ok()?;
        let raw = self
            .build(edition, Mailbox::new(None, to), MARK_ID, MARK_URL, true)
            .ok()?;
        let mut segments = Vec::new();
        let mut rest = &raw[..];
        loop {
            let next = [
                (MARK_TO, Segment::To),
                (MARK_ID, Segment::MessageId),
                (MARK_URL, Segment::Url),
            ]
            .into_iter()
            .filter_map(|(m, seg)| find(rest, m.as_bytes()).map(|i| (i, m.len(), seg)))
            .min_by_key(|(i, _, _)| *i);
            match next {
                Some((i, len, seg)) => {
                    segments.push(Segment::Literal(rest[..i].to_vec()));
                    segments.push(seg);
                    rest = &rest[i + len..];
                }
                None => {
                    segments.push(Segment::Literal(rest.to_vec()));
                    break;
                }
            }
        }
        Some(Template { segments })
    }

    /// One recipient's message from a template (send it with `BODY=8BITMIME`); `None` for an
    /// address that needs encoding (then use [`Self::render`]).
    pub fn fill(
        &self,
        t: &Template,
        issue: Uuid,
        subscriber: Uuid,
        to: &str,
        token: &str,
    ) -> Result<Option<Vec<u8>>, SendError> {
        let address = parse_recipient(to)?;
        if !to.is_ascii() {
            return Ok(None);
        }
        let (url, id) = (
            self.unsubscribe_url(token),
            self.message_id(issue, subscriber),
        );
        let mut out = Vec::with_capacity(8 * 1024);
        for seg in &t.segments {
            match seg {
                Segment::Literal(b) => out.extend_from_slice(b),
                Segment::To => out.extend_from_slice(address.to_string().as_bytes()),
                Segment::MessageId => out.extend_from_slice(id.as_bytes()),
                Segment::Url => out.extend_from_slice(url.as_bytes()),
            }
        }
        Ok(Some(self.sign(out)))
    }
}

const MARK_TO: &str = "kontor-mark-to@mark.invalid";
const MARK_ID: &str = "kontor-mark-id@mark.invalid";
const MARK_URL: &str = "https://mark.invalid/kontor-mark-url";

fn parse_recipient(to: &str) -> Result<Address, SendError> {
    to.parse()
        .map_err(|e| SendError::Permanent(format!("recipient {to}: {e}")))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

enum Segment {
    Literal(Vec<u8>),
    To,
    MessageId,
    Url,
}

/// An edition pre-rendered for [`NewsletterMailer::fill`]; renewed every minute (its Date).
pub struct Template {
    segments: Vec<Segment>,
}

/// How the newsletter workers send.
#[derive(Clone, Debug)]
pub struct BulkConfig {
    /// Parallel SMTP connections (one worker each).
    pub connections: usize,
    /// Messages per second over all connections; 0 means no limit.
    pub rate_per_second: f64,
    /// Rows one worker claims at a time.
    pub batch: i64,
    /// How long a claim holds.
    pub lease: Duration,
    /// First retry delay after a temporary failure; doubles per attempt up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts before a temporary failure counts as permanent.
    pub max_attempts: i32,
    /// How often idle workers look for new work.
    pub poll: Duration,
}

impl Default for BulkConfig {
    fn default() -> Self {
        BulkConfig {
            connections: 4,
            rate_per_second: 50.0,
            batch: 50,
            lease: Duration::from_secs(300),
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            max_attempts: 10,
            poll: Duration::from_secs(5),
        }
    }
}

impl BulkConfig {
    pub fn backoff_after(&self, attempts: i32) -> Duration {
        let factor = 1u32 << attempts.clamp(0, 16) as u32;
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// A token bucket of one: hands out send slots `1 / rate` apart, shared by all connections.
struct RateLimit {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl RateLimit {
    fn new(rate: f64) -> Self {
        RateLimit {
            interval: (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate)),
            next: Mutex::new(Instant::now()),
        }
    }
    async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            // No credit for idle time beyond one slot: bursts stay short.
            let at = (*next).max(now);
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// The newsletter sending service: `connections` workers plus a coordinator that starts
/// scheduled issues and closes finished ones.
pub struct BulkSender {
    store: Store,
    smtp: SmtpConfig,
    mailer: Arc<NewsletterMailer>,
    config: BulkConfig,
    journal: Arc<Journal>,
    /// Starts scheduled issues (renders and freezes the editions).
    starter: Arc<dyn Fn(kontor_store::Uuid) -> StartFuture + Send + Sync>,
}

pub type StartFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<u64, kontor_store::StoreError>> + Send>,
>;

/// A cache per (issue, language).
type PerEdition<T> = std::sync::Mutex<HashMap<(Uuid, String), T>>;

struct Shared {
    store: Store,
    smtp: SmtpConfig,
    mailer: Arc<NewsletterMailer>,
    config: BulkConfig,
    rate: RateLimit,
    journal: Arc<Journal>,
    /// The template of each edition, or `None` when it cannot travel as 8bit; renewed each
    /// minute (its Date header), and a `None` is not tried again before then.
    templates: PerEdition<(Instant, Option<Arc<Template>>)>,
    editions: PerEdition<Arc<EditionParts>>,
}

impl BulkSender {
    pub fn new(
        store: Store,
        smtp: SmtpConfig,
        mailer: NewsletterMailer,
        config: BulkConfig,
        journal: Journal,
        starter: Arc<dyn Fn(kontor_store::Uuid) -> StartFuture + Send + Sync>,
    ) -> Self {
        BulkSender {
            store,
            smtp,
            mailer: Arc::new(mailer),
            config,
            journal: Arc::new(journal),
            starter,
        }
    }

    /// Runs until `shutdown` turns true. `wake` is notified when an editor starts a send.
    pub async fn run(self, wake: Arc<Notify>, shutdown: watch::Receiver<bool>) {
        self.replay_journal().await;
        if self.store.backend() == kontor_store::Backend::Sqlite {
            // One instance only: claims of a process that died need not wait for their lease.
            match self.store.release_all_delivery_claims().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "newsletter claims of a previous run released"),
                Err(e) => tracing::warn!(error = %e, "newsletter claims not released"),
            }
        }
        let shared = Arc::new(Shared {
            store: self.store.clone(),
            smtp: self.smtp,
            rate: RateLimit::new(self.config.rate_per_second),
            mailer: self.mailer,
            config: self.config.clone(),
            journal: self.journal.clone(),
            templates: Default::default(),
            editions: Default::default(),
        });
        let mut tasks = Vec::new();
        for n in 0..self.config.connections.max(1) {
            tasks.push(tokio::spawn(worker(
                n,
                shared.clone(),
                wake.clone(),
                shutdown.clone(),
            )));
        }
        coordinator(self.store, self.starter, self.config.poll, wake, shutdown).await;
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl BulkSender {
    /// Records in the database what the journal says was sent before the last stop or crash.
    async fn replay_journal(&self) {
        let pending = match self.journal.pending() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "send journal not readable");
                return;
            }
        };
        let failed = match self
            .store
            .mark_deliveries_sent(&pending, kontor_domain::now_micros())
            .await
        {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(messages = n, "sent messages recorded from the send journal");
                }
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "send journal not replayed");
                true
            }
        };
        if !failed && let Err(e) = self.journal.clear() {
            tracing::error!(error = %e, "send journal not emptied");
        }
    }
}

async fn coordinator(
    store: Store,
    starter: Arc<dyn Fn(kontor_store::Uuid) -> StartFuture + Send + Sync>,
    poll: Duration,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let now = kontor_domain::now_micros();
        match store.due_newsletter_issues(now).await {
            Ok(ids) => {
                for id in ids {
                    match starter(id).await {
                        Ok(n) => {
                            tracing::info!(issue = %id, recipients = n, "scheduled newsletter started");
                            wake.notify_waiters();
                        }
                        Err(kontor_store::StoreError::NotFound) => {}
                        Err(e) => tracing::warn!(issue = %id, error = %e, "newsletter not started"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "scheduled newsletters not read"),
        }
        if let Ok(n) = store.finish_newsletter_issues(now).await
            && n > 0
        {
            tracing::info!(issues = n, "newsletter sending finished");
        }
        tokio::select! {
            _ = tokio::time::sleep(poll.min(Duration::from_secs(1))) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

async fn worker(n: usize, s: Arc<Shared>, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let mut client: Option<SmtpClient> = None;
    let mut pause = Duration::ZERO;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = kontor_domain::now_micros();
        let rows = match s
            .store
            .claim_deliveries(now, s.config.lease.as_micros() as i64, s.config.batch)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(worker = n, error = %e, "newsletter queue not read");
                vec![]
            }
        };
        if rows.is_empty() {
            // Idle: close the connection so that the server does not time us out.
            if let Some(c) = client.take() {
                c.quit().await;
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(s.config.poll) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let claim = rows[0].claim_id;
        let mut sent = Vec::with_capacity(rows.len());
        // Stop completing messages well before the lease runs out.
        let lease = s.config.lease.as_micros() as i64;
        let lease_end = now + lease - lease / 10;
        for row in &rows {
            if *shutdown.borrow() {
                break;
            }
            if row.subscriber_status != "confirmed" {
                log_err(s.store.mark_delivery_skipped(row).await);
                continue;
            }
            if client.is_none() {
                match SmtpClient::connect(&s.smtp).await {
                    Ok(c) => client = Some(c),
                    Err(e) => {
                        // The server is down: give the batch back without counting attempts.
                        tracing::warn!(worker = n, error = %e, "SMTP server unreachable; newsletter paused");
                        pause = s.config.backoff.min(Duration::from_secs(30));
                        let retry = kontor_domain::now_micros() + pause.as_micros() as i64;
                        log_err(s.store.release_deliveries(claim, retry).await);
                        break;
                    }
                }
            }
            s.rate.wait().await;
            let conn = client.as_mut().expect("connected above");
            match send_one(&s, conn, row, lease_end).await {
                Ok(()) => sent.push((row.issue_id, row.subscriber_id, row.claim_id)),
                Err(Failure::Row(e)) => record_failure(&s, row, e).await,
                Err(Failure::Connection(e)) => {
                    record_failure(&s, row, e).await;
                    client = None;
                }
            }
        }
        // The journal holds every sent row already; the database learns them per batch.
        record_sent(&s, &sent).await;
        // Rows left by a shutdown or a lost connection go back at once.
        log_err(
            s.store
                .release_deliveries(
                    claim,
                    kontor_domain::now_micros() + pause.as_micros() as i64,
                )
                .await,
        );
        if !pause.is_zero() {
            // The server is down: wait before claiming the next batch.
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
            pause = Duration::ZERO;
        }
    }
    if let Some(c) = client.take() {
        c.quit().await;
    }
}

enum Failure {
    /// The server refused this message; the connection is fine.
    Row(SendError),
    /// The connection is broken or in an unknown state.
    Connection(SendError),
}

async fn send_one(
    s: &Shared,
    conn: &mut SmtpClient,
    row: &Delivery,
    lease_end: i64,
) -> Result<(), Failure> {
    let edition = edition(s, row).await.map_err(Failure::Row)?;
    let filled = match (conn.eight_bit, template(s, row, &edition)) {
        (true, Some(t)) => s
            .mailer
            .fill(
                &t,
                row.issue_id,
                row.subscriber_id,
                &row.email,
                &row.unsubscribe_token,
            )
            .map_err(Failure::Row)?,
        _ => None,
    };
    let eight_bit = filled.is_some();
    let message = match filled {
        Some(m) => m,
        None => s
            .mailer
            .render(
                &edition,
                row.issue_id,
                row.subscriber_id,
                &row.email,
                &row.unsubscribe_token,
            )
            .map_err(Failure::Row)?,
    };
    let from = s.mailer.from.email.to_string();
    if let Err(e) = conn.begin(&from, &row.email, eight_bit).await {
        // A refusal leaves the connection usable (begin sent RSET) unless it says otherwise.
        return Err(if conn.broken {
            Failure::Connection(e)
        } else {
            Failure::Row(e)
        });
    }
    conn.write_body(&message)
        .await
        .map_err(Failure::Connection)?;
    // Never complete a message whose claim may have passed to another worker.
    if kontor_domain::now_micros() > lease_end {
        return Err(Failure::Connection(SendError::Temporary(
            "claim about to run out; message abandoned before its final dot".into(),
        )));
    }
    // The commit point: the journal line, then at once the final dot (see the module docs).
    match conn.commit_and_finish(|| s.journal.append('+', row)).await {
        // A crash before the database records it is repaired from the journal at start-up.
        Ok(()) => Ok(()),
        Err(FinishError::Commit(e)) => Err(Failure::Connection(SendError::Temporary(format!(
            "send journal not written: {e}"
        )))),
        Err(FinishError::Send(e)) => {
            if let Err(j) = s.journal.append('-', row) {
                tracing::error!(error = %j, "send journal not written");
            }
            Err(if conn.broken {
                Failure::Connection(e)
            } else {
                Failure::Row(e)
            })
        }
    }
}

/// Marks a batch sent in one transaction; retried, because until it succeeds the rows look
/// queued (the journal repairs that only at the next start).
async fn record_sent(s: &Shared, sent: &[(Uuid, Uuid, Uuid)]) {
    if sent.is_empty() {
        return;
    }
    for attempt in 0..5u32 {
        match s
            .store
            .mark_deliveries_sent(sent, kontor_domain::now_micros())
            .await
        {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, attempt, "sent messages not recorded yet");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
    tracing::error!(
        messages = sent.len(),
        "sent messages not recorded; the send journal keeps them for the next start"
    );
}

/// The edition's template, made at most a minute ago.
fn template(s: &Shared, row: &Delivery, edition: &EditionParts) -> Option<Arc<Template>> {
    let key = (row.issue_id, row.locale.clone());
    let mut cache = s.templates.lock().expect("not poisoned");
    if let Some((made, t)) = cache.get(&key)
        && made.elapsed() < Duration::from_secs(60)
    {
        return t.clone();
    }
    let t = s.mailer.template(edition).map(Arc::new);
    cache.insert(key, (Instant::now(), t.clone()));
    t
}

async fn edition(s: &Shared, row: &Delivery) -> Result<Arc<EditionParts>, SendError> {
    let key = (row.issue_id, row.locale.clone());
    if let Some(e) = s.editions.lock().expect("not poisoned").get(&key) {
        return Ok(e.clone());
    }
    let editions = s
        .store
        .newsletter_editions(row.issue_id)
        .await
        .map_err(temporary)?;
    let mut cache = s.editions.lock().expect("not poisoned");
    for e in editions {
        if let (Some(text), Some(html)) = (e.rendered_text, e.rendered_html) {
            cache.insert(
                (e.issue_id, e.locale),
                Arc::new(EditionParts {
                    subject: e.subject,
                    text,
                    html,
                }),
            );
        }
    }
    cache
        .get(&key)
        .cloned()
        .ok_or_else(|| SendError::Permanent(format!("no {} edition", row.locale)))
}

async fn record_failure(s: &Shared, row: &Delivery, e: SendError) {
    let attempts = row.attempts + 1;
    let retry_at = match &e {
        SendError::Temporary(_) if attempts < s.config.max_attempts => Some(
            kontor_domain::now_micros() + s.config.backoff_after(attempts - 1).as_micros() as i64,
        ),
        _ => None,
    };
    tracing::warn!(issue = %row.issue_id, to = %row.email, error = %e, attempts, retry = retry_at.is_some(), "newsletter message not delivered");
    log_err(
        s.store
            .mark_delivery_failed(row, &e.to_string(), retry_at)
            .await,
    );
}

fn log_err(r: Result<(), kontor_store::StoreError>) {
    if let Err(e) = r {
        tracing::warn!(error = %e, "newsletter queue not updated");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_starting_with_a_dot_get_another_and_the_end_is_a_line() {
        assert_eq!(
            dot_stuffed(b".first\r\nmid.dle\r\n.\r\n..two\r\nlast"),
            b"..first\r\nmid.dle\r\n..\r\n...two\r\nlast\r\n".to_vec()
        );
        assert_eq!(dot_stuffed(b"ends\r\n"), b"ends\r\n".to_vec());
        assert_eq!(dot_stuffed(b""), b"\r\n".to_vec());
    }

    fn delivery(n: u128) -> Delivery {
        Delivery {
            issue_id: Uuid::from_u128(1),
            subscriber_id: Uuid::from_u128(n),
            claim_id: Uuid::from_u128(99),
            attempts: 0,
            email: String::new(),
            locale: "de".into(),
            unsubscribe_token: String::new(),
            subscriber_status: "confirmed".into(),
        }
    }

    #[test]
    fn the_journal_keeps_sent_messages_until_cleared() {
        let path = std::env::temp_dir().join(format!("journal-{}", Uuid::now_v7().simple()));
        let j = Journal::open(&path).unwrap();
        j.append('+', &delivery(2)).unwrap();
        j.append('+', &delivery(3)).unwrap();
        j.append('-', &delivery(2)).unwrap();
        // A line torn by a crash counts for nothing.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"+ 0000"))
            .unwrap();
        let pending = j.pending().unwrap();
        assert_eq!(
            pending,
            vec![(Uuid::from_u128(1), Uuid::from_u128(3), Uuid::from_u128(99))]
        );
        j.clear().unwrap();
        assert!(j.pending().unwrap().is_empty());
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod template_tests {
    use super::*;

    /// A real edition (short lines, but many over lettre's 76-byte rule of thumb, and Chinese)
    /// makes a template, and a filled message carries the recipient's address, Message-ID and
    /// unsubscribe URL where the markers were, as 8bit.
    #[test]
    fn a_real_edition_makes_a_template_and_fill_puts_the_recipient_in() {
        let edition = crate::newsletter::render_edition(
            kontor_domain::Locale::Zh,
            "Kontor 简报 11 月",
            &"亲爱的读者：科隆与贵阳签署了经济合作意向书，氢能、生命科学和环境技术是三个重点领域。\n\n".repeat(5),
            &[],
            "https://kontor.example.org/newsletter/archive/x",
        );
        let from: lettre::message::Mailbox =
            "Kontor <newsletter@kontor.example.org>".parse().unwrap();
        let mailer = NewsletterMailer::new(from, "https://kontor.example.org", None);
        let parts = EditionParts {
            subject: edition.subject,
            text: edition.text,
            html: edition.html,
        };
        let t = mailer.template(&parts).expect("a template");
        let (issue, subscriber) = (Uuid::from_u128(7), Uuid::from_u128(8));
        let m = mailer
            .fill(&t, issue, subscriber, "li@example.cn", "tok123")
            .unwrap()
            .expect("an ASCII address");
        let m = String::from_utf8(m).unwrap();
        assert!(m.contains("To: li@example.cn\r\n"), "{m}");
        assert!(m.contains("/newsletter/unsubscribe/tok123"));
        assert!(!m.contains("mark.invalid"), "every marker replaced");
        assert!(m.contains("Content-Transfer-Encoding: 8bit"));
        assert!(m.contains("科隆与贵阳"), "the body as it is, not encoded");
        assert!(m.split("\r\n").all(|l| l.len() <= 998));
    }

    #[test]
    fn a_line_too_long_for_smtp_falls_back_to_encoding() {
        let from: lettre::message::Mailbox = "Kontor <n@kontor.example.org>".parse().unwrap();
        let mailer = NewsletterMailer::new(from, "https://kontor.example.org", None);
        let parts = EditionParts {
            subject: "x".into(),
            text: "a".repeat(1200),
            html: "<p>b</p>".into(),
        };
        assert!(mailer.template(&parts).is_none());
    }
}
