use kontor_domain::{Locale, ParticipantRole};

use crate::helpers::TestApp;

async fn with_org(app: &TestApp, email: &str, locale: Locale, org: &[(&str, &str)]) -> String {
    app.user(email, locale, false).await;
    let cookie = app.sign_in(email).await;
    let r = app
        .post_form("/profile/organisation", Some(&cookie), "en", org)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    cookie
}

fn hits(body: &str) -> usize {
    body.matches("data-testid=\"hit\"").count()
}

#[tokio::test]
async fn search_finds_word_forms_chinese_text_and_facets_narrow() {
    let app = TestApp::new().await;
    let anna = with_org(
        &app,
        "anna@example.de",
        Locale::De,
        &[
            ("org_name", "Rheinwerk H2 GmbH"),
            ("kind", "company"),
            ("country", "DE"),
            ("sectors", "hydrogen"),
        ],
    )
    .await;
    let li = with_org(
        &app,
        "li@example.cn",
        Locale::Zh,
        &[
            ("org_name", "贵阳绿氢科技"),
            ("kind", "startup"),
            ("country", "CN"),
            ("sectors", "hydrogen"),
            ("sectors", "automotive"),
        ],
    )
    .await;
    let de = [
        ("kind", "technology-offer"),
        ("title_de", "Brennstoffzellen für Stadtbusse"),
        (
            "description_de",
            "Wir entwickeln Brennstoffzellen und Wasserstoffspeicher für Kommunen.",
        ),
        ("sectors", "hydrogen"),
        ("target_countries", "CN, TW"),
        ("languages", "de"),
        ("languages", "en"),
    ];
    let r = app
        .post_form("/opportunities", Some(&anna), "de", &de)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let zh = [
        ("kind", "business-request"),
        ("title_zh", "寻找德国合作伙伴"),
        ("description_zh", "我们生产氢燃料电池，用于城市公交。"),
        ("sectors", "hydrogen"),
        ("languages", "zh"),
    ];
    assert_eq!(
        app.post_form("/opportunities", Some(&li), "zh", &zh)
            .await
            .status,
        303
    );

    // Another German word form of "Brennstoffzellen"; the highlight marks it.
    let r = app
        .get(
            "/marketplace?q=Brennstoffzelle&kind=opportunity",
            None,
            "de",
        )
        .await;
    assert_eq!(hits(&r.body), 1, "{}", r.body);
    assert!(r.body.contains("Brennstoffzellen für Stadtbusse") && r.body.contains("<mark>"));
    // Whose offer it is shows on the card.
    assert!(r.body.contains("· Rheinwerk H2 GmbH</p>"), "{}", r.body);
    // Chinese written without spaces.
    let r = app.get("/marketplace?q=燃料电池", None, "zh").await;
    assert!(r.body.contains("寻找德国合作伙伴"), "{}", r.body);
    assert!(!r.body.contains("Brennstoffzellen für Stadtbusse"));
    // Across languages: the sector's name in Chinese finds the German offer.
    let r = app
        .get("/marketplace?q=氢能&kind=opportunity", None, "zh")
        .await;
    assert!(
        r.body.contains("Brennstoffzellen für Stadtbusse"),
        "{}",
        r.body
    );
    // Facets: every hydrogen document, then only the Chinese ones, then only opportunities of one type.
    let all = hits(
        &app.get("/marketplace?sector=hydrogen", None, "en")
            .await
            .body,
    );
    assert_eq!(all, 6, "2 organisations, 2 people, 2 opportunities");
    let cn = app
        .get("/marketplace?sector=hydrogen&country=CN", None, "en")
        .await;
    assert_eq!(hits(&cn.body), 3, "{}", cn.body);
    assert!(!cn.body.contains("Rheinwerk"));
    let typed = app
        .get(
            "/marketplace?sector=hydrogen&type=technology-offer",
            None,
            "en",
        )
        .await;
    assert_eq!(hits(&typed.body), 1);
    // Filters that leave nothing stay on screen, ticked, so that they can be taken back.
    let none = app
        .get("/marketplace?sector=hydrogen&country=FR", None, "en")
        .await;
    assert_eq!(hits(&none.body), 0);
    for (name, value) in [("country", "FR"), ("sector", "hydrogen")] {
        assert!(
            none.body
                .contains(&format!("name=\"{name}\" value=\"{value}\" checked")),
            "{name}: {}",
            none.body
        );
    }
    // Facet counts are shown next to each value.
    assert!(
        cn.body.contains("Automotive (2)") || cn.body.contains("Automotive (3)"),
        "{}",
        cn.body
    );

    // The opportunity page, and deleting it removes it from the search.
    let id = app
        .store
        .all_opportunities()
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.title.show(Locale::De).starts_with("Brennstoff"))
        .unwrap()
        .id;
    let page = app.get(&format!("/opportunities/{id}"), None, "en").await;
    assert_eq!(page.status, 200);
    // Countries by their names in the page's language.
    assert!(
        page.body.contains("Target countries: China, Taiwan"),
        "{}",
        page.body
    );
    // Chinese text takes its own punctuation: a full-width colon after labels, 、 in lists.
    let zh = app.get(&format!("/opportunities/{id}"), None, "zh").await;
    assert!(zh.body.contains("：中国、台湾"), "{}", zh.body);
    assert_eq!(
        app.post_form(&format!("/opportunities/{id}/delete"), Some(&li), "zh", &[])
            .await
            .status,
        404,
        "not hers"
    );
    assert_eq!(
        app.post_form(
            &format!("/opportunities/{id}/delete"),
            Some(&anna),
            "de",
            &[]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        hits(
            &app.get(
                "/marketplace?q=Brennstoffzelle&kind=opportunity",
                None,
                "de"
            )
            .await
            .body
        ),
        0
    );
}

