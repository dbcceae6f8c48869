//! Full-text search for the marketplace: organisations, people and opportunities, with facets
//! and highlights, in German, English and Chinese.
//!
//! # README
//!
//! `kontor-search` is a pure library over [tantivy]: no HTTP, no database. The web crate
//! builds a [`Doc`] for each organisation, person and opportunity and feeds it to a
//! [`SearchIndex`] (in memory for tests and the demo, or in a folder with
//! [`SearchIndex::open`]); pages and the API call [`SearchIndex::search`]. The index is derived
//! data: it can always be deleted and rebuilt from the database.
//!
//! - **Languages.** A document's text comes per locale (`de`, `en`, `zh`); each language has
//!   its own fields and analyzer (see [`analysis`](crate#analyzers)): German and English are
//!   stemmed, so `Brennstoffzelle` finds `Brennstoffzellen`; Chinese, written without spaces,
//!   is segmented into words by jieba, so `燃料电池` finds `我们生产氢燃料电池`. The title is
//!   indexed with all three analyzers and weighs [`TITLE_BOOST`] times the text.
//! - **Queries** are plain text, no syntax. Every word of the query must match (in the title or
//!   in any language's text); a word is looked up in every language at once, so a German query
//!   hits German text and a Chinese one Chinese text without knowing the reader's language.
//!   Stop words (`für`, `the`, `的`) are optional. Empty text matches every document (browsing
//!   by facets), sorted by title.
//! - **Facets**: kind, opportunity type, sector, country, language, organisation kind. Values
//!   are plain keys (`hydrogen`, `DE`, `zh`): the taxonomy lives in `kontor-domain` and the
//!   labels in `kontor-i18n`, this crate does not depend on them. Several values of one facet
//!   are alternatives (OR), different facets narrow each other (AND). The counts are
//!   *multi-select* counts: a facet's values are counted under the query and every filter
//!   except that facet's own, so a page can show `Hydrogen (12)` next to a ticked `Energy (5)`
//!   and both numbers tell what ticking the box would add.
//! - **Highlights**: [`Hit::snippet_html`] is a fragment of the best-matching text with the
//!   matched words in `<mark>…</mark>`; everything else is HTML-escaped, so it can be put into
//!   a page as it is.
//! - **Writes are batched**: [`SearchIndex::upsert`], [`SearchIndex::delete`] and
//!   [`SearchIndex::delete_all`] are seen by searches only after [`SearchIndex::commit`]
//!   (which costs a segment write; commit once per batch, not per document).
//!
//! # Analyzers
//!
//! | language | tokenizer | filters | why |
//! |---|---|---|---|
//! | `de` | words (letters and digits) | lower case, German stop words, Snowball German stemmer, ASCII folding | `Brennstoffzellen`, `Brennstoffzelle` → `brennstoffzell`; `Unternehmens` → `unternehm`; folding after the stemmer lets `Forderung` find `Förderung` |
//! | `en` | words | lower case, English stop words, Snowball English stemmer | `batteries`, `battery` → `batteri` |
//! | `zh` | jieba, search mode (a long word and the dictionary words inside it) | drop punctuation and blanks, lower case, a few function words (`的`, `和`, …) | Chinese has no spaces: `我们生产氢燃料电池` → `我们 生产 氢 燃料 电池 燃料电池` |
//!
//! Other locale keys are indexed as English. Chinese queries are segmented in jieba's precise
//! mode (longest words only): the index holds both a long word and its parts, so a query for
//! either finds it. A query word of a single ideograph also finds the Chinese words that
//! contain it (`氢` finds `氢能`, which jieba never splits), with a low score.
//!
//! German compounds are not split (a decompounder would need a German dictionary), but a German
//! query word of five letters or more also matches as the *start* of an indexed word:
//! `Wasserstoff` finds `Wasserstoffspeicherung`, `Energie` finds `Energiegenossenschaften`.
//! The prefix is the word lower-cased and folded, not its stem (the stem of `Kommunen` begins
//! `Kommunikation`). Such a match scores low (below a match of the word itself) and is not
//! highlighted; a compound's later parts (`Speicherung`) are not found.
//!
//! ```
//! use kontor_search::{Doc, DocKind, Query, SearchIndex};
//!
//! let index = SearchIndex::in_memory()?;
//! let mut doc = Doc::new("org-1", DocKind::Organisation, "H2 Werke");
//! doc.texts.push(("de".into(), "Wir bauen Brennstoffzellen.".into()));
//! doc.facets.sectors.push("hydrogen".into());
//! index.upsert(&doc)?;
//! index.commit()?;
//!
//! let results = index.search(&Query::text("Brennstoffzelle"))?;
//! assert_eq!(results.total, 1);
//! assert_eq!(results.hits[0].snippet_html, "Wir bauen <mark>Brennstoffzellen</mark>.");
//! # Ok::<(), kontor_search::Error>(())
//! ```
//!
//! [tantivy]: https://docs.rs/tantivy

mod analysis;
mod index;

pub use analysis::terms;
pub use index::{SearchIndex, TITLE_BOOST};

/// What a document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    Organisation,
    Person,
    Opportunity,
}

impl DocKind {
    pub const ALL: [DocKind; 3] = [DocKind::Organisation, DocKind::Person, DocKind::Opportunity];

