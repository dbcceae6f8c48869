//! Configuration: a TOML file (optional) overlaid by `KONTOR_*` environment variables.

use serde::Deserialize;

pub const EXAMPLE: &str = r#"# Kontor configuration. Every setting can also be given as an environment variable:
# KONTOR_ plus the name in upper case, e.g. KONTOR_DATABASE_URL. The environment wins.

# The public URL people use (links in mails, cookies marked Secure when https).
base_url = "http://127.0.0.1:8080"

# Where to listen.
listen = "127.0.0.1:8080"

# SQLite (default; one instance) or PostgreSQL (several instances sharing one database):
#   database_url = "postgres://kontor:secret@db.internal/kontor"
database_url = "sqlite://kontor-data/kontor.db"

# Outgoing mail. Empty: mails stay in the local mailbox (/mailbox, for administrators).
#   smtp://relay.internal:25, smtp+starttls://user:password@mail.example.de:587, smtps://…:465
smtp_url = ""
mail_from = "Kontor <noreply@example.org>"

# Anyone may read the local mailbox (only for demos).
mailbox_public = false

# Take client addresses from X-Forwarded-For (only behind ONE reverse proxy you run, which must
# append the peer address; the rightmost entry is used, the rest is client-controlled). Left off
# behind a proxy, every client has the proxy's address (rate limits, proof of consent).
trust_forwarded_for = false

# Minutes before a meeting when both participants get a reminder; 0 sends none.
reminder_minutes = 30

# Log format: "text" or "json".
log_format = "text"

# Video rooms of online meetings (WebRTC, browser to browser). Empty: no STUN/TURN server, which
# works on one LAN. Comma-separated URLs, e.g. "stun:turn.example.org:3478" and
# "turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349". TURN credentials are
# derived from coturn's static-auth-secret (use-auth-secret) and expire after turn_ttl_secs.
stun_urls = ""
turn_urls = ""
turn_secret = ""
turn_ttl_secs = 7200

# Optional: a Jitsi Meet server (e.g. "https://meet.example.org") that organisers may choose per
# event instead of the built-in rooms. Empty: only the built-in rooms.
jitsi_url = ""
# Required with jitsi_url: a long random secret (e.g. `openssl rand -hex 32`). A meeting's Jitsi
# room is named from HMAC-SHA256(jitsi_secret, meeting id), so knowing a meeting's id (it is in
# links, mails and calendar entries) does not open its Jitsi room.
jitsi_secret = ""
# How much of a subscriber's IP address the newsletter's proof of consent keeps (ask your
# data-protection officer): "full", "truncated" (/24 for IPv4, /48 for IPv6) or "none".
consent_ip = "truncated"
# Newsletter sending over SMTP: parallel SMTP connections, messages per second over all of them
# (0: no limit), and the first retry delay after a temporary failure (doubles per try).
newsletter_connections = 4
newsletter_rate = 50.0
newsletter_retry_seconds = 30
# How long a worker's claim on a batch of newsletter messages holds (10 to 3600 seconds). On
# PostgreSQL the batches of an instance that died are sent by others once their claims run out.
newsletter_lease_seconds = 300
# The send journal (one per instance; empty: next to the SQLite database, else ./newsletter.journal).
newsletter_journal = ""

# DKIM signature on newsletters (RSA PKCS#8/PKCS#1 or Ed25519 PKCS#8 PEM); the domain is the
# sender's. Empty: not signed (sign at the relay instead).
dkim_selector = ""
dkim_private_key_path = ""
# The privacy notice linked next to the newsletter's consent text; {locale} becomes de, en or zh
# (e.g. a page made in the magazine's page editor).
privacy_url = "/pages/{locale}/privacy"
"#;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub base_url: String,
    pub listen: String,
    pub database_url: String,
    pub smtp_url: String,
    pub mail_from: String,
    pub mailbox_public: bool,
    pub trust_forwarded_for: bool,
    pub reminder_minutes: i64,
    pub log_format: String,
    pub stun_urls: String,
    pub turn_urls: String,
    pub turn_secret: String,
    pub turn_ttl_secs: i64,
    pub jitsi_url: String,
    pub jitsi_secret: String,
    pub consent_ip: kontor_domain::ConsentIp,
    pub newsletter_connections: usize,
    pub newsletter_rate: f64,
    pub newsletter_retry_seconds: u64,
    pub newsletter_lease_seconds: u64,
    pub newsletter_journal: String,
    pub dkim_selector: String,
    pub dkim_private_key_path: String,
    pub privacy_url: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: "http://127.0.0.1:8080".into(),
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://kontor-data/kontor.db".into(),
            smtp_url: String::new(),
            mail_from: "Kontor <noreply@example.org>".into(),
            mailbox_public: false,
            trust_forwarded_for: false,
            reminder_minutes: 30,
            log_format: "text".into(),
            stun_urls: String::new(),
            turn_urls: String::new(),
            turn_secret: String::new(),
            turn_ttl_secs: 7200,
            jitsi_url: String::new(),
            jitsi_secret: String::new(),
            consent_ip: kontor_domain::ConsentIp::Truncated,
            newsletter_connections: 4,
            newsletter_rate: 50.0,
            newsletter_retry_seconds: 30,
            newsletter_lease_seconds: 300,
            newsletter_journal: String::new(),
            dkim_selector: String::new(),
            dkim_private_key_path: String::new(),
            privacy_url: "/pages/{locale}/privacy".into(),
        }
    }
}

