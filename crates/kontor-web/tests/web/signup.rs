use crate::helpers::TestApp;

/// The six-digit code in the newest mail to `to`.
async fn code_for(app: &TestApp, to: &str) -> String {
    let mails = app.store.outbox(Some(to), 1).await.unwrap();
    let text = &mails.first().expect("a mail was queued").body_text;
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a code in the mail")
        .to_string()
}

#[tokio::test]
async fn sign_up_then_sign_in_with_the_mailed_code() {
    let app = TestApp::new().await;
    let form = [
        ("name", "王芳"),
        ("email", "Wang.Fang@Example.CN"),
        ("time_zone", "Asia/Shanghai"),
        ("locale", "zh"),
        ("privacy", "on"),
    ];
    let r = app.post_form("/signup", None, "zh-CN", &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.header("location")
            .starts_with("/signin/code?email=wang.fang%40example.cn")
    );

    // The mail is in Chinese and waits in the outbox, written with the account.
    let mail = &app
        .store
        .outbox(Some("wang.fang@example.cn"), 1)
        .await
        .unwrap()[0];
    assert_eq!(mail.locale, "zh");
    assert!(mail.subject.contains("登录验证码"), "{}", mail.subject);
    let code = code_for(&app, "wang.fang@example.cn").await;

    // A wrong code is refused and does not sign in.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = app
        .post_form(
            "/signin/code",
            None,
            "zh-CN",
            &[
                ("email", "wang.fang@example.cn"),
                ("code", wrong),
                ("next", "/profile"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("验证码不正确"));
    assert!(r.headers.get("set-cookie").is_none());

    let r = app
        .post_form(
            "/signin/code",
            None,
            "zh-CN",
            &[
                ("email", "wang.fang@example.cn"),
                ("code", &code),
                ("next", "/profile"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), "/profile");
    let cookie = r.session_cookie();
    let profile = app.get("/profile", Some(&cookie), "en").await;
    assert_eq!(profile.status, 200);
    assert!(
        profile.body.contains("lang=\"zh-Hans\""),
        "the account's language wins over Accept-Language"
    );
    assert!(
        app.store
            .user_by_email(&kontor_domain::Email::parse("wang.fang@example.cn").unwrap())
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );

    // The code is used up.
    let r = app
        .post_form(
            "/signin/code",
            None,
            "zh-CN",
            &[
                ("email", "wang.fang@example.cn"),
                ("code", &code),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);

    // Signing up again with the same address: same answer, no second account, a fresh code.
    let r = app.post_form("/signup", None, "en", &form).await;
    assert_eq!(r.status, 303);
    assert_eq!(app.store.count_users().await.unwrap(), 1);
    assert_ne!(code_for(&app, "wang.fang@example.cn").await, "");

    // An unknown address gets the same answer as a known one, and no mail.
    let known = app
        .post_form("/signin", None, "en", &[("email", "wang.fang@example.cn")])
        .await;
    let unknown = app
        .post_form("/signin", None, "en", &[("email", "nobody@example.cn")])
        .await;
    assert_eq!(known.status, unknown.status);
    assert!(
        app.store
            .outbox(Some("nobody@example.cn"), 1)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn sign_in_requests_are_rate_limited() {
    let app = TestApp::new().await;
    let mut statuses = vec![];
    for _ in 0..12 {
        statuses.push(
            app.post_form("/signin", None, "en", &[("email", "someone@example.de")])
                .await
                .status,
        );
    }
    assert!(statuses[..10].iter().all(|s| *s == 303), "{statuses:?}");
    assert_eq!(statuses[10], 429, "{statuses:?}");
}

#[tokio::test]
async fn only_wrong_passwords_count_against_the_sign_in_limit() {
    let app = TestApp::new().await;
    app.user("anna@example.de", kontor_domain::Locale::De, false)
        .await;
    for i in 0..15 {
        let r = app
            .post_form(
                "/signin",
                None,
                "en",
                &[
                    ("email", "anna@example.de"),
                    ("password", crate::helpers::PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "sign-in {i}: {}", r.body);
    }
    let mut statuses = vec![];
    for _ in 0..11 {
        statuses.push(
            app.post_form(
                "/signin",
                None,
                "en",
                &[
                    ("email", "anna@example.de"),
                    ("password", "wrong guess 123"),
                ],
            )
            .await
            .status,
        );
    }
    assert!(statuses[..10].iter().all(|s| *s == 422), "{statuses:?}");
    assert_eq!(statuses[10], 429, "{statuses:?}");
}

#[tokio::test]
async fn the_sign_in_link_needs_a_button_press() {
    let app = TestApp::new().await;
    app.user("anna@example.de", kontor_domain::Locale::De, false)
        .await;
    app.post_form("/signin", None, "de", &[("email", "anna@example.de")])
        .await;
    let mail = &app.store.outbox(Some("anna@example.de"), 1).await.unwrap()[0];
    let link = mail
        .body_text
        .split_whitespace()
        .find(|w| w.contains("/auth/link?token="))
        .expect("a link");
    let token = link.split("token=").nth(1).unwrap();
    // Following the link (as a mail scanner would) does not sign in or use it up.
    let page = app
        .get(&format!("/auth/link?token={token}"), None, "de")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.headers.get("set-cookie").is_none());
    let r = app
        .post_form("/auth/link", None, "de", &[("token", token)])
        .await;
    assert_eq!(r.status, 303);
    r.session_cookie();
    let again = app
        .post_form("/auth/link", None, "de", &[("token", token)])
        .await;
    assert_eq!(again.status, 410);
}

/// Two presses of one sign-in link at the same moment (a double click, two tabs) open one
/// session, on every backend.
#[tokio::test]
async fn one_sign_in_link_opens_one_session_even_when_pressed_twice_at_once() {
    for (app, url) in TestApp::on_every_backend().await {
        app.user("anna@example.de", kontor_domain::Locale::De, false)
            .await;
        app.post_form("/signin", None, "de", &[("email", "anna@example.de")])
            .await;
        let mail = &app.store.outbox(Some("anna@example.de"), 1).await.unwrap()[0];
        let token = mail
            .body_text
            .split_whitespace()
            .find_map(|w| w.split("/auth/link?token=").nth(1))
            .expect("a link")
            .to_string();
        let form = [("token", token.as_str())];
        let replies = futures_util::future::join_all(
            (0..4).map(|_| app.post_form("/auth/link", None, "de", &form)),
        )
        .await;
        let signed_in = replies.iter().filter(|r| r.status == 303).count();
        assert_eq!(signed_in, 1, "{url}");
        assert!(
            replies.iter().all(|r| [303, 410].contains(&r.status)),
            "{url}"
        );
    }
}
