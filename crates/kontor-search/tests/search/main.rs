//! The search as the web crate uses it: feed documents, commit, search.

use std::collections::BTreeSet;

use kontor_search::{Doc, DocKind, Error, Filters, Query, Results, SearchIndex, TITLE_BOOST};

fn doc(id: &str, kind: DocKind, title: &str, texts: &[(&str, &str)]) -> Doc {
    let mut doc = Doc::new(id, kind, title);
    doc.texts = texts
        .iter()
        .map(|(locale, text)| ((*locale).to_owned(), (*text).to_owned()))
        .collect();
    doc
}

fn index_of(docs: &[Doc]) -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    for doc in docs {
        index.upsert(doc).unwrap();
    }
    index.commit().unwrap();
    index
}

fn ids(results: &Results) -> BTreeSet<String> {
    results.hits.iter().map(|hit| hit.id.clone()).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

fn found(index: &SearchIndex, text: &str) -> BTreeSet<String> {
    let results = index.search(&Query::text(text)).unwrap();
    assert_eq!(results.total, results.hits.len(), "all on the first page");
    ids(&results)
}

fn strs(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

/// German, English and Chinese organisations, one of each language.
fn multilingual() -> SearchIndex {
    index_of(&[
        doc(
            "de-h2",
            DocKind::Organisation,
            "Stadtwerke Nordhafen",
            &[(
                "de",
                "Wasserstoffspeicherung für Kommunen. Wir liefern Brennstoffzellen an \
                 mittelständische Unternehmen und beraten zur Förderung.",
            )],
        ),
        doc(
            "de-wind",
            DocKind::Organisation,
            "Windkraft Süd",
            &[(
                "de",
                "Planung von Windparks für Gemeinden und Energiegenossenschaften.",
            )],
        ),
        doc(
            "en-battery",
            DocKind::Organisation,
            "Cell Works",
            &[("en", "We manufacture batteries for electric buses.")],
        ),
        doc(
            "zh-h2",
            DocKind::Organisation,
            "贵阳氢能",
            &[("zh", "我们生产氢燃料电池，并为城市公交提供服务。")],
        ),
        doc(
            "zh-solar",
            DocKind::Organisation,
            "阳光科技",
            &[("zh", "我们提供太阳能电池板和储能系统。")],
        ),
    ])
}

#[test]
fn a_german_query_finds_other_word_forms_of_its_words() {
    let index = multilingual();
    assert_eq!(found(&index, "Brennstoffzelle"), set(&["de-h2"]));
    assert_eq!(found(&index, "brennstoffzellen"), set(&["de-h2"]));
    assert_eq!(found(&index, "Unternehmens"), set(&["de-h2"]));
    assert_eq!(found(&index, "Kommune"), set(&["de-h2"]));
    assert_eq!(found(&index, "Windpark"), set(&["de-wind"]));
    assert_eq!(found(&index, "Gemeinde"), set(&["de-wind"]));
    // Umlauts may be typed without them.
    assert_eq!(found(&index, "Forderung"), set(&["de-h2"]));
    assert_eq!(found(&index, "Süd"), set(&["de-wind"]));
    assert_eq!(found(&index, "sud"), set(&["de-wind"]));
    // No stemming of unrelated words into each other.
    assert!(found(&index, "Zelle").is_empty());
}

#[test]
fn a_german_word_finds_the_compounds_it_begins() {
    let index = multilingual();
    assert_eq!(found(&index, "Wasserstoff"), set(&["de-h2"]));
    assert_eq!(found(&index, "Energie"), set(&["de-wind"]));
    assert_eq!(found(&index, "Stadtwerk"), set(&["de-h2"]));

    let index = index_of(&[
        doc(
            "compound",
            DocKind::Organisation,
            "A",
            &[("de", "Wasserstoffspeicher")],
        ),
        doc(
            "word",
            DocKind::Organisation,
            "B",
            &[("de", "Grüner Wasserstoff")],
        ),
        doc(
            "other",
            DocKind::Organisation,
            "C",
            &[("de", "Kommunikation")],
        ),
    ]);
    // The word itself ranks first.
    let results = index.search(&Query::text("Wasserstoff")).unwrap();
    let order: Vec<&str> = results.hits.iter().map(|hit| hit.id.as_str()).collect();
    assert_eq!(order, ["word", "compound"]);
    // The word, not its stem, is the prefix: `kommun` would match `Kommunikation`.
    assert!(found(&index, "Kommunen").is_empty());
    // Short words are not prefixes.
    assert!(found(&index, "Wass").is_empty());
}

#[test]
fn a_chinese_query_finds_chinese_text_written_without_spaces() {
    let index = multilingual();
    assert_eq!(found(&index, "燃料电池"), set(&["zh-h2"]));
    assert_eq!(found(&index, "氢"), set(&["zh-h2"]));
    assert_eq!(found(&index, "氢燃料电池"), set(&["zh-h2"]));
    assert_eq!(found(&index, "太阳能"), set(&["zh-solar"]));
    assert_eq!(found(&index, "电池"), set(&["zh-h2", "zh-solar"]));
    assert_eq!(found(&index, "城市公交"), set(&["zh-h2"]));
    // A function word does not make the query miss.
    assert_eq!(found(&index, "燃料电池的"), set(&["zh-h2"]));
    // The title is segmented too.
    assert_eq!(found(&index, "贵阳"), set(&["zh-h2"]));
    assert!(found(&index, "风电").is_empty());
}

#[test]
fn english_word_forms_match() {
    let index = multilingual();
    assert_eq!(found(&index, "battery"), set(&["en-battery"]));
    assert_eq!(found(&index, "manufacturer"), set(&["en-battery"]));
    assert_eq!(found(&index, "Electrical Battery"), set(&["en-battery"]));
}

#[test]
fn every_word_must_match_but_stop_words_are_optional() {
    let index = multilingual();
    assert!(found(&index, "Brennstoffzelle Windpark").is_empty());
    assert_eq!(
        found(&index, "Brennstoffzellen für Unternehmen"),
        set(&["de-h2"])
    );
    assert_eq!(
        found(&index, "batteries for the buses"),
        set(&["en-battery"])
    );
    // A word in the title and one in the text.
    assert_eq!(found(&index, "Nordhafen Brennstoffzelle"), set(&["de-h2"]));
    // Nothing but punctuation and stop words: everything (browsing).
    assert_eq!(found(&index, " - ").len(), 5);
}

#[test]
fn a_query_searches_every_language_at_once() {
    let mut both = doc(
        "both",
        DocKind::Opportunity,
        "Partner gesucht",
        &[
            ("de", "Wir suchen Partner für Elektrolyseure."),
            ("zh", "我们寻找电解槽合作伙伴。"),
            ("en", "Looking for electrolyser partners."),
        ],
    );
    both.facets.opportunity_type = Some("request".into());
    let index = index_of(&[both]);
    for query in ["Elektrolyseur", "电解槽", "electrolysers", "合作伙伴"] {
        assert_eq!(found(&index, query), set(&["both"]), "{query}");
    }
    // The snippet is in the language that matched.
    let hit = &index.search(&Query::text("电解槽")).unwrap().hits[0];
    assert!(
        hit.snippet_html.contains("<mark>电解槽</mark>"),
        "{}",
        hit.snippet_html
    );
    let hit = &index.search(&Query::text("Elektrolyseure")).unwrap().hits[0];
    assert!(
        hit.snippet_html.contains("<mark>Elektrolyseure</mark>"),
        "{}",
        hit.snippet_html
    );
}

#[test]
fn the_title_weighs_more_than_the_text() {
    // The same word once in a title and once in a text of the same length: without the boost
    // both would score the same.
    let index = index_of(&[
        doc(
            "text",
            DocKind::Organisation,
            "Nordwerk",
            &[("de", "Elektrolyseure")],
        ),
        doc(
            "title",
            DocKind::Organisation,
            "Elektrolyseure",
            &[("de", "Nordwerk")],
        ),
    ]);
    let results = index.search(&Query::text("Elektrolyseur")).unwrap();
    let order: Vec<&str> = results.hits.iter().map(|hit| hit.id.as_str()).collect();
    assert_eq!(order, ["title", "text"]);
    let ratio = results.hits[0].score / results.hits[1].score;
    assert!((ratio - TITLE_BOOST).abs() < 0.01, "{ratio}");
}

/// Six documents with facets, for the facet tests.
fn marketplace() -> SearchIndex {
    let mut docs = Vec::new();
    let mut add = |id: &str, kind, sectors: &[&str], country: &str, extra: fn(&mut Doc)| {
        let mut d = doc(id, kind, id, &[("en", "hydrogen partner")]);
        d.facets.sectors = strs(sectors);
        d.facets.country = Some(country.to_owned());
        extra(&mut d);
        docs.push(d);
    };
    add(
        "o1",
        DocKind::Organisation,
        &["hydrogen", "energy"],
        "DE",
        |d| {
            d.facets.org_kind = Some("company".into());
            d.facets.languages = strs(&["de", "en"]);
            d.events = strs(&["fair-2026"]);
        },
    );
    add("o2", DocKind::Organisation, &["hydrogen"], "CN", |d| {
        d.facets.org_kind = Some("university".into());
        d.facets.languages = strs(&["zh", "en"]);
    });
    add("o3", DocKind::Organisation, &["mobility"], "DE", |d| {
        d.facets.org_kind = Some("company".into());
        d.facets.languages = strs(&["de"]);
        d.events = strs(&["fair-2026", "forum-2027"]);
    });
    add("p1", DocKind::Person, &["hydrogen"], "DE", |d| {
        d.facets.languages = strs(&["de", "zh"]);
        d.events = strs(&["fair-2026"]);
    });
    add("x1", DocKind::Opportunity, &["hydrogen"], "CN", |d| {
        d.facets.opportunity_type = Some("offer".into());
    });
    add(
        "x2",
        DocKind::Opportunity,
        &["energy", "mobility"],
        "DE",
        |d| {
            d.facets.opportunity_type = Some("request".into());
            d.events = strs(&["forum-2027"]);
        },
    );
    index_of(&docs)
}

fn filtered(index: &SearchIndex, text: &str, kind: Option<DocKind>, filters: Filters) -> Results {
    let query = Query {
        text: text.to_owned(),
        kind,
        filters,
        ..Query::default()
    };
    index.search(&query).unwrap()
}

#[test]
fn facets_narrow_the_results() {
    let index = marketplace();
    let cases: Vec<(Option<DocKind>, Filters, &[&str])> = vec![
        (
            None,
            Filters::default(),
            &["o1", "o2", "o3", "p1", "x1", "x2"],
        ),
        (
            None,
            Filters {
                sectors: strs(&["hydrogen"]),
                ..Filters::default()
            },
            &["o1", "o2", "p1", "x1"],
        ),
        (
            None,
            Filters {
                sectors: strs(&["hydrogen"]),
                countries: strs(&["DE"]),
                ..Filters::default()
            },
            &["o1", "p1"],
        ),
        (
            Some(DocKind::Organisation),
            Filters {
                sectors: strs(&["hydrogen"]),
                countries: strs(&["DE"]),
                ..Filters::default()
            },
            &["o1"],
        ),
        // Two values of one facet: either.
        (
            None,
            Filters {
                sectors: strs(&["mobility", "energy"]),
                ..Filters::default()
            },
            &["o1", "o3", "x2"],
        ),
        (
            None,
            Filters {
                types: strs(&["offer"]),
                ..Filters::default()
            },
            &["x1"],
        ),
        (
            None,
            Filters {
                types: strs(&["offer", "request"]),
                countries: strs(&["DE"]),
                ..Filters::default()
            },
            &["x2"],
        ),
        (
            None,
            Filters {
                languages: strs(&["zh"]),
                ..Filters::default()
            },
            &["o2", "p1"],
        ),
        (
            None,
            Filters {
                org_kinds: strs(&["company"]),
                sectors: strs(&["mobility"]),
                ..Filters::default()
            },
            &["o3"],
        ),
        (Some(DocKind::Person), Filters::default(), &["p1"]),
        (
            None,
            Filters {
                countries: strs(&["FR"]),
                ..Filters::default()
            },
            &[],
        ),
    ];
    for (kind, filters, expected) in cases {
        for text in ["", "hydrogen"] {
            let results = filtered(&index, text, kind, filters.clone());
            assert_eq!(
                ids(&results),
                set(expected),
                "{text:?} {kind:?} {filters:?}"
            );
            assert_eq!(results.total, expected.len());
        }
    }
    // Facets and text together: text narrows as well.
    let results = filtered(
        &index,
        "Brennstoffzelle",
        None,
        Filters {
            sectors: strs(&["hydrogen"]),
            ..Filters::default()
        },
    );
    assert_eq!(results.total, 0);
}

#[test]
fn an_event_narrows_the_results() {
    let index = marketplace();
    let mut query = Query {
        event: Some("fair-2026".into()),
        ..Query::default()
    };
    assert_eq!(
        ids(&index.search(&query).unwrap()),
        set(&["o1", "o3", "p1"])
    );
    query.event = Some("forum-2027".into());
    query.kind = Some(DocKind::Opportunity);
    assert_eq!(ids(&index.search(&query).unwrap()), set(&["x2"]));
    query.event = Some("fair".into());
    assert_eq!(index.search(&query).unwrap().total, 0);
}

fn counts(values: &[(&str, u64)]) -> Vec<(String, u64)> {
    values
        .iter()
        .map(|(value, count)| ((*value).to_owned(), *count))
        .collect()
}

#[test]
fn facet_counts_follow_the_query() {
    let index = marketplace();
    let all = filtered(&index, "", None, Filters::default()).facets;
    assert_eq!(
        all.kinds,
        vec![
            (DocKind::Organisation, 3),
            (DocKind::Opportunity, 2),
            (DocKind::Person, 1)
        ]
    );
    assert_eq!(
        all.sectors,
        counts(&[("hydrogen", 4), ("energy", 2), ("mobility", 2)])
    );
    assert_eq!(all.countries, counts(&[("DE", 4), ("CN", 2)]));
    assert_eq!(all.languages, counts(&[("de", 3), ("en", 2), ("zh", 2)]));
    assert_eq!(all.org_kinds, counts(&[("company", 2), ("university", 1)]));
    assert_eq!(all.types, counts(&[("offer", 1), ("request", 1)]));

    // Filtering by country: the other facets count within DE, the countries stay selectable.
    let de = filtered(
        &index,
        "",
        None,
        Filters {
            countries: strs(&["DE"]),
            ..Filters::default()
        },
    )
    .facets;
    assert_eq!(de.countries, counts(&[("DE", 4), ("CN", 2)]));
    assert_eq!(
        de.sectors,
        counts(&[("energy", 2), ("hydrogen", 2), ("mobility", 2)])
    );
    assert_eq!(
        de.kinds,
        vec![
            (DocKind::Organisation, 2),
            (DocKind::Opportunity, 1),
            (DocKind::Person, 1)
        ]
    );
    assert_eq!(de.org_kinds, counts(&[("company", 2)]));

    // A kind and a sector: sectors are counted for organisations, kinds for hydrogen.
    let orgs = filtered(
        &index,
        "",
        Some(DocKind::Organisation),
        Filters {
            sectors: strs(&["hydrogen"]),
            ..Filters::default()
        },
    );
    assert_eq!(ids(&orgs), set(&["o1", "o2"]));
    assert_eq!(
        orgs.facets.sectors,
        counts(&[("hydrogen", 2), ("energy", 1), ("mobility", 1)])
    );
    assert_eq!(
        orgs.facets.kinds,
        vec![
            (DocKind::Organisation, 2),
            (DocKind::Opportunity, 1),
            (DocKind::Person, 1)
        ]
    );
    assert_eq!(orgs.facets.countries, counts(&[("CN", 1), ("DE", 1)]));

    // Text narrows the counts.
    let none = filtered(&index, "Brennstoffzelle", None, Filters::default());
    assert_eq!(none.facets, Default::default());
}

#[test]
fn highlights_mark_the_matches_and_escape_the_rest() {
    let index = index_of(&[
        doc(
            "xss",
            DocKind::Opportunity,
            "<b>Angebot</b>",
            &[(
                "de",
                "Brennstoffzellen <script>alert('x')</script> & \"mehr\".",
            )],
        ),
        doc(
            "title-only",
            DocKind::Organisation,
            "Elektrolyse AG",
            &[("en", "<i>We build</i> stacks.")],
        ),
    ]);
    let hit = &index.search(&Query::text("Brennstoffzelle")).unwrap().hits[0];
    assert_eq!(
        hit.snippet_html,
        "<mark>Brennstoffzellen</mark> &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; \
         &amp; &quot;mehr&quot;."
    );
    assert_eq!(
        hit.title, "<b>Angebot</b>",
        "titles are returned as they are"
    );
    // A match in the title only: the start of the text, escaped, without marks.
    let hit = &index.search(&Query::text("Elektrolyse")).unwrap().hits[0];
    assert_eq!(hit.id, "title-only");
    assert_eq!(hit.snippet_html, "&lt;i&gt;We build&lt;/i&gt; stacks.");
}

#[test]
fn a_long_text_is_cut_around_the_match() {
    let filler = "Lorem ipsum dolor sit amet. ".repeat(30);
    let text = format!("{filler}Wir entwickeln Brennstoffzellen für Busse. {filler}");
    let index = index_of(&[doc("long", DocKind::Organisation, "Lang", &[("de", &text)])]);
    let html = &index.search(&Query::text("Brennstoffzelle")).unwrap().hits[0].snippet_html;
    assert!(html.contains("<mark>Brennstoffzellen</mark>"), "{html}");
    assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
    assert!(html.chars().count() < 260, "{html}");
}

#[test]
fn chinese_highlights_cover_the_whole_word() {
    let index = multilingual();
    let hit = &index.search(&Query::text("燃料电池")).unwrap().hits[0];
    assert!(
        hit.snippet_html.contains("<mark>燃料电池</mark>"),
        "{}",
        hit.snippet_html
    );
    assert!(
        !hit.snippet_html.contains("</mark><mark>"),
        "{}",
        hit.snippet_html
    );
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let index = index_of(&[
        doc(
            "a",
            DocKind::Organisation,
            "Alpha",
            &[("de", "Brennstoffzellen")],
        ),
        doc("b", DocKind::Organisation, "Beta", &[("de", "Windparks")]),
    ]);
    index
        .upsert(&doc(
            "a",
            DocKind::Organisation,
            "Alpha",
            &[("de", "Solarparks")],
        ))
        .unwrap();
    // Not seen before the commit.
    assert_eq!(found(&index, "Brennstoffzelle"), set(&["a"]));
    index.commit().unwrap();
    assert!(found(&index, "Brennstoffzelle").is_empty());
    assert_eq!(found(&index, "Solarpark"), set(&["a"]));
    assert_eq!(index.num_docs(), 2);

    // Twice in one batch: the last one wins.
    index
        .upsert(&doc("b", DocKind::Person, "Beta", &[("de", "eins")]))
        .unwrap();
    index
        .upsert(&doc("b", DocKind::Person, "Beta", &[("de", "zwei")]))
        .unwrap();
    index.commit().unwrap();
    assert!(found(&index, "eins").is_empty());
    let results = index.search(&Query::text("zwei")).unwrap();
    assert_eq!(ids(&results), set(&["b"]));
    assert_eq!(results.hits[0].kind, DocKind::Person);
    assert_eq!(index.num_docs(), 2);

    index.delete("a");
    index.delete("no-such-id");
    index.commit().unwrap();
    assert!(found(&index, "Solarpark").is_empty());
    assert_eq!(found(&index, ""), set(&["b"]));

    index.delete_all().unwrap();
    index.commit().unwrap();
    assert_eq!(index.num_docs(), 0);
    assert!(found(&index, "").is_empty());
}

#[test]
fn pages_do_not_overlap_and_cover_all_hits() {
    let docs: Vec<Doc> = (0..25)
        .map(|i| {
            let text = format!("Wasserstoff {}", "Projekt ".repeat(i % 4 + 1));
            doc(
                &format!("d{i:02}"),
                DocKind::Opportunity,
                &format!("Titel {i:02}"),
                &[("de", &text)],
            )
        })
        .collect();
    let index = index_of(&docs);
    for text in ["Wasserstoff", ""] {
        let mut seen = Vec::new();
        for offset in [0, 10, 20, 30] {
            let query = Query {
                text: text.into(),
                limit: 10,
                offset,
                ..Query::default()
            };
            let results = index.search(&query).unwrap();
            assert_eq!(results.total, 25);
            assert_eq!(
                results.hits.len(),
                [10, 10, 5, 0][offset / 10],
                "{text:?} {offset}"
            );
            seen.extend(results.hits.into_iter().map(|hit| hit.id));
        }
        let distinct: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(distinct.len(), 25, "{text:?}: {seen:?}");
        if text.is_empty() {
            // Browsing is by title.
            let expected: Vec<String> = (0..25).map(|i| format!("d{i:02}")).collect();
            assert_eq!(seen, expected);
        }
    }
    // Limit 0: only the total and the counts.
    let query = Query {
        limit: 0,
        ..Query::default()
    };
    let results = index.search(&query).unwrap();
    assert_eq!((results.total, results.hits.len()), (25, 0));
    assert_eq!(results.facets.kinds, vec![(DocKind::Opportunity, 25)]);
    // Offsets and limits from a URL cannot make the search allocate for them.
    for (offset, limit) in [
        (usize::MAX, 10),
        (usize::MAX / 2, usize::MAX),
        (24, usize::MAX),
    ] {
        let query = Query {
            text: "Wasserstoff".into(),
            offset,
            limit,
            ..Query::default()
        };
        let results = index.search(&query).unwrap();
        assert_eq!(results.total, 25);
        assert_eq!(results.hits.len(), usize::from(offset == 24));
    }
    // A very long query is cut, not refused.
    let long = "Wasserstoff ".repeat(5000);
    assert_eq!(index.search(&Query::text(long)).unwrap().total, 25);
}

#[test]
fn facet_values_are_opaque_keys() {
    let mut d = doc("odd", DocKind::Organisation, "Odd", &[]);
    d.facets.sectors = strs(&["a/b", "Größe & Co"]);
    let index = index_of(&[d]);
    let results = filtered(
        &index,
        "",
        None,
        Filters {
            sectors: strs(&["a/b"]),
            ..Filters::default()
        },
    );
    assert_eq!(ids(&results), set(&["odd"]));
    assert_eq!(
        results.facets.sectors,
        counts(&[("Größe & Co", 1), ("a/b", 1)])
    );
    let other = Filters {
        sectors: strs(&["a"]),
        ..Filters::default()
    };
    assert_eq!(filtered(&index, "", None, other).total, 0);
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<SearchIndex>();
    let index = std::sync::Arc::new(multilingual());
    let searches: Vec<_> = (0..4)
        .map(|_| {
            let index = index.clone();
            std::thread::spawn(move || index.search(&Query::text("电池")).unwrap().total)
        })
        .collect();
    for search in searches {
        assert_eq!(search.join().unwrap(), 2);
    }
}

#[test]
fn the_snippet_prefers_the_readers_language_when_nothing_matches_the_text() {
    let index = index_of(&[doc(
        "h2",
        DocKind::Organisation,
        "H2 Nord",
        &[
            ("de", "Deutscher Text."),
            ("en", "English text."),
            ("zh", "中文文本。"),
        ],
    )]);
    for (locale, expected) in [
        ("zh-CN", "中文文本。"),
        ("en", "English text."),
        ("de", "Deutscher Text."),
    ] {
        let query = Query {
            locale: Some(locale.into()),
            ..Query::text("Nord")
        };
        assert_eq!(
            index.search(&query).unwrap().hits[0].snippet_html,
            expected,
            "{locale}"
        );
    }
}

#[test]
fn an_index_in_a_folder_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open(dir.path()).unwrap();
        index
            .upsert(&doc(
                "a",
                DocKind::Organisation,
                "Alpha",
                &[("de", "Brennstoffzellen")],
            ))
            .unwrap();
        index.commit().unwrap();
    }
    let index = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(found(&index, "Brennstoffzelle"), set(&["a"]));
    // One writer per folder.
    assert!(SearchIndex::open(dir.path()).is_err());
    drop(index);

    // A folder with an index of another schema.
    let other = tempfile::tempdir().unwrap();
    let mut schema = tantivy::schema::Schema::builder();
    schema.add_text_field("something", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(other.path(), schema.build()).unwrap();
    assert!(matches!(
        SearchIndex::open(other.path()),
        Err(Error::SchemaChanged)
    ));
}

/// A single character finds the Chinese words that contain it, even where jieba never makes it
/// a word of its own ("氢" in "氢能"), and only those.
#[test]
fn one_chinese_character_finds_the_words_that_contain_it() {
    let index = index_of(&[
        doc(
            "zh-energy",
            DocKind::Organisation,
            "未来能源",
            &[("zh", "我们专注于氢能技术。")],
        ),
        doc(
            "zh-solar",
            DocKind::Organisation,
            "阳光科技",
            &[("zh", "我们提供太阳能电池板和储能系统。")],
        ),
    ]);
    assert_eq!(found(&index, "氢"), set(&["zh-energy"]));
    assert_eq!(found(&index, "阳"), set(&["zh-solar"]));
    assert!(found(&index, "铁").is_empty());
}

#[test]
fn closed_postings_can_be_left_out_and_are_still_counted() {
    let mut open = doc("open", DocKind::Opportunity, "Engineer", &[]);
    open.facets.applications = Some("open".into());
    let mut closed = doc("closed", DocKind::Opportunity, "Buyer", &[]);
    closed.facets.applications = Some("closed".into());
    let org = doc("org", DocKind::Organisation, "Stadtwerke", &[]);
    let index = index_of(&[open, closed, org]);
    let hide = Filters {
        hide_closed: true,
        ..Filters::default()
    };

    let shown = filtered(&index, "", None, hide.clone());
    assert_eq!(ids(&shown), set(&["open", "org"]));
    assert_eq!(shown.total, 2);
    let count = Query {
        filters: hide.clone(),
        ..Query::default()
    };
    assert_eq!(index.count(&count).unwrap(), 2);
    assert_eq!(
        shown.facets.applications,
        counts(&[("closed", 1), ("open", 1)])
    );
    // Under a text query too.
    assert_eq!(
        ids(&filtered(&index, "Buyer", None, hide.clone())),
        set(&[])
    );
    // Asking for closed postings shows them.
    let asked = Filters {
        applications: strs(&["closed"]),
        ..hide
    };
    assert_eq!(ids(&filtered(&index, "", None, asked)), set(&["closed"]));
    // Without the flag nothing is left out.
    assert_eq!(
        ids(&filtered(&index, "", None, Filters::default())),
        set(&["open", "closed", "org"])
    );
}
