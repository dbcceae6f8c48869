use crate::helpers::TestApp;

#[tokio::test]
async fn bad_sign_up_input_is_explained_in_the_readers_language_and_writes_nothing() {
    let app = TestApp::new().await;
    let long = "x".repeat(121);
    type Case<'a> = (&'a str, [(&'a str, &'a str); 5], &'a str, &'a str);
    let cases: [Case; 4] = [
        (
            "zh-CN",
            [
                ("name", "王芳"),
                ("email", "not-an-address"),
                ("time_zone", "Asia/Shanghai"),
                ("locale", "zh"),
                ("privacy", "on"),
            ],
            "f-email",
            "请输入有效的电子邮箱地址",
        ),
        (
            "de",
            [
                ("name", "Anna"),
                ("email", "anna@example.de"),
                ("time_zone", "Mars/Olympus"),
                ("locale", "de"),
                ("privacy", "on"),
            ],
            "f-time_zone",
            "Unbekannte Zeitzone",
        ),
        (
            "en",
            [
                ("name", &long),
                ("email", "a@example.de"),
                ("time_zone", "Europe/Berlin"),
                ("locale", "en"),
                ("privacy", "on"),
            ],
            "f-name",
            "At most 120 characters",
        ),
        (
            "en",
            [
                ("name", "Anna"),
                ("email", "a@example.de"),
                ("time_zone", "Europe/Berlin"),
                ("locale", "klingon"),
                ("privacy", "on"),
            ],
            "f-locale",
            "Please choose one of the offered languages",
        ),
    ];
    for (lang, form, field, message) in cases {
        let r = app.post_form("/signup", None, lang, &form).await;
        assert_eq!(r.status, 422, "{lang}: {}", r.body);
        assert!(
            r.body.contains(message),
            "{lang}: expected «{message}» in\n{}",
            r.body
        );
        // The message is tied to its field for screen readers.
        assert!(r.body.contains(&format!("id=\"{field}\"")), "{field}");
        assert!(r.body.contains("aria-invalid=\"true\""));
    }
    assert_eq!(
        app.store.count_users().await.unwrap(),
        0,
        "nothing half-written"
    );
    assert_eq!(app.store.outbox_counts().await.unwrap().pending, 0);
}

