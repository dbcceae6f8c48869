//! Newsletter delivery: a small SMTP client of our own and the workers that drain the delivery
//! queue (`kontor_store::newsletter`).
//!
//! # Exactly once, and the one window left
//!
//! For every message a worker, holding a claim on a range of the queue (a lease, see
//! `kontor_store::newsletter`): sends `MAIL`/`RCPT`/`DATA` (pipelined when offered, in the same
//! write as the previous message's final dot, so one write and one round trip per message) and
//! the whole dot-stuffed message **without** the terminating `.` line. Then, in one poll of the
//! task with nothing in between that could yield, it enters `+ issue subscriber claim` in the
//! send [`Journal`] (a store into its memory-mapped file, which the kernel keeps when the
//! process dies) and writes `.\r\n` to the socket. Only after the server's reply is the row
//! marked `sent` in the database (in steps, see [`BulkConfig::record_every`]); on a refusal a
//! `-` entry withdraws the journal entry and the row is queued again (4xx, broken connection)
//! or failed (5xx). At start-up the net `+` entries are marked sent before anything is claimed,
//! and the journal is emptied; it is emptied again whenever every worker is idle and all it
//! holds is in the database.
//!
//! - Killed before the journal entry: the server never got the final dot and drops the message
//!   when the connection closes; the row is still queued and goes out once after restart.
//! - Killed after the dot's `write` returned: the kernel still sends the bytes (the receive
//!   buffer is empty then, so closing does not reset the connection); the server accepts; the
//!   journal says sent; the restart records it: one copy.
//! - Killed between the journal entry and the socket `write` (a memory store and the next
//!   system call, microseconds apart, no await between them): the row counts as sent but the
//!   server dropped the message: **at most one** copy. This is the only window left. (Committing to the
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
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
pub use crate::journal::Journal;
use crate::smtp::{Backoff, Security, SendError, SmtpConfig};

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
            if !extensions
                .iter()
                .any(|e| e.first().is_some_and(|w| w == "STARTTLS"))
            {
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
        let offers = |name: &str| extensions.iter().any(|e| e.first() == Some(&name.into()));
        client.pipelining = offers("PIPELINING");
        client.eight_bit = offers("8BITMIME");
        if let (Some(user), Some(pass)) = (&c.username, &c.password) {
            let mechanisms = extensions
                .iter()
                .find(|e| e.first().is_some_and(|w| w == "AUTH"))
                .map(|e| &e[1..])
                .unwrap_or_default();
            let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
            if mechanisms.iter().any(|m| m == "PLAIN") {
                let token = b64(&format!("\0{user}\0{pass}"));
                client
                    .command(&format!("AUTH PLAIN {token}\r\n"))
                    .await?
                    .check(235)?;
            } else if mechanisms.iter().any(|m| m == "LOGIN") {
                client.command("AUTH LOGIN\r\n").await?.check(334)?;
                client
                    .command(&format!("{}\r\n", b64(user)))
                    .await?
                    .check(334)?;
                client
                    .command(&format!("{}\r\n", b64(pass)))
                    .await?
                    .check(235)?;
            } else {
                return Err(SendError::Permanent(format!(
                    "{}:{} offers no AUTH mechanism we speak (PLAIN, LOGIN): {mechanisms:?}",
                    c.host, c.port
                )));
            }
        }
        Ok(client)
    }

    /// The server's extensions, one per line, in upper-case words (`["AUTH", "PLAIN", "LOGIN"]`).
    async fn ehlo(&mut self, domain: &str) -> Result<Vec<Vec<String>>, SendError> {
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
                    .map(|w| w.to_ascii_uppercase())
                    .collect()
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
        // Every line is read into `text` and cut down to what follows its code there: one
        // allocation per reply (four replies per message).
        let mut text = String::new();
        loop {
            let start = text.len();
            let n = tokio::time::timeout(self.timeout, self.io.read_line(&mut text))
                .await
                .map_err(|_| temporary("reply timed out"))?
                .map_err(|e| temporary(format!("read: {e}")))?;
            if n == 0 {
                return Err(temporary("connection closed by the server"));
            }
            let line = &text[start..];
            let parsed = line
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .zip(line.get(4..).map(|rest| rest.trim_end().len()));
            let Some((code, content)) = parsed else {
                return Err(temporary(format!("malformed reply {line:?}")));
            };
            let last = line.as_bytes()[3] != b'-';
            text.truncate(start + 4 + content);
            text.replace_range(start..start + 4, "");
            if last {
                return Ok(Reply { code, text });
            }
            text.push('\n');
        }
    }

    /// `MAIL FROM`, `RCPT TO`, `DATA` (one write when the server offers PIPELINING). After a
    /// refusal the transaction is reset and the connection may be reused unless [`Self::broken`].
    pub async fn begin(&mut self, envelope: &Envelope<'_>) -> Result<(), SendError> {
        let result = if self.pipelining {
            let mut commands = envelope.commands();
            commands.push_str("DATA\r\n");
            match self.write(commands.as_bytes()).await {
                Ok(()) => self.envelope_replies().await,
                Err(e) => Err(e),
            }
        } else {
            self.begin_step_by_step(envelope).await
        };
        self.settle(result).await
    }

    async fn begin_step_by_step(&mut self, envelope: &Envelope<'_>) -> Result<(), SendError> {
        let commands = envelope.commands();
        for command in commands.split_inclusive("\r\n") {
            self.command(command).await?.check(250)?;
        }
        self.command("DATA\r\n").await?.check(354).map(|_| ())
    }

    /// The replies to a pipelined `MAIL`/`RCPT`/`DATA`.
    async fn envelope_replies(&mut self) -> Result<(), SendError> {
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
            .map(|_| ())
    }

    /// After a refused envelope: `RSET`, so that the connection can carry the next message.
    async fn settle(&mut self, result: Result<(), SendError>) -> Result<(), SendError> {
        if result.is_err() && !self.broken && self.command("RSET\r\n").await.is_err() {
            self.broken = true;
        }
        result
    }

    /// Writes the DATA section (the message dot-stuffed, see [`dot_stuffed`]) without the
    /// terminating line. Returns when every byte is with the kernel.
    pub async fn write_data(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.write(data).await
    }

    /// Runs `commit` (synchronous), then writes the terminating line within the same poll of
    /// the task: nothing between the two can yield, so the process can only die between them
    /// during the few microseconds of two system calls.
    ///
    /// With `next` (and PIPELINING) the next message's envelope goes out in the same write
    /// (RFC 2920 lets a command group start with the end of a message): one write and one round
    /// trip per message instead of two. The second value is then what [`Self::begin`] would
    /// have returned for it; `None` when it was not sent, or its replies are lost with the
    /// connection (begin again on a new one).
    pub async fn commit_and_finish(
        &mut self,
        commit: impl FnOnce() -> std::io::Result<()>,
        next: Option<&Envelope<'_>>,
    ) -> (Result<(), FinishError>, Option<Result<(), SendError>>) {
        if let Err(e) = commit() {
            return (Err(FinishError::Commit(e)), None);
        }
        let next = next.filter(|_| self.pipelining);
        let mut bytes = String::from(".\r\n");
        if let Some(envelope) = next {
            bytes.push_str(&envelope.commands());
            bytes.push_str("DATA\r\n");
        }
        if let Err(e) = self.write(bytes.as_bytes()).await {
            return (Err(FinishError::Send(e)), None);
        }
        let verdict = self
            .reply()
            .await
            .and_then(|r| r.check(250))
            .map(|_| ())
            .map_err(FinishError::Send);
        if next.is_none() || self.broken {
            return (verdict, None);
        }
        let begun = self.envelope_replies().await;
        (verdict, Some(self.settle(begun).await))
    }

    pub async fn quit(mut self) {
        let _ = self.command("QUIT\r\n").await;
    }
}

