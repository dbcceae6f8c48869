//! Job postings: their facts are validated, shown, searchable by facet, in the API, and a
//! posting past its deadline takes no more interview requests.

use kontor_domain::{
    Employment, JobDetails, Locale, LocalizedText, ParticipantRole, TimeZoneName, Workplace,
};

use crate::helpers::TestApp;

fn posting<'a>(title: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("kind", "job-posting"),
        ("title_de", title),
        (
            "description_de",
            "Sie betreuen unsere Kunden in China, auf Deutsch und Chinesisch.",
        ),
        ("languages", "zh"),
    ];
    form.extend_from_slice(extra);
    form
}

/// The cast of these tests at the job fair "talent-days" (organised by org@example.de, who
/// takes no part): an employer (hr@rheinwerk.example, German), the candidates Li and Wang
/// (Chinese).
struct Fair {
    id: uuid::Uuid,
    employer: uuid::Uuid,
    li: uuid::Uuid,
    wang: uuid::Uuid,
}

async fn talent_days(app: &TestApp) -> Fair {
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let id = app.event("talent-days", organiser).await;
    let mut tx = app.store.begin().await.unwrap();
    let sql = "UPDATE events SET kind = 'job-fair' WHERE slug = 'talent-days'";
    kontor_store::testing::execute(&mut tx, sql).await.unwrap();
    tx.commit().await.unwrap();
    let mut people = vec![];
    for (email, locale, role) in [
        (
            "hr@rheinwerk.example",
            Locale::De,
            ParticipantRole::Exhibitor,
        ),
        ("li@example.cn", Locale::Zh, ParticipantRole::Visitor),
        ("wang@example.cn", Locale::Zh, ParticipantRole::Visitor),
    ] {
        let who = app.user(email, locale, false).await;
        app.approved(id, who, role).await;
        people.push(who);
    }
    Fair {
        id,
        employer: people[0],
        li: people[1],
        wang: people[2],
    }
}

