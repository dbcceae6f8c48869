//! TLS and authentication against a TLS-capable SMTP sink in this process (rustls + ring on the
//! server side, a self-signed certificate for `localhost` made by rcgen for each run): our own
//! newsletter client (`bulk::SmtpClient`) upgrades with STARTTLS or speaks TLS from the start,
//! authenticates, and delivers; it refuses a server that does not offer STARTTLS when the URL
//! demands it, and a certificate it does not trust; wrong credentials are a permanent error. The
//! outbox's lettre client goes the same way with AUTH LOGIN. The clients trust the test
//! certificate through `SmtpConfig::extra_roots`; nothing turns certificate checks off.

use std::sync::{Arc, Mutex};

use base64::Engine;
use kontor_mail::SmtpConfig;
use kontor_mail::bulk::{Envelope, FinishError, SmtpClient, dot_stuffed};
use kontor_mail::smtp::SendError;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const USER: &str = "kontor";
const PASSWORD: &str = "s3cret p@ss";

/// What the sink offers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Plain first, STARTTLS offered.
    StartTls,
    /// TLS from the first byte (smtps, port 465).
    Implicit,
    /// Plain only: no STARTTLS in the EHLO reply.
    PlainOnly,
}

#[derive(Clone, Debug)]
struct Got {
    tls: bool,
    user: Option<String>,
    to: String,
    data: String,
}

#[derive(Default)]
struct Seen {
    messages: Vec<Got>,
    /// AUTH commands received, over TLS or not.
    auth_attempts: usize,
    auth_in_plain_text: usize,
}

struct TlsSink {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

/// A self-signed certificate for `localhost` and the server configuration that presents it.
fn certificate() -> (CertificateDer<'static>, Arc<rustls::ServerConfig>) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der.clone()], key)
    .unwrap();
    (der, Arc::new(config))
}

impl TlsSink {
    /// `mechanisms`: what `AUTH` offers after TLS, e.g. `"PLAIN LOGIN"`.
    async fn start(
        mode: Mode,
        mechanisms: &'static str,
        server: Arc<rustls::ServerConfig>,
    ) -> TlsSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = tokio_rustls::TlsAcceptor::from(server.clone());
                let s = Session {
                    offer_starttls: mode == Mode::StartTls,
                    mechanisms,
                    seen: shared.clone(),
                };
                tokio::spawn(async move {
                    if mode == Mode::Implicit {
                        if let Ok(tls) = acceptor.accept(tcp).await {
                            s.dialogue(&mut BufReader::new(tls), true).await;
                        }
                        return;
                    }
                    let mut plain = BufReader::new(tcp);
                    if s.dialogue(&mut plain, false).await == Next::StartTls
                        && let Ok(tls) = acceptor.accept(plain.into_inner()).await
                    {
                        s.dialogue(&mut BufReader::new(tls), true).await;
                    }
                });
            }
        });
        TlsSink { port, seen }
    }

    fn messages(&self) -> Vec<Got> {
        self.seen.lock().unwrap().messages.clone()
    }
}

#[derive(PartialEq, Eq)]
enum Next {
    StartTls,
    Done,
}

struct Session {
    offer_starttls: bool,
    mechanisms: &'static str,
    seen: Arc<Mutex<Seen>>,
}

fn b64(s: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn line<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>) -> Option<String> {
    let mut l = String::new();
    match io.read_line(&mut l).await {
        Ok(n) if n > 0 => Some(l),
        _ => None,
    }
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>, text: String) -> bool {
    io.get_mut().write_all(text.as_bytes()).await.is_ok() && io.get_mut().flush().await.is_ok()
}