/// The message as the DATA section carries it (RFC 5321 4.5.2): a line that starts with `.` gets
/// another, and the last line ends with CRLF. Copied line by line, not byte by byte: this runs
/// for every recipient.
pub fn dot_stuffed(message: &[u8]) -> Vec<u8> {
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

/// Who sends a message to whom, and whether its body is 8-bit (`BODY=8BITMIME`; only where
/// the server offers it, see [`SmtpClient::eight_bit`]).
pub struct Envelope<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub eight_bit: bool,
}

impl Envelope<'_> {
    /// `MAIL FROM` and `RCPT TO`, each with its line end.
    fn commands(&self) -> String {
        let body = if self.eight_bit { " BODY=8BITMIME" } else { "" };
        format!(
            "MAIL FROM:<{}>{body}\r\nRCPT TO:<{}>\r\n",
            self.from, self.to
        )
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

impl EditionParts {
    /// Text and HTML for one reader: their unsubscribe URL in place of the placeholder.
    pub fn bodies_for(&self, unsubscribe_url: &str) -> (String, String) {
        (
            self.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
            self.html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
        )
    }
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
        let (text, html) = edition.bodies_for(url);
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
        Some(Template {
            segments: segments(&raw),
            // Stuffed before it is cut: a literal that starts after a marker is not at a line
            // start. The values filled in never start a line with a dot.
            data: segments(&dot_stuffed(&raw)),
        })
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
        Ok(self
            .fill_segments(&t.segments, issue, subscriber, to, token)?
            .map(|m| self.sign(m)))
    }

    /// Like [`Self::fill`], but the DATA section: dot-stuffed, as [`dot_stuffed`] would make
    /// it. Without DKIM straight from the template's stuffed copy: no second pass over the
    /// message for every recipient.
    pub fn fill_data(
        &self,
        t: &Template,
        issue: Uuid,
        subscriber: Uuid,
        to: &str,
        token: &str,
    ) -> Result<Option<Vec<u8>>, SendError> {
        if self.dkim.is_some() {
            // The signature covers the message, not its stuffed form.
            return Ok(self
                .fill(t, issue, subscriber, to, token)?
                .map(|m| dot_stuffed(&m)));
        }
        self.fill_segments(&t.data, issue, subscriber, to, token)
    }

    fn fill_segments(
        &self,
        segments: &[Segment],
        issue: Uuid,
        subscriber: Uuid,
        to: &str,
        token: &str,
    ) -> Result<Option<Vec<u8>>, SendError> {
        let address = parse_recipient(to)?;
        if !to.is_ascii() {
            return Ok(None);
        }
        let (address, url, id) = (
            address.to_string(),
            self.unsubscribe_url(token),
            self.message_id(issue, subscriber),
        );
        let literal: usize = segments
            .iter()
            .map(|s| match s {
                Segment::Literal(b) => b.len(),
                _ => 0,
            })
            .sum();
        let mut out = Vec::with_capacity(literal + 4 * url.len().max(address.len()));
        for seg in segments {
            match seg {
                Segment::Literal(b) => out.extend_from_slice(b),
                Segment::To => out.extend_from_slice(address.as_bytes()),
                Segment::MessageId => out.extend_from_slice(id.as_bytes()),
                Segment::Url => out.extend_from_slice(url.as_bytes()),
            }
        }
        Ok(Some(out))
    }
}

