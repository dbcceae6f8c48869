//! DKIM signatures (RFC 6376, relaxed/relaxed, SHA-256) over a formatted message, with `ring`
//! (already used by rustls): RSA (`rsa-sha256`, PKCS#8 or PKCS#1 PEM) or Ed25519 (`ed25519-sha256`,
//! RFC 8463, PKCS#8 PEM).
//!
//! We sign ourselves rather than through lettre's `dkim` feature so that the bulk path can sign
//! the exact bytes it transmits, and so that `List-Unsubscribe` and `List-Unsubscribe-Post` are
//! always covered (RFC 8058 section 4 requires it).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};

/// Header fields we sign when present, in this order.
pub const SIGNED_HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
];

enum Key {
    Rsa(Box<RsaKeyPair>),
    Ed25519(Box<Ed25519KeyPair>),
}

pub struct DkimSigner {
    domain: String,
    selector: String,
    key: Key,
}

#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    #[error("the DKIM key is not PEM: {0}")]
    Pem(String),
    #[error(
        "the DKIM key is neither RSA (PKCS#8 or PKCS#1, at least 2048 bits) nor Ed25519 (PKCS#8)"
    )]
    Key,
}

impl DkimSigner {
    /// `pem` holds a `PRIVATE KEY` (PKCS#8: RSA or Ed25519) or `RSA PRIVATE KEY` (PKCS#1).
    pub fn from_pem(domain: &str, selector: &str, pem: &str) -> Result<DkimSigner, DkimError> {
        let (label, der) = pem_decode(pem)?;
        let key = if label == "RSA PRIVATE KEY" {
            RsaKeyPair::from_der(&der).map(|k| Key::Rsa(Box::new(k)))
        } else {
            RsaKeyPair::from_pkcs8(&der)
                .map(|k| Key::Rsa(Box::new(k)))
                .or_else(|_| {
                    Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                        .map(|k| Key::Ed25519(Box::new(k)))
                })
        }
        .map_err(|_| DkimError::Key)?;
        Ok(DkimSigner {
            domain: domain.to_string(),
            selector: selector.to_string(),
            key,
        })
    }

    /// Returns the `DKIM-Signature` header field (with its CRLF) to put in front of `message`,
    /// a complete message with CRLF line ends.
    pub fn sign(&self, message: &[u8], timestamp: i64) -> String {
        let (head, body) = split_message(message);
        let body_hash = B64.encode(ring::digest::digest(
            &ring::digest::SHA256,
            &relaxed_body(body),
        ));
        let fields = header_fields(head);
        // Pick fields bottom-up per name (RFC 6376 5.4.2); list only those present.
        let mut used = vec![false; fields.len()];
        let mut names = Vec::new();
        let mut signed = Vec::new();
        for want in SIGNED_HEADERS {
            if let Some(i) = (0..fields.len())
                .rev()
                .find(|&i| !used[i] && fields[i].0.eq_ignore_ascii_case(want))
            {
                used[i] = true;
                names.push(*want);
                signed.extend_from_slice(relaxed_header(fields[i].0, fields[i].1).as_bytes());
                signed.extend_from_slice(b"\r\n");
            }
        }
        let algorithm = match self.key {
            Key::Rsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        };
        let value = format!(
            "v=1; a={algorithm}; c=relaxed/relaxed; d={}; s={}; t={timestamp};\r\n\th={};\r\n\tbh={body_hash};\r\n\tb=",
            self.domain,
            self.selector,
            names.join(":")
        );
        signed.extend_from_slice(relaxed_header("DKIM-Signature", &value).as_bytes());
        let signature = match &self.key {
            Key::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(
                    &RSA_PKCS1_SHA256,
                    &ring::rand::SystemRandom::new(),
                    &signed,
                    &mut sig,
                )
                .expect("RSA signing with a valid key");
                sig
            }
            Key::Ed25519(k) => {
                // RFC 8463: Ed25519 signs the SHA-256 hash of the canonicalised header data.
                let hash = ring::digest::digest(&ring::digest::SHA256, &signed);
                k.sign(hash.as_ref()).as_ref().to_vec()
            }
        };
        format!("DKIM-Signature: {value}{}\r\n", B64.encode(signature))
    }
}

