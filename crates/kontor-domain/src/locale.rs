use crate::{Invalid, keyed_enum};

keyed_enum! {
    /// The languages of the user interface, of mail, and of text that users write.
    Locale { De => "de", En => "en", Zh => "zh" }
}

impl Locale {
    /// Parses a language tag as found in settings, URLs and `Accept-Language`:
    /// `de`, `de-DE`, `en-GB`, `zh`, `zh-CN`, `zh-Hans`.
    pub fn parse(tag: &str) -> Result<Locale, Invalid> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        match primary.to_ascii_lowercase().as_str() {
            "de" => Ok(Locale::De),
            "en" => Ok(Locale::En),
            "zh" => Ok(Locale::Zh),
            _ => Err(Invalid::new("invalid-locale")),
        }
    }

    /// The best supported language from an `Accept-Language` header, by q-value.
    pub fn negotiate(accept_language: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for part in accept_language.split(',') {
            let mut pieces = part.split(';');
            let Ok(locale) = Locale::parse(pieces.next().unwrap_or("")) else {
                continue;
            };
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The language's own name, for the language switcher.
    pub fn endonym(self) -> &'static str {
        match self {
            Locale::De => "Deutsch",
            Locale::En => "English",
            Locale::Zh => "中文",
        }
    }

    /// The BCP 47 tag for `lang` attributes and `Content-Language`.
    pub fn bcp47(self) -> &'static str {
        match self {
            Locale::De => "de",
            Locale::En => "en",
            Locale::Zh => "zh-Hans",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_by_quality() {
        assert_eq!(
            Locale::negotiate("fr-FR, zh-CN;q=0.8, de;q=0.9"),
            Some(Locale::De)
        );
        assert_eq!(
            Locale::negotiate("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Locale::Zh)
        );
        assert_eq!(Locale::negotiate("fr, it"), None);
    }
}