/// `raw` cut at the markers of [`NewsletterMailer::template`].
fn segments(raw: &[u8]) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut rest = raw;
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
                return segments;
            }
        }
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
    /// The same, dot-stuffed for the DATA section.
    data: Vec<Segment>,
}

/// How the newsletter workers send.
#[derive(Clone, Debug)]
pub struct BulkConfig {
    /// Parallel SMTP connections (one worker each).
    pub connections: usize,
    /// Messages per second over all connections; 0 means no limit.
    pub rate_per_second: f64,
    /// Rows one worker claims at a time at most (fewer under a low rate limit, see
    /// [`BulkConfig::claim_size`]). The database learns what was sent every
    /// [`BulkConfig::record_every`] messages (or 2 seconds) within a claim.
    pub batch: i64,
    /// By default once per full claim: each record is a statement and a commit, and in the
    /// newsletter bench recording every 100 messages instead cost 4 µs CPU per message (of
    /// about 35). A slow send still shows progress through the 2 seconds.
    pub record_every: usize,
    /// How long a claim holds.
    pub lease: Duration,
    /// Retries after temporary failures.
    pub retry: Backoff,
    /// How often idle workers look for new work.
    pub poll: Duration,
}

impl Default for BulkConfig {
    fn default() -> Self {
        BulkConfig {
            connections: 4,
            rate_per_second: 50.0,
            batch: 500,
            record_every: 500,
            lease: Duration::from_secs(300),
            retry: crate::worker::BACKOFF,
            poll: Duration::from_secs(5),
        }
    }
}

