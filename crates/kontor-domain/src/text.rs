use std::collections::BTreeMap;

use crate::{Invalid, Locale};

/// An e-mail address, trimmed and lower-cased so that one person has one account.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        let s = raw.trim().to_lowercase();
        if s.chars().count() > 254 {
            return Err(Invalid::too_long(254));
        }
        let invalid = Invalid::new("invalid-email");
        let (local, domain) = s.rsplit_once('@').ok_or(invalid)?;
        let bad_char =
            |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"@".contains(c);
        if local.is_empty()
            || local.len() > 64
            || local.chars().any(bad_char)
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
        {
            return Err(invalid);
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.len() > 63
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err(invalid);
        }
        Ok(Email(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}
impl TryFrom<String> for Email {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Email::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}
impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Text a user typed: trimmed, without control characters (line breaks allowed when `multiline`),
/// at most `max` characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    /// A required single-line value such as a name or a title.
    pub fn line(raw: &str, max: usize) -> Result<Text, Invalid> {
        Self::parse(raw, max, false)?.ok_or(Invalid::new("invalid-required"))
    }
    /// An optional single-line value: empty input is `None`.
    pub fn optional_line(raw: &str, max: usize) -> Result<Option<Text>, Invalid> {
        Self::parse(raw, max, false)
    }
    /// An optional multi-line value such as a description.
    pub fn optional_block(raw: &str, max: usize) -> Result<Option<Text>, Invalid> {
        Self::parse(raw, max, true)
    }
    fn parse(raw: &str, max: usize, multiline: bool) -> Result<Option<Text>, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().count() > max {
            return Err(Invalid::too_long(max));
        }
        let allowed =
            |c: char| !c.is_control() || (multiline && (c == '\n' || c == '\r' || c == '\t'));
        if !s.chars().all(allowed) {
            return Err(Invalid::new("invalid-characters"));
        }
        Ok(Some(Text(s.replace("\r\n", "\n"))))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}
impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Text that users write in several languages, shown in the reader's language when there is one,
/// else in the first of English, German, Chinese that exists.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct LocalizedText(BTreeMap<Locale, String>);

impl LocalizedText {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn one(locale: Locale, text: impl Into<String>) -> Self {
        let mut t = Self::new();
        t.set(locale, text);
        t
    }
    /// Sets one language; empty text removes it.
    pub fn set(&mut self, locale: Locale, text: impl Into<String>) {
        let text = text.into();
        if text.trim().is_empty() {
            self.0.remove(&locale);
        } else {
            self.0.insert(locale, text);
        }
    }
    pub fn with(mut self, locale: Locale, text: impl Into<String>) -> Self {
        self.set(locale, text);
        self
    }
    /// The exact language, without fallback (for edit forms).
    pub fn exact(&self, locale: Locale) -> Option<&str> {
        self.0.get(&locale).map(String::as_str)
    }
    /// The text for a reader, with the language it is actually in.
    pub fn get(&self, locale: Locale) -> Option<(Locale, &str)> {
        [locale, Locale::En, Locale::De, Locale::Zh]
            .into_iter()
            .find_map(|l| self.0.get(&l).map(|t| (l, t.as_str())))
    }
    /// The text for a reader, or an empty string.
    pub fn show(&self, locale: Locale) -> &str {
        self.get(locale).map_or("", |(_, t)| t)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn languages(&self) -> impl Iterator<Item = Locale> + '_ {
        self.0.keys().copied()
    }
    /// Validates every language's text with `max` characters and multi-line rules.
    pub fn parse(entries: &[(Locale, &str)], max: usize, multiline: bool) -> Result<Self, Invalid> {
        let mut t = Self::new();
        for (locale, raw) in entries {
            let parsed = if multiline {
                Text::optional_block(raw, max)?
            } else {
                Text::optional_line(raw, max)?
            };
            if let Some(text) = parsed {
                t.set(*locale, text.into_string());
            }
        }
        Ok(t)
    }
}