    /// The stable key stored in the index (`organisation`, `person`, `opportunity`).
    pub fn key(self) -> &'static str {
        match self {
            DocKind::Organisation => "organisation",
            DocKind::Person => "person",
            DocKind::Opportunity => "opportunity",
        }
    }

    /// The kind of a key from [`DocKind::key`].
    pub fn from_key(key: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|kind| kind.key() == key)
    }
}

/// One searchable thing. `id` is unique across kinds (use the database's UUID as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub id: String,
    pub kind: DocKind,
    /// The name of the organisation or person, the title of the opportunity; shown in hits
    /// and searched in every language.
    pub title: String,
    /// Text per locale key (`de`, `en`, `zh`; `de-AT` counts as `de`, unknown keys as `en`).
    /// A key may occur more than once (description, offer, need, …).
    pub texts: Vec<(String, String)>,
    pub facets: Facets,
    /// The events the document belongs to (ids as text), for [`Query::event`].
    pub events: Vec<String>,
}

impl Doc {
    /// A document without text, facets or events.
    pub fn new(id: impl Into<String>, kind: DocKind, title: impl Into<String>) -> Doc {
        Doc {
            id: id.into(),
            kind,
            title: title.into(),
            texts: Vec::new(),
            facets: Facets::default(),
            events: Vec::new(),
        }
    }
}

/// A document's facet values (keys, not labels).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    /// For opportunities: offer, request, cooperation, … (the web crate's keys).
    pub opportunity_type: Option<String>,
    pub sectors: Vec<String>,
    /// ISO 3166 code, e.g. `DE`, `CN`.
    pub country: Option<String>,
    /// Languages spoken or written (`de`, `en`, `zh`).
    pub languages: Vec<String>,
    /// For organisations (and people, from their organisation): company, university, …
    pub org_kind: Option<String>,
    /// For job postings: full-time, internship, … (the web crate's keys).
    pub employment: Option<String>,
    /// For job postings: on-site, hybrid or remote.
    pub workplace: Option<String>,
    /// For job postings: `open` or `closed` (past the deadline when indexed).
    pub applications: Option<String>,
}

/// The filters of a search: values of one facet are alternatives, facets narrow each other.
/// An empty list does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub types: Vec<String>,
    pub sectors: Vec<String>,
    pub countries: Vec<String>,
    pub languages: Vec<String>,
    pub org_kinds: Vec<String>,
    pub employments: Vec<String>,
    pub workplaces: Vec<String>,
    pub applications: Vec<String>,
    /// Leave out job postings whose applications have closed, unless `applications` asks
    /// for some value itself. Counted all the same, so that the facet can offer them.
    pub hide_closed: bool,
}

/// A search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Plain text; empty (or only punctuation) matches everything.
    pub text: String,
    pub kind: Option<DocKind>,
    pub filters: Filters,
    /// Only documents of this event.
    pub event: Option<String>,
    /// At most [`Query::MAX_LIMIT`]; 0 returns only the total and the facet counts.
    pub limit: usize,
    pub offset: usize,
    /// The reader's locale: when no text of a hit matches (e.g. only the title does, or the
    /// text is empty), the snippet is the start of the text in this language if there is one.
    pub locale: Option<String>,
}

impl Query {
    pub const DEFAULT_LIMIT: usize = 20;
    pub const MAX_LIMIT: usize = 1000;

    /// A query for `text` with no filters, the first [`Query::DEFAULT_LIMIT`] hits.
    pub fn text(text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            ..Query::default()
        }
    }
}

impl Default for Query {
    /// Everything, the first [`Query::DEFAULT_LIMIT`] hits.
    fn default() -> Query {
        Query {
            text: String::new(),
            kind: None,
            filters: Filters::default(),
            event: None,
            limit: Query::DEFAULT_LIMIT,
            offset: 0,
            locale: None,
        }
    }
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// How many documents match (all pages).
    pub total: usize,
    /// The page asked for, best first (by title when the query has no text).
    pub hits: Vec<Hit>,
    pub facets: FacetCounts,
}

/// One document found.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub kind: DocKind,
    /// BM25 relevance; 0 when the query has no text.
    pub score: f32,
    /// As indexed, not escaped.
    pub title: String,
    /// HTML: an escaped fragment of the text with the matches in `<mark>`; empty when the
    /// document has no text.
    pub snippet_html: String,
}

/// How many documents have each value, per facet (multi-select counts: under the query and
/// every filter but the facet's own). Values with no document are left out; each list is
/// sorted by count, most first, then by value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacetCounts {
    pub kinds: Vec<(DocKind, u64)>,
    pub types: Vec<(String, u64)>,
    pub sectors: Vec<(String, u64)>,
    pub countries: Vec<(String, u64)>,
    pub languages: Vec<(String, u64)>,
    pub org_kinds: Vec<(String, u64)>,
    pub employments: Vec<(String, u64)>,
    pub workplaces: Vec<(String, u64)>,
    pub applications: Vec<(String, u64)>,
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index folder: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search index folder: {0}")]
    Io(#[from] std::io::Error),
    /// The folder holds an index of another version of this crate: delete it and rebuild.
    #[error("the search index in the folder has another schema; delete the folder and rebuild")]
    SchemaChanged,
}