impl BulkConfig {
    /// Rows per claim: [`BulkConfig::batch`], or what one connection sends under the rate limit
    /// in half a lease, so that a claim does not run out before its rows are sent.
    pub fn claim_size(&self) -> i64 {
        if self.rate_per_second <= 0.0 {
            return self.batch.max(1);
        }
        let per_connection = self.rate_per_second / self.connections.max(1) as f64;
        let in_half_a_lease = (per_connection * self.lease.as_secs_f64() / 2.0) as i64;
        self.batch.min(in_half_a_lease).max(1)
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
    starter: Starter,
}

/// Starts a scheduled issue (renders and freezes its editions, queues its recipients).
pub type Starter = Arc<dyn Fn(Uuid) -> StartFuture + Send + Sync>;

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
    editions: Editions,
    /// Workers between a claim and the database's record of what they sent.
    busy: AtomicUsize,
    /// Some sent rows could not be recorded: the journal keeps them until the next start.
    unrecorded: AtomicBool,
}

impl Shared {
    /// Empties the journal when every entry in it is in the database (no worker between claim
    /// and record, no record that failed), so that it does not grow while the process runs.
    fn empty_journal_if_idle(&self) {
        let idle =
            || self.busy.load(Ordering::SeqCst) == 0 && !self.unrecorded.load(Ordering::SeqCst);
        if let Err(e) = self.journal.clear_if(idle) {
            tracing::warn!(error = %e, "send journal not emptied");
        }
    }
}

impl BulkSender {
    pub fn new(
        store: Store,
        smtp: SmtpConfig,
        mailer: NewsletterMailer,
        config: BulkConfig,
        journal: Journal,
        starter: Starter,
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
        let replayed = self.replay_journal().await;
        release_claims_of_a_dead_run(&self.store).await;
        let shared = Arc::new(Shared {
            store: self.store.clone(),
            smtp: self.smtp,
            rate: RateLimit::new(self.config.rate_per_second),
            mailer: self.mailer,
            config: self.config.clone(),
            journal: self.journal.clone(),
            templates: Default::default(),
            editions: Default::default(),
            busy: AtomicUsize::new(0),
            unrecorded: AtomicBool::new(!replayed),
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
    /// Records in the database what the journal says was sent before the last stop or crash;
    /// `false` if that failed (the journal is then kept for the next start).
    async fn replay_journal(&self) -> bool {
        let pending = match self.journal.pending() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "send journal not readable");
                return false;
            }
        };
        let pending: Vec<(Uuid, Uuid)> = pending.iter().map(|&(i, s, _)| (i, s)).collect();
        let failed = match self
            .store
            .mark_journal_sent(&pending, kontor_domain::now_micros())
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
        !failed
    }
}

async fn coordinator(
    store: Store,
    starter: Starter,
    poll: Duration,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match start_due_issues(&store, &starter).await {
            Ok(0) => {}
            Ok(_) => wake.notify_waiters(),
            Err(e) => tracing::warn!(error = %e, "scheduled newsletters not read"),
        }
        close_finished_issues(&store).await;
        tokio::select! {
            _ = tokio::time::sleep(poll.min(Duration::from_secs(1))) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// On SQLite (one instance only) the claims of a process that died need not wait for their
/// lease: they are released at start. Shared by both senders.
pub(crate) async fn release_claims_of_a_dead_run(store: &Store) {
    if store.backend() != kontor_store::Backend::Sqlite {
        return;
    }
    match store.release_all_delivery_claims().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, "newsletter claims of a previous run released"),
        Err(e) => tracing::warn!(error = %e, "newsletter claims not released"),
    }
}

