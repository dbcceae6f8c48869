//! The index: schema, writes, and the search with facets and highlights.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use std::ops::Range;
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery,
    Occur, TermQuery,
};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::snippet::{Snippet, SnippetGenerator};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    TantivyError, Term,
};

use crate::analysis::{self, Lang};
use crate::{Doc, DocKind, Error, FacetCounts, Hit, Query, Results};

type TQuery = Box<dyn tantivy::query::Query>;

/// How much more a word in the title weighs than the same word in the text.
pub const TITLE_BOOST: f32 = 2.0;

/// The writer's memory budget: it flushes a segment when its buffers reach this size.
const WRITER_MEMORY: usize = 32_000_000;

/// Words of a query past this many are ignored (a query is a few words; this bounds the work
/// a long one can cause).
const MAX_WORDS: usize = 32;

/// A German word this long or longer also matches as the start of a compound.
const MIN_PREFIX_CHARS: usize = 5;

/// The score of a match as the start of a compound (a word matched as a whole scores its
/// BM25, mostly above 1).
const PREFIX_SCORE: f32 = 0.3;

/// The longest snippet, in characters.
const SNIPPET_CHARS: usize = 200;

/// A search index. Cheap to share (`Arc<SearchIndex>`): searches run in parallel, writes take
/// a lock on the one writer.
pub struct SearchIndex {
    index: Index,
    fields: Fields,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    reader: IndexReader,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("documents", &self.reader.searcher().num_docs())
            .finish_non_exhaustive()
    }
}

/// The facets, each a top-level path in the one facet field: `/sector/hydrogen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dim {
    Kind,
    Type,
    Sector,
    Country,
    Language,
    OrgKind,
    Employment,
    Workplace,
    Applications,
}

impl Dim {
    const ALL: [Dim; 9] = [
        Dim::Kind,
        Dim::Type,
        Dim::Sector,
        Dim::Country,
        Dim::Language,
        Dim::OrgKind,
        Dim::Employment,
        Dim::Workplace,
        Dim::Applications,
    ];

    fn key(self) -> &'static str {
        match self {
            Dim::Kind => "kind",
            Dim::Type => "type",
            Dim::Sector => "sector",
            Dim::Country => "country",
            Dim::Language => "language",
            Dim::OrgKind => "org_kind",
            Dim::Employment => "employment",
            Dim::Workplace => "workplace",
            Dim::Applications => "applications",
        }
    }

    /// The document's values of this facet.
    fn of_doc(self, doc: &Doc) -> Vec<&str> {
        let facets = &doc.facets;
        match self {
            Dim::Kind => vec![doc.kind.key()],
            Dim::Type => facets.opportunity_type.iter().map(String::as_str).collect(),
            Dim::Sector => facets.sectors.iter().map(String::as_str).collect(),
            Dim::Country => facets.country.iter().map(String::as_str).collect(),
            Dim::Language => facets.languages.iter().map(String::as_str).collect(),
            Dim::OrgKind => facets.org_kind.iter().map(String::as_str).collect(),
            Dim::Employment => facets.employment.iter().map(String::as_str).collect(),
            Dim::Workplace => facets.workplace.iter().map(String::as_str).collect(),
            Dim::Applications => facets.applications.iter().map(String::as_str).collect(),
        }
    }

    /// The values the query filters this facet by (none: no filter).
    fn of_query(self, query: &Query) -> Vec<&str> {
        let filters = &query.filters;
        match self {
            Dim::Kind => query.kind.iter().map(|kind| kind.key()).collect(),
            Dim::Type => filters.types.iter().map(String::as_str).collect(),
            Dim::Sector => filters.sectors.iter().map(String::as_str).collect(),
            Dim::Country => filters.countries.iter().map(String::as_str).collect(),
            Dim::Language => filters.languages.iter().map(String::as_str).collect(),
            Dim::OrgKind => filters.org_kinds.iter().map(String::as_str).collect(),
            Dim::Employment => filters.employments.iter().map(String::as_str).collect(),
            Dim::Workplace => filters.workplaces.iter().map(String::as_str).collect(),
            Dim::Applications => filters.applications.iter().map(String::as_str).collect(),
        }
    }

    fn facet(self, value: &str) -> Facet {
        Facet::from_path([self.key(), value])
    }
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    kind: Field,
    title: Field,
    title_sort: Field,
    facets: Field,
    event: Field,
    /// Per language, in the order of [`Lang::ALL`].
    text: [Field; 3],
    title_text: [Field; 3],
}