#[tokio::test]
async fn the_index_is_rebuilt_from_the_database_and_bad_opportunities_are_refused() {
    let app = TestApp::new().await;
    let anna = with_org(
        &app,
        "anna@example.de",
        Locale::De,
        &[
            ("org_name", "Domtec"),
            ("kind", "company"),
            ("country", "DE"),
        ],
    )
    .await;
    let bad = app
        .post_form(
            "/opportunities",
            Some(&anna),
            "de",
            &[
                ("kind", "pyramid-scheme"),
                ("title_de", ""),
                ("target_countries", "DE, XX"),
                ("event", "not-an-id"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    for msg in [
        "Bitte wählen Sie eine der Optionen.",
        "Bitte geben Sie einen Titel",
        "Bitte beschreiben Sie es",
        "zweibuchstabigen Ländercode",
    ] {
        assert!(bad.body.contains(msg), "{msg}");
    }
    assert!(app.store.all_opportunities().await.unwrap().is_empty());
    // An event one is not confirmed for cannot be chosen.
    let org = app.user("org@example.de", Locale::De, false).await;
    let ev = app.event("h2-days", org).await;
    let r = app
        .post_form(
            "/opportunities",
            Some(&anna),
            "de",
            &[
                ("kind", "investment"),
                ("title_en", "Seed round"),
                ("description_en", "EUR 2 m for a fuel-cell start-up."),
                ("event", &ev.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"e-event\""), "{}", r.body);
    assert_eq!(
        r.body.matches("class=\"error\"").count(),
        1,
        "refused for the event alone: {}",
        r.body
    );
    let anna_id = app
        .store
        .user_by_email(&kontor_domain::Email::parse("anna@example.de").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    app.approved(ev, anna_id, ParticipantRole::Exhibitor).await;
    let r = app
        .post_form(
            "/opportunities",
            Some(&anna),
            "de",
            &[
                ("kind", "investment"),
                ("title_en", "Seed round"),
                ("description_en", "EUR 2 m for a fuel-cell start-up."),
                ("event", &ev.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    // Rebuilding gives the same answers as the incremental updates.
    let before = app.get("/marketplace?q=seed", None, "en").await.body;
    assert_eq!(
        app.state.reindex().await.unwrap(),
        4,
        "1 organisation, 2 people, 1 opportunity"
    );
    let after = app.get("/marketplace?q=seed", None, "en").await.body;
    assert_eq!(hits(&before), 1);
    assert_eq!(hits(&after), 1);
    let r = app
        .get("/marketplace?event=h2-days&kind=opportunity", None, "en")
        .await;
    assert_eq!(hits(&r.body), 1);
    assert_eq!(
        app.get("/marketplace?event=no-such-event", None, "en")
            .await
            .status,
        404
    );
}