/// A URL-safe identifier such as an event's `hydrogen-fair-2027`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Slug, Invalid> {
        let s = raw.trim();
        if s.len() < 2 || s.len() > 80 {
            return Err(Invalid::new("invalid-slug"));
        }
        let ok = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if !ok {
            return Err(Invalid::new("invalid-slug"));
        }
        Ok(Slug(s.to_string()))
    }
    /// Makes a slug from a title; `None` when nothing usable is left (e.g. a Chinese-only title).
    pub fn from_title(title: &str) -> Option<Slug> {
        let mut s = String::new();
        for c in title.to_lowercase().chars() {
            let c = match c {
                'ä' => "ae".into(),
                'ö' => "oe".into(),
                'ü' => "ue".into(),
                'ß' => "ss".into(),
                c if c.is_ascii_alphanumeric() => c.to_string(),
                _ => "-".into(),
            };
            s.push_str(&c);
        }
        let s: Vec<&str> = s.split('-').filter(|p| !p.is_empty()).collect();
        let mut s = s.join("-");
        s.truncate(60);
        Slug::parse(s.trim_end_matches('-')).ok()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Slug {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Slug::parse(&s)
    }
}
impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}
impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password someone chose: 10 to 200 characters. Never logged, never stored as is.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Password, Invalid> {
        let n = raw.chars().count();
        if n < 10 {
            return Err(Invalid::new("invalid-password-short"));
        }
        if n > 200 {
            return Err(Invalid::too_long(200));
        }
        Ok(Password(raw.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// An http(s) URL of a website; a bare domain gets `https://`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct WebUrl(String);

impl WebUrl {
    pub fn parse_optional(raw: &str) -> Result<Option<WebUrl>, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if s.len() > 300 {
            return Err(Invalid::too_long(300));
        }
        let full = if s.starts_with("http://") || s.starts_with("https://") {
            s.to_string()
        } else {
            format!("https://{s}")
        };
        let host = full
            .split("://")
            .nth(1)
            .unwrap_or("")
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("");
        let host_ok = host.contains('.')
            && host
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-' || c == ':');
        if !host_ok
            || full
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        {
            return Err(Invalid::new("invalid-url"));
        }
        Ok(Some(WebUrl(full)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar day as `YYYY-MM-DD` (what an `<input type="date">` sends).
pub fn parse_day(raw: &str) -> Result<jiff::civil::Date, Invalid> {
    parse_optional_day(raw)?.ok_or(Invalid::new("invalid-required"))
}

/// A calendar day as `YYYY-MM-DD`, or none when the field is empty.
pub fn parse_optional_day(raw: &str) -> Result<Option<jiff::civil::Date>, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| Invalid::new("invalid-date"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_iso_dates() {
        assert!(parse_day("2026-02-30").is_err());
        assert_eq!(parse_day("").unwrap_err().key, "invalid-required");
        assert_eq!(parse_day("2026-11-27").unwrap().to_string(), "2026-11-27");
        assert_eq!(parse_optional_day(" ").unwrap(), None);
        assert_eq!(
            parse_optional_day("27.11.2026").unwrap_err().key,
            "invalid-date"
        );
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Li.Wei@Example.CN ").unwrap().as_str(),
            "li.wei@example.cn"
        );
        for bad in [
            "", "a", "a@b", "@x.de", "a b@x.de", "a@x..de", "a@-x.de", "a@@x.de", ".a@x.de",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Email::parse(&format!("{}@x.de", "a".repeat(300)))
                .unwrap_err()
                .max,
            Some(254)
        );
    }

    #[test]
    fn text_is_trimmed_bounded_and_clean() {
        assert_eq!(Text::line("  Köln  ", 10).unwrap().as_str(), "Köln");
        assert_eq!(Text::line("   ", 10).unwrap_err().key, "invalid-required");
        assert_eq!(Text::line("贵阳市经济开发区", 5).unwrap_err().max, Some(5));
        assert!(Text::line("a\u{0}b", 10).is_err());
        assert!(Text::line("a\nb", 10).is_err());
        assert_eq!(
            Text::optional_block("a\r\nb", 10)
                .unwrap()
                .unwrap()
                .as_str(),
            "a\nb"
        );
    }

    #[test]
    fn localized_text_falls_back() {
        let t = LocalizedText::one(Locale::De, "Wasserstoff").with(Locale::Zh, "氢能");
        assert_eq!(t.get(Locale::Zh), Some((Locale::Zh, "氢能")));
        assert_eq!(t.get(Locale::En), Some((Locale::De, "Wasserstoff")));
        assert_eq!(LocalizedText::new().show(Locale::En), "");
    }

    #[test]
    fn slugs() {
        assert_eq!(
            Slug::from_title("Wasserstoff-Messe Köln 2027")
                .unwrap()
                .as_str(),
            "wasserstoff-messe-koeln-2027"
        );
        assert!(Slug::from_title("氢能").is_none());
        assert!(Slug::parse("Bad Slug").is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            WebUrl::parse_optional("example.de")
                .unwrap()
                .unwrap()
                .as_str(),
            "https://example.de"
        );
        assert!(WebUrl::parse_optional("javascript:alert(1)").is_err());
        assert!(WebUrl::parse_optional("").unwrap().is_none());
    }
}