fn pem_decode(pem: &str) -> Result<(String, Vec<u8>), DkimError> {
    let begin = pem
        .find("-----BEGIN ")
        .ok_or_else(|| DkimError::Pem("no BEGIN line".into()))?;
    let rest = &pem[begin + 11..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| DkimError::Pem("bad BEGIN line".into()))?;
    let label = rest[..label_end].to_string();
    let body = &rest[label_end + 5..];
    let end = body
        .find("-----END ")
        .ok_or_else(|| DkimError::Pem("no END line".into()))?;
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = B64.decode(b64).map_err(|e| DkimError::Pem(e.to_string()))?;
    Ok((label, der))
}

fn split_message(message: &[u8]) -> (&[u8], &[u8]) {
    match message.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&message[..i + 2], &message[i + 4..]),
        None => (message, &[]),
    }
}

/// Header fields as (name, raw value including folding), in order.
fn header_fields(head: &[u8]) -> Vec<(&str, &str)> {
    let text = std::str::from_utf8(head).unwrap_or_default();
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1 = pos + line.len();
            }
        } else {
            out.push((pos, pos + line.len()));
        }
        pos += line.len();
    }
    out.into_iter()
        .filter_map(|(a, b)| {
            let field = text[a..b].trim_end_matches("\r\n");
            field.split_once(':')
        })
        .collect()
}

/// RFC 6376 3.4.2: lower-case name, unfold, compress whitespace, trim.
fn relaxed_header(name: &str, value: &str) -> String {
    let mut v = String::with_capacity(value.len());
    let mut space = false;
    for ch in value.chars() {
        match ch {
            '\r' | '\n' => {}
            ' ' | '\t' => space = true,
            c => {
                if space && !v.is_empty() {
                    v.push(' ');
                }
                space = false;
                v.push(c);
            }
        }
    }
    format!("{}:{}", name.trim().to_ascii_lowercase(), v)
}

/// RFC 6376 3.4.4: compress whitespace runs, drop trailing whitespace and trailing empty lines.
fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut blank_lines = 0usize;
    let text = body.strip_suffix(b"\r\n").unwrap_or(body);
    if text.is_empty() {
        return out;
    }
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut canon = Vec::with_capacity(line.len());
        let mut space = false;
        for &b in line {
            if b == b' ' || b == b'\t' {
                space = true;
            } else {
                if space {
                    canon.push(b' ');
                }
                space = false;
                canon.push(b);
            }
        }
        if canon.is_empty() {
            blank_lines += 1;
            continue;
        }
        for _ in 0..blank_lines {
            out.extend_from_slice(b"\r\n");
        }
        blank_lines = 0;
        out.extend_from_slice(&canon);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_canonicalisation_follows_rfc_6376_examples() {
        // RFC 6376 3.4.5
        assert_eq!(relaxed_header("A", " X"), "a:X");
        assert_eq!(relaxed_header("B ", " Y\t\r\n\tZ  "), "b:Y Z");
        assert_eq!(relaxed_body(b" C \r\nD \t E\r\n\r\n\r\n"), b" C\r\nD E\r\n");
        assert_eq!(relaxed_body(b""), b"");
        assert_eq!(relaxed_body(b"\r\n\r\n"), b"");
    }

    #[test]
    fn header_fields_keep_folded_values() {
        let head = b"From: a@b\r\nList-Unsubscribe:\r\n <https://x/u/1>\r\nTo: c@d\r\n";
        let f = header_fields(head);
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].0, "List-Unsubscribe");
        assert_eq!(
            relaxed_header(f[1].0, f[1].1),
            "list-unsubscribe:<https://x/u/1>"
        );
    }
}
