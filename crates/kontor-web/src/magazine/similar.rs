//! Related articles and search over the magazine, scored in memory.
//!
//! A magazine holds hundreds of articles, not millions: the published articles of one language
//! are scored directly instead of being kept in a second index. Text is analysed with
//! `kontor_search::terms` (stemming for German and English, jieba segmentation for Chinese) and
//! the terms of each article version are cached by (id, updated_at).
//!
//! - **Related**: `3 × shared tags + cosine similarity of the term frequencies` (title counted
//!   twice); candidates without a shared tag and a cosine below 0.05 are left out.
//! - **Search**: every query term must occur (the last one also as the beginning of a word, as
//!   readers type); the score is the sum of the term frequencies, a whole word counting double
//!   and a title hit 5 times.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use kontor_domain::Keyed;
use kontor_store::Uuid;
use kontor_store::magazine::Article;

/// An article's analysed text.
pub struct Terms {
    title: HashMap<String, u32>,
    all: HashMap<String, u32>,
    norm: f64,
}

fn counts(terms: Vec<String>) -> HashMap<String, u32> {
    let mut m = HashMap::new();
    for t in terms {
        *m.entry(t).or_insert(0) += 1;
    }
    m
}

type Cache = Mutex<HashMap<(Uuid, i64), Arc<Terms>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

pub fn terms(a: &Article) -> Arc<Terms> {
    let key = (a.id, a.updated_at);
    if let Some(t) = cache().lock().expect("cache lock").get(&key) {
        return t.clone();
    }
    let lang = a.locale.key();
    let title = counts(kontor_search::terms(lang, &a.title));
    let text = format!(
        "{} {} {} {}",
        a.title,
        a.lead,
        super::markdown::plain(&a.body_md),
        a.tags.join(" ")
    );
    let mut all = counts(kontor_search::terms(lang, &text));
    for (t, n) in &title {
        *all.entry(t.clone()).or_insert(0) += n;
    }
    let norm = all
        .values()
        .map(|n| f64::from(*n).powi(2))
        .sum::<f64>()
        .sqrt();
    let terms = Arc::new(Terms { title, all, norm });
    let mut c = cache().lock().expect("cache lock");
    if c.len() > 10_000 {
        c.clear();
    }
    c.insert(key, terms.clone());
    terms
}

type HtmlCache = Mutex<HashMap<(Uuid, i64), Arc<str>>>;

/// An article's body as sanitised HTML, rendered once per article version.
pub fn body_html(a: &Article) -> Arc<str> {
    static CACHE: OnceLock<HtmlCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (a.id, a.updated_at);
    if let Some(h) = cache.lock().expect("cache lock").get(&key) {
        return h.clone();
    }
    let html: Arc<str> = super::markdown::render(&a.body_md).into();
    let mut c = cache.lock().expect("cache lock");
    if c.len() > 2_000 {
        c.clear();
    }
    c.insert(key, html.clone());
    html
}

fn cosine(a: &Terms, b: &Terms) -> f64 {
    if a.norm == 0.0 || b.norm == 0.0 {
        return 0.0;
    }
    let dot: f64 = a
        .all
        .iter()
        .filter_map(|(t, n)| b.all.get(t).map(|m| f64::from(*n) * f64::from(*m)))
        .sum();
    dot / (a.norm * b.norm)
}

/// The `limit` articles of `candidates` most related to `article`, best first.
pub fn related<'a>(article: &Article, candidates: &'a [Article], limit: usize) -> Vec<&'a Article> {
    let mine = terms(article);
    let mut scored: Vec<(f64, &Article)> = candidates
        .iter()
        .filter(|c| c.id != article.id && c.translation_group != article.translation_group)
        .filter_map(|c| {
            let shared = c.tags.iter().filter(|t| article.tags.contains(t)).count();
            let sim = cosine(&mine, &terms(c));
            (shared > 0 || sim >= 0.05).then_some((3.0 * shared as f64 + sim, c))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(limit).map(|(_, a)| a).collect()
}

/// True when the query term `wanted` finds the article's term `term`: the same word, or its
/// beginning, as readers type: one Chinese character for the words it starts ("氢" for "氢能"),
/// three letters or more elsewhere ("wasserst" for "wasserstoff", not "a" for every word).
fn finds(wanted: &str, term: &str) -> bool {
    term == wanted
        || (term.starts_with(wanted) && (wanted.chars().count() >= 3 || wanted.chars().any(is_cjk)))
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// Query terms searched for at most: a longer query narrows nothing further.
const MAX_TERMS: usize = 8;

/// The articles matching every term of `query` (analysed in `lang`; the last term also finds
/// the words it begins, as readers type), best first: a whole word counts double, a title hit
/// five times.
pub fn search<'a>(lang: &str, query: &str, articles: &'a [Article]) -> Vec<&'a Article> {
    let mut wanted = kontor_search::terms(lang, query);
    let mut seen = std::collections::HashSet::new();
    wanted.retain(|w| seen.insert(w.clone()));
    wanted.truncate(MAX_TERMS);
    let Some(last) = wanted.last().cloned() else {
        return vec![];
    };
    let mut scored: Vec<(u32, &Article)> = articles
        .iter()
        .filter_map(|a| {
            let t = terms(a);
            let mut score = 0;
            for w in &wanted {
                let count = |m: &HashMap<String, u32>| -> u32 {
                    if *w != last {
                        return 2 * m.get(w).copied().unwrap_or(0);
                    }
                    m.iter()
                        .filter(|(term, _)| finds(w, term))
                        .map(|(term, n)| if term == w { 2 * n } else { *n })
                        .sum()
                };
                let found = count(&t.all);
                if found == 0 {
                    return None;
                }
                score += found + 5 * count(&t.title);
            }
            Some((score, a))
        })
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().map(|(_, a)| a).collect()
}