/// Starts every scheduled issue that is due; returns how many started. Shared by both senders.
pub(crate) async fn start_due_issues(
    store: &Store,
    starter: &Starter,
) -> Result<u64, kontor_store::StoreError> {
    let mut started = 0;
    for id in store
        .due_newsletter_issues(kontor_domain::now_micros())
        .await?
    {
        match starter(id).await {
            Ok(n) => {
                tracing::info!(issue = %id, recipients = n, "scheduled newsletter started");
                started += 1;
            }
            // Started by another instance in the meantime.
            Err(kontor_store::StoreError::NotFound) => {}
            Err(e) => tracing::warn!(issue = %id, error = %e, "newsletter not started"),
        }
    }
    Ok(started)
}

/// Marks the issues with nothing left to send `sent`. Shared by both senders.
pub(crate) async fn close_finished_issues(store: &Store) {
    match store
        .finish_newsletter_issues(kontor_domain::now_micros())
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(issues = n, "newsletter sending finished"),
        Err(e) => tracing::warn!(error = %e, "finished newsletters not closed"),
    }
}

async fn worker(n: usize, s: Arc<Shared>, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let mut client: Option<SmtpClient> = None;
    // The last complete batch being recorded and settled.
    let mut closing: Option<tokio::task::JoinHandle<()>> = None;
    let mut pause = Duration::ZERO;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = kontor_domain::now_micros();
        // Counted busy before the claim: a claim's rows may reach the journal at once.
        s.busy.fetch_add(1, Ordering::SeqCst);
        let rows = match s
            .store
            .claim_deliveries(
                now,
                s.config.lease.as_micros() as i64,
                s.config.claim_size(),
            )
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(worker = n, error = %e, "newsletter queue not read");
                vec![]
            }
        };
        if rows.is_empty() {
            s.busy.fetch_sub(1, Ordering::SeqCst);
            s.empty_journal_if_idle();
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
        // Stop completing messages well before the lease runs out.
        let lease = s.config.lease.as_micros() as i64;
        let lease_end = now + lease - lease / 10;
        let mut batch = send_batch(&s, n, &mut client, &rows, lease_end, &shutdown).await;
        let claim = rows[0].claim_id;
        // The previous batch's close-out first: at most one runs beside the connection.
        if let Some(c) = closing.take() {
            let _ = c.await;
        }
        // A claim whose sent rows are not all recorded is neither settled nor given back: it
        // keeps them from being sent again until its lease runs out.
        if batch.complete {
            // Recorded and settled while the connection goes on with the next claim.
            let s = s.clone();
            closing = Some(tokio::spawn(async move {
                if record_all(&s, &mut batch).await {
                    log_err(s.store.settle_claim(claim).await);
                }
                s.busy.fetch_sub(1, Ordering::SeqCst);
            }));
            continue;
        }
        let recorded = record_all(&s, &mut batch).await;
        if batch.server_down {
            pause = s.config.retry.first.min(Duration::from_secs(30));
        }
        if recorded {
            // Rows left by a shutdown or an unreachable server go back at once (or after the
            // pause).
            let retry = kontor_domain::now_micros() + pause.as_micros() as i64;
            log_err(s.store.release_deliveries(claim, retry).await);
        }
        s.busy.fetch_sub(1, Ordering::SeqCst);
        if !pause.is_zero() {
            // The server is down: wait before claiming the next batch.
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
            pause = Duration::ZERO;
        }
    }
    if let Some(c) = closing.take() {
        let _ = c.await;
    }
    if let Some(c) = client.take() {
        c.quit().await;
    }
}

/// The journal holds every sent row of the batch already; the database learns them all
/// (those of earlier steps are on their way) before its claim is settled or given back.
/// Whether all of them were recorded.
async fn record_all(s: &Shared, batch: &mut Batch) -> bool {
    let mut recorded = record_sent(s, &batch.sent).await;
    for r in batch.recording.drain(..) {
        recorded &= r.await.unwrap_or(false);
    }
    recorded
}