impl Session {
    /// One phase of the session (before or after STARTTLS). The greeting opens the first.
    async fn dialogue<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut BufReader<S>,
        tls: bool,
    ) -> Next {
        let greet = !tls || !self.offer_starttls;
        if greet && !reply(io, "220 localhost ESMTP test sink\r\n".into()).await {
            return Next::Done;
        }
        let (mut user, mut to) = (None::<String>, String::new());
        while let Some(l) = line(io).await {
            let upper = l.to_ascii_uppercase();
            let answer = if upper.starts_with("EHLO") {
                let mut r = "250-localhost\r\n".to_string();
                if !tls && self.offer_starttls {
                    r.push_str("250-STARTTLS\r\n");
                }
                if tls {
                    r.push_str(&format!("250-AUTH {}\r\n", self.mechanisms));
                }
                r + "250 8BITMIME\r\n"
            } else if upper.starts_with("STARTTLS") {
                if !tls && self.offer_starttls {
                    reply(io, "220 2.0.0 ready to start TLS\r\n".into()).await;
                    return Next::StartTls;
                }
                "502 5.5.1 not offered\r\n".into()
            } else if let Some(rest) = upper.strip_prefix("AUTH ") {
                {
                    let mut seen = self.seen.lock().unwrap();
                    seen.auth_attempts += 1;
                    seen.auth_in_plain_text += usize::from(!tls);
                }
                let mechanism = rest.split_whitespace().next().unwrap_or("").to_string();
                let offered = tls && self.mechanisms.split_whitespace().any(|m| m == mechanism);
                let credentials = if !offered {
                    None
                } else if mechanism == "PLAIN" {
                    let initial = l.trim_end().splitn(3, ' ').nth(2).map(str::to_string);
                    let response = match initial {
                        Some(i) => i,
                        None => {
                            reply(io, "334 \r\n".into()).await;
                            line(io).await.unwrap_or_default()
                        }
                    };
                    let decoded = b64(&response);
                    let mut parts = decoded.split('\0').skip(1);
                    Some((
                        parts.next().unwrap_or("").to_string(),
                        parts.next().unwrap_or("").to_string(),
                    ))
                } else {
                    // LOGIN: "Username:" and "Password:", base64.
                    reply(io, "334 VXNlcm5hbWU6\r\n".into()).await;
                    let u = b64(&line(io).await.unwrap_or_default());
                    reply(io, "334 UGFzc3dvcmQ6\r\n".into()).await;
                    let p = b64(&line(io).await.unwrap_or_default());
                    Some((u, p))
                };
                match credentials {
                    None if !tls => "530 5.7.0 must issue a STARTTLS command first\r\n".into(),
                    None => "504 5.5.4 mechanism not offered\r\n".into(),
                    Some((u, p)) if u == USER && p == PASSWORD => {
                        user = Some(u);
                        "235 2.7.0 authenticated\r\n".into()
                    }
                    Some(_) => "535 5.7.8 authentication credentials invalid\r\n".into(),
                }
            } else if upper.starts_with("MAIL FROM:") {
                if user.is_some() {
                    "250 ok\r\n".into()
                } else {
                    "530 5.7.0 authentication required\r\n".into()
                }
            } else if upper.starts_with("RCPT TO:") {
                to = l[8..].trim().trim_matches(['<', '>']).to_string();
                "250 ok\r\n".into()
            } else if upper.starts_with("DATA") {
                reply(io, "354 go ahead\r\n".into()).await;
                let mut data = String::new();
                loop {
                    match line(io).await {
                        Some(d) if d == ".\r\n" => break,
                        Some(d) => data.push_str(d.strip_prefix('.').unwrap_or(&d)),
                        None => return Next::Done,
                    }
                }
                self.seen.lock().unwrap().messages.push(Got {
                    tls,
                    user: user.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                "250 2.0.0 queued\r\n".into()
            } else if upper.starts_with("QUIT") {
                reply(io, "221 bye\r\n".into()).await;
                return Next::Done;
            } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
                "250 ok\r\n".into()
            } else {
                "502 5.5.2 not implemented\r\n".into()
            };
            if !reply(io, answer).await {
                break;
            }
        }
        Next::Done
    }
}

/// The SMTP URL's settings, trusting the test certificate (and, as always, the public roots).
fn config(url: &str, trusted: Option<&CertificateDer<'static>>) -> SmtpConfig {
    let mut c = SmtpConfig::parse(url, "Kontor <newsletter@kontor.example>").unwrap();
    c.timeout = std::time::Duration::from_secs(5);
    c.extra_roots.extend(trusted.cloned());
    c
}

/// Sends one message over our client; the connection's error if it fails.
async fn send_one(c: &SmtpConfig, to: &str) -> Result<(), SendError> {
    let mut client = SmtpClient::connect(c).await?;
    client
        .begin(&Envelope {
            from: "newsletter@kontor.example",
            to,
            eight_bit: false,
        })
        .await?;
    let message = format!(
        "From: newsletter@kontor.example\r\nTo: {to}\r\nSubject: TLS\r\n\r\n.a line with a dot\r\nbye\r\n"
    );
    client.write_data(&dot_stuffed(message.as_bytes())).await?;
    let (verdict, _) = client.commit_and_finish(|| Ok(()), None).await;
    verdict.map_err(|e| match e {
        FinishError::Send(e) => e,
        FinishError::Commit(e) => SendError::Temporary(e.to_string()),
    })?;
    client.quit().await;
    Ok(())
}

fn credentials() -> String {
    // Percent-encoded as a URL needs it: "s3cret p@ss".
    format!("{USER}:s3cret%20p%40ss")
}

/// A sink, the certificate it presents, and its URL `scheme://userinfo@localhost:port`.
async fn sink(
    mode: Mode,
    mechanisms: &'static str,
    scheme: &str,
    userinfo: &str,
) -> (TlsSink, CertificateDer<'static>, String) {
    let (cert, server) = certificate();
    let sink = TlsSink::start(mode, mechanisms, server).await;
    let url = format!("{scheme}://{userinfo}@localhost:{}", sink.port);
    (sink, cert, url)
}

