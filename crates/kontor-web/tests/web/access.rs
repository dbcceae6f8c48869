use axum::body::Body;
use axum::http::{Request, header};

use crate::helpers::TestApp;

#[tokio::test]
async fn anonymous_readers_reach_only_public_pages() {
    let app = TestApp::new().await;
    let org = app
        .user("org@example.de", kontor_domain::Locale::De, false)
        .await;
    app.event("h2-days", org).await;
    for path in [
        "/",
        "/events",
        "/events/h2-days",
        "/organisations",
        "/signin",
        "/signup",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/events",
        "/api/v1/openapi.json",
        "/favicon.ico",
        "/assets/favicon.svg",
    ] {
        assert_eq!(app.get(path, None, "en").await.status, 200, "{path}");
    }
    for path in [
        "/profile",
        "/me/registrations",
        "/events/h2-days/participants",
        "/events/new",
    ] {
        let r = app.get(path, None, "en").await;
        assert_eq!(r.status, 303, "{path}");
        assert!(
            r.header("location").starts_with("/signin?next="),
            "{path}: {}",
            r.header("location")
        );
    }
    assert_eq!(
        app.get("/mailbox", None, "en").await.status,
        303,
        "the mailbox is not public outside the demo"
    );
    let page = app.get("/events/h2-days", None, "en").await;
    assert!(
        page.body.contains("<p>Two days of meetings.</p>"),
        "paragraphs: {}",
        page.body
    );

    let r = app.api("GET", "/api/v1/me", None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(
        app.api("GET", "/api/v1/me", Some("kontor_forged"), None)
            .await
            .status,
        401
    );
    let r = app
        .post_form(
            "/events/h2-days/register",
            None,
            "en",
            &[("role", "visitor")],
        )
        .await;
    assert_eq!(r.status, 401, "a POST is refused, not redirected");
}

#[tokio::test]
async fn participants_cannot_reach_organiser_pages_or_private_data() {
    let app = TestApp::new().await;
    let organiser = app
        .user("org@example.de", kontor_domain::Locale::De, false)
        .await;
    let alice = app
        .user("alice@example.de", kontor_domain::Locale::En, false)
        .await;
    let bob = app
        .user("bob@example.cn", kontor_domain::Locale::Zh, false)
        .await;
    app.event("h2-days", organiser).await;

    let bob_cookie = app.sign_in("bob@example.cn").await;
    let alice_cookie = app.sign_in("alice@example.de").await;
    let r = app
        .post_form(
            "/events/h2-days/register",
            Some(&alice_cookie),
            "en",
            &[("role", "exhibitor")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let thanks = app
        .get(r.header("location"), Some(&alice_cookie), "en")
        .await;
    assert!(
        thanks.body.contains("Thank you for registering"),
        "{}",
        thanks.body
    );
    let plain = app.get("/events/h2-days", Some(&alice_cookie), "en").await;
    assert!(!plain.body.contains("Thank you for registering"));
    let reg = app
        .store
        .registration(app.store.event_by_slug("h2-days").await.unwrap().id, alice)
        .await
        .unwrap()
        .unwrap();

    // Bob is a participant, not an organiser.
    assert_eq!(
        app.get("/events/h2-days/participants", Some(&bob_cookie), "en")
            .await
            .status,
        403
    );
    let denied = app.get("/events/new", Some(&bob_cookie), "en").await;
    assert_eq!(denied.status, 403);
    // The error page knows its reader: their own menu (not "sign in") and their account's
    // language (Chinese) over the browser's.
    assert!(
        denied.body.contains("action=\"/signout\""),
        "{}",
        denied.body
    );
    assert!(!denied.body.contains("href=\"/signin\""));
    assert!(denied.body.contains("您无权执行此操作。"));
    let decide = format!("/events/h2-days/registrations/{}/decision", reg.id);
    assert_eq!(
        app.post_form(&decide, Some(&bob_cookie), "en", &[("decision", "approve")])
            .await
            .status,
        403
    );
    let bob_token = app.token(&bob_cookie).await;
    let denied = app
        .api(
            "GET",
            "/api/v1/events/h2-days/participants",
            Some(&bob_token),
            None,
        )
        .await;
    assert_eq!(denied.status, 403);
    // A token client sends no language cookie: the account's language answers.
    assert_eq!(denied.json()["title"], "您无权执行此操作。");
    let r = app
        .api(
            "POST",
            &format!("/api/v1/events/h2-days/registrations/{}/decision", reg.id),
            Some(&bob_token),
            Some(r#"{"decision":"approve"}"#),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        app.store
            .registration(reg.event_id, alice)
            .await
            .unwrap()
            .unwrap()
            .status,
        kontor_domain::RegistrationStatus::Pending
    );

    // Alice's contact details stay private to Bob, on the page and in the API.
    let page = app
        .get(&format!("/people/{alice}"), Some(&bob_cookie), "en")
        .await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("alice@example.de"),
        "e-mail leaked on the page"
    );
    let json = app
        .api(
            "GET",
            &format!("/api/v1/people/{alice}"),
            Some(&bob_token),
            None,
        )
        .await
        .json();
    assert!(json["email"].is_null(), "{json}");
    // …but Alice sees her own.
    let own = app
        .get(&format!("/people/{alice}"), Some(&alice_cookie), "en")
        .await;
    assert!(own.body.contains("alice@example.de"));
    // Bob cannot change Alice: the API only ever changes the caller.
    let r = app
        .api(
            "PUT",
            "/api/v1/me",
            Some(&bob_token),
            Some(r#"{"name":"Bob B.","time_zone":"Asia/Shanghai","locale":"zh"}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], serde_json::json!(bob));
    assert_eq!(app.store.user(alice).await.unwrap().name, "User alice");

    // The organiser may decide.
    let org_cookie = app.sign_in("org@example.de").await;
    let page = app
        .get("/events/h2-days/participants", Some(&org_cookie), "de")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("alice@example.de"));
    assert_eq!(
        page.body.matches("id=\"org-h\"").count(),
        1,
        "one organisers panel"
    );
    let title = &page.body[page.body.find("<title>").unwrap()..page.body.find("</title>").unwrap()];
    assert!(!title[7..].contains('<'), "markup in the title: {title}");
    // A second click on "approve" changes nothing and sends no second mail.
    let mails = |app: &'_ TestApp| {
        let store = app.store.clone();
        async move {
            store
                .outbox(Some("alice@example.de"), 100)
                .await
                .unwrap()
                .len()
        }
    };
    // Carol waits for a decision too: after Alice's, the page goes on to hers.
    let carol = app
        .user("carol@example.de", kontor_domain::Locale::De, false)
        .await;
    let carol_cookie = app.sign_in("carol@example.de").await;
    let r = app
        .post_form(
            "/events/h2-days/register",
            Some(&carol_cookie),
            "de",
            &[("role", "exhibitor")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let carol_reg = app
        .store
        .registration(reg.event_id, carol)
        .await
        .unwrap()
        .unwrap();
    let before = mails(&app).await;
    for _ in 0..2 {
        let r = app
            .post_form(&decide, Some(&org_cookie), "de", &[("decision", "approve")])
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(
            r.header("location"),
            format!("/events/h2-days/participants#r-{}", carol_reg.id)
        );
    }
    // With nobody else waiting, back to the decided row, not to the top of the list; from a
    // filtered list, back to it.
    let decide_carol = format!(
        "/events/h2-days/registrations/{}/decision?status=pending",
        carol_reg.id
    );
    let reject = [("decision", "reject")];
    let r = app
        .post_form(&decide_carol, Some(&org_cookie), "de", &reject)
        .await;
    assert_eq!(
        r.header("location"),
        format!(
            "/events/h2-days/participants?status=pending#r-{}",
            carol_reg.id
        )
    );
    // The list filters by status, and says when none has it.
    let list = |status: &'static str| {
        let (app, cookie) = (&app, org_cookie.clone());
        async move {
            let path = format!("/events/h2-days/participants?status={status}");
            app.get(&path, Some(&cookie), "en").await.body
        }
    };
    let approved = list("approved").await;
    assert!(
        approved.contains("alice@example.de") && !approved.contains("carol@example.de"),
        "{approved}"
    );
    assert!(
        list("pending")
            .await
            .contains("Keine Anmeldungen mit diesem Status.")
    );
    assert_eq!(mails(&app).await, before + 1);
    assert_eq!(
        app.store
            .registration(reg.event_id, alice)
            .await
            .unwrap()
            .unwrap()
            .status,
        kontor_domain::RegistrationStatus::Approved
    );

    // The organisers' address, opened (a reload after adding one), shows their list.
    let r = app
        .get("/events/h2-days/organisers", Some(&org_cookie), "de")
        .await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, "/events/h2-days/participants#org-h")
    );
    // Only administrators appoint organisers; then Bob may see the list.
    let add = app
        .post_form(
            "/events/h2-days/organisers",
            Some(&org_cookie),
            "de",
            &[("email", "bob@example.cn")],
        )
        .await;
    assert_eq!(add.status, 403);
    app.user("admin@example.de", kontor_domain::Locale::De, true)
        .await;
    let admin = app.sign_in("admin@example.de").await;
    let unknown = app
        .post_form(
            "/events/h2-days/organisers",
            Some(&admin),
            "de",
            &[("email", "nobody@example.de")],
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(
        unknown
            .body
            .contains("Zu dieser Adresse gibt es kein Konto.")
    );
    // The list stays, and the summary says what went wrong.
    assert!(
        unknown.body.contains("alice@example.de") && unknown.body.contains("error-summary"),
        "{}",
        unknown.body
    );
    let add = app
        .post_form(
            "/events/h2-days/organisers",
            Some(&admin),
            "de",
            &[("email", "bob@example.cn")],
        )
        .await;
    assert_eq!(add.status, 303);
    assert_eq!(
        app.get("/events/h2-days/participants", Some(&bob_cookie), "en")
            .await
            .status,
        200
    );

    // Administrators take organisers off again, never the last one.
    let remove = |who: uuid::Uuid, cookie: String| {
        let app = &app;
        async move {
            let path = format!("/events/h2-days/organisers/{who}/remove");
            app.post_form(&path, Some(&cookie), "de", &[]).await
        }
    };
    assert_eq!(
        remove(bob, org_cookie.clone()).await.status,
        403,
        "not an administrator"
    );
    assert_eq!(remove(bob, admin.clone()).await.status, 303);
    assert_eq!(
        app.get("/events/h2-days/participants", Some(&bob_cookie), "en")
            .await
            .status,
        403
    );
    let last = remove(organiser, admin.clone()).await;
    assert_eq!(last.status, 409, "{}", last.body);
    assert!(
        last.body.contains("mindestens einen Organisator"),
        "{}",
        last.body
    );
}

#[tokio::test]
async fn every_state_changing_route_rejects_cross_site_requests() {
    let app = TestApp::new().await;
    let organiser = app
        .user("org@example.de", kontor_domain::Locale::De, true)
        .await;
    app.event("h2-days", organiser).await;
    let cookie = app.sign_in("org@example.de").await;
    let routes = [
        "/signin",
        "/signup",
        "/signin/code",
        "/auth/link",
        "/signout",
        "/lang",
        "/profile",
        "/profile/organisation",
        "/profile/tokens",
        "/events",
        "/events/h2-days/register",
        "/events/h2-days/withdraw",
        "/events/h2-days/edit",
        "/events/h2-days/organisers",
        "/events/h2-days/organisers/00000000-0000-0000-0000-000000000000/remove",
        "/events/h2-days/registrations/approve",
        "/opportunities",
        "/events/h2-days/registrations/00000000-0000-0000-0000-000000000000/decision",
        "/partnerships/new",
        "/partnerships/guiyang/agreements/00000000-0000-0000-0000-000000000000/send",
        "/sign/0000",
        // The upload routes sit outside the general body limit: the check covers them too.
        "/profile/cv",
        "/profile/cv/sharing",
        "/profile/cv/delete",
        "/opportunities/00000000-0000-0000-0000-000000000000/edit",
        "/partnerships/guiyang/delete",
    ];
    for path in routes {
        for (name, value) in [
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
            ("origin", "https://evil.example"),
        ] {
            let req = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &cookie)
                .header(name, value)
                .body(Body::from("to=de&email=a%40b.de"))
                .unwrap();
            let r = app.send(req).await;
            assert_eq!(r.status, 403, "{path} with {name}: {value}");
        }
        // A cookie-carrying request without any origin information is refused too.
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &cookie)
            .body(Body::from("x=1"))
            .unwrap();
        assert_eq!(
            app.send(req).await.status,
            403,
            "{path} without origin headers"
        );
    }
    // The API's CV routes too, when a browser's cookie would carry the request.
    for (method, path) in [
        ("PUT", "/api/v1/me/cv"),
        ("DELETE", "/api/v1/me/cv"),
        ("PUT", "/api/v1/me/cv/sharing"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/pdf")
            .header(header::COOKIE, &cookie)
            .header("sec-fetch-site", "cross-site")
            .body(Body::from("%PDF-1.4\n"))
            .unwrap();
        assert_eq!(app.send(req).await.status, 403, "{method} {path}");
        // The same request from our own pages reaches the route (so the 403 above is the check).
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/pdf")
            .header(header::COOKIE, &cookie)
            .header("sec-fetch-site", "same-origin")
            .body(Body::from("%PDF-1.4\n"))
            .unwrap();
        let status = app.send(req).await.status;
        assert!(
            ![403, 404, 405].contains(&status),
            "{method} {path}: {status}"
        );
    }
    // The same origin passes the check.
    let req = Request::post("/lang")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, crate::helpers::BASE)
        .body(Body::from("to=zh&back=/"))
        .unwrap();
    assert_eq!(app.send(req).await.status, 303);
}

#[tokio::test]
async fn organisation_and_person_pages_render() {
    let app = TestApp::new().await;
    let cookie = {
        app.user("li@example.cn", kontor_domain::Locale::Zh, false)
            .await;
        app.sign_in("li@example.cn").await
    };
    let form = [
        ("org_name", "贵阳氢能科技有限公司"),
        ("kind", "company"),
        ("country", "cn"),
        ("city", "Guiyang"),
        ("website", "h2.example.cn"),
        ("sectors", "hydrogen"),
        ("sectors", "ai"),
        ("description_zh", "第一段。\n\n第二段。"),
    ];
    let r = app
        .post_form("/profile/organisation", Some(&cookie), "zh-CN", &form)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let org = app
        .store
        .organisations(None, 10, 0)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(org.website.as_deref(), Some("https://h2.example.cn"));
    let page = app
        .get(&format!("/organisations/{}", org.id), None, "zh-CN")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<p>第二段。</p>") && page.body.contains("人工智能"),
        "{}",
        page.body
    );
    let bad = app
        .post_form(
            "/profile/organisation",
            Some(&cookie),
            "de",
            &[("org_name", ""), ("kind", "pirate"), ("country", "XX")],
        )
        .await;
    assert_eq!(bad.status, 422);
    // The account's language (Chinese) wins over the browser's.
    for msg in ["请填写此项。", "请从选项中选择。", "请输入两位国家代码"] {
        assert!(bad.body.contains(msg), "{msg}");
    }
    let listing = app.get("/organisations?q=氢能", None, "en").await;
    assert!(listing.body.contains("贵阳氢能科技有限公司"));
    // A page number whose offset would overflow is an empty page, not a server error.
    let far = format!("page={}", i64::MAX);
    let page = app.get(&format!("/organisations?{far}"), None, "en").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("贵阳氢能科技有限公司"));
    let api = app
        .api("GET", &format!("/api/v1/organisations?{far}"), None, None)
        .await;
    assert_eq!((api.status, api.body.as_str()), (200, "[]"));
}

