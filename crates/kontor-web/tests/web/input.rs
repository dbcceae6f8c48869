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
