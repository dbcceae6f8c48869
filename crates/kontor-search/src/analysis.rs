//! Text analysis: one analyzer per language, registered on every index under the names in
//! [`Lang::analyzer`]. The table of what each does and why is in the crate's documentation
//! (section *Analyzers*).

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, Token, TokenStream, Tokenizer, TokenizerManager,
};
use tantivy_jieba::JiebaTokenizer;

/// The languages with their own fields and analyzers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    De,
    En,
    Zh,
}

impl Lang {
    pub(crate) const ALL: [Lang; 3] = [Lang::De, Lang::En, Lang::Zh];

    /// The language of a locale key: `de`, `de-AT` → German; `zh`, `zh-Hans` → Chinese;
    /// anything else → English (lower case and English stems suit other Latin-script text
    /// well enough).
    pub(crate) fn of_locale(key: &str) -> Lang {
        let primary = key.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("de") {
            Lang::De
        } else if primary.eq_ignore_ascii_case("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    pub(crate) fn key(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The name of the analyzer for indexing (and highlighting) text in this language.
    pub(crate) fn analyzer(self) -> &'static str {
        match self {
            Lang::De => "kontor_de",
            Lang::En => "kontor_en",
            Lang::Zh => "kontor_zh",
        }
    }

    /// The name of the analyzer for query words in this language.
    pub(crate) fn query_analyzer(self) -> &'static str {
        match self {
            Lang::Zh => "kontor_zh_query",
            other => other.analyzer(),
        }
    }
}

/// The analyzer for German query words as prefixes of compounds: lower case and ASCII
/// folding, no stemming (the stem of `Kommunen` is a prefix of `Kommunikation`, the word is
/// not).
pub(crate) const GERMAN_PREFIX: &str = "kontor_de_prefix";

/// Chinese function words that would otherwise make a query without spaces require them.
const ZH_STOP_WORDS: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "是", "在", "也", "等", "之", "对", "为", "以",
];

/// Longer tokens are not words (base64, hashes) and are dropped.
const MAX_TOKEN_BYTES: usize = 60;

fn german() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::German).expect("German stop words are built in"))
        .filter(Stemmer::new(Language::German))
        .filter(AsciiFoldingFilter)
        .build()
}

fn german_prefix() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

fn english() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::English).expect("English stop words are built in"))
        .filter(Stemmer::new(Language::English))
        .build()
}

fn chinese(search_mode: bool) -> TextAnalyzer {
    let jieba = WordsOnly(JiebaTokenizer::with_search_mode(search_mode));
    TextAnalyzer::builder(jieba)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            ZH_STOP_WORDS.iter().map(|w| (*w).to_owned()),
        ))
        .build()
}

/// Registers the analyzers on an index's tokenizer manager.
pub(crate) fn register(tokenizers: &TokenizerManager) {
    tokenizers.register(Lang::De.analyzer(), german());
    tokenizers.register(GERMAN_PREFIX, german_prefix());
    tokenizers.register(Lang::En.analyzer(), english());
    tokenizers.register(Lang::Zh.analyzer(), chinese(true));
    tokenizers.register(Lang::Zh.query_analyzer(), chinese(false));
}

/// The tokens of `text` after analysis.
pub(crate) fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    analyzer
        .token_stream(text)
        .process(&mut |token: &Token| out.push(token.text.clone()));
    out
}

/// A tokenizer that drops the tokens of its inner tokenizer that hold no letter or digit
/// (jieba returns blanks and punctuation as tokens).
#[derive(Clone)]
struct WordsOnly<T>(T);

impl<T: Tokenizer> Tokenizer for WordsOnly<T> {
    type TokenStream<'a> = WordsOnlyStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordsOnlyStream(self.0.token_stream(text))
    }
}

struct WordsOnlyStream<S>(S);

impl<S: TokenStream> TokenStream for WordsOnlyStream<S> {
    fn advance(&mut self) -> bool {
        while self.0.advance() {
            if self.0.token().text.chars().any(char::is_alphanumeric) {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

/// The analysed terms of `text` in the language of `locale` (`de`, `en`, `zh`; others as
/// English), as the index sees them: stemmed for German and English, segmented by jieba (search
/// mode) for Chinese. For callers that score small collections themselves (the magazine).
pub fn terms(locale: &str, text: &str) -> Vec<String> {
    let mut analyzer = match Lang::of_locale(locale) {
        Lang::De => german(),
        Lang::En => english(),
        Lang::Zh => chinese(true),
    };
    tokens(&mut analyzer, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyse(name: &str, text: &str) -> Vec<String> {
        let manager = TokenizerManager::default();
        register(&manager);
        tokens(&mut manager.get(name).unwrap(), text)
    }

    #[test]
    fn german_word_forms_share_a_stem() {
        assert_eq!(
            analyse("kontor_de", "Brennstoffzellen"),
            analyse("kontor_de", "Brennstoffzelle")
        );
        assert_eq!(
            analyse("kontor_de", "Unternehmen"),
            analyse("kontor_de", "unternehmens")
        );
        assert_eq!(
            analyse("kontor_de", "Förderung"),
            analyse("kontor_de", "Forderung")
        );
        assert!(analyse("kontor_de", "für die").is_empty());
    }

    #[test]
    fn chinese_is_segmented_without_punctuation() {
        let tokens = analyse("kontor_zh", "我们生产氢燃料电池，PEM电解槽。");
        assert!(tokens.contains(&"燃料电池".to_owned()), "{tokens:?}");
        assert!(tokens.contains(&"氢".to_owned()), "{tokens:?}");
        assert!(tokens.contains(&"pem".to_owned()), "{tokens:?}");
        assert!(
            tokens.iter().all(|t| t.chars().any(char::is_alphanumeric)),
            "{tokens:?}"
        );
    }

    #[test]
    fn locale_keys() {
        assert_eq!(Lang::of_locale("de-AT"), Lang::De);
        assert_eq!(Lang::of_locale("zh_Hans"), Lang::Zh);
        assert_eq!(Lang::of_locale("fr"), Lang::En);
    }
}