fn lang_index(lang: Lang) -> usize {
    match lang {
        Lang::De => 0,
        Lang::En => 1,
        Lang::Zh => 2,
    }
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let analysed = |lang: Lang| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(lang.analyzer())
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let id = builder.add_text_field("id", STRING | STORED);
    let kind = builder.add_text_field("kind", STORED);
    let title = builder.add_text_field("title", STORED);
    let title_sort = builder.add_text_field("title_sort", STRING | FAST);
    let facets = builder.add_facet_field("facets", FacetOptions::default());
    let event = builder.add_text_field("event", STRING);
    let text = Lang::ALL.map(|lang| {
        builder.add_text_field(&format!("text_{}", lang.key()), analysed(lang).set_stored())
    });
    let title_text = Lang::ALL
        .map(|lang| builder.add_text_field(&format!("title_{}", lang.key()), analysed(lang)));
    let fields = Fields {
        id,
        kind,
        title,
        title_sort,
        facets,
        event,
        text,
        title_text,
    };
    (builder.build(), fields)
}

impl SearchIndex {
    /// An index in memory (tests, the demo, small deployments that rebuild at start).
    pub fn in_memory() -> Result<SearchIndex, Error> {
        let (schema, fields) = schema();
        SearchIndex::with_index(Index::create_in_ram(schema), fields)
    }