/// What became of a claimed batch.
struct Batch {
    /// (issue, seq, claim) of the messages the server accepted and the database does not
    /// know yet.
    sent: Vec<(Uuid, i64, Uuid)>,
    /// Earlier steps of `sent` on their way into the database.
    recording: Vec<tokio::task::JoinHandle<bool>>,
    /// Every row was settled (sent, failed or skipped): nothing to give back.
    complete: bool,
    /// The server could not be reached.
    server_down: bool,
}

/// Sends the batch's messages over one connection (a new one after a broken one), each
/// message's final dot together with the next one's envelope.
async fn send_batch(
    s: &Arc<Shared>,
    n: usize,
    client: &mut Option<SmtpClient>,
    rows: &[Delivery],
    lease_end: i64,
    shutdown: &watch::Receiver<bool>,
) -> Batch {
    let mut batch = Batch {
        sent: Vec::with_capacity(rows.len()),
        recording: Vec::new(),
        complete: false,
        server_down: false,
    };
    let from = s.mailer.from.email.to_string();
    let mut rows = rows.iter();
    // The next message, prepared; `begun`: its envelope went out with the last final dot.
    let mut next: Option<Outgoing> = None;
    let mut begun: Option<Result<(), SendError>> = None;
    let mut recorded = Instant::now();
    loop {
        if *shutdown.borrow() {
            if begun.is_some() {
                // The server waits for a message: close without QUIT; it drops the transaction.
                *client = None;
            }
            return batch;
        }
        let eight_bit = client.as_ref().is_none_or(|c| c.eight_bit);
        let out = match next.take() {
            Some(out) => out,
            None => match next_message(s, &mut rows, eight_bit).await {
                Some(out) => out,
                None => {
                    batch.complete = true;
                    return batch;
                }
            },
        };
        if client.is_none() {
            begun = None;
            match SmtpClient::connect(&s.smtp).await {
                Ok(c) => *client = Some(c),
                Err(e) => {
                    // The server is down: give the batch back without counting attempts.
                    tracing::warn!(worker = n, error = %e, "SMTP server unreachable; newsletter paused");
                    batch.server_down = true;
                    return batch;
                }
            }
        }
        let conn = client.as_mut().expect("connected above");
        let out = if out.eight_bit && !conn.eight_bit {
            // Prepared for the last connection, and the new one does not take 8-bit bodies.
            match prepare(s, out.row, false).await {
                Ok(out) => out,
                Err(e) => {
                    record_failure(s, out.row, e).await;
                    continue;
                }
            }
        } else {
            out
        };
        let row = out.row;
        let envelope = Envelope {
            from: &from,
            to: &row.email,
            eight_bit: out.eight_bit,
        };
        let began = match begun.take() {
            Some(result) => result,
            None => {
                s.rate.wait().await;
                conn.begin(&envelope).await
            }
        };
        if let Err(e) = began {
            // A refusal leaves the connection usable (begin sent RSET) unless it says otherwise.
            let broken = conn.broken;
            record_failure(s, row, e).await;
            if broken {
                *client = None;
            }
            continue;
        }
        if let Err(e) = conn.write_data(&out.data).await {
            record_failure(s, row, e).await;
            *client = None;
            continue;
        }
        next = next_message(s, &mut rows, conn.eight_bit).await;
        let ahead = match &next {
            Some(n) if !*shutdown.borrow() => {
                s.rate.wait().await;
                Some(Envelope {
                    from: &from,
                    to: &n.row.email,
                    eight_bit: n.eight_bit,
                })
            }
            _ => None,
        };
        // Never complete a message whose claim may have passed to another worker: checked
        // after everything that can wait (the next message's rows, the rate limit).
        if kontor_domain::now_micros() > lease_end {
            let e = SendError::Temporary(
                "claim about to run out; message abandoned before its final dot".into(),
            );
            record_failure(s, row, e).await;
            *client = None;
            continue;
        }
        // The commit point: the journal entry, then at once the final dot (see the module
        // docs).
        let (verdict, next_begun) = conn
            .commit_and_finish(|| s.journal.append('+', row), ahead.as_ref())
            .await;
        begun = next_begun;
        match verdict {
            // A crash before the database records it is repaired from the journal at start-up.
            Ok(()) => {
                batch.sent.push((row.issue_id, row.seq, row.claim_id));
                if batch.sent.len() >= s.config.record_every
                    || recorded.elapsed() >= Duration::from_secs(2)
                {
                    // The editor's progress page follows, while the connection goes on: a
                    // commit may wait for SQLite's checkpoint (milliseconds).
                    let sent = std::mem::replace(
                        &mut batch.sent,
                        Vec::with_capacity(s.config.record_every),
                    );
                    let s = s.clone();
                    batch
                        .recording
                        .push(tokio::spawn(async move { record_sent(&s, &sent).await }));
                    recorded = Instant::now();
                }
            }
            Err(FinishError::Commit(e)) => {
                let e = SendError::Temporary(format!("send journal not written: {e}"));
                record_failure(s, row, e).await;
                *client = None;
            }
            Err(FinishError::Send(e)) => {
                if let Err(j) = s.journal.append('-', row) {
                    tracing::error!(error = %j, "send journal not written");
                }
                record_failure(s, row, e).await;
            }
        }
        if client.as_ref().is_some_and(|c| c.broken) {
            // The next envelope, if it went out, is lost with the connection: the next
            // message begins again on a new one.
            *client = None;
        }
    }
}