#[tokio::test]
async fn a_job_posting_has_facts_a_facet_and_a_deadline() {
    for (app, _) in TestApp::on_every_backend().await {
        let Fair {
            id: fair, employer, ..
        } = talent_days(&app).await;
        let hr = app.sign_in("hr@rheinwerk.example").await;
        let li = app.sign_in("li@example.cn").await;
        let today = TimeZoneName::berlin().today();
        let fair_id = fair.to_string();
        let (yesterday, next_month) = (
            today.yesterday().unwrap().to_string(),
            today
                .checked_add(jiff::ToSpan::days(30))
                .unwrap()
                .to_string(),
        );

        // Field by field, in the writer's language.
        let bad = app
            .post_form(
                "/opportunities",
                Some(&hr),
                "de",
                &posting(
                    "Vertriebsingenieurin",
                    &[
                        ("job_employment", "gig"),
                        ("job_workplace", "hybrid"),
                        ("job_apply_by", &yesterday),
                    ],
                ),
            )
            .await;
        assert_eq!(bad.status, 422);
        // Three problems, one announcement: the summary; the fields only describe themselves.
        assert_eq!(
            bad.body.matches("role=\"alert\"").count(),
            1,
            "{}",
            bad.body
        );
        for message in [
            "Bitte geben Sie den Arbeitsort an oder wählen Sie Remote.",
            "Der Bewerbungsschluss darf nicht in der Vergangenheit liegen.",
        ] {
            assert!(bad.body.contains(message), "{message}: {}", bad.body);
        }
        assert!(
            bad.body.contains("id=\"e-job_employment\""),
            "an unknown kind of work is refused: {}",
            bad.body
        );
        // A missing title is reported at the writer's own language's field, named.
        let untitled = app
            .post_form(
                "/opportunities",
                Some(&hr),
                "de",
                &[("kind", "business-offer")],
            )
            .await;
        assert_eq!(untitled.status, 422);
        assert!(
            untitled
                .body
                .contains("href=\"#f-title_de\">Titel (Deutsch)")
                && untitled.body.contains("id=\"e-description_de\""),
            "{}",
            untitled.body
        );
        let early_start = app
            .post_form(
                "/opportunities",
                Some(&hr),
                "en",
                &posting(
                    "Vertriebsingenieurin",
                    &[
                        ("job_employment", "full-time"),
                        ("job_workplace", "remote"),
                        ("job_starts_on", &today.to_string()),
                        ("job_apply_by", &next_month),
                    ],
                ),
            )
            .await;
        assert_eq!(early_start.status, 422);
        assert!(
            early_start
                .body
                .contains("Der Beginn darf nicht vor dem Bewerbungsschluss liegen."),
            "{}",
            early_start.body
        );

        let r = app
            .post_form(
                "/opportunities",
                Some(&hr),
                "de",
                &posting(
                    "Vertriebsingenieurin China",
                    &[
                        ("job_employment", "full-time"),
                        ("job_workplace", "hybrid"),
                        ("job_location", "Köln"),
                        ("job_apply_by", &next_month),
                        ("event", &fair_id),
                    ],
                ),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let url = r.header("location").to_string();
        let page = app.get(&url, Some(&li), "zh").await;
        assert!(
            page.body.contains("全职")
                && page.body.contains("混合办公 · Köln")
                && page.body.contains("申请截止日期"),
            "{}",
            page.body
        );
        // A job fair's page leads to its postings.
        app.state.reindex().await.unwrap();
        let event_page = app.get("/events/talent-days", Some(&li), "de").await;
        assert!(
            event_page.body.contains(
                "href=\"/marketplace?event=talent-days&amp;kind=opportunity&amp;type=job-posting\""
            ) && event_page.body.contains("本招聘会的 1 个职位"),
            "{}",
            event_page.body
        );
        // The request starts from the posting and names it.
        let id = url.rsplit('/').next().unwrap();
        let ask = format!("/events/talent-days/people/{employer}/request?opportunity={id}");
        assert!(page.body.contains(&ask), "{}", page.body);
        let form = app.get(&ask, Some(&li), "zh").await;
        assert!(
            form.body
                .contains(&format!("<option value=\"{id}\" selected>")),
            "{}",
            form.body
        );
        // Signed out, or not at the event: the way to take part.
        let outside = app.get(&url, None, "en").await;
        assert!(
            outside.body.contains("data-testid=\"join\"")
                && outside.body.contains("href=\"/events/talent-days\""),
            "{}",
            outside.body
        );
        // The employer moves the deadline and corrects the place; the search follows.
        let edit = format!("{url}/edit");
        let form = app.get(&edit, Some(&hr), "de").await;
        assert!(form.body.contains("value=\"Köln\""), "{}", form.body);
        for (cookie, status) in [(&li, 404), (&hr, 303)] {
            let r = app
                .post_form(
                    &edit,
                    Some(cookie),
                    "de",
                    &posting(
                        "Vertriebsingenieurin China",
                        &[
                            ("job_employment", "full-time"),
                            ("job_workplace", "hybrid"),
                            ("job_location", "Bonn"),
                            ("job_apply_by", &next_month),
                            ("event", &fair_id),
                        ],
                    ),
                )
                .await;
            assert_eq!(r.status, status, "{}", r.body);
        }
        assert_eq!(app.get(&edit, Some(&li), "zh").await.status, 404);
        let page = app.get(&url, Some(&li), "zh").await;
        assert!(page.body.contains("混合办公 · Bonn"), "{}", page.body);
        let bonn = app.get("/marketplace?q=Bonn", None, "en").await;
        assert!(
            bonn.body.contains("Vertriebsingenieurin China"),
            "{}",
            bonn.body
        );

        // An offer that is not a job posting keeps no job facts, whatever the form sent.
        let offer = app
            .post_form(
                "/opportunities",
                Some(&hr),
                "en",
                &[
                    ("kind", "business-offer"),
                    ("title_en", "Sales support in Cologne"),
                    ("description_en", "We help Chinese firms enter Germany."),
                    ("job_employment", "internship"),
                    ("job_workplace", "remote"),
                ],
            )
            .await;
        assert_eq!(offer.status, 303, "{}", offer.body);
        let offer_id = offer.header("location").rsplit('/').next().unwrap();
        let api = app
            .get(&format!("/api/v1/opportunities/{offer_id}"), None, "en")
            .await
            .json();
        assert!(api.get("job").is_none(), "{api}");

        // By API, with the same rules; read back with its facts.
        let token = app.token(&hr).await;
        let body = serde_json::json!({
            "kind": "job-posting",
            "title": { "en": "Working student, China marketing" },
            "description": { "en": "Twenty hours a week, during your studies." },
            "job": { "employment": "working-student", "workplace": "on-site", "location": "" },
        });
        let refused = app
            .api(
                "POST",
                "/api/v1/opportunities",
                Some(&token),
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("job_location"), "{}", refused.body);
        let mut body = body;
        body["job"]["location"] = "Bonn".into();
        body["job"]["starts_on"] = next_month.clone().into();
        let created = app
            .api(
                "POST",
                "/api/v1/opportunities",
                Some(&token),
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.json()["id"].as_str().unwrap().to_string();
        let back = app
            .get(&format!("/api/v1/opportunities/{id}"), None, "en")
            .await
            .json();
        assert_eq!(
            back["job"],
            serde_json::json!({ "employment": "working-student", "workplace": "on-site",
                "location": "Bonn", "starts_on": next_month, "apply_by": null })
        );
        // Rewritten by its author only (PUT, the whole of it).
        body["job"]["workplace"] = "hybrid".into();
        let path = format!("/api/v1/opportunities/{id}");
        let li_token = app.token(&li).await;
        let foreign = app
            .api("PUT", &path, Some(&li_token), Some(&body.to_string()))
            .await;
        assert_eq!(foreign.status, 404, "{}", foreign.body);
        let put = app
            .api("PUT", &path, Some(&token), Some(&body.to_string()))
            .await;
        assert_eq!(put.status, 204, "{}", put.body);
        assert_eq!(
            app.get(&path, None, "en").await.json()["job"]["workplace"],
            "hybrid"
        );
        body["job"]["location"] = "".into();
        let refused = app
            .api("PUT", &path, Some(&token), Some(&body.to_string()))
            .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        body["job"]["location"] = "Bonn".into();
        body["job"]["workplace"] = "on-site".into();
        let put = app
            .api("PUT", &path, Some(&token), Some(&body.to_string()))
            .await;
        assert_eq!(put.status, 204, "{}", put.body);

        // The marketplace filters by kind of work and workplace, and finds the place.
        let all = app.get("/marketplace?kind=opportunity", None, "de").await;
        assert!(
            all.body.contains("Werkstudierendenstelle (1)") && all.body.contains("Vollzeit (1)"),
            "{}",
            all.body
        );
        let students = app
            .get("/marketplace?employment=working-student", None, "en")
            .await;
        assert!(
            students.body.contains("Working student, China marketing")
                && !students.body.contains("Vertriebsingenieurin"),
            "{}",
            students.body
        );
        let hybrid = app.get("/marketplace?workplace=hybrid", None, "en").await;
        assert!(
            hybrid.body.contains("Full-time · Hybrid · Bonn · apply by")
                && hybrid.body.contains("Sie betreuen unsere Kunden in China"),
            "{}",
            hybrid.body
        );
        let cologne = app.get("/marketplace?q=K%C3%B6ln", None, "en").await;
        assert!(
            cologne.body.contains("data-testid=\"total\"")
                && !cologne.body.contains("Vertriebsingenieurin China"),
            "moved to Bonn: {}",
            cologne.body
        );

        // Past its deadline (written when it was still open): shown as closed, no new
        // requests about it, on the page or by API.
        let mut tx = app.store.begin().await.unwrap();
        let closed = tx
            .create_opportunity(
                employer,
                &kontor_store::matchmaking::OpportunityFields {
                    event_id: Some(fair),
                    kind: kontor_domain::OpportunityKind::JobPosting,
                    title: kontor_domain::LocalizedText::one(Locale::Zh, "采购专员"),
                    description: kontor_domain::LocalizedText::one(Locale::Zh, "亚洲区采购。"),
                    sectors: vec![],
                    target_countries: vec![],
                    languages: vec![],
                    interpreter_needed: false,
                    job: Some(JobDetails {
                        employment: Employment::FullTime,
                        workplace: Workplace::OnSite,
                        location: "Düsseldorf".into(),
                        starts_on: None,
                        apply_by: Some(today.yesterday().unwrap()),
                    }),
                },
                kontor_domain::now_micros(),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // The marketplace leaves closed postings out (as of its last rebuild), says how many,
        // and shows them too when asked, among everything else it finds.
        app.state.reindex().await.unwrap();
        let default = app.get("/marketplace?q=&sector=", None, "de").await;
        assert!(
            default.body.contains("Vertriebsingenieurin China")
                && !default.body.contains("采购专员")
                && default.body.contains(
                    "1 Stellenangebot mit abgelaufener Bewerbungsfrist wird nicht angezeigt."
                )
                && default
                    .body
                    .contains("href=\"/marketplace?q=&amp;sector=&amp;closed=1\"")
                && default.body.contains("data-fold-narrow=\"yes\"")
                && !default.body.contains("Alle Filter zurücksetzen"),
            "{}",
            default.body
        );
        // The language switch leads back to the same search.
        assert!(
            default
                .body
                .contains("name=\"back\" value=\"&#x2f;marketplace?q=&amp;sector=\""),
            "{}",
            default.body
        );
        let all = app.get("/marketplace?closed=1", None, "zh").await;
        assert!(
            all.body.contains("采购专员")
                && all.body.contains("Vertriebsingenieurin China")
                && !all.body.contains("data-testid=\"closed-hidden\"")
                && all.body.contains("name=\"closed\" value=\"1\" checked")
                && all.body.contains("<summary>筛选 (1)</summary>")
                && all
                    .body
                    .contains("<a href=\"/marketplace\">清除所有筛选</a>")
                && all.body.contains("data-fold-narrow=\"no\""),
            "{}",
            all.body
        );
        // Only a closed posting matches: no "nothing found" under the line that offers it.
        let only = app
            .get("/marketplace?q=%E9%87%87%E8%B4%AD", None, "en")
            .await;
        assert!(
            only.body.contains("data-testid=\"closed-hidden\"")
                && !only.body.contains("Nothing found"),
            "{}",
            only.body
        );
        // The API likewise.
        let api = app
            .api("GET", "/api/v1/search?kind=opportunity", None, None)
            .await
            .body;
        assert!(
            api.contains("Vertriebsingenieurin China") && !api.contains("采购专员"),
            "{api}"
        );
        let api = app
            .api(
                "GET",
                "/api/v1/search?closed=true&kind=opportunity",
                None,
                None,
            )
            .await
            .body;
        assert!(
            api.contains("Vertriebsingenieurin China") && api.contains("采购专员"),
            "{api}"
        );
        // Its author may still correct it without moving the deadline; moving it into the
        // past is refused.
        let two_days_ago = today
            .checked_sub(jiff::ToSpan::days(2))
            .unwrap()
            .to_string();
        for (deadline, status) in [(&yesterday, 303), (&two_days_ago, 422)] {
            let r = app
                .post_form(
                    &format!("/opportunities/{closed}/edit"),
                    Some(&hr),
                    "de",
                    &[
                        ("kind", "job-posting"),
                        ("title_zh", "采购专员"),
                        ("description_zh", "亚洲区采购，常驻杜塞尔多夫。"),
                        ("event", &fair.to_string()),
                        ("job_employment", "full-time"),
                        ("job_workplace", "on-site"),
                        ("job_location", "Düsseldorf"),
                        ("job_apply_by", deadline),
                    ],
                )
                .await;
            assert_eq!(r.status, status, "{deadline}: {}", r.body);
        }
        let page = app
            .get(&format!("/opportunities/{closed}"), Some(&li), "zh")
            .await;
        assert!(page.body.contains("申请已于"), "{}", page.body);
        assert!(
            !page.body.contains("/events/talent-days/people/"),
            "no request button: {}",
            page.body
        );
        let form = app
            .get(
                &format!("/events/talent-days/people/{employer}/request"),
                Some(&li),
                "zh",
            )
            .await;
        assert!(
            form.body.contains("Vertriebsingenieurin China") && !form.body.contains("采购专员"),
            "only open postings to choose from: {}",
            form.body
        );
        let closed_id = closed.to_string();
        let refused = app
            .post_form(
                &format!("/events/talent-days/people/{employer}/request"),
                Some(&li),
                "zh",
                &[("priority", "must"), ("opportunity", &closed_id)],
            )
            .await;
        assert_eq!(refused.status, 422);
        assert_eq!(refused.body.matches("role=\"alert\"").count(), 1);
        assert!(
            refused.body.contains("href=\"#f-opportunity\"")
                && refused.body.contains("aria-describedby=\"e-opportunity\""),
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains("该职位的申请已截止。"),
            "{}",
            refused.body
        );
        let by_api = app
            .api(
                "POST",
                "/api/v1/events/talent-days/requests",
                Some(&li_token),
                Some(&serde_json::json!({ "to": employer, "opportunity": closed }).to_string()),
            )
            .await;
        assert_eq!(by_api.status, 422, "{}", by_api.body);
        assert!(by_api.body.contains("opportunity"), "{}", by_api.body);
    }
}

/// A minimal PDF: what `check_pdf` looks for, and what a reader opens.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

#[tokio::test]
async fn a_cv_is_read_only_by_those_the_candidate_deals_with() {
    for (app, _) in TestApp::on_every_backend().await {
        let Fair { employer, li, .. } = talent_days(&app).await;
        app.user("nobody@example.org", Locale::En, false).await;
        let li_c = app.sign_in("li@example.cn").await;
        let cv = format!("/people/{li}/cv");

        // Not a PDF, or nothing chosen: the profile says why, in Li's language.
        let r = app
            .post_multipart(
                "/profile/cv",
                &li_c,
                "zh",
                &[("cv", Some("cv.docx"), b"PK\x03\x04")],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("该文件不是 PDF"), "{}", r.body);
        assert!(r.body.contains("aria-invalid=\"true\""), "{}", r.body);
        let r = app
            .post_multipart("/profile/cv", &li_c, "zh", &[("cv", Some(""), b"")])
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("请选择一个 PDF 文件。"), "{}", r.body);
        let big = [PDF, &vec![b' '; 5 * 1024 * 1024]].concat();
        let r = app
            .post_multipart("/profile/cv", &li_c, "zh", &[("cv", Some("cv.pdf"), &big)])
            .await;
        assert_eq!(r.status, 413);
        assert!(r.body.contains("文件超过 5 MB"), "{}", r.body);
        assert!(app.store.cv(li).await.unwrap().is_none(), "nothing kept");

        let r = app
            .post_multipart(
                "/profile/cv",
                &li_c,
                "zh",
                &[("cv", Some("C:\\fakepath\\李伟 简历.pdf"), PDF)],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let profile = app.get("/profile", Some(&li_c), "zh").await;
        assert!(profile.body.contains("李伟 简历.pdf"), "{}", profile.body);
        let own = app.get(&cv, Some(&li_c), "zh").await;
        assert_eq!(own.status, 200);
        assert_eq!(own.body.as_bytes(), PDF);
        assert_eq!(own.header("content-type"), "application/pdf");
        assert_eq!(
            own.header("content-disposition"),
            "attachment; filename=\"__ __.pdf\"; filename*=UTF-8''%E6%9D%8E%E4%BC%9F%20%E7%AE%80%E5%8E%86.pdf"
        );
        assert_eq!(own.header("x-content-type-options"), "nosniff");
        assert_eq!(own.header("content-security-policy"), "sandbox");
        assert_eq!(own.header("cache-control"), "private, no-store");

        // Nobody else at first: not an unrelated person, not a fellow participant, not the
        // employer, not the signed-out; to them it does not exist.
        let hr = app.sign_in("hr@rheinwerk.example").await;
        let wang = app.sign_in("wang@example.cn").await;
        let nobody = app.sign_in("nobody@example.org").await;
        for cookie in [&hr, &wang, &nobody] {
            assert_eq!(app.get(&cv, Some(cookie), "en").await.status, 404);
        }
        let signed_out = app.get(&cv, None, "en").await;
        assert_eq!(signed_out.status, 303);
        assert!(signed_out.header("location").starts_with("/signin"));
        let person = app.get(&format!("/people/{li}"), Some(&hr), "de").await;
        assert!(
            !person.body.contains("data-testid=\"cv\""),
            "{}",
            person.body
        );
        // The organiser of Li's event may, from the list of participants.
        let org = app.sign_in("org@example.de").await;
        let list = app
            .get("/events/talent-days/participants", Some(&org), "de")
            .await;
        assert_eq!(
            list.body.matches("data-testid=\"participant-cv\"").count(),
            1,
            "{}",
            list.body
        );
        assert!(
            list.body.contains(&format!("href=\"{cv}\"")),
            "{}",
            list.body
        );
        assert_eq!(app.get(&cv, Some(&org), "de").await.status, 200);

        // The request form tells Li the employer will read it.
        let form = app
            .get(
                &format!("/events/talent-days/people/{employer}/request"),
                Some(&li_c),
                "zh",
            )
            .await;
        assert!(form.body.contains("可以查看您的简历"), "{}", form.body);
        // Li asks the employer for an interview: the employer may read it while it is open,
        // from the request and from Li's page.
        let r = app
            .post_form(
                &format!("/events/talent-days/people/{employer}/request"),
                Some(&li_c),
                "zh",
                &[("priority", "must"), ("message", "我想申请销售职位。")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let requests = app
            .get("/events/talent-days/meetings", Some(&hr), "de")
            .await;
        assert!(
            requests
                .body
                .contains(&format!("href=\"{cv}\" data-testid=\"partner-cv\"")),
            "{}",
            requests.body
        );
        assert!(
            requests.body.contains("Lebenslauf von"),
            "{}",
            requests.body
        );
        assert_eq!(app.get(&cv, Some(&hr), "de").await.status, 200);
        let person = app.get(&format!("/people/{li}"), Some(&hr), "de").await;
        assert!(
            person.body.contains("data-testid=\"cv\""),
            "{}",
            person.body
        );
        assert_eq!(app.get(&cv, Some(&wang), "zh").await.status, 404);
        // Asking Li for a meeting does not open Li's CV to the one who asks.
        let r = app
            .post_form(
                &format!("/events/talent-days/people/{li}/request"),
                Some(&wang),
                "zh",
                &[("priority", "must")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(app.get(&cv, Some(&wang), "zh").await.status, 404);

        // Shared with fellow participants: Wang may now, the unrelated person still not.
        let r = app
            .post_form(
                "/profile/cv/sharing",
                Some(&li_c),
                "zh",
                &[("shared", "on")],
            )
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(app.get(&cv, Some(&wang), "zh").await.status, 200);
        assert_eq!(app.get(&cv, Some(&nobody), "en").await.status, 404);
        // A new file keeps the sharing chosen.
        let newer = [PDF, b"% second version\n"].concat();
        let r = app
            .post_multipart(
                "/profile/cv",
                &li_c,
                "zh",
                &[
                    ("cv", Some("cv-2027.pdf"), &newer),
                    ("keep_sharing", None, b"1"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let read = app.get(&cv, Some(&wang), "zh").await;
        assert_eq!((read.status, read.body.as_bytes()), (200, newer.as_slice()));

        // Removed: gone for everyone, Li included.
        let r = app
            .post_form("/profile/cv/delete", Some(&li_c), "zh", &[])
            .await;
        assert_eq!(r.status, 303);
        for cookie in [&li_c, &hr, &org] {
            assert_eq!(app.get(&cv, Some(cookie), "en").await.status, 404);
        }
    }
}

#[tokio::test]
async fn the_api_keeps_a_cv_under_the_same_rules() {
    for (app, _) in TestApp::on_every_backend().await {
        let Fair { li, .. } = talent_days(&app).await;
        let li_t = app.token(&app.sign_in("li@example.cn").await).await;
        let wang_t = app.token(&app.sign_in("wang@example.cn").await).await;
        let put = |query: &'static str, body: Vec<u8>, token: Option<String>| {
            let app = &app;
            async move {
                let path = format!("/api/v1/me/cv{query}");
                let r = app
                    .api_bytes("PUT", &path, token.as_deref(), "application/pdf", body)
                    .await;
                (r.status, r)
            }
        };
        let cv = format!("/api/v1/people/{li}/cv");
        let person = format!("/api/v1/people/{li}");

        // Refused, with the reason as the page gives it; nothing kept.
        let (status, r) = put("", b"PK\x03\x04".to_vec(), Some(li_t.clone())).await;
        assert_eq!(status, 422);
        assert_eq!(r.json()["errors"][0]["code"], "cv-not-pdf", "{}", r.body);
        let (status, r) = put("", Vec::new(), Some(li_t.clone())).await;
        assert_eq!(
            (status, r.json()["errors"][0]["code"].as_str()),
            (422, Some("cv-missing"))
        );
        let big = [PDF, &vec![b'0'; 5 * 1024 * 1024]].concat();
        assert_eq!(put("", big, Some(li_t.clone())).await.0, 413);
        assert_eq!(put("", PDF.to_vec(), None).await.0, 401);
        assert!(app.store.cv(li).await.unwrap().is_none());

        let (status, r) = put(
            "?file_name=%E6%9D%8E%E4%BC%9F%20%E7%AE%80%E5%8E%86",
            PDF.to_vec(),
            Some(li_t.clone()),
        )
        .await;
        assert_eq!(status, 200, "{}", r.body);
        let out = r.json();
        assert_eq!(out["file_name"], "李伟 简历.pdf");
        assert_eq!(out["shared"], false);
        assert_eq!(out["size_bytes"], PDF.len());
        assert_eq!(out["url"], cv.as_str());
        let me = app.api("GET", "/api/v1/me", Some(&li_t), None).await.json();
        assert_eq!(me["cv"]["file_name"], "李伟 简历.pdf");

        // Not shared: Wang, a fellow participant, sees nothing of it.
        assert_eq!(app.api("GET", &cv, Some(&wang_t), None).await.status, 404);
        let seen = app.api("GET", &person, Some(&wang_t), None).await.json();
        assert!(seen["cv"].is_null(), "{seen}");
        assert_eq!(app.api("GET", &cv, None, None).await.status, 401);

        // Shared: Wang reads the very bytes; a new upload without `shared` keeps it shared.
        let r = app
            .api(
                "PUT",
                "/api/v1/me/cv/sharing",
                Some(&li_t),
                Some(r#"{"shared": true}"#),
            )
            .await;
        assert_eq!((r.status, r.json()["shared"].as_bool()), (200, Some(true)));
        let newer = [PDF, b"% second version\n"].concat();
        assert_eq!(put("", newer.clone(), Some(li_t.clone())).await.0, 200);
        let read = app.api("GET", &cv, Some(&wang_t), None).await;
        assert_eq!((read.status, read.body.as_bytes()), (200, newer.as_slice()));
        assert_eq!(read.header("content-type"), "application/pdf");
        let seen = app.api("GET", &person, Some(&wang_t), None).await.json();
        assert_eq!(seen["cv"]["file_name"], "cv.pdf", "{seen}");
        assert_eq!(seen["cv"]["shared"], true);

        // Removed: gone; removing again is no error; sharing nothing is not found.
        for _ in 0..2 {
            let r = app.api("DELETE", "/api/v1/me/cv", Some(&li_t), None).await;
            assert_eq!(r.status, 204, "{}", r.body);
        }
        assert_eq!(app.api("GET", &cv, Some(&li_t), None).await.status, 404);
        let me = app.api("GET", "/api/v1/me", Some(&li_t), None).await.json();
        assert!(me["cv"].is_null());
        let r = app
            .api(
                "PUT",
                "/api/v1/me/cv/sharing",
                Some(&li_t),
                Some(r#"{"shared": false}"#),
            )
            .await;
        assert_eq!(r.status, 404);
    }
}

#[tokio::test]
async fn a_proposed_interview_time_is_booked_when_the_employer_accepts() {
    for (app, _) in TestApp::on_every_backend().await {
        let Fair {
            id: fair,
            employer,
            li,
            wang,
        } = talent_days(&app).await;
        let slots = app.slot_starts(fair).await;
        let (li_c, wang_c, hr) = (
            app.sign_in("li@example.cn").await,
            app.sign_in("wang@example.cn").await,
            app.sign_in("hr@rheinwerk.example").await,
        );
        let ask = format!("/events/talent-days/people/{employer}/request");

        // The form offers the times both have free; a time that is not one is refused.
        let form = app.get(&ask, Some(&li_c), "zh").await;
        assert!(
            form.body
                .contains(&format!("<option value=\"{}\" >", slots[1])),
            "{}",
            form.body
        );
        let wrong = app
            .post_form(
                &ask,
                Some(&li_c),
                "zh",
                &[("priority", "must"), ("proposed_slot", "12345")],
            )
            .await;
        assert_eq!(wrong.status, 422);
        assert!(
            wrong.body.contains("该时间已不再适合双方"),
            "{}",
            wrong.body
        );

        // Li proposes the second slot: it is held for Li's request. Wang is no longer offered
        // it, nor may send it, and proposes the third.
        let (second, third) = (slots[1].to_string(), slots[2].to_string());
        let propose = |cookie: &String, slot: &String| {
            let (app, ask, cookie, slot) = (&app, &ask, cookie.clone(), slot.clone());
            async move {
                let form = [("priority", "must"), ("proposed_slot", slot.as_str())];
                app.post_form(ask, Some(&cookie), "zh", &form).await
            }
        };
        let r = propose(&li_c, &second).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let form = app.get(&ask, Some(&wang_c), "zh").await;
        assert!(
            !form.body.contains(&format!("<option value=\"{second}\" >"))
                && form.body.contains(&format!("<option value=\"{third}\" >")),
            "{}",
            form.body
        );
        let r = propose(&wang_c, &second).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = propose(&wang_c, &third).await;
        assert_eq!(r.status, 303, "{}", r.body);
        // Wang then stops being available at the third slot (the proposer's own choice).
        let mut tx = app.store.begin().await.unwrap();
        let rest: Vec<_> = slots
            .iter()
            .filter(|s| **s != slots[2])
            .map(|s| (*s, kontor_domain::MeetingMode::Online))
            .collect();
        tx.set_availability(fair, wang, &rest).await.unwrap();
        tx.commit().await.unwrap();
        // Asked already: the list of people shows where the request stands, not a second form.
        let people = app
            .get("/events/talent-days/people", Some(&li_c), "zh")
            .await;
        assert!(
            people.body.contains("data-testid=\"open-request\"")
                && people.body.contains("会谈请求：等待答复")
                && !people
                    .body
                    .contains(&format!("people/{employer}/request\"")),
            "{}",
            people.body
        );
        let mail = &app
            .store
            .outbox(Some("hr@rheinwerk.example"), 1)
            .await
            .unwrap()[0];
        assert!(
            mail.body_text.contains("Vorgeschlagene Zeit: "),
            "{}",
            mail.body_text
        );
        let page = app
            .get("/events/talent-days/meetings", Some(&hr), "de")
            .await;
        assert_eq!(page.body.matches("data-testid=\"proposed\"").count(), 2);
        // At a job fair a candidate's "must" reads as their interest.
        assert!(page.body.contains("Großes Interesse"), "{}", page.body);
        // Every page tells the employer that two requests wait, and where.
        let home = app.get("/", Some(&hr), "de").await;
        assert!(
            home.body.contains("data-testid=\"waiting\"><span aria-hidden=\"true\">2</span><span class=\"sr-only\"> 2 Gesprächsanfragen warten auf Ihre Antwort</span>"),
            "{}",
            home.body
        );
        let mine = app.get("/me/registrations", Some(&hr), "de").await;
        assert!(
            mine.body
                .contains("<a href=\"/events/talent-days/meetings\">")
                && mine
                    .body
                    .contains("<strong data-testid=\"waiting-here\">2 Gesprächsanfragen"),
            "{}",
            mine.body
        );

        // Accepting Li's books the meeting there; Wang's is accepted without it.
        let requests = app.store.meeting_requests_of(fair, employer).await.unwrap();
        let of = |who| requests.iter().find(|r| r.from_user == who).unwrap().id;
        let (li_req, wang_req) = (of(li), of(wang));
        let r = app
            .post_form(
                &format!("/events/talent-days/requests/{li_req}/accept"),
                Some(&hr),
                "de",
                &[],
            )
            .await;
        assert_eq!(
            r.header("location"),
            "/events/talent-days/meetings?done=booked-proposed"
        );
        let meeting = app.store.meeting_of_request(li_req).await.unwrap().unwrap();
        assert_eq!(meeting.slot_start, slots[1]);
        // Li's agenda row: a calendar link that says with whom.
        let agenda = app
            .get("/events/talent-days/meetings", Some(&li_c), "zh")
            .await;
        assert!(
            agenda
                .body
                .contains("aria-label=\"将与 User hr 的会谈添加到日历\">日历（.ics）</a>"),
            "{}",
            agenda.body
        );
        // One mail says both: booked at that time (the acceptance's fallback was taken back).
        let li_mails = app.store.outbox(Some("li@example.cn"), 10).await.unwrap();
        let kinds: Vec<_> = li_mails.iter().map(|m| m.kind.as_str()).collect();
        assert!(!kinds.contains(&"request-accepted"), "{kinds:?}");
        let booked = &li_mails[0];
        assert!(booked.subject.starts_with("已预订"), "{}", booked.subject);
        // Wang's time has gone: the employer sees so before answering.
        let page = app
            .get("/events/talent-days/meetings", Some(&hr), "de")
            .await;
        assert_eq!(
            page.body.matches("data-testid=\"proposed-gone\"").count(),
            1,
            "{}",
            page.body
        );
        let r = app
            .post_form(
                &format!("/events/talent-days/requests/{wang_req}/accept"),
                Some(&hr),
                "de",
                &[],
            )
            .await;
        assert_eq!(
            r.header("location"),
            "/events/talent-days/meetings?done=proposed-taken"
        );
        assert!(
            app.store
                .meeting_of_request(wang_req)
                .await
                .unwrap()
                .is_none()
        );
        // Not booked: the acceptance's own mail stays queued, due a minute later.
        let wang_mail = &app.store.outbox(Some("wang@example.cn"), 1).await.unwrap()[0];
        assert_eq!(
            (wang_mail.kind.as_str(), wang_mail.status.as_str()),
            ("request-accepted", "pending")
        );
        let now = kontor_domain::now_micros();
        assert!(
            app.store
                .claim_due_mail(now, 1, 100)
                .await
                .unwrap()
                .iter()
                .all(|m| m.id != wang_mail.id)
        );
        let later = app
            .store
            .claim_due_mail(now + 61_000_000, 1, 100)
            .await
            .unwrap();
        assert!(
            later.iter().any(|m| m.id == wang_mail.id),
            "due after the minute"
        );
        let page = app.get(r.header("location"), Some(&hr), "de").await;
        assert!(
            page.body
                .contains("Die vorgeschlagene Zeit ist nicht mehr für Sie beide frei"),
            "{}",
            page.body
        );
        let wang_page = app
            .get("/events/talent-days/meetings", Some(&wang_c), "zh")
            .await;
        assert!(
            !wang_page.body.contains("data-testid=\"booked\"")
                && !wang_page.body.contains("data-testid=\"proposed\""),
            "accepted, neither booked nor still proposing: {}",
            wang_page.body
        );

        // By API: the proposal is validated the same way and read back.
        let token = app.token(&li_c).await;
        let other = app.user("chen@example.cn", Locale::Zh, false).await;
        app.approved(fair, other, ParticipantRole::Exhibitor).await;
        let body =
            |slot: i64| serde_json::json!({ "to": other, "proposed_slot": slot }).to_string();
        let r = app
            .api(
                "POST",
                "/api/v1/events/talent-days/requests",
                Some(&token),
                Some(&body(slots[1])),
            )
            .await;
        assert_eq!(r.status, 422, "Li is booked then: {}", r.body);
        assert!(r.body.contains("proposed_slot"), "{}", r.body);
        let r = app
            .api(
                "POST",
                "/api/v1/events/talent-days/requests",
                Some(&token),
                Some(&body(slots[2])),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let mine = app
            .api(
                "GET",
                "/api/v1/events/talent-days/requests",
                Some(&token),
                None,
            )
            .await
            .json();
        let with = |field: &str| {
            let rows = mine.as_array().unwrap().iter();
            rows.filter(|r| r[field].is_string()).count()
        };
        assert_eq!(with("proposed_start"), 2, "{mine}");
        assert_eq!(
            with("proposed_held_until"),
            1,
            "only the pending one is held: {mine}"
        );

        // Li's proposal to Chen holds the third slot against other proposals to or by Chen:
        // neither Chen asking the employer nor the employer asking Chen is offered it.
        let chen_c = app.sign_in("chen@example.cn").await;
        let (held, free) = (slots[2], slots[3]);
        let offers = |cookie: &String, to: uuid::Uuid| {
            let (app, cookie) = (&app, cookie.clone());
            async move {
                let form = format!("/events/talent-days/people/{to}/request");
                let body = app.get(&form, Some(&cookie), "de").await.body;
                (
                    body.contains(&format!("<option value=\"{held}\" >")),
                    body.contains(&format!("<option value=\"{free}\" >")),
                )
            }
        };
        assert_eq!(offers(&chen_c, employer).await, (false, true));
        assert_eq!(offers(&hr, other).await, (false, true));
        // For three days: Chen reads until when, and then the time is offered again.
        let chen_reads = |text: &'static str| {
            let (app, cookie) = (&app, chen_c.clone());
            async move {
                let page = app
                    .get("/events/talent-days/meetings", Some(&cookie), "zh")
                    .await;
                assert!(page.body.contains(text), "{text}: {}", page.body);
            }
        };
        chen_reads("为此请求保留至 ").await;
        let mut tx = app.store.begin().await.unwrap();
        let sql = "UPDATE meeting_requests SET created_at = created_at - 72 * 3600000000 \
                   WHERE to_user = (SELECT id FROM users WHERE email = 'chen@example.cn')";
        kontor_store::testing::execute(&mut tx, sql).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(offers(&chen_c, employer).await, (true, true));
        assert_eq!(offers(&hr, other).await, (true, true));
        chen_reads("三天已过，不再为此请求保留").await;
        // A request already accepted comes first: the employer and Chen may book that time, and
        // Li's proposal then shows as gone.
        let ask_chen = format!("/events/talent-days/people/{other}/request");
        let r = app
            .post_form(&ask_chen, Some(&hr), "de", &[("priority", "must")])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let hr_chen = app
            .store
            .meeting_requests_of(fair, other)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.from_user == employer)
            .unwrap()
            .id;
        let act = |cookie: &String, action: &str, slot: Option<&String>| {
            let path = format!("/events/talent-days/requests/{hr_chen}/{action}");
            let (app, cookie, slot) = (&app, cookie.clone(), slot.cloned());
            async move {
                let form: Vec<(&str, &str)> = slot.iter().map(|s| ("slot", s.as_str())).collect();
                app.post_form(&path, Some(&cookie), "zh", &form).await
            }
        };
        assert_eq!(act(&chen_c, "accept", None).await.status, 303);
        let r = act(&hr, "book", Some(&third)).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let booked = app
            .store
            .meeting_of_request(hr_chen)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(booked.slot_start, slots[2]);
        let chen_page = app
            .get("/events/talent-days/meetings", Some(&chen_c), "zh")
            .await;
        assert_eq!(
            chen_page
                .body
                .matches("data-testid=\"proposed-gone\"")
                .count(),
            1,
            "{}",
            chen_page.body
        );
    }
}

#[tokio::test]
async fn a_place_is_found_with_a_snippet_in_the_readers_language() {
    let app = TestApp::new().await;
    let Fair { employer, .. } = talent_days(&app).await;
    let mut tx = app.store.begin().await.unwrap();
    let title =
        LocalizedText::one(Locale::Zh, "氢能项目经理").with(Locale::En, "Hydrogen project manager");
    let job = JobDetails {
        employment: Employment::FullTime,
        workplace: Workplace::OnSite,
        location: "Köln".into(),
        starts_on: None,
        apply_by: None,
    };
    let text = LocalizedText::one(Locale::Zh, "我们正在为中国业务招聘人才。");
    let fields = posting_fields(title, text, None, Some(job));
    tx.create_opportunity(employer, &fields, kontor_domain::now_micros())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.state.reindex().await.unwrap();
    let page = app.get("/marketplace?q=K%C3%B6ln", None, "en").await;
    assert!(
        page.body
            .contains("<p>Hydrogen project manager <mark>Köln</mark></p>")
            && !page.body.contains("招聘"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_posting_for_one_event_is_asked_about_there_only() {
    let app = TestApp::new().await;
    let Fair {
        id: fair,
        employer,
        li,
        ..
    } = talent_days(&app).await;
    // The employer and Li also meet at a trade fair.
    let organiser = app.user("org2@example.de", Locale::De, false).await;
    let other = app.event("h2-days", organiser).await;
    app.approved(other, employer, ParticipantRole::Exhibitor)
        .await;
    app.approved(other, li, ParticipantRole::Visitor).await;
    let mut tx = app.store.begin().await.unwrap();
    let title = LocalizedText::one(Locale::De, "Einkäuferin Asien");
    let text = LocalizedText::one(Locale::De, "Einkauf in China.");
    let fields = posting_fields(title, text, Some(fair), None);
    let posting = tx
        .create_opportunity(employer, &fields, kontor_domain::now_micros())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let li_c = app.sign_in("li@example.cn").await;
    let page = app
        .get(&format!("/opportunities/{posting}"), Some(&li_c), "zh")
        .await;
    assert!(
        page.body
            .contains(&format!("/events/talent-days/people/{employer}/request"))
            && !page
                .body
                .contains(&format!("/events/h2-days/people/{employer}/request")),
        "{}",
        page.body
    );
}

/// A job posting written straight to the store.
fn posting_fields(
    title: LocalizedText,
    description: LocalizedText,
    event_id: Option<uuid::Uuid>,
    job: Option<JobDetails>,
) -> kontor_store::matchmaking::OpportunityFields {
    kontor_store::matchmaking::OpportunityFields {
        event_id,
        kind: kontor_domain::OpportunityKind::JobPosting,
        title,
        description,
        sectors: vec![],
        target_countries: vec![],
        languages: vec![],
        interpreter_needed: false,
        job,
    }
}

#[tokio::test]
async fn accepting_a_proposal_by_api_books_it_with_one_mail() {
    for (app, _) in TestApp::on_every_backend().await {
        let Fair {
            id: fair, employer, ..
        } = talent_days(&app).await;
        let slot = app.slot_starts(fair).await[1];
        let li_t = app.token(&app.sign_in("li@example.cn").await).await;
        let hr_t = app.token(&app.sign_in("hr@rheinwerk.example").await).await;
        let ask = serde_json::json!({ "to": employer, "proposed_slot": slot }).to_string();
        let r = app
            .api(
                "POST",
                "/api/v1/events/talent-days/requests",
                Some(&li_t),
                Some(&ask),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.json()["id"].as_str().unwrap().to_string();
        let accept = format!("/api/v1/events/talent-days/requests/{id}/accept");
        let r = app.api("POST", &accept, Some(&hr_t), None).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let request = id.parse().unwrap();
        let meeting = app
            .store
            .meeting_of_request(request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(meeting.slot_start, slot);
        let mails = app.store.outbox(Some("li@example.cn"), 10).await.unwrap();
        let kinds: Vec<_> = mails.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["meeting-booked"], "one mail to Li: {kinds:?}");
    }
}