#[tokio::test]
async fn the_api_answers_bad_input_with_problem_documents() {
    let app = TestApp::new().await;
    let org = app
        .user("org@example.de", kontor_domain::Locale::De, false)
        .await;
    app.event("h2-days", org).await;
    app.user("li@example.cn", kontor_domain::Locale::Zh, false)
        .await;
    let cookie = app.sign_in("li@example.cn").await;
    let token = app.token(&cookie).await;

    let malformed = app
        .api("PUT", "/api/v1/me", Some(&token), Some("{\"name\": "))
        .await;
    assert_eq!(malformed.status, 422);
    assert_eq!(malformed.header("content-type"), "application/problem+json");
    let p = malformed.json();
    assert_eq!(p["errors"][0]["code"], "invalid-json");
    assert_eq!(p["status"], 422);

    let zone = app
        .api(
            "PUT",
            "/api/v1/me",
            Some(&token),
            Some(r#"{"name":"Li","time_zone":"Nowhere/City","locale":"zh"}"#),
        )
        .await;
    assert_eq!(zone.status, 422);
    let p = zone.json();
    assert_eq!(p["errors"][0]["field"], "time_zone");
    assert_eq!(p["errors"][0]["code"], "invalid-time-zone");

    let role = app
        .api(
            "POST",
            "/api/v1/events/h2-days/registrations",
            Some(&token),
            Some(r#"{"role":"employer"}"#),
        )
        .await;
    assert_eq!(role.status, 422, "a role the event does not offer");
    assert!(
        app.store
            .registrations_of_user(
                app.store
                    .user_by_email(&kontor_domain::Email::parse("li@example.cn").unwrap())
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            )
            .await
            .unwrap()
            .is_empty()
    );

    let form = app
        .post_form(
            "/events/h2-days/register",
            Some(&cookie),
            "zh-CN",
            &[("role", "pirate")],
        )
        .await;
    assert_eq!(form.status, 422);
    assert!(
        form.body.contains("请选择该活动提供的角色之一"),
        "{}",
        form.body
    );

    let ok = app
        .api(
            "POST",
            "/api/v1/events/h2-days/registrations",
            Some(&token),
            Some(r#"{"role":"visitor","message":"你好"}"#),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.json()["status"], "pending");
    let again = app
        .api(
            "POST",
            "/api/v1/events/h2-days/registrations",
            Some(&token),
            Some(r#"{"role":"visitor"}"#),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["code"], "error-already-registered");

    let missing = app
        .api("GET", "/api/v1/events/no-such-event", None, None)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), "application/problem+json");
}

#[tokio::test]
async fn pages_come_in_three_languages() {
    let app = TestApp::new().await;
    for (lang, tag, text) in [
        ("de-DE,de;q=0.9", "lang=\"de\"", "Kommende Veranstaltungen"),
        ("zh-CN", "lang=\"zh-Hans\"", "即将举行的活动"),
        ("en-GB", "lang=\"en\"", "Upcoming events"),
    ] {
        let r = app.get("/", None, lang).await;
        assert!(r.body.contains(tag) && r.body.contains(text), "{lang}");
    }
    // An explicit switch beats Accept-Language.
    let r = app.get("/?lang=zh", None, "de").await;
    assert!(r.body.contains("即将举行的活动"));
    let r = app.get("/no/such/page", None, "zh-CN").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("该页面不存在"));
}

/// What the framework refuses before a handler runs (a path segment that is no id, a method the
/// route lacks) gets the same page or problem document as every other error, in the reader's
/// language, not English plain text.
#[tokio::test]
async fn unreadable_addresses_get_the_usual_error_page() {
    let app = TestApp::new().await;
    let r = app.get("/newsletter/archive/not-an-id", None, "de").await;
    assert_eq!(r.status, 400);
    assert!(
        r.header("content-type").starts_with("text/html"),
        "{:?}",
        r.headers
    );
    assert!(r.body.contains("konnte nicht gelesen werden"), "{}", r.body);
    let r = app.get("/api/v1/organisations/not-an-id", None, "zh").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.json()["code"], "error-bad-request");
    assert!(r.json()["title"].as_str().unwrap().contains("无法读取"));
    let r = app
        .send(
            axum::http::Request::delete("/newsletter")
                .header("accept-language", "en")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 405);
    assert!(r.header("allow").contains("GET"), "{:?}", r.headers);
    assert!(r.body.contains("could not be read"), "{}", r.body);
}

#[tokio::test]
async fn no_form_answers_garbage_with_a_server_error() {
    let app = TestApp::new().await;
    let admin = app
        .user("admin@example.de", kontor_domain::Locale::De, true)
        .await;
    app.event("h2-days", admin).await;
    let cookie = app.sign_in("admin@example.de").await;
    let long = "€".repeat(20_000);
    let junk: [&[(&str, &str)]; 4] = [
        &[],
        &[
            ("email", "\u{0}"),
            ("name", "\u{7}"),
            ("to", "xx"),
            ("code", "12345678901234567890"),
            ("role", ""),
        ],
        &[
            ("title_en", &long),
            ("starts_on", "2027-02-30"),
            ("ends_on", "yesterday"),
            ("session_day_0", "2027-01-01"),
            ("session_slot_0", "-5"),
            ("time_zone", "../../etc/passwd"),
        ],
        &[
            ("org_name", &long),
            ("sectors", "nope"),
            ("website", "javascript:alert(1)"),
            ("decision", "maybe"),
            ("token_name", &long),
            ("languages", "xx"),
        ],
    ];
    let routes = [
        "/signin",
        "/signup",
        "/signin/code",
        "/auth/link",
        "/lang",
        "/profile",
        "/profile/organisation",
        "/profile/tokens",
        "/events",
        "/events/h2-days/register",
        "/events/h2-days/organisers",
        "/events/h2-days/registrations/00000000-0000-0000-0000-000000000000/decision",
        "/events/no-such/register",
        "/profile/tokens/not-a-uuid/revoke",
    ];
    for route in routes {
        for form in junk {
            for c in [None, Some(cookie.as_str())] {
                let r = app.post_form(route, c, "en", form).await;
                assert!(
                    r.status < 500,
                    "{route} {form:?} signed in: {} → {}",
                    c.is_some(),
                    r.status
                );
            }
        }
    }
    // Not a form at all.
    let r = app
        .send(
            axum::http::Request::post("/signup")
                .header("content-type", "application/json")
                .header("sec-fetch-site", "same-origin")
                .body(axum::body::Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("The form could not be read"));
    // An oversized body is refused before it is read.
    let big = "a=".to_string() + &"x".repeat(2 * 1024 * 1024);
    let r = app
        .send(
            axum::http::Request::post("/signup")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body(axum::body::Body::from(big))
                .unwrap(),
        )
        .await;
    assert!(r.status == 413 || r.status == 400, "{}", r.status);
}

/// The registration form does not choose a role for the person (a candidate who misses the
/// preselection would sign up as an employer); without one it asks, keeping the message.
#[tokio::test]
async fn registering_asks_for_a_role_instead_of_assuming_one() {
    let app = TestApp::new().await;
    let org = app
        .user("org@example.de", kontor_domain::Locale::De, false)
        .await;
    app.user("li@example.cn", kontor_domain::Locale::Zh, false)
        .await;
    app.event("h2-days", org).await;
    let li = app.sign_in("li@example.cn").await;
    let page = app.get("/events/h2-days", Some(&li), "zh").await;
    assert!(page.body.contains("name=\"role\""), "{}", page.body);
    assert!(!page.body.contains("checked"), "no role chosen in advance");
    let r = app
        .post_form(
            "/events/h2-days/register",
            Some(&li),
            "de",
            &[("message", "Wir bringen Brennstoffzellen mit.")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("请选择该活动提供的角色之一"), "{}", r.body);
    assert!(
        r.body.contains("id=\"f-role\""),
        "the summary's link has its target"
    );
    assert!(r.body.contains("Wir bringen Brennstoffzellen mit."));
    let r = app
        .post_form(
            "/events/h2-days/register",
            Some(&li),
            "de",
            &[("role", "visitor"), ("message", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
}
