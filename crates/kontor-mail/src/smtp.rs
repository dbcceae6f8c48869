//! SMTP delivery over one reused connection per sender.
//!
//! lettre 0.11 does not set `TCP_NODELAY`; with Nagle's algorithm and delayed ACKs every message
//! then stalls ~40 ms on loopback. We open the TCP stream ourselves, set `TCP_NODELAY`, and hand
//! the stream to lettre's SMTP client.

use std::time::Duration;

use kontor_store::outbox::OutboxMail;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, Message};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP, for a relay on the same host or network.
    None,
    /// STARTTLS on a submission port (587).
    StartTls,
    /// Implicit TLS (465).
    Tls,
}

#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: Mailbox,
    /// The domain of our Message-IDs and of EHLO.
    pub domain: String,
    pub timeout: Duration,
    /// Root certificates trusted besides the public (webpki) ones, e.g. a private CA; empty
    /// unless set in code (the tests' own CA). Certificates are always checked.
    pub extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "the SMTP URL must look like smtp://[user:password@]host[:port], smtp+starttls://… or smtps://…"
    )]
    Url,
    #[error("the sender address `{0}` is not a valid mailbox")]
    From(String),
    #[error(
        "the SMTP URL has credentials for {0} without TLS: use smtp+starttls:// or smtps:// (plain smtp:// only to localhost)"
    )]
    PlainCredentials(String),
}

impl SmtpConfig {
    /// Parses `smtp://host:25`, `smtp+starttls://user:pass@host:587`, `smtps://user:pass@host:465`.
    pub fn parse(url: &str, from: &str) -> Result<SmtpConfig, ConfigError> {
        let (scheme, rest) = url.split_once("://").ok_or(ConfigError::Url)?;
        let (security, default_port) = match scheme {
            "smtp" => (Security::None, 25),
            "smtp+starttls" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            _ => return Err(ConfigError::Url),
        };
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| ConfigError::Url)?),
            None => (hostport, default_port),
        };
        if host.is_empty() {
            return Err(ConfigError::Url);
        }
        let (username, password) = match userinfo.map(|u| u.split_once(':')) {
            Some(Some((u, p))) => (Some(decode(u)), Some(decode(p))),
            Some(None) => (Some(decode(userinfo.unwrap_or_default())), None),
            None => (None, None),
        };
        if username.is_some() && security == Security::None && !is_loopback(host) {
            return Err(ConfigError::PlainCredentials(host.to_string()));
        }
        let from = sender_address(from)?;
        let domain = from.email.domain().to_string();
        Ok(SmtpConfig {
            host: host.to_string(),
            port,
            security,
            username,
            password,
            from,
            domain,
            timeout: Duration::from_secs(30),
            extra_roots: Vec::new(),
        })
    }
}

/// The sender mailbox, e.g. `Kontor <noreply@example.org>` (also without SMTP: the local
/// mailbox's newsletters carry it).
pub fn sender_address(from: &str) -> Result<Mailbox, ConfigError> {
    from.parse()
        .map_err(|_| ConfigError::From(from.to_string()))
}

/// Whether `host` is this machine (credentials may travel there without TLS).
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// When a failed delivery is tried again: after a temporary failure, `first`, doubling with every
/// further attempt up to `max`, until `max_attempts`; after a permanent one, never. The outbox and
/// the newsletter sender both follow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub max_attempts: i32,
}

impl Backoff {
    /// The delay after `failed` earlier failed attempts (0 for the first failure).
    pub fn delay(&self, failed: i32) -> Duration {
        let factor = 1u32 << failed.clamp(0, 16) as u32;
        self.first.saturating_mul(factor).min(self.max)
    }

    /// When to try again (µs) after attempt number `attempts` (from 1) failed with `e`; `None`:
    /// give up.
    pub fn retry_at(&self, e: &SendError, attempts: i32, now: i64) -> Option<i64> {
        match e {
            SendError::Temporary(_) if attempts < self.max_attempts => {
                Some(now + self.delay(attempts - 1).as_micros() as i64)
            }
            _ => None,
        }
    }
}