/// One message ready for the wire.
struct Outgoing<'a> {
    row: &'a Delivery,
    /// Sent as 8-bit (filled from the edition's template) or encoded.
    eight_bit: bool,
    /// The DATA section: the message, dot-stuffed, without the terminating line.
    data: Vec<u8>,
}

/// The next row's message; skips rows of subscribers who left and records messages that
/// cannot be built.
async fn next_message<'a>(
    s: &Shared,
    rows: &mut std::slice::Iter<'a, Delivery>,
    eight_bit: bool,
) -> Option<Outgoing<'a>> {
    for row in rows.by_ref() {
        if row.subscriber_status != "confirmed" {
            log_err(s.store.mark_delivery_skipped(row).await);
            continue;
        }
        match prepare(s, row, eight_bit).await {
            Ok(out) => return Some(out),
            Err(e) => record_failure(s, row, e).await,
        }
    }
    None
}

/// `eight_bit`: the server takes 8-bit bodies.
async fn prepare<'a>(
    s: &Shared,
    row: &'a Delivery,
    eight_bit: bool,
) -> Result<Outgoing<'a>, SendError> {
    let edition = edition(s, row).await?;
    let filled = match (eight_bit, template(s, row, &edition)) {
        (true, Some(t)) => s.mailer.fill_data(
            &t,
            row.issue_id,
            row.subscriber_id,
            &row.email,
            &row.unsubscribe_token,
        )?,
        _ => None,
    };
    let eight_bit = filled.is_some();
    let data = match filled {
        Some(data) => data,
        None => dot_stuffed(&s.mailer.render(
            &edition,
            row.issue_id,
            row.subscriber_id,
            &row.email,
            &row.unsubscribe_token,
        )?),
    };
    Ok(Outgoing {
        row,
        eight_bit,
        data,
    })
}