    /// The index in `dir` (memory-mapped files), created with the folder if there is none.
    /// [`Error::SchemaChanged`] when the folder holds an index of another version of this
    /// crate: the index is derived data, delete the folder and feed it again. One
    /// `SearchIndex` per folder: a second one (another process, another instance behind a load
    /// balancer) fails on the folder's writer lock, so each instance keeps its own index.
    pub fn open(dir: &Path) -> Result<SearchIndex, Error> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let index = match Index::open_or_create(MmapDirectory::open(dir)?, schema) {
            Err(TantivyError::SchemaError(_)) => return Err(Error::SchemaChanged),
            other => other?,
        };
        SearchIndex::with_index(index, fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<SearchIndex, Error> {
        analysis::register(index.tokenizers());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            fields,
            writer: Mutex::new(writer),
            reader,
        })
    }

    fn writer(&self) -> MutexGuard<'_, IndexWriter<TantivyDocument>> {
        // A panic while the lock was held cannot leave tantivy's writer half-changed: its
        // operations are queued and only take effect at commit.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds `doc`, replacing the document with the same id. Seen after [`SearchIndex::commit`].
    pub fn upsert(&self, doc: &Doc) -> Result<(), Error> {
        let f = &self.fields;
        let mut d = TantivyDocument::new();
        d.add_text(f.id, &doc.id);
        d.add_text(f.kind, doc.kind.key());
        d.add_text(f.title, &doc.title);
        d.add_text(f.title_sort, doc.title.to_lowercase());
        for field in f.title_text {
            d.add_text(field, &doc.title);
        }
        for (locale, text) in &doc.texts {
            d.add_text(f.text[lang_index(Lang::of_locale(locale))], text);
        }
        for dim in Dim::ALL {
            for value in dim.of_doc(doc).into_iter().filter(|v| !v.is_empty()) {
                d.add_facet(f.facets, dim.facet(value));
            }
        }
        for event in &doc.events {
            d.add_text(f.event, event);
        }
        let writer = self.writer();
        writer.delete_term(Term::from_field_text(f.id, &doc.id));
        writer.add_document(d)?;
        Ok(())
    }

    /// Removes the document with this id, if there is one. Seen after [`SearchIndex::commit`].
    pub fn delete(&self, id: &str) {
        self.writer()
            .delete_term(Term::from_field_text(self.fields.id, id));
    }

    /// Removes every document (before feeding all again). Seen after [`SearchIndex::commit`].
    pub fn delete_all(&self) -> Result<(), Error> {
        self.writer().delete_all_documents()?;
        Ok(())
    }

    /// Makes the writes so far durable (in a folder) and visible to searches.
    pub fn commit(&self) -> Result<(), Error> {
        self.writer().commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// How many documents searches see.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// How many documents `query` finds (its page and facets aside): a count without the work
    /// of a search page.
    pub fn count(&self, query: &Query) -> Result<usize, Error> {
        let searcher = self.reader.searcher();
        let text = self.text_query(&query.text);
        let main = self.filtered(text.as_ref(), query, None);
        Ok(searcher.search(&main, &Count)?)
    }

    /// Searches: the page of hits asked for, the total, and the facet counts.
    pub fn search(&self, query: &Query) -> Result<Results, Error> {
        let searcher = self.reader.searcher();
        let text = self.text_query(&query.text);
        let main = self.filtered(text.as_ref(), query, None);
        // No more hits than documents: a huge offset from a URL must not size the collector.
        let num_docs = usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX);
        let start = query.offset.min(num_docs);
        let end = start
            .saturating_add(query.limit.min(Query::MAX_LIMIT))
            .min(num_docs);
        let range = start..end;
        let (total, found): (usize, Vec<(f32, DocAddress)>) = if range.is_empty() {
            (searcher.search(&main, &Count)?, Vec::new())
        } else if text.is_some() {
            searcher.search(
                &main,
                &(Count, TopDocs::for_doc_range(range).order_by_score()),
            )?
        } else {
            let by_title =
                TopDocs::for_doc_range(range).order_by_string_fast_field("title_sort", Order::Asc);
            let (total, found) = searcher.search(&main, &(Count, by_title))?;
            (
                total,
                found.into_iter().map(|(_, doc)| (0.0, doc)).collect(),
            )
        };
        let snippets = match &text {
            Some(text) => self.snippet_generators(&searcher, text.as_ref())?,
            None => Vec::new(),
        };
        let hits = found
            .into_iter()
            .map(|(score, address)| self.hit(&searcher, score, address, &snippets, query))
            .collect::<Result<_, Error>>()?;
        Ok(Results {
            total,
            hits,
            facets: self.facet_counts(&searcher, text.as_ref(), &main, query)?,
        })
    }

    /// The query for the words of `text`, or `None` when it has none (match all).
    ///
    /// Each word must match in the title or the text of some language; within a language the
    /// word must match as a whole (all its tokens: `E-Mobilität`, or the jieba words of a
    /// Chinese phrase). Words past the 32nd are ignored. A word that some language drops as a stop word is optional: it adds
    /// to the score but does not exclude documents. A word scores its best text match plus
    /// [`TITLE_BOOST`] times its best title match. A German word of [`MIN_PREFIX_CHARS`] or
    /// more also finds the compounds it begins (`Wasserstoff` → `Wasserstoffspeicherung`),
    /// with the low score [`PREFIX_SCORE`] and without highlight.
    fn text_query(&self, text: &str) -> Option<TQuery> {
        let tokenizers = self.index.tokenizers();
        let mut analyzers = Lang::ALL.map(|lang| {
            tokenizers
                .get(lang.query_analyzer())
                .expect("the analyzers are registered when the index is opened")
        });
        let mut prefix_analyzer = tokenizers
            .get(analysis::GERMAN_PREFIX)
            .expect("the analyzers are registered when the index is opened");
        let mut clauses: Vec<(Occur, TQuery)> = Vec::new();
        for word in text.split_whitespace().take(MAX_WORDS) {
            let mut in_text: Vec<TQuery> = Vec::new();
            let mut in_title: Vec<TQuery> = Vec::new();
            let mut stop_word = false;
            for (i, analyzer) in analyzers.iter_mut().enumerate() {
                let tokens = analysis::tokens(analyzer, word);
                if tokens.is_empty() {
                    stop_word = true;
                    continue;
                }
                in_text.push(all_of(self.fields.text[i], &tokens));
                in_title.push(all_of(self.fields.title_text[i], &tokens));
            }
            if let Some(prefix) = german_prefix(&mut prefix_analyzer, word).filter(|_| !stop_word) {
                let de = lang_index(Lang::De);
                in_text.push(prefix_query(self.fields.text[de], &prefix));
                in_title.push(prefix_query(self.fields.title_text[de], &prefix));
            }
            if let Some(ch) = single_ideograph(word) {
                // One character is often no word of its own for jieba ("氢" inside "氢能"):
                // it finds the Chinese words that contain it, with a low score.
                let zh = lang_index(Lang::Zh);
                in_text.push(containing_query(self.fields.text[zh], ch));
                in_title.push(containing_query(self.fields.title_text[zh], ch));
            }
            if in_text.is_empty() {
                continue; // punctuation only
            }
            // The best language counts, once for the text and once for the title: a title is
            // indexed in every language, and a text in three languages is no better a match.
            let title: TQuery = Box::new(DisjunctionMaxQuery::new(in_title));
            let word_query = BooleanQuery::new(vec![
                (Occur::Should, Box::new(DisjunctionMaxQuery::new(in_text))),
                (Occur::Should, Box::new(BoostQuery::new(title, TITLE_BOOST))),
            ]);
            let occur = if stop_word {
                Occur::Should
            } else {
                Occur::Must
            };
            clauses.push((occur, Box::new(word_query)));
        }
        match clauses.len() {
            0 => None,
            _ => Some(Box::new(BooleanQuery::new(clauses))),
        }
    }

    /// `text` (or everything) narrowed by the query's kind, event and filters, except the
    /// filter of facet `except`.
    fn filtered(&self, text: Option<&TQuery>, query: &Query, except: Option<Dim>) -> TQuery {
        let mut clauses: Vec<(Occur, TQuery)> = Vec::new();
        if let Some(text) = text {
            clauses.push((Occur::Must, text.box_clone()));
        }
        for dim in Dim::ALL.into_iter().filter(|dim| Some(*dim) != except) {
            let values = dim.of_query(query);
            if values.is_empty() {
                continue;
            }
            let any: Vec<(Occur, TQuery)> = values
                .into_iter()
                .map(|value| {
                    let term = Term::from_facet(self.fields.facets, &dim.facet(value));
                    (Occur::Should, term_query(term))
                })
                .collect();
            clauses.push((Occur::Must, filter(Box::new(BooleanQuery::new(any)))));
        }
        if let Some(event) = &query.event {
            let term = Term::from_field_text(self.fields.event, event);
            clauses.push((Occur::Must, filter(term_query(term))));
        }
        let applications = Dim::Applications;
        if query.filters.hide_closed
            && except != Some(applications)
            && applications.of_query(query).is_empty()
        {
            let closed = Term::from_facet(self.fields.facets, &applications.facet("closed"));
            if clauses.is_empty() {
                // A query of nothing but exclusions matches no document.
                clauses.push((Occur::Must, Box::new(AllQuery)));
            }
            clauses.push((Occur::MustNot, term_query(closed)));
        }
        if clauses.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(clauses))
        }
    }

    /// Multi-select counts: a facet with a filter is counted without its own filter (hiding
    /// closed postings counts as one of `applications`), the others under the main query.
    fn facet_counts(
        &self,
        searcher: &Searcher,
        text: Option<&TQuery>,
        main: &TQuery,
        query: &Query,
    ) -> Result<FacetCounts, Error> {
        let mut counts = FacetCounts::default();
        let mut unfiltered = FacetCollector::for_field("facets");
        let mut unfiltered_dims = Vec::new();
        for dim in Dim::ALL {
            let hides_closed = dim == Dim::Applications && query.filters.hide_closed;
            if dim.of_query(query).is_empty() && !hides_closed {
                unfiltered.add_facet(Facet::from_path([dim.key()]));
                unfiltered_dims.push(dim);
            } else {
                let mut collector = FacetCollector::for_field("facets");
                collector.add_facet(Facet::from_path([dim.key()]));
                let own = self.filtered(text, query, Some(dim));
                let found = searcher.search(&own, &collector)?;
                store_counts(&mut counts, dim, &found);
            }
        }
        if !unfiltered_dims.is_empty() {
            let found = searcher.search(main, &unfiltered)?;
            for dim in unfiltered_dims {
                store_counts(&mut counts, dim, &found);
            }
        }
        Ok(counts)
    }

    fn snippet_generators(
        &self,
        searcher: &Searcher,
        text: &dyn tantivy::query::Query,
    ) -> Result<Vec<(Lang, SnippetGenerator)>, Error> {
        Lang::ALL
            .into_iter()
            .map(|lang| {
                let field = self.fields.text[lang_index(lang)];
                let mut generator = SnippetGenerator::create(searcher, text, field)?;
                generator.set_max_num_chars(SNIPPET_CHARS);
                Ok((lang, generator))
            })
            .collect()
    }

    fn hit(
        &self,
        searcher: &Searcher,
        score: f32,
        address: DocAddress,
        snippets: &[(Lang, SnippetGenerator)],
        query: &Query,
    ) -> Result<Hit, Error> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let f = &self.fields;
        let first = |field: Field| {
            doc.get_first(field)
                .and_then(|value| value.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let preferred = query.locale.as_deref().map(Lang::of_locale);
        // The snippet with the most highlighted words; on a tie the reader's language.
        let best = snippets
            .iter()
            .map(|(lang, generator)| {
                let text = joined(&doc, f.text[lang_index(*lang)]);
                let snippet = generator.snippet(&text);
                (*lang, text, snippet)
            })
            .filter(|(_, _, snippet)| !snippet.is_empty())
            .max_by_key(|(lang, _, snippet)| (marks(snippet), Some(*lang) == preferred));
        let snippet_html = match best {
            Some((_, text, snippet)) => snippet_html(&text, &snippet),
            None => {
                let mut langs: Vec<Lang> = preferred.into_iter().collect();
                langs.extend(Lang::ALL);
                let text = langs
                    .into_iter()
                    .map(|lang| joined(&doc, f.text[lang_index(lang)]))
                    .find(|text| !text.is_empty())
                    .unwrap_or_default();
                escape_html(&leading(&text, SNIPPET_CHARS))
            }
        };
        let kind = DocKind::from_key(&first(f.kind)).ok_or_else(|| {
            TantivyError::InternalError(format!("document {address:?} has no known kind"))
        })?;
        Ok(Hit {
            id: first(f.id),
            kind,
            score,
            title: first(f.title),
            snippet_html,
        })
    }
}