impl Config {
    /// The video rooms' STUN/TURN settings for the web server.
    pub fn video(&self) -> kontor_web::VideoConfig {
        let list = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(String::from)
                .collect()
        };
        kontor_web::VideoConfig {
            stun_urls: list(&self.stun_urls),
            turn_urls: list(&self.turn_urls),
            turn_secret: self.turn_secret.clone(),
            turn_ttl_secs: self.turn_ttl_secs,
            jitsi_url: self.jitsi_url.trim().trim_end_matches('/').to_string(),
            jitsi_secret: self.jitsi_secret.clone(),
            ping_every: None,
        }
    }

    /// Reads the file (if given), then applies `KONTOR_*` variables from `env`.
    pub fn load(
        path: Option<&std::path::Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut config = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
            }
            None => Config::default(),
        };
        for (key, value) in env {
            let Some(name) = key.strip_prefix("KONTOR_") else {
                continue;
            };
            let flag = || -> anyhow::Result<bool> {
                value
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{key} must be true or false"))
            };
            match name {
                "BASE_URL" => config.base_url = value.clone(),
                "LISTEN" => config.listen = value.clone(),
                "DATABASE_URL" => config.database_url = value.clone(),
                "SMTP_URL" => config.smtp_url = value.clone(),
                "MAIL_FROM" => config.mail_from = value.clone(),
                "MAILBOX_PUBLIC" => config.mailbox_public = flag()?,
                "TRUST_FORWARDED_FOR" => config.trust_forwarded_for = flag()?,
                "LOG_FORMAT" => config.log_format = value.clone(),
                "STUN_URLS" => config.stun_urls = value.clone(),
                "TURN_URLS" => config.turn_urls = value.clone(),
                "TURN_SECRET" => config.turn_secret = value.clone(),
                "JITSI_URL" => config.jitsi_url = value.clone(),
                "PRIVACY_URL" => config.privacy_url = value.clone(),
                "JITSI_SECRET" => config.jitsi_secret = value.clone(),
                "TURN_TTL_SECS" => {
                    config.turn_ttl_secs = value
                        .parse()
                        .ok()
                        .filter(|s| (60..=86_400).contains(s))
                        .ok_or_else(|| anyhow::anyhow!("{key} must be seconds from 60 to 86400"))?
                }
                "CONSENT_IP" => {
                    config.consent_ip = kontor_domain::Keyed::from_key(value.trim())
                        .ok_or_else(|| anyhow::anyhow!("{key} must be full, truncated or none"))?
                }
                "NEWSLETTER_JOURNAL" => config.newsletter_journal = value.clone(),
                "DKIM_SELECTOR" => config.dkim_selector = value.clone(),
                "DKIM_PRIVATE_KEY_PATH" => config.dkim_private_key_path = value.clone(),
                "NEWSLETTER_CONNECTIONS" => {
                    config.newsletter_connections = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=64).contains(n))
                        .ok_or_else(|| anyhow::anyhow!("{key} must be 1 to 64"))?
                }
                "NEWSLETTER_RATE" => {
                    config.newsletter_rate = value
                        .parse()
                        .ok()
                        .filter(|r: &f64| *r >= 0.0)
                        .ok_or_else(|| {
                            anyhow::anyhow!("{key} must be messages per second, 0 for no limit")
                        })?
                }
                "NEWSLETTER_RETRY_SECONDS" => {
                    config.newsletter_retry_seconds = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=3600).contains(n))
                        .ok_or_else(|| anyhow::anyhow!("{key} must be 1 to 3600"))?
                }
                "NEWSLETTER_LEASE_SECONDS" => {
                    config.newsletter_lease_seconds = value
                        .parse()
                        .ok()
                        .filter(|n| (10..=3600).contains(n))
                        .ok_or_else(|| anyhow::anyhow!("{key} must be 10 to 3600"))?
                }
                "REMINDER_MINUTES" => {
                    config.reminder_minutes = value
                        .parse()
                        .ok()
                        .filter(|m| (0..=10_080).contains(m))
                        .ok_or_else(|| anyhow::anyhow!("{key} must be minutes from 0 to 10080"))?
                }
                // Variables of other tools (and the test suite's) share the prefix.
                _ => {}
            }
        }
        if !config.jitsi_url.trim().is_empty() && config.jitsi_secret.len() < 16 {
            anyhow::bail!(
                "jitsi_url needs jitsi_secret (KONTOR_JITSI_SECRET), a random secret of at least \
                 16 characters: without it a meeting's Jitsi room is named by its id"
            );
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_example_is_the_default() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(format!("{parsed:?}"), format!("{:?}", Config::default()));
    }

    #[test]
    fn environment_overrides_defaults() {
        let env = [
            (
                "KONTOR_DATABASE_URL".to_string(),
                "postgres://x/y".to_string(),
            ),
            ("KONTOR_MAILBOX_PUBLIC".to_string(), "true".to_string()),
            ("KONTOR_CONSENT_IP".to_string(), "none".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let c = Config::load(None, env.into_iter()).unwrap();
        assert_eq!(c.database_url, "postgres://x/y");
        assert!(c.mailbox_public);
        assert_eq!(c.consent_ip, kontor_domain::ConsentIp::None);
        assert_eq!(c.listen, "127.0.0.1:8080");
        let bad = [(
            "KONTOR_MAILBOX_PUBLIC".to_string(),
            "yes please".to_string(),
        )];
        assert!(Config::load(None, bad.into_iter()).is_err());
        let jitsi = |secret: &str| {
            let env = [
                ("KONTOR_JITSI_URL", "https://meet.example.org"),
                ("KONTOR_JITSI_SECRET", secret),
            ];
            Config::load(
                None,
                env.map(|(k, v)| (k.to_string(), v.to_string())).into_iter(),
            )
        };
        assert!(jitsi("").is_err(), "a Jitsi server needs a secret");
        assert!(jitsi("short").is_err());
        let c = jitsi("0123456789abcdef0123").unwrap();
        assert_eq!(c.video().jitsi_secret, "0123456789abcdef0123");
    }
}
