//! Translated messages, one Fluent file per language, compiled into the binary.
//!
//! Invariant: every message id exists in all three languages (`tests::every_key_in_every_language`),
//! so a lookup only falls back to English or the bare id when a caller asks for an id that does
//! not exist at all.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use kontor_domain::Locale;

const SOURCES: [(Locale, &str); 3] = [
    (Locale::De, include_str!("../locales/de.ftl")),
    (Locale::En, include_str!("../locales/en.ftl")),
    (Locale::Zh, include_str!("../locales/zh.ftl")),
];

pub struct Catalog {
    bundles: Vec<(Locale, FluentBundle<FluentResource>)>,
}

/// The compiled-in catalogue, built once.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::build)
}

impl Catalog {
    fn build() -> Catalog {
        let bundles = SOURCES
            .iter()
            .map(|(locale, source)| {
                let resource =
                    FluentResource::try_new(source.to_string()).unwrap_or_else(|(_, errors)| {
                        panic!("{locale}.ftl does not parse: {errors:?}")
                    });
                let lang: unic_langid::LanguageIdentifier =
                    locale.bcp47().parse().expect("valid tag");
                let mut bundle = FluentBundle::new_concurrent(vec![lang]);
                // Isolation marks would show up in plain-text mails and HTML attributes.
                bundle.set_use_isolating(false);
                bundle.add_resource(resource).expect("no duplicate ids");
                (*locale, bundle)
            })
            .collect();
        Catalog { bundles }
    }

    fn bundle(&self, locale: Locale) -> &FluentBundle<FluentResource> {
        &self
            .bundles
            .iter()
            .find(|(l, _)| *l == locale)
            .expect("all locales loaded")
            .1
    }

    /// The message `id` in `locale`, with `args` filled in.
    pub fn message(&self, locale: Locale, id: &str, args: &[(&str, Arg)]) -> String {
        let mut fargs = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Str(s) => fargs.set(*name, FluentValue::from(s.as_str())),
                Arg::Num(n) => fargs.set(*name, FluentValue::from(*n)),
            }
        }
        for l in [locale, Locale::En] {
            let bundle = self.bundle(l);
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = vec![];
                let text = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
                return if l == Locale::Zh {
                    tighten_chinese(&text)
                } else {
                    text.into_owned()
                };
            }
        }
        id.to_string()
    }

    pub fn has(&self, locale: Locale, id: &str) -> bool {
        self.bundle(locale).has_message(id)
    }

    /// Every message id of one language, in file order.
    pub fn ids(locale: Locale) -> Vec<String> {
        let source = SOURCES
            .iter()
            .find(|(l, _)| *l == locale)
            .expect("loaded")
            .1;
        source
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_string()))
            .collect()
    }
}

/// A value for a message's `$placeholder`.
#[derive(Debug, Clone)]
pub enum Arg {
    Str(String),
    Num(f64),
}
impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Str(s.to_string())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Str(s)
    }
}
impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Num(n as f64)
    }
}
impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Num(n as f64)
    }
}

/// Shorthand for a message without arguments.
pub fn t(locale: Locale, id: &str) -> String {
    catalog().message(locale, id, &[])
}

mod countries;

/// After a label: ": ", or in Chinese the full-width colon without a space.
pub fn colon(locale: Locale) -> &'static str {
    if locale == Locale::Zh { "：" } else { ": " }
}

/// Between the items of a list in running text: ", ", or in Chinese "、".
pub fn list_separator(locale: Locale) -> &'static str {
    if locale == Locale::Zh { "、" } else { ", " }
}

/// Chinese messages keep a space around a placeable, which is right next to Latin letters and
/// digits ("最多 5 个字符", "与 Anna 的会谈") but wrong between Chinese characters ("时间以 柏林
/// 为准"): such spaces go.
fn tighten_chinese(text: &str) -> String {
    let cjk = |c: char| matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}');
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_cjk =
            c == ' ' && i > 0 && chars.get(i + 1).is_some_and(|&n| cjk(n)) && cjk(chars[i - 1]);
        if !between_cjk {
            out.push(c);
        }
    }
    out
}