fn term_query(term: Term) -> TQuery {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

/// The query word as the start of a German compound: a single word (no `E-Mobilität`), not
/// a stop word, long enough.
fn german_prefix(analyzer: &mut TextAnalyzer, word: &str) -> Option<String> {
    match analysis::tokens(analyzer, word).as_slice() {
        [only] if only.chars().count() >= MIN_PREFIX_CHARS => Some(only.clone()),
        _ => None,
    }
}

/// Indexed terms that begin with `prefix`.
fn prefix_query(field: Field, prefix: &str) -> TQuery {
    let prefix = FuzzyTermQuery::new_prefix(Term::from_field_text(field, prefix), 0, false);
    Box::new(ConstScoreQuery::new(Box::new(prefix), PREFIX_SCORE))
}

/// `word` when it is a single CJK ideograph.
fn single_ideograph(word: &str) -> Option<char> {
    let mut chars = word.trim().chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}') => {
            Some(c)
        }
        _ => None,
    }
}

/// The terms of `field` that contain `ch`, with the low score [`PREFIX_SCORE`].
fn containing_query(field: Field, ch: char) -> TQuery {
    let query = tantivy::query::RegexQuery::from_pattern(&format!(".*{ch}.*"), field)
        .expect("an ideograph is no regex syntax");
    Box::new(ConstScoreQuery::new(Box::new(query), PREFIX_SCORE))
}