#[tokio::test]
async fn starttls_then_auth_plain_delivers_over_tls() {
    let (sink, cert, url) = sink(
        Mode::StartTls,
        "PLAIN LOGIN",
        "smtp+starttls",
        &credentials(),
    )
    .await;
    send_one(&config(&url, Some(&cert)), "li@example.cn")
        .await
        .unwrap();
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "the message travelled after the upgrade");
    assert_eq!(got[0].user.as_deref(), Some(USER));
    assert_eq!(got[0].to, "li@example.cn");
    assert!(
        got[0].data.contains("\r\n.a line with a dot\r\n"),
        "dot-stuffing undone by the server"
    );
    assert_eq!(sink.seen.lock().unwrap().auth_in_plain_text, 0);
}

#[tokio::test]
async fn implicit_tls_then_auth_plain_delivers() {
    let (sink, cert, url) = sink(Mode::Implicit, "PLAIN", "smtps", &credentials()).await;
    send_one(&config(&url, Some(&cert)), "anna@example.de")
        .await
        .unwrap();
    let got = sink.messages();
    assert_eq!((got.len(), got[0].tls), (1, true));
    assert_eq!(got[0].user.as_deref(), Some(USER));
}

#[tokio::test]
async fn a_server_without_starttls_is_refused_when_the_url_demands_it() {
    let (sink, cert, url) = sink(Mode::PlainOnly, "PLAIN", "smtp+starttls", &credentials()).await;
    let err = send_one(&config(&url, Some(&cert)), "li@example.cn")
        .await
        .unwrap_err();
    match &err {
        SendError::Permanent(m) => assert!(m.contains("does not offer STARTTLS"), "{m}"),
        other => panic!("expected a permanent error, got {other:?}"),
    }
    let seen = sink.seen.lock().unwrap();
    assert_eq!(
        seen.auth_attempts, 0,
        "the password never went out in plain text"
    );
    assert!(seen.messages.is_empty());
}

#[tokio::test]
async fn a_server_that_offers_only_auth_login_gets_it() {
    let (sink, cert, url) = sink(Mode::StartTls, "LOGIN", "smtp+starttls", &credentials()).await;
    send_one(&config(&url, Some(&cert)), "li@example.cn")
        .await
        .unwrap();
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].user.as_deref(), Some(USER));
}

#[test]
fn credentials_never_travel_in_plain_text_to_another_machine() {
    let from = "Kontor <newsletter@kontor.example>";
    let err = SmtpConfig::parse("smtp://kontor:secret@mail.example.org:2525", from).unwrap_err();
    assert!(err.to_string().contains("without TLS"), "{err}");
    for fine in [
        "smtp+starttls://kontor:secret@mail.example.org",
        "smtps://kontor:secret@mail.example.org",
        "smtp://kontor:secret@localhost:2525",
        "smtp://kontor:secret@127.0.0.1:2525",
        "smtp://mail.example.org",
    ] {
        assert!(SmtpConfig::parse(fine, from).is_ok(), "{fine}");
    }
}

#[tokio::test]
async fn wrong_credentials_are_a_permanent_error() {
    let (sink, cert, url) = sink(
        Mode::StartTls,
        "PLAIN LOGIN",
        "smtp+starttls",
        &format!("{USER}:wrong"),
    )
    .await;
    let err = send_one(&config(&url, Some(&cert)), "li@example.cn")
        .await
        .unwrap_err();
    match &err {
        SendError::Permanent(m) => assert!(m.starts_with("535"), "{m}"),
        other => panic!("expected a permanent error, got {other:?}"),
    }
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_certificate_nobody_vouches_for_is_refused() {
    let (sink, _, url) = sink(Mode::StartTls, "PLAIN", "smtp+starttls", &credentials()).await;
    let err = send_one(&config(&url, None), "li@example.cn")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
    let seen = sink.seen.lock().unwrap();
    assert_eq!(seen.auth_attempts, 0);
    assert!(seen.messages.is_empty());
}

/// The outbox's client (lettre) with the same settings: STARTTLS, then AUTH LOGIN when that is
/// all the server offers.
#[tokio::test]
async fn the_outbox_client_upgrades_and_logs_in_too() {
    let (sink, cert, url) = sink(Mode::StartTls, "LOGIN", "smtp+starttls", &credentials()).await;
    let store = super::store().await;
    let now = kontor_domain::now_micros();
    super::enqueue(&store, "wang@example.cn", now).await;
    let mut worker = kontor_mail::OutboxWorker::new(
        store.clone(),
        kontor_mail::Delivery::Smtp(Box::new(kontor_mail::SmtpSender::new(config(
            &url,
            Some(&cert),
        )))),
        Arc::new(tokio::sync::Notify::new()),
    );
    assert_eq!(worker.deliver_due_at(now).await.unwrap(), 1);
    let got = sink.messages();
    assert_eq!(got.len(), 1, "{:?}", store.outbox(None, 1).await.unwrap());
    assert!(got[0].tls);
    assert_eq!(got[0].user.as_deref(), Some(USER));
    assert_eq!(got[0].to, "wang@example.cn");
}