/// Marks a batch sent; retried, because until it succeeds the rows look queued (the journal
/// repairs that only at the next start). Whether it was recorded.
async fn record_sent(s: &Shared, sent: &[(Uuid, i64, Uuid)]) -> bool {
    if sent.is_empty() {
        return true;
    }
    for attempt in 0..5u32 {
        match s
            .store
            .mark_deliveries_sent(sent, kontor_domain::now_micros())
            .await
        {
            Ok(_) => return true,
            Err(e) => {
                tracing::warn!(error = %e, attempt, "sent messages not recorded yet");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
    s.unrecorded.store(true, Ordering::SeqCst);
    tracing::error!(
        messages = sent.len(),
        "sent messages not recorded; the send journal keeps them for the next start"
    );
    false
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
    s.editions
        .get(&s.store, row)
        .await
        .map_err(temporary)?
        .ok_or_else(|| SendError::Permanent(format!("no {} edition", row.locale)))
}

/// The frozen editions of the issues being sent, by (issue, language), each issue read once.
/// Shared by both senders.
#[derive(Default)]
pub(crate) struct Editions(PerEdition<Arc<EditionParts>>);

impl Editions {
    /// The edition of `row`'s issue in `row`'s language; `None` when the issue has none.
    pub(crate) async fn get(
        &self,
        store: &Store,
        row: &Delivery,
    ) -> Result<Option<Arc<EditionParts>>, kontor_store::StoreError> {
        let key = (row.issue_id, row.locale.clone());
        if let Some(e) = self.0.lock().expect("not poisoned").get(&key) {
            return Ok(Some(e.clone()));
        }
        let editions = store.newsletter_editions(row.issue_id).await?;
        let mut cache = self.0.lock().expect("not poisoned");
        for e in editions {
            if let (Some(text), Some(html)) = (e.rendered_text, e.rendered_html) {
                let parts = EditionParts {
                    subject: e.subject,
                    text,
                    html,
                };
                cache.insert((e.issue_id, e.locale), Arc::new(parts));
            }
        }
        Ok(cache.get(&key).cloned())
    }
}

async fn record_failure(s: &Shared, row: &Delivery, e: SendError) {
    let attempts = row.attempts + 1;
    let retry_at = s
        .config
        .retry
        .retry_at(&e, attempts, kontor_domain::now_micros());
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

    #[test]
    fn a_claim_holds_what_one_connection_sends_in_half_a_lease() {
        let config = |rate: f64| BulkConfig {
            connections: 4,
            rate_per_second: rate,
            ..BulkConfig::default()
        };
        assert_eq!(config(0.0).claim_size(), 500, "no limit: a full batch");
        assert_eq!(config(50.0).claim_size(), 500, "12.5/s for 150 s: capped");
        assert_eq!(config(1.0).claim_size(), 37, "0.25/s for 150 s");
        assert_eq!(config(0.001).claim_size(), 1);
    }
}

#[cfg(test)]
mod template_tests {
    use super::*;

    /// A mailer and the template of an edition with `locale`, `subject` and `intro`.
    fn template(
        locale: kontor_domain::Locale,
        subject: &str,
        intro: &str,
    ) -> (NewsletterMailer, Template) {
        let edition = crate::newsletter::render_edition(
            locale,
            subject,
            intro,
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
        (mailer, t)
    }

    #[test]
    /// A real edition (short lines, but many over lettre's 76-byte rule of thumb, and Chinese)
    /// makes a template, and a filled message carries the recipient's address, Message-ID and
    /// unsubscribe URL where the markers were, as 8bit.
    fn a_real_edition_makes_a_template_and_fill_puts_the_recipient_in() {
        let (mailer, t) = template(
            kontor_domain::Locale::Zh,
            "Kontor 简报 11 月",
            &"亲爱的读者：科隆与贵阳签署了经济合作意向书，氢能、生命科学和环境技术是三个重点领域。\n\n".repeat(5),
        );
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
    fn the_stuffed_template_gives_what_stuffing_the_filled_message_gives() {
        let (mailer, t) = template(
            kontor_domain::Locale::De,
            "Kontor November",
            ".Punkt am Zeilenanfang\n\n..zwei Punkte\n\n.\n\nEnde.",
        );
        let (issue, subscriber) = (Uuid::from_u128(7), Uuid::from_u128(8));
        type Fill = fn(
            &NewsletterMailer,
            &Template,
            Uuid,
            Uuid,
            &str,
            &str,
        ) -> Result<Option<Vec<u8>>, SendError>;
        let fill = |f: Fill| {
            f(&mailer, &t, issue, subscriber, "anna@example.de", "tok123")
                .unwrap()
                .expect("an ASCII address")
        };
        let message = fill(NewsletterMailer::fill);
        let data = fill(NewsletterMailer::fill_data);
        let text = String::from_utf8(message.clone()).unwrap();
        assert!(
            text.contains("\r\n.Punkt"),
            "the edition has lines to stuff: {text}"
        );
        assert_eq!(data, dot_stuffed(&message));
        assert!(String::from_utf8(data).unwrap().contains("\r\n..Punkt"));
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