/// A filter: required, but without influence on the score.
fn filter(query: TQuery) -> TQuery {
    Box::new(ConstScoreQuery::new(query, 0.0))
}

/// All `tokens` in `field`.
fn all_of(field: Field, tokens: &[String]) -> TQuery {
    let mut terms = tokens
        .iter()
        .map(|token| term_query(Term::from_field_text(field, token)));
    match (tokens.len(), terms.next()) {
        (1, Some(only)) => only,
        (_, first) => Box::new(BooleanQuery::new(
            first
                .into_iter()
                .chain(terms)
                .map(|query| (Occur::Must, query))
                .collect(),
        )),
    }
}

fn store_counts(counts: &mut FacetCounts, dim: Dim, found: &tantivy::collector::FacetCounts) {
    let mut values: Vec<(String, u64)> = found
        .get(Facet::from_path([dim.key()]))
        .filter_map(|(facet, count)| {
            let value = facet.to_path().last().map(|value| (*value).to_owned())?;
            (count > 0).then_some((value, count))
        })
        .collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    match dim {
        Dim::Kind => {
            counts.kinds = values
                .into_iter()
                .filter_map(|(key, count)| Some((DocKind::from_key(&key)?, count)))
                .collect();
        }
        Dim::Type => counts.types = values,
        Dim::Sector => counts.sectors = values,
        Dim::Country => counts.countries = values,
        Dim::Language => counts.languages = values,
        Dim::OrgKind => counts.org_kinds = values,
        Dim::Employment => counts.employments = values,
        Dim::Workplace => counts.workplaces = values,
        Dim::Applications => counts.applications = values,
    }
}