/// A double click on "save" of a new organisation (two submissions at once) creates one
/// organisation, on every backend; the second submission updates it.
#[tokio::test]
async fn saving_a_new_organisation_twice_at_once_creates_one() {
    for (app, url) in TestApp::on_every_backend().await {
        app.user("li@example.cn", kontor_domain::Locale::Zh, false)
            .await;
        let cookie = app.sign_in("li@example.cn").await;
        let form = [
            ("org_name", "Guiyang H2"),
            ("kind", "company"),
            ("country", "cn"),
            ("city", "Guiyang"),
            ("sectors", "hydrogen"),
        ];
        // The person form saved at the same moment must not undo the new organisation's link.
        let person = [
            ("name", "Li Na"),
            ("time_zone", "Asia/Shanghai"),
            ("locale", "zh"),
        ];
        let mut sends = vec![];
        for i in 0..5 {
            let (path, form): (&str, &[(&str, &str)]) = if i % 2 == 0 {
                ("/profile/organisation", &form)
            } else {
                ("/profile", &person)
            };
            sends.push(app.post_form(path, Some(&cookie), "en", form));
        }
        let replies = futures_util::future::join_all(sends).await;
        for r in &replies {
            assert_eq!(r.status, 303, "{url}: {}", r.body);
        }
        assert_eq!(app.store.count_organisations().await.unwrap(), 1, "{url}");
        let li = app
            .store
            .user_by_email(&kontor_domain::Email::parse("li@example.cn").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(li.organisation_id.is_some(), "{url}");
        assert_eq!(li.name, "Li Na");
    }
}

/// The events page lists what is coming and, below, the archive; the start page only what is
/// coming.
#[tokio::test]
async fn the_events_page_keeps_an_archive() {
    let app = TestApp::new().await;
    let admin = app
        .user("admin@example.de", kontor_domain::Locale::De, true)
        .await;
    app.event("h2-days", admin).await;
    let cookie = app.sign_in("admin@example.de").await;
    let form = [
        ("kind", "trade-fair"),
        ("format", "online"),
        ("title_en", "Partner Days 2020"),
        ("time_zone", "Asia/Shanghai"),
        ("starts_on", "2020-05-04"),
        ("ends_on", "2020-05-05"),
        ("registration_opens", "2020-01-01"),
        ("registration_closes", "2020-05-01"),
    ];
    let r = app.post_form("/events", Some(&cookie), "en", &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let events = app.get("/events", None, "en").await;
    let archive = events
        .body
        .split("data-testid=\"past-events\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no archive: {}", events.body));
    assert!(archive.contains("Partner Days 2020"), "{}", events.body);
    assert!(!archive.contains("/events/h2-days\""), "{}", events.body);
    assert!(events.body.contains("/events/h2-days\""));
    let home = app.get("/", None, "en").await;
    assert!(!home.body.contains("Partner Days 2020"));
    // After the event nobody withdraws (that would cancel meetings that took place).
    let past = app.store.event_by_slug("partner-days-2020").await.unwrap();
    app.approved(past.id, admin, kontor_domain::ParticipantRole::Visitor)
        .await;
    let page = app
        .get("/events/partner-days-2020", Some(&cookie), "en")
        .await;
    assert!(!page.body.contains("/withdraw\""), "{}", page.body);
    let r = app
        .post_form(
            "/events/partner-days-2020/withdraw",
            Some(&cookie),
            "en",
            &[],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("Diese Veranstaltung ist vorbei"),
        "{}",
        r.body
    );
}

/// An organiser approves several waiting registrations at once; each gets its own mail, and
/// only organisers may.
#[tokio::test]
async fn organisers_approve_the_ticked_registrations_at_once() {
    let app = TestApp::new().await;
    let organiser = app
        .user("org@example.de", kontor_domain::Locale::De, false)
        .await;
    let ev = app.event("h2-days", organiser).await;
    let mut regs = vec![];
    for name in ["a", "b", "c"] {
        let email = format!("{name}@example.de");
        let user = app.user(&email, kontor_domain::Locale::De, false).await;
        let cookie = app.sign_in(&email).await;
        let r = app
            .post_form(
                "/events/h2-days/register",
                Some(&cookie),
                "de",
                &[("role", "exhibitor")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        regs.push(app.store.registration(ev, user).await.unwrap().unwrap().id);
    }
    let org = app.sign_in("org@example.de").await;
    let page = app
        .get("/events/h2-days/participants", Some(&org), "de")
        .await;
    assert!(page.body.contains("form=\"bulk\""), "{}", page.body);
    let (a, b) = (regs[0].to_string(), regs[1].to_string());
    let ticked = [("ids", a.as_str()), ("ids", b.as_str())];
    // Only organisers.
    let stranger = app.sign_in("c@example.de").await;
    let r = app
        .post_form(
            "/events/h2-days/registrations/approve",
            Some(&stranger),
            "de",
            &ticked,
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post_form(
            "/events/h2-days/registrations/approve",
            Some(&org),
            "de",
            &ticked,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = app.get(r.header("location"), Some(&org), "de").await;
    assert!(
        page.body.contains("2 Anmeldungen bestätigt."),
        "{}",
        page.body
    );
    let approved = kontor_domain::RegistrationStatus::Approved;
    let status = |id: uuid::Uuid| {
        let app = &app;
        async move {
            let list = app.store.participants(ev, None).await.unwrap();
            list.into_iter()
                .find(|p| p.registration.id == id)
                .unwrap()
                .registration
                .status
        }
    };
    assert_eq!(status(regs[0]).await, approved);
    assert_eq!(status(regs[1]).await, approved);
    assert_ne!(status(regs[2]).await, approved);
    for who in ["a@example.de", "b@example.de"] {
        let mails = app.store.outbox(Some(who), 10).await.unwrap();
        assert_eq!(
            mails.len(),
            2,
            "{who}: the registration's and the approval's: {mails:?}"
        );
    }
}