/// Why a delivery failed: temporary failures are retried, permanent ones are not.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("temporary: {0}")]
    Temporary(String),
    #[error("permanent: {0}")]
    Permanent(String),
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        if e.is_permanent() {
            SendError::Permanent(e.to_string())
        } else {
            SendError::Temporary(e.to_string())
        }
    }
}

/// One SMTP client connection, opened on first use and kept for the next message.
pub struct SmtpSender {
    config: SmtpConfig,
    connection: Option<AsyncSmtpConnection>,
}

impl SmtpSender {
    pub fn new(config: SmtpConfig) -> Self {
        SmtpSender {
            config,
            connection: None,
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let c = &self.config;
        let hello = ClientId::Domain(c.domain.clone());
        let tls = || {
            let mut b = TlsParameters::builder(c.host.clone());
            for cert in &c.extra_roots {
                b = b.add_root_certificate(Certificate::from_der(cert.to_vec())?);
            }
            b.build().map_err(|e| SendError::Temporary(e.to_string()))
        };
        let mut conn = if c.security == Security::Tls {
            AsyncSmtpConnection::connect_tokio1(
                (c.host.as_str(), c.port),
                Some(c.timeout),
                &hello,
                Some(tls()?),
                None,
            )
            .await?
        } else {
            let stream = tokio::time::timeout(
                c.timeout,
                tokio::net::TcpStream::connect((c.host.as_str(), c.port)),
            )
            .await
            .map_err(|_| SendError::Temporary("connect timed out".into()))?
            .map_err(|e| SendError::Temporary(format!("connect: {e}")))?;
            stream
                .set_nodelay(true)
                .map_err(|e| SendError::Temporary(e.to_string()))?;
            let mut conn =
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello).await?;
            if c.security == Security::StartTls {
                conn.starttls(tls()?, &hello).await?;
            }
            conn
        };
        if let (Some(user), Some(pass)) = (&c.username, &c.password) {
            let creds = Credentials::new(user.clone(), pass.clone());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds)
                .await?;
        }
        Ok(conn)
    }

    /// Delivers one outbox mail. On any error the connection is dropped, so the next call starts
    /// afresh.
    pub async fn send(&mut self, mail: &OutboxMail) -> Result<(), SendError> {
        let message = self.build(mail)?;
        if self.connection.as_mut().is_some_and(|c| c.has_broken()) {
            self.connection = None;
        }
        if self.connection.is_none() {
            self.connection = Some(self.connect().await?);
        }
        let conn = self.connection.as_mut().expect("just connected");
        let result = conn.send(message.envelope(), &message.formatted()).await;
        if result.is_err()
            && let Some(mut c) = self.connection.take()
        {
            c.abort().await;
        }
        result.map(|_| ()).map_err(SendError::from)
    }

    fn build(&self, mail: &OutboxMail) -> Result<Message, SendError> {
        let to: Address = mail
            .recipient
            .parse()
            .map_err(|e| SendError::Permanent(format!("recipient {}: {e}", mail.recipient)))?;
        Message::builder()
            .from(self.config.from.clone())
            .to(Mailbox::new(None, to))
            .subject(&mail.subject)
            .message_id(Some(format!("<{}@{}>", mail.id, self.config.domain)))
            .multipart(MultiPart::alternative_plain_html(
                mail.body_text.clone(),
                mail.body_html.clone(),
            ))
            .map_err(|e| SendError::Permanent(e.to_string()))
    }

    pub async fn close(&mut self) {
        if let Some(mut c) = self.connection.take() {
            let _ = c.quit().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_smtp_urls() {
        let c = SmtpConfig::parse(
            "smtp+starttls://user%40x:p%3Ass@mail.example.de:2587",
            "Kontor <noreply@example.de>",
        )
        .unwrap();
        assert_eq!(c.security, Security::StartTls);
        assert_eq!(c.port, 2587);
        assert_eq!(c.username.as_deref(), Some("user@x"));
        assert_eq!(c.password.as_deref(), Some("p:ss"));
        assert_eq!(c.domain, "example.de");
        assert_eq!(
            SmtpConfig::parse("smtp://127.0.0.1", "a@b.de")
                .unwrap()
                .port,
            25
        );
        assert!(SmtpConfig::parse("http://x", "a@b.de").is_err());
        assert!(SmtpConfig::parse("smtp://x", "not an address").is_err());
    }
}