/// How many marks a snippet shows: highlighted ranges that touch are one mark (the Chinese
/// tokenizer cuts "Köln" into pieces, each a range of its own).
fn marks(snippet: &Snippet) -> usize {
    let mut ranges: Vec<Range<usize>> = snippet.highlighted().to_vec();
    ranges.sort_by_key(|r| r.start);
    let mut end = None;
    let mut n = 0;
    for r in ranges {
        if end.is_none_or(|e| r.start > e) {
            n += 1;
        }
        end = Some(end.map_or(r.end, |e: usize| e.max(r.end)));
    }
    n
}

/// The values of `field` joined by a space, as [`SnippetGenerator::snippet_from_doc`] does.
fn joined(doc: &TantivyDocument, field: Field) -> String {
    let values: Vec<&str> = doc
        .get_all(field)
        .filter_map(|value| value.as_str())
        .collect();
    values.join(" ").trim().to_owned()
}

/// The snippet's fragment of `text` as HTML: escaped, matches in `<mark>`, the punctuation
/// after its last word kept, `…` where it cuts the text.
fn snippet_html(text: &str, snippet: &Snippet) -> String {
    let Range { start, end } = snippet.fragment_range();
    let end = text[end..]
        .find(char::is_whitespace)
        .map_or(text.len(), |space| end + space);
    let mut html = String::new();
    if start > 0 {
        html.push('…');
    }
    let mut at = start;
    for mark in merged(snippet.highlighted()) {
        let (from, to) = (start + mark.start, start + mark.end);
        html.push_str(&escape_html(&text[at..from]));
        html.push_str("<mark>");
        html.push_str(&escape_html(&text[from..to]));
        html.push_str("</mark>");
        at = to;
    }
    html.push_str(&escape_html(&text[at..end]));
    if end < text.len() {
        html.push('…');
    }
    html
}

/// Sorted ranges with the overlapping and adjacent ones merged (jieba's search mode yields
/// `燃料电池` and `燃料` at the same place).
fn merged(ranges: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|range| range.start);
    let mut out: Vec<Range<usize>> = Vec::new();
    for range in sorted {
        match out.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => out.push(range),
        }
    }
    out
}

/// The start of `text`: at most `max` characters, cut after a word, with `…` when cut.
fn leading(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => {
            let cut = &text[..end];
            let cut = match cut.rfind(char::is_whitespace) {
                Some(space) if space > end / 2 => &cut[..space],
                _ => cut,
            };
            format!("{}…", cut.trim_end())
        }
    }
}

/// Escapes `"`, `&`, `'`, `<` and `>`: safe in element content and quoted attributes.
fn escape_html(text: &str) -> String {
    htmlescape::encode_minimal(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_cuts_after_a_word() {
        assert_eq!(leading("  kurz  ", 10), "kurz");
        assert_eq!(leading("eins zwei drei vier", 12), "eins zwei…");
        assert_eq!(leading("氢燃料电池系统", 3), "氢燃料…");
    }

    #[test]
    fn merges_overlapping_ranges() {
        assert_eq!(
            merged(&[6..12, 0..2, 6..9, 9..12, 13..14]),
            vec![0..2, 6..12, 13..14]
        );
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }
}