/// The name of an ISO 3166-1 country in `locale` ("DE" → "Deutschland", "德国"), from the
/// Unicode CLDR; `None` for a code that is not assigned.
pub fn country_name(locale: Locale, code: &str) -> Option<&'static str> {
    let i = countries::COUNTRIES
        .binary_search_by(|row| row.0.cmp(code))
        .ok()?;
    let (_, de, en, zh) = countries::COUNTRIES[i];
    Some(match locale {
        Locale::De => de,
        Locale::En => en,
        Locale::Zh => zh,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_domain::{Keyed, OrgKind, ParticipantRole, Sector};

    #[test]
    fn chinese_loses_spaces_between_chinese_characters_only() {
        assert_eq!(tighten_chinese("时间以 柏林 为准"), "时间以柏林为准");
        assert_eq!(tighten_chinese("最多 5 个字符"), "最多 5 个字符");
        assert_eq!(
            tighten_chinese("与 Anna Schmidt 的会谈"),
            "与 Anna Schmidt 的会谈"
        );
        assert_eq!(
            tighten_chinese("与 李娜 的会谈：今天"),
            "与李娜的会谈：今天"
        );
        let c = catalog();
        let zone = c.message(Locale::Zh, "event-time-zone", &[("zone", "柏林".into())]);
        assert_eq!(zone, "时间以柏林为准");
        let de = c.message(Locale::De, "event-time-zone", &[("zone", "Berlin".into())]);
        assert!(de.contains(" Berlin"), "{de}");
    }

    #[test]
    fn every_country_code_has_a_name_in_every_language() {
        assert!(countries::COUNTRIES.is_sorted_by_key(|row| row.0));
        for code in kontor_domain::Country::codes() {
            for l in Locale::ALL {
                let name = country_name(*l, code).unwrap_or_default();
                assert!(!name.is_empty() && name != code, "{code} in {l:?}");
            }
        }
        assert_eq!(country_name(Locale::Zh, "DE"), Some("德国"));
        assert_eq!(country_name(Locale::De, "CN"), Some("China"));
        assert_eq!(country_name(Locale::En, "XX"), None);
    }

    #[test]
    fn every_key_in_every_language() {
        let en = Catalog::ids(Locale::En);
        assert!(
            en.len() > 50,
            "the catalogue looks truncated: {} ids",
            en.len()
        );
        let mut missing = vec![];
        for locale in Locale::ALL {
            let ids = Catalog::ids(*locale);
            for id in &en {
                if !catalog().has(*locale, id) {
                    missing.push(format!("{locale}: {id}"));
                }
            }
            for id in &ids {
                if !catalog().has(Locale::En, id) {
                    missing.push(format!("en (present in {locale}): {id}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "missing messages:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn counts_take_the_plural_of_their_language() {
        let summary = |locale, n: f64| {
            catalog().message(
                locale,
                "event-slot-summary",
                &[("n", Arg::Num(n)), ("minutes", Arg::Num(30.0))],
            )
        };
        assert_eq!(summary(Locale::En, 1.0), "1 slot of 30 min");
        assert_eq!(summary(Locale::En, 6.0), "6 slots of 30 min");
        assert_eq!(summary(Locale::De, 1.0), "1 Slot à 30 Min.");
        assert_eq!(summary(Locale::De, 6.0), "6 Slots à 30 Min.");
        assert_eq!(summary(Locale::Zh, 1.0), "1 个时段，每个 30 分钟");
    }

    #[test]
    fn every_taxonomy_value_is_translated() {
        let keys = Sector::ALL
            .iter()
            .map(|s| format!("sector-{}", s.key()))
            .chain(OrgKind::ALL.iter().map(|k| format!("org-kind-{}", k.key())))
            .chain(
                ParticipantRole::ALL
                    .iter()
                    .map(|r| format!("role-{}", r.key())),
            );
        for key in keys {
            for locale in Locale::ALL {
                assert!(catalog().has(*locale, &key), "{locale}: {key}");
            }
        }
    }

    #[test]
    fn arguments_are_filled_in() {
        let m = catalog().message(
            Locale::De,
            "invalid-too-long",
            &[("max", Arg::from(80usize))],
        );
        assert!(m.contains("80"), "{m}");
        assert_eq!(
            catalog().message(Locale::Zh, "no-such-id", &[]),
            "no-such-id"
        );
    }
}
