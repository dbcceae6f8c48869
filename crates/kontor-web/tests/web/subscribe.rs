//! The newsletter's subscription side, on every backend: double opt-in through the outbox,
//! tokens, duplicate sign-ups, one-click unsubscribe, the proof of consent, CSV import/export and
//! GDPR export/erasure.

use axum::body::Body;
use axum::http::{Request, header};
use kontor_domain::{Email, Locale, SubscriberStatus, Topic};
use sha2::Digest;

use crate::helpers::{BASE, Reply, TestApp};

fn signup_form<'a>(email: &'a str, locale: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("email", email),
        ("locale", locale),
        ("topics", "hydrogen"),
        ("topics", "china"),
        ("consent", "on"),
        ("consent_version", "1"),
        ("source", "/events"),
    ]
}

/// A browser's sign-up from the block on `/events`.
async fn sign_up(app: &TestApp, email: &str, locale: &str) -> Reply {
    sign_up_with(app, signup_form(email, locale), &[]).await
}

/// A browser's sign-up with the given form fields and extra request headers.
async fn sign_up_with(app: &TestApp, form: Vec<(&str, &str)>, headers: &[(&str, &str)]) -> Reply {
    let body = serde_urlencoded::to_string(form).unwrap();
    let mut req = Request::post("/newsletter")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header(header::USER_AGENT, "Mozilla/5.0 (Test) Firefox/140.0");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.send(req.body(Body::from(body)).unwrap()).await
}

/// The path of the link in the newest mail to `to` that starts with `prefix`.
async fn link_in_mail(app: &TestApp, to: &str, prefix: &str) -> String {
    let mails = app.store.outbox(Some(to), 10).await.unwrap();
    let start = format!("{BASE}{prefix}");
    for mail in &mails {
        if let Some(i) = mail.body_text.find(&start) {
            let link: String = mail.body_text[i + BASE.len()..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            return link;
        }
    }
    panic!("no link {start} in {mails:?}");
}

async fn status_of(app: &TestApp, email: &str) -> Option<SubscriberStatus> {
    app.store
        .subscriber_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .map(|s| s.status)
}

/// Signs up and confirms; returns the unsubscribe token.
async fn confirmed(app: &TestApp, email: &str) -> String {
    assert_eq!(sign_up(app, email, "de").await.status, 303);
    let link = link_in_mail(app, email, "/newsletter/confirm/").await;
    let r = app.post_form(&link, None, "de", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.store
        .subscriber_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .unsubscribe_token
}

#[tokio::test]
async fn the_mailed_link_opens_a_button_page_and_only_its_post_confirms() {
    for (app, url) in TestApp::on_every_backend().await {
        // The block is on every public page, with the current consent text's version.
        let page = app.get("/events", None, "de").await;
        assert!(page.body.contains("action=\"/newsletter\""), "{url}");
        assert!(page.body.contains("name=\"consent_version\" value=\"1\""));
        assert!(
            page.body
                .contains(&kontor_i18n::t(Locale::De, "newsletter-consent-1"))
        );

        let r = sign_up(&app, "Li.Na@Example.CN", "zh").await;
        assert_eq!(r.status, 303, "{url}: {}", r.body);
        assert_eq!(r.header("location"), "/newsletter/thanks");
        assert_eq!(
            status_of(&app, "li.na@example.cn").await,
            Some(SubscriberStatus::Pending)
        );
        let mail = &app.store.outbox(Some("li.na@example.cn"), 1).await.unwrap()[0];
        assert_eq!(
            (mail.kind.as_str(), mail.locale.as_str()),
            ("newsletter-confirm", "zh")
        );
        assert!(mail.subject.contains("确认"), "{}", mail.subject);

        let link = link_in_mail(&app, "li.na@example.cn", "/newsletter/confirm/").await;
        // A scanner following the link (GET, twice) confirms nothing.
        for _ in 0..2 {
            let page = app.get(&link, None, "zh-CN").await;
            assert_eq!(page.status, 200, "{}", page.body);
            assert!(
                page.body
                    .contains(&format!("<form method=\"post\" action=\"{link}\">"))
            );
        }
        assert_eq!(
            status_of(&app, "li.na@example.cn").await,
            Some(SubscriberStatus::Pending)
        );

        let r = app.post_form(&link, None, "zh-CN", &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body
                .contains(&kontor_i18n::t(Locale::Zh, "newsletter-confirmed"))
        );
        assert_eq!(
            status_of(&app, "li.na@example.cn").await,
            Some(SubscriberStatus::Confirmed)
        );
        let welcome = &app.store.outbox(Some("li.na@example.cn"), 1).await.unwrap()[0];
        assert_eq!(welcome.kind, "newsletter-welcome");
        assert!(welcome.body_text.contains("/newsletter/unsubscribe/"));

        // The token works once; a second click says the subscription stands, in the
        // subscriber's language even from an English browser (the link names it).
        assert!(link.ends_with("?lang=zh"), "{link}");
        let again = app.post_form(&link, None, "en", &[]).await;
        assert_eq!(again.status, 200);
        assert!(
            again
                .body
                .contains(&kontor_i18n::t(Locale::Zh, "newsletter-confirmed-already")),
            "{}",
            again.body
        );
    }
}

#[tokio::test]
async fn expired_and_forged_tokens_get_a_clear_page_in_the_readers_language() {
    for (app, _) in TestApp::on_every_backend().await {
        let forged = "/newsletter/confirm/0123456789abcdef0123456789abcdef";
        let invalid_de = kontor_i18n::t(Locale::De, "newsletter-confirm-invalid");
        for r in [
            app.get(forged, None, "de").await,
            app.post_form(forged, None, "de", &[]).await,
            app.get("/newsletter/confirm/%3Cscript%3E", None, "de")
                .await,
        ] {
            assert_eq!(r.status, 410, "{}", r.body);
            assert!(r.body.contains(&invalid_de));
        }

        // A token that expired an hour ago.
        let now = kontor_domain::now_micros();
        let token = "feedfacefeedfacefeedfacefeedface";
        let hash = hex(&sha2::Sha256::digest(token.as_bytes()));
        let email = Email::parse("late@example.de").unwrap();
        let mut tx = app.store.begin().await.unwrap();
        let id = tx
            .create_subscriber(
                &kontor_store::subscribers::NewSubscriber {
                    email: &email,
                    locale: Locale::De,
                    topics: &[],
                    status: SubscriberStatus::Pending,
                    unsubscribe_token: "latelatelatelatelate1234",
                },
                now - 49 * 3_600_000_000,
            )
            .await
            .unwrap();
        tx.create_confirmation(id, &hash, now - 49 * 3_600_000_000, now - 3_600_000_000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let path = format!("/newsletter/confirm/{token}");
        assert_eq!(app.get(&path, None, "zh-CN").await.status, 410);
        let r = app.post_form(&path, None, "zh-CN", &[]).await;
        assert_eq!(r.status, 410);
        assert!(
            r.body
                .contains(&kontor_i18n::t(Locale::Zh, "newsletter-confirm-invalid"))
        );
        assert_eq!(
            status_of(&app, "late@example.de").await,
            Some(SubscriberStatus::Pending)
        );

        // Unknown unsubscribe and preference tokens: a clear page, not an error 500.
        for path in [
            "/newsletter/unsubscribe/nosuchtoken12345678",
            "/newsletter/preferences/nosuchtoken12345678",
        ] {
            let r = app.get(path, None, "en").await;
            assert_eq!(r.status, 404);
            assert!(
                r.body
                    .contains(&kontor_i18n::t(Locale::En, "newsletter-token-invalid"))
            );
        }
    }
}

async fn id_of(app: &TestApp, token: &str) -> uuid::Uuid {
    app.store
        .subscriber_by_token(token)
        .await
        .unwrap()
        .unwrap()
        .id
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_second_sign_up_answers_the_same_and_keeps_one_record() {
    for (app, _) in TestApp::on_every_backend().await {
        let first = sign_up(&app, "anna@example.de", "de").await;
        let second = sign_up(&app, "ANNA@example.de", "de").await;
        let fresh = sign_up(&app, "bert@example.de", "de").await;
        for r in [&second, &fresh] {
            assert_eq!(
                (r.status, r.header("location")),
                (first.status, first.header("location"))
            );
            assert_eq!(r.body, first.body);
        }
        assert_eq!(app.store.subscriber_counts().await.unwrap().pending, 2);
        // Still pending: the confirmation is sent again, a few times an hour at most.
        assert_eq!(
            app.store
                .outbox(Some("anna@example.de"), 10)
                .await
                .unwrap()
                .len(),
            2
        );
        for _ in 0..3 {
            assert_eq!(
                sign_up(&app, "anna@example.de", "de")
                    .await
                    .header("location"),
                "/newsletter/thanks"
            );
        }
        assert_eq!(
            app.store
                .outbox(Some("anna@example.de"), 10)
                .await
                .unwrap()
                .len(),
            3
        );

        // Confirmed: the same answer, no new record; a mail saying they are on the list, with
        // a link to their preferences (the same work as for a new address, and no dead end).
        let carl = confirmed(&app, "carl@example.de").await;
        let mails = app
            .store
            .outbox(Some("carl@example.de"), 10)
            .await
            .unwrap()
            .len();
        let r = sign_up(&app, "carl@example.de", "de").await;
        assert_eq!(
            (r.status, r.header("location"), &r.body),
            (first.status, first.header("location"), &first.body)
        );
        assert_eq!(
            app.store
                .outbox(Some("carl@example.de"), 10)
                .await
                .unwrap()
                .len(),
            mails + 1
        );
        let note = &app.store.outbox(Some("carl@example.de"), 1).await.unwrap()[0];
        assert_eq!(note.kind, "newsletter-already");
        assert!(
            note.body_text
                .contains(&format!("{BASE}/newsletter/preferences/{carl}")),
            "{}",
            note.body_text
        );
        // Rate-limited like the confirmation: a few an hour at most.
        for _ in 0..5 {
            sign_up(&app, "carl@example.de", "de").await;
        }
        assert_eq!(
            app.store
                .outbox(Some("carl@example.de"), 20)
                .await
                .unwrap()
                .len(),
            mails + 2
        );
        assert_eq!(
            status_of(&app, "carl@example.de").await,
            Some(SubscriberStatus::Confirmed)
        );
        let all = app.store.subscribers("", 100).await.unwrap();
        assert_eq!(all.len(), 3);
        let thanks = app.get("/newsletter/thanks", None, "de").await;
        assert!(
            thanks
                .body
                .contains(&kontor_i18n::t(Locale::De, "newsletter-check-title"))
        );
    }
}

#[tokio::test]
async fn malformed_addresses_and_missing_consent_are_refused_in_each_language() {
    let app = TestApp::new().await;
    for (lang, locale) in [
        ("de", Locale::De),
        ("en", Locale::En),
        ("zh-CN", Locale::Zh),
    ] {
        for bad in [
            "not-an-address",
            "a@",
            "@example.de",
            "two@@example.de",
            "a b@example.de",
        ] {
            let mut form = signup_form(bad, "en");
            form.retain(|(k, _)| *k != "source");
            let r = app.post_form("/newsletter", None, lang, &form).await;
            assert_eq!(r.status, 422, "{bad}");
            assert!(
                r.body.contains(&kontor_i18n::t(locale, "invalid-email")),
                "{lang} {bad}"
            );
            assert!(r.body.contains("aria-invalid=\"true\""));
        }
        let mut form = signup_form("ok@example.de", "en");
        form.retain(|(k, _)| *k != "consent");
        form.push(("topics", "sports"));
        let r = app.post_form("/newsletter", None, lang, &form).await;
        assert_eq!(r.status, 422);
        assert!(
            r.body
                .contains(&kontor_i18n::t(locale, "invalid-newsletter-consent"))
        );
        assert!(r.body.contains(&kontor_i18n::t(locale, "invalid-topic")));
        // A consent version that was never shown is no consent.
        let mut form = signup_form("ok@example.de", "en");
        form.retain(|(k, _)| *k != "consent_version");
        form.push(("consent_version", "99"));
        assert_eq!(
            app.post_form("/newsletter", None, lang, &form).await.status,
            422
        );
    }
    assert_eq!(app.store.subscribers("", 10).await.unwrap().len(), 0);
    assert!(app.store.outbox(None, 10).await.unwrap().is_empty());
}

/// A POST as a mail provider sends it: another site, no cookie, no Origin of ours.
async fn cross_site_post(app: &TestApp, path: &str, body: &str) -> Reply {
    cross_site_post_as(app, path, "application/x-www-form-urlencoded", body).await
}

async fn cross_site_post_as(app: &TestApp, path: &str, content_type: &str, body: &str) -> Reply {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, content_type)
            .header("sec-fetch-site", "cross-site")
            .header(header::ORIGIN, "https://mail.example.com")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn one_click_post_without_cookies_unsubscribes_and_records_the_channel() {
    for (app, _) in TestApp::on_every_backend().await {
        let token = confirmed(&app, "dora@example.de").await;
        let path = format!("/newsletter/unsubscribe/{token}");
        // Cross-site with any other body, or the one-click body on another route: refused.
        assert_eq!(cross_site_post(&app, &path, "confirm=1").await.status, 403);
        assert_eq!(
            cross_site_post(&app, &path, "List-Unsubscribe=One-Click&x=1")
                .await
                .status,
            403
        );
        assert_eq!(
            cross_site_post(&app, "/newsletter", "List-Unsubscribe=One-Click")
                .await
                .status,
            403
        );
        assert_eq!(
            cross_site_post(&app, &format!("{path}/x"), "List-Unsubscribe=One-Click")
                .await
                .status,
            403
        );
        // The page alone changes nothing.
        let page = app.get(&path, None, "de").await;
        assert!(page.body.contains("dora@example.de"));
        assert_eq!(
            status_of(&app, "dora@example.de").await,
            Some(SubscriberStatus::Confirmed)
        );

        let r = cross_site_post(&app, &path, "List-Unsubscribe=One-Click").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            status_of(&app, "dora@example.de").await,
            Some(SubscriberStatus::Unsubscribed)
        );
        let id = id_of(&app, &token).await;
        let events = app.store.consent_events(id).await.unwrap();
        let last = events.last().unwrap();
        assert_eq!(
            (last.kind.as_str(), last.channel.as_deref()),
            ("unsubscribed", Some("one-click"))
        );
        // Repeating it is harmless and records nothing new.
        assert_eq!(
            cross_site_post(&app, &path, "List-Unsubscribe=One-Click")
                .await
                .status,
            200
        );
        assert_eq!(
            app.store.consent_events(id).await.unwrap().len(),
            events.len()
        );

        // RFC 8058 prefers multipart/form-data; that works too.
        let token = confirmed(&app, "ella@example.de").await;
        let multipart = "-----B7x\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n-----B7x--\r\n";
        let path = format!("/newsletter/unsubscribe/{token}");
        let r = cross_site_post_as(
            &app,
            &path,
            "multipart/form-data; boundary=---B7x",
            multipart,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let events = app
            .store
            .consent_events(id_of(&app, &token).await)
            .await
            .unwrap();
        assert_eq!(events.last().unwrap().channel.as_deref(), Some("one-click"));

        // The page's button (same origin) records the channel "link".
        let token = confirmed(&app, "emil@example.de").await;
        let r = app
            .post_form(
                &format!("/newsletter/unsubscribe/{token}"),
                None,
                "de",
                &[("confirm", "1")],
            )
            .await;
        assert!(
            r.body
                .contains(&kontor_i18n::t(Locale::De, "newsletter-unsubscribed"))
        );
        let id = id_of(&app, &token).await;
        let events = app.store.consent_events(id).await.unwrap();
        assert_eq!(events.last().unwrap().channel.as_deref(), Some("link"));
    }
}

#[tokio::test]
async fn consent_events_are_complete_and_append_only() {
    for (app, url) in TestApp::on_every_backend().await {
        let token = confirmed(&app, "fritz@example.de").await;
        let (link_hash, confirm_mail) = {
            let mails = app
                .store
                .outbox(Some("fritz@example.de"), 10)
                .await
                .unwrap();
            let confirm = mails
                .iter()
                .find(|m| m.kind == "newsletter-confirm")
                .unwrap();
            let i = confirm.body_text.find("/newsletter/confirm/").unwrap()
                + "/newsletter/confirm/".len();
            let t: String = confirm.body_text[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            (hex(&sha2::Sha256::digest(t.as_bytes())), confirm.id)
        };
        let s = app
            .store
            .subscriber_by_token(&token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.topics, vec![Topic::China, Topic::Hydrogen]);
        let events = app.store.consent_events(s.id).await.unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        // Queued, not yet delivered: the proof says only what happened.
        assert_eq!(
            kinds,
            ["signup", "confirmation-queued", "confirmed"],
            "{url}"
        );
        let (signup, sent, done) = (&events[0], &events[1], &events[2]);
        assert_eq!(
            signup.source.as_deref(),
            Some(format!("{BASE}/events").as_str())
        );
        assert_eq!(signup.consent_version, Some(1));
        // The default keeps the network part only.
        assert_eq!(signup.ip.as_deref(), Some("127.0.0.0/24"));
        assert_eq!(
            signup.user_agent.as_deref(),
            Some("Mozilla/5.0 (Test) Firefox/140.0")
        );
        assert_eq!(
            sent.template.as_deref(),
            Some(kontor_mail::compose::CONFIRM_TEMPLATE)
        );
        assert_eq!(sent.token_hash.as_deref(), Some(link_hash.as_str()));
        assert_eq!(sent.outbox_id, Some(confirm_mail));
        assert!(done.at >= sent.at && sent.at >= signup.at);
        // The outbox worker marks the mail delivered: `confirmation-sent` joins the proof in that
        // transaction, once.
        for _ in 0..2 {
            app.store
                .mark_mail_sent(confirm_mail, "test", done.at + 5)
                .await
                .unwrap();
        }
        let events = app.store.consent_events(s.id).await.unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "signup",
                "confirmation-queued",
                "confirmed",
                "confirmation-sent"
            ],
            "{url}"
        );
        let delivered = &events[3];
        assert_eq!(
            (
                delivered.at,
                delivered.outbox_id,
                delivered.token_hash.as_deref()
            ),
            (done.at + 5, Some(confirm_mail), Some(link_hash.as_str()))
        );
        assert_eq!(delivered.template, sent.template);
        let done = &events[2];
        assert_eq!(done.ip.as_deref(), Some("127.0.0.0/24"));
        assert!(done.at > 0 && s.confirmed_at == Some(done.at));
        let text = app.store.consent_text(1).await.unwrap().unwrap();
        assert_eq!(
            text.text_de,
            kontor_i18n::t(Locale::De, "newsletter-consent-1")
        );
        assert_eq!(
            text.text_zh,
            kontor_i18n::t(Locale::Zh, "newsletter-consent-1")
        );
        assert_ne!(text.text_de, text.text_en);

        // The database itself refuses to change a record.
        let raw_update = "UPDATE consent_events SET at = 0";
        let refused = if url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query(raw_update).execute(&pool).await.map(|_| ())
        } else {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query(raw_update).execute(&pool).await.map(|_| ())
        };
        // Refused by the append-only trigger, not by any other error.
        let message = refused
            .expect_err("consent events could be updated")
            .to_string();
        assert!(
            message.contains("consent_events are append-only"),
            "{url}: {message}"
        );
        assert_eq!(app.store.consent_events(s.id).await.unwrap(), events);
    }
}

#[tokio::test]
async fn preferences_by_token_change_language_and_topics() {
    for (app, _) in TestApp::on_every_backend().await {
        let token = confirmed(&app, "gina@example.de").await;
        let path = format!("/newsletter/preferences/{token}");
        let page = app.get(&path, None, "en").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("value=\"hydrogen\" checked"));
        let r = app
            .post_form(
                &path,
                None,
                "en",
                &[
                    ("locale", "zh"),
                    ("topics", "jobs"),
                    ("topics", "life-sciences"),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body
                .contains(&kontor_i18n::t(Locale::En, "newsletter-preferences-saved"))
        );
        let s = app
            .store
            .subscriber_by_token(&token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.locale, s.topics),
            (Locale::Zh, vec![Topic::LifeSciences, Topic::Jobs])
        );
        let bad = app.post_form(&path, None, "de", &[("locale", "fr")]).await;
        assert_eq!(bad.status, 422);
        // The select itself is marked invalid and points at its message.
        assert!(
            bad.body.contains(
                "<select id=\"f-locale\" name=\"locale\" aria-invalid=\"true\" aria-describedby=\"e-locale\">"
            ),
            "{}",
            bad.body
        );
        assert!(bad.body.contains("<p class=\"error\" id=\"e-locale\">"));
        assert!(
            bad.body
                .contains(&kontor_i18n::t(Locale::De, "invalid-locale"))
        );
    }
}

fn sorted_lines(csv: &str) -> Vec<String> {
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    lines[1..].sort();
    lines
}

#[tokio::test]
async fn csv_import_and_export_round_trip_and_a_bad_line_is_reported() {
    let backends = TestApp::on_every_backend().await;
    for (app, url) in &backends {
        app.user("admin@kontor.example", Locale::En, true).await;
        app.user("reader@kontor.example", Locale::En, false).await;
        let admin = app.sign_in("admin@kontor.example").await;
        let reader = app.sign_in("reader@kontor.example").await;
        assert_eq!(
            app.get("/admin/subscribers.csv", Some(&reader), "en")
                .await
                .status,
            403
        );
        assert_eq!(app.get("/admin/subscribers", None, "en").await.status, 303);

        confirmed(app, "hans@example.de").await;
        sign_up(app, "ida@example.de", "en").await;
        let csv = "email,locale,topics,status,consent_source,consent_date\n\
                   wang@example.cn,zh,china jobs,confirmed,Trade fair form 2025,2025-11-02\n\
                   \"olaf@example.de\",de,,unsubscribed,\"Fair \"\"Ost\"\", 2019\",2019-01-01T10:00:00Z\n";
        // Bad lines: reported with their numbers in the reader's (account's) language; nothing imported.
        let bad = format!(
            "{csv}broken-address,de,,confirmed,x,2020-01-01\nkim@example.de,en,,confirmed,,\n"
        );
        let r = app
            .post_form(
                "/admin/subscribers/import",
                Some(&admin),
                "de",
                &[("csv", &bad)],
            )
            .await;
        assert_eq!(r.status, 422, "{url}: {}", r.body);
        assert!(
            r.body.contains(&format!(
                "Line 4: {}",
                kontor_i18n::t(Locale::En, "invalid-email")
            )),
            "{}",
            r.body
        );
        assert!(r.body.contains(&format!(
            "Line 5: {}",
            kontor_i18n::t(Locale::En, "invalid-consent-proof")
        )));
        assert!(!r.body.contains("Line 2:") && !r.body.contains("Line 3:"));
        // The lines stay in the field, to correct.
        assert!(
            r.body.contains("broken-address,de,,confirmed,x,2020-01-01"),
            "{}",
            r.body
        );
        assert_eq!(app.store.subscribers("", 100).await.unwrap().len(), 2);
        // A German administrator reads the report in German.
        app.user("verwaltung@kontor.example", Locale::De, true)
            .await;
        let german = app.sign_in("verwaltung@kontor.example").await;
        let file =
            "email,locale,topics,status,consent_source,consent_date\nx@example.de,fr,,pending,,\n";
        let r = app
            .post_form(
                "/admin/subscribers/import",
                Some(&german),
                "en",
                &[("csv", file)],
            )
            .await;
        assert!(
            r.body.contains(&format!(
                "Zeile 2: {}",
                kontor_i18n::t(Locale::De, "invalid-locale")
            )),
            "{}",
            r.body
        );
        let r = app
            .post_form(
                "/admin/subscribers/import",
                Some(&german),
                "en",
                &[("csv", "e-mail;sprache\n")],
            )
            .await;
        assert!(r.body.contains(&format!(
            "Zeile 1: {}",
            kontor_i18n::t(Locale::De, "invalid-csv-header")
        )));

        let r = app
            .post_form(
                "/admin/subscribers/import",
                Some(&admin),
                "en",
                &[("csv", csv)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body.contains("2 subscribers imported; 0 addresses"),
            "{}",
            r.body
        );
        let wang = app
            .store
            .subscriber_by_email(&Email::parse("wang@example.cn").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(wang.status, SubscriberStatus::Confirmed);
        let events = app.store.consent_events(wang.id).await.unwrap();
        assert_eq!(events[0].kind, "imported");
        assert_eq!(events[0].source.as_deref(), Some("Trade fair form 2025"));
        // Importing again changes nothing and says so.
        let r = app
            .post_form(
                "/admin/subscribers/import",
                Some(&admin),
                "en",
                &[("csv", csv)],
            )
            .await;
        assert!(
            r.body.contains("0 subscribers imported; 2 addresses"),
            "{}",
            r.body
        );

        let list = app
            .get("/admin/subscribers?q=wang", Some(&admin), "zh-CN")
            .await;
        assert!(list.body.contains("wang@example.cn") && !list.body.contains("hans@example.de"));
        let all = app.get("/admin/subscribers", Some(&admin), "en").await;
        assert!(
            all.body
                .contains("2 confirmed · 1 waiting for confirmation · 1 unsubscribed"),
            "{}",
            all.body
        );
        let export = app.get("/admin/subscribers.csv", Some(&admin), "en").await;
        assert_eq!(export.status, 200);
        assert!(export.header("content-type").starts_with("text/csv"));
        // Every field quoted, so a spreadsheet splitting on `;` still sees one cell per field.
        assert!(
            export.body.contains(
                "\"wang@example.cn\",\"zh\",\"china jobs\",\"confirmed\",\"Trade fair form 2025\",\"2025-11-02T00:00:00Z\""
            ),
            "{}",
            export.body
        );
        assert!(
            export.body.contains(
                "\"olaf@example.de\",\"de\",\"\",\"unsubscribed\",\"Fair \"\"Ost\"\", 2019\",\"2019-01-01T10:00:00Z\""
            ),
            "{}",
            export.body
        );

        // Into a fresh instance and out again: the same file. A pending line is refused with
        // its number (an import sends no confirmation, and the janitor would delete it).
        let other = TestApp::new().await;
        other.user("admin@kontor.example", Locale::En, true).await;
        let other_admin = other.sign_in("admin@kontor.example").await;
        let r = other
            .post_form(
                "/admin/subscribers/import",
                Some(&other_admin),
                "en",
                &[("csv", &export.body)],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let ida = export
            .body
            .lines()
            .position(|l| l.contains("ida@example.de"))
            .unwrap();
        assert!(
            r.body.contains(&format!(
                "Line {}: {}",
                ida + 1,
                kontor_i18n::t(Locale::En, "invalid-import-pending")
            )),
            "{}",
            r.body
        );
        assert_eq!(other.store.subscribers("", 10).await.unwrap().len(), 0);
        let without_pending: String = export
            .body
            .lines()
            .filter(|l| !l.contains("\"pending\""))
            .map(|l| format!("{l}\r\n"))
            .collect();
        let r = other
            .post_form(
                "/admin/subscribers/import",
                Some(&other_admin),
                "en",
                &[("csv", &without_pending)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let again = other
            .get("/admin/subscribers.csv", Some(&other_admin), "en")
            .await;
        assert_eq!(sorted_lines(&again.body), sorted_lines(&without_pending));
    }
}

#[tokio::test]
async fn gdpr_export_holds_every_event_and_erasure_removes_them() {
    for (app, url) in TestApp::on_every_backend().await {
        app.user("admin@kontor.example", Locale::En, true).await;
        let admin = app.sign_in("admin@kontor.example").await;
        let token = confirmed(&app, "jana@example.de").await;
        let id = id_of(&app, &token).await;
        let r = app
            .get(
                &format!("/admin/subscribers/{id}/export"),
                Some(&admin),
                "en",
            )
            .await;
        assert_eq!(r.status, 200, "{url}");
        let doc = r.json();
        assert_eq!(doc["subscriber"]["email"], "jana@example.de");
        let kinds: Vec<&str> = doc["consent_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["signup", "confirmation-queued", "confirmed"]);
        assert_eq!(doc["consent_events"][0]["source"], format!("{BASE}/events"));
        assert_eq!(doc["consent_texts"][0]["version"], 1);
        assert!(
            doc["consent_texts"][0]["text_zh"]
                .as_str()
                .unwrap()
                .contains("电子简报")
        );

        // Unsubscribed by an administrator: recorded with the channel "admin".
        let r = app
            .post_form(
                &format!("/admin/subscribers/{id}/unsubscribe"),
                Some(&admin),
                "en",
                &[],
            )
            .await;
        assert_eq!(r.status, 303);
        let events = app.store.consent_events(id).await.unwrap();
        assert_eq!(events.last().unwrap().channel.as_deref(), Some("admin"));

        let r = app
            .post_form(
                &format!("/admin/subscribers/{id}/erase"),
                Some(&admin),
                "en",
                &[],
            )
            .await;
        assert_eq!(r.status, 303);
        assert!(app.store.consent_events(id).await.unwrap().is_empty());
        assert_eq!(status_of(&app, "jana@example.de").await, None);
        assert!(
            app.store
                .outbox(Some("jana@example.de"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            app.get(
                &format!("/admin/subscribers/{id}/export"),
                Some(&admin),
                "en"
            )
            .await
            .status,
            404
        );
        assert_eq!(
            app.get(&format!("/newsletter/unsubscribe/{token}"), None, "en")
                .await
                .status,
            404
        );
    }
}

#[tokio::test]
async fn the_api_signs_up_like_the_form_and_exports_for_administrators() {
    for (app, _) in TestApp::on_every_backend().await {
        let body = r#"{"email":"Kai@Example.de","locale":"de","topics":["events"],"consent":true,"consent_version":1,"source":"partner-site"}"#;
        let first = app
            .api("POST", "/api/v1/newsletter/subscriptions", None, Some(body))
            .await;
        assert_eq!(first.status, 202, "{}", first.body);
        confirmed(&app, "lea@example.de").await;
        let known = body.replace("Kai@Example.de", "lea@example.de");
        for b in [body, known.as_str()] {
            let r = app
                .api("POST", "/api/v1/newsletter/subscriptions", None, Some(b))
                .await;
            assert_eq!(
                (r.status, r.body.as_str()),
                (first.status, first.body.as_str())
            );
        }
        assert_eq!(app.store.subscribers("kai", 10).await.unwrap().len(), 1);
        let id = app.store.subscribers("kai", 10).await.unwrap()[0]
            .subscriber
            .id;
        let events = app.store.consent_events(id).await.unwrap();
        assert_eq!(events[0].source.as_deref(), Some("api:partner-site"));

        let refused = app
            .api(
                "POST",
                "/api/v1/newsletter/subscriptions",
                None,
                Some(r#"{"email":"x@","locale":"de","consent":false,"consent_version":1}"#),
            )
            .await;
        assert_eq!(refused.status, 422);
        assert!(
            refused
                .header("content-type")
                .starts_with("application/problem+json")
        );
        let problem = refused.json();
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["email", "consent"]);

        app.user("admin@kontor.example", Locale::En, true).await;
        let cookie = app.sign_in("admin@kontor.example").await;
        let token = app.token(&cookie).await;
        let r = app
            .api("GET", "/api/v1/newsletter/subscribers", Some(&token), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let list = r.json();
        let lea = list
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["email"] == "lea@example.de")
            .unwrap();
        assert_eq!(lea["status"], "confirmed");
        assert_eq!(lea["consent_source"], format!("{BASE}/events"));
        assert_eq!(
            app.api("GET", "/api/v1/newsletter/subscribers", None, None)
                .await
                .status,
            401
        );
    }
}

/// A sign-up's `source` comes from the client: it must not smuggle a formula into the CSV export
/// (German Excel splits on `;`), and formula text from an import is neutralised on the way out.
#[tokio::test]
async fn formula_text_never_reaches_the_csv_export_as_a_formula() {
    for (app, url) in TestApp::on_every_backend().await {
        app.user("admin@kontor.example", Locale::En, true).await;
        let admin = app.sign_in("admin@kontor.example").await;
        let mut form = signup_form("mallory@example.de", "de");
        form.retain(|(k, _)| *k != "source");
        form.push(("source", "/x;=cmd|' /C calc'!A0"));
        let r = sign_up_with(&app, form, &[]).await;
        assert_eq!(r.status, 303, "{url}: {}", r.body);
        let file = "email,locale,topics,status,consent_source,consent_date\n\
                    eve@example.de,de,,confirmed,\"=HYPERLINK(\"\"http://evil.example\"\")\",2025-01-01\n\
                    \"zoe@example.de\",en,,confirmed,@SUM(1;2),2025-01-01\n";
        let r = app
            .post_form(
                "/admin/subscribers/import",
                Some(&admin),
                "en",
                &[("csv", file)],
            )
            .await;
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let export = app.get("/admin/subscribers.csv", Some(&admin), "en").await;
        let line = |email: &str| {
            export
                .body
                .lines()
                .find(|l| l.contains(email))
                .unwrap_or_else(|| panic!("{email} missing: {}", export.body))
                .to_string()
        };
        let mallory = line("mallory@example.de");
        assert!(
            mallory.contains(&format!(",\"{BASE}/\",")),
            "{url}: {mallory}"
        );
        assert!(!mallory.contains("cmd"), "{url}: {mallory}");
        assert!(
            line("eve@example.de").contains(",\"'=HYPERLINK(\"\"http://evil.example\"\")\","),
            "{}",
            export.body
        );
        assert!(
            line("zoe@example.de").contains(",\"'@SUM(1;2)\","),
            "{}",
            export.body
        );
        // No field of any line starts unquoted, so `;` never opens a new cell.
        for l in export.body.trim_start_matches('\u{feff}').lines() {
            assert!(l.starts_with('"') && l.ends_with('"'), "{url}: {l}");
        }
    }
}

/// Two sign-ups give two links; the first confirms, and then the second is spent too: no second
/// welcome mail, no second `confirmed` event, `confirmed_at` unchanged (its page says the
/// subscription is already confirmed).
#[tokio::test]
async fn an_older_confirmation_link_does_not_confirm_again() {
    for (app, url) in TestApp::on_every_backend().await {
        sign_up(&app, "otto@example.de", "de").await;
        let first = link_in_mail(&app, "otto@example.de", "/newsletter/confirm/").await;
        sign_up(&app, "otto@example.de", "de").await;
        let second = link_in_mail(&app, "otto@example.de", "/newsletter/confirm/").await;
        assert_ne!(first, second);
        let r = app.post_form(&first, None, "de", &[]).await;
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let s = app
            .store
            .subscriber_by_email(&Email::parse("otto@example.de").unwrap())
            .await
            .unwrap()
            .unwrap();
        // Spent: it says the subscription stands and does nothing.
        let already = kontor_i18n::t(Locale::De, "newsletter-confirmed-already");
        for r in [
            app.get(&second, None, "de").await,
            app.post_form(&second, None, "de", &[]).await,
        ] {
            assert_eq!(r.status, 200, "{url}");
            assert!(r.body.contains(&already), "{url}: {}", r.body);
        }
        let after = app.store.subscriber(s.id).await.unwrap();
        assert_eq!(after.confirmed_at, s.confirmed_at);
        let mails = app.store.outbox(Some("otto@example.de"), 10).await.unwrap();
        assert_eq!(
            mails
                .iter()
                .filter(|m| m.kind == "newsletter-welcome")
                .count(),
            1,
            "{url}"
        );
        let events = app.store.consent_events(s.id).await.unwrap();
        assert_eq!(
            events.iter().filter(|e| e.kind == "confirmed").count(),
            1,
            "{url}"
        );
    }
}

/// Pages whose URL holds a token send no Referer onwards and are not cached, on every answer
/// (valid, invalid, GET and POST).
#[tokio::test]
async fn token_pages_send_no_referrer_and_are_not_cached() {
    let app = TestApp::new().await;
    sign_up(&app, "rita@example.de", "de").await;
    let link = link_in_mail(&app, "rita@example.de", "/newsletter/confirm/").await;
    let page = app.get(&link, None, "de").await;
    let done = app.post_form(&link, None, "de", &[]).await;
    let token = app
        .store
        .subscriber_by_email(&Email::parse("rita@example.de").unwrap())
        .await
        .unwrap()
        .unwrap()
        .unsubscribe_token;
    let mut replies = vec![page, done];
    for path in [
        format!("/newsletter/unsubscribe/{token}"),
        format!("/newsletter/preferences/{token}"),
        "/newsletter/preferences/0123456789abcdef0123".to_string(),
    ] {
        replies.push(app.get(&path, None, "de").await);
    }
    for r in &replies {
        assert_eq!(r.header("referrer-policy"), "no-referrer", "{}", r.body);
        assert_eq!(r.header("cache-control"), "no-store");
    }
    assert_eq!(replies[1].status, 200);
    assert_eq!(replies[4].status, 404);
    // Other pages keep the defaults.
    assert_ne!(
        app.get("/newsletter", None, "de")
            .await
            .header("cache-control"),
        "no-store"
    );
}

/// The sign-up block belongs to public pages, not to sign-in, administration or a call.
#[tokio::test]
async fn the_sign_up_block_is_left_off_non_public_pages() {
    let app = TestApp::new().await;
    app.user("admin@kontor.example", Locale::En, true).await;
    let admin = app.sign_in("admin@kontor.example").await;
    let block = "class=\"newsletter-block\"";
    let public = app.get("/events", Some(&admin), "de").await;
    assert!(public.body.contains(block), "{}", public.body);
    for path in ["/admin/subscribers", "/profile"] {
        let r = app.get(path, Some(&admin), "de").await;
        assert_eq!(r.status, 200, "{path}");
        assert!(!r.body.contains(block), "{path}");
    }
    let signin = app.get("/signin", None, "de").await;
    assert!(!signin.body.contains(block));
}

/// The admin list: erasing asks first and every row's buttons name their address; past 500 rows
/// the list goes on on a next page.
#[tokio::test]
async fn the_admin_list_pages_and_names_each_rows_actions() {
    for (app, url) in TestApp::on_every_backend().await {
        app.user("admin@kontor.example", Locale::En, true).await;
        let admin = app.sign_in("admin@kontor.example").await;
        let mut file = String::from("email,locale,topics,status,consent_source,consent_date\n");
        for i in 0..501 {
            file.push_str(&format!(
                "p{i:03}@example.de,de,,confirmed,Fair 2025,2025-01-01\n"
            ));
        }
        let r = app
            .post_form(
                "/admin/subscribers/import",
                Some(&admin),
                "en",
                &[("csv", &file)],
            )
            .await;
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let rows = |body: &str| body.matches("/erase\"").count();
        let first = app.get("/admin/subscribers", Some(&admin), "en").await;
        assert_eq!(rows(&first.body), 500, "{url}");
        assert!(
            first
                .body
                .contains("href=\"/admin/subscribers?q=&amp;page=1\""),
            "{url}"
        );
        assert!(first.body.contains(&format!(
            "data-confirm=\"{}\"",
            kontor_i18n::catalog().message(
                Locale::En,
                "subscribers-erase-confirm",
                &[("email", kontor_i18n::Arg::from("p000@example.de"))]
            )
        )));
        assert!(
            first
                .body
                .contains("aria-label=\"Erase p000@example.de with all records\"")
        );
        assert!(
            first
                .body
                .contains("aria-label=\"Unsubscribe p000@example.de\"")
        );
        let second = app
            .get("/admin/subscribers?q=&page=1", Some(&admin), "en")
            .await;
        assert_eq!(rows(&second.body), 1, "{url}");
        assert!(
            second
                .body
                .contains("href=\"/admin/subscribers?q=&amp;page=0\"")
        );
        assert!(!second.body.contains("page=2"));
    }
}

/// Several sign-ups of one new address at the same moment: every one gets the same answer, one
/// record is written, and no request fails (on PostgreSQL the losers of the unique race drop
/// their transaction).
#[tokio::test]
async fn concurrent_sign_ups_of_one_address_keep_one_record() {
    for (app, url) in TestApp::on_every_backend().await {
        let replies =
            futures_util::future::join_all((0..6).map(|_| sign_up(&app, "same@example.de", "de")))
                .await;
        for r in &replies {
            assert_eq!(
                (r.status, r.header("location")),
                (303, "/newsletter/thanks"),
                "{url}: {}",
                r.body
            );
        }
        let all = app.store.subscribers("same", 10).await.unwrap();
        assert_eq!(all.len(), 1, "{url}");
        let id = all[0].subscriber.id;
        let events = app.store.consent_events(id).await.unwrap();
        let signups = events.iter().filter(|e| e.kind == "signup").count();
        let mails = app.store.outbox(Some("same@example.de"), 10).await.unwrap();
        // Each recorded sign-up queued exactly one confirmation (at most three an hour).
        assert!((1..=3).contains(&signups), "{url}: {events:?}");
        assert_eq!(mails.len(), signups, "{url}");
    }
}

/// Behind a reverse proxy the client address is the rightmost X-Forwarded-For entry (the one the
/// proxy appended); what the client wrote to its left is not trusted.
#[tokio::test]
async fn the_proof_keeps_the_address_the_proxy_saw() {
    let store = kontor_store::Store::connect("sqlite::memory:")
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut config = kontor_web::WebConfig::new(BASE);
    config.trust_forwarded_for = true;
    config.consent_ip = kontor_domain::ConsentIp::Full;
    let app = TestApp::configured(store, config);
    let r = sign_up_with(
        &app,
        signup_form("pia@example.de", "de"),
        &[("x-forwarded-for", "6.6.6.6, 198.51.100.7")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let s = app
        .store
        .subscriber_by_email(&Email::parse("pia@example.de").unwrap())
        .await
        .unwrap()
        .unwrap();
    let events = app.store.consent_events(s.id).await.unwrap();
    assert_eq!(events[0].ip.as_deref(), Some("198.51.100.7"));
}

/// The per-address limit on confirmation mails keys on a hash, so erasing a person leaves no
/// trace of their address in `rate_limits`.
#[tokio::test]
async fn the_confirmation_rate_limit_keeps_no_address() {
    for (app, url) in TestApp::on_every_backend().await {
        sign_up(&app, "quinn@example.de", "de").await;
        let sql = "SELECT bucket FROM rate_limits";
        let buckets: Vec<(String,)> = if url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
        } else {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
        };
        let hashed = format!(
            "newsletter-confirm:{}",
            hex(&sha2::Sha256::digest(b"quinn@example.de"))
        );
        assert!(
            buckets.iter().any(|(b,)| *b == hashed),
            "{url}: {buckets:?}"
        );
        assert!(
            buckets.iter().all(|(b,)| !b.contains("quinn")),
            "{url}: {buckets:?}"
        );
    }
}

/// The consent text mentions the privacy notice: the form links to it, in the reader's language.
#[tokio::test]
async fn the_consent_text_links_the_privacy_notice() {
    let app = TestApp::new().await;
    for (path, lang, key) in [("/events", "de", "de"), ("/newsletter", "zh-CN", "zh")] {
        let page = app.get(path, None, lang).await;
        let l = Locale::parse(key).unwrap();
        let link = format!(
            "<a href=\"&#x2f;pages&#x2f;{key}&#x2f;privacy\">{}</a>",
            kontor_i18n::t(l, "newsletter-privacy-link")
        );
        assert!(page.body.contains(&link), "{path}: {}", page.body);
    }
}

/// A CSV import by an administrator.
async fn import(app: &TestApp, cookie: &str, lang: &str, csv: &str) -> Reply {
    app.post_form(
        "/admin/subscribers/import",
        Some(cookie),
        lang,
        &[("csv", csv)],
    )
    .await
}

/// An erased address stays on the suppression list (as a hash only): a CSV import skips it and
/// says so in the administrator's language; the person's own new sign-up is new consent, and
/// its confirmation lifts the suppression.
#[tokio::test]
async fn an_erased_address_is_not_imported_again_but_may_sign_up_again() {
    for (app, url) in TestApp::on_every_backend().await {
        app.user("admin@kontor.example", Locale::De, true).await;
        let admin = app.sign_in("admin@kontor.example").await;
        app.user("guanliyuan@kontor.example", Locale::Zh, true)
            .await;
        let admin_zh = app.sign_in("guanliyuan@kontor.example").await;
        let token = confirmed(&app, "gone@example.de").await;
        let id = id_of(&app, &token).await;
        let r = app
            .post_form(
                &format!("/admin/subscribers/{id}/erase"),
                Some(&admin),
                "de",
                &[],
            )
            .await;
        assert_eq!(r.status, 303, "{url}");
        let gone = Email::parse("gone@example.de").unwrap();
        assert!(app.store.is_suppressed(&gone).await.unwrap(), "{url}");

        let csv = "email,locale,topics,status,consent_source,consent_date\n\
                   Gone@Example.de,de,,confirmed,Messe 2025,2025-05-01\n\
                   neu@example.de,de,,confirmed,Messe 2025,2025-05-01\n";
        let r = import(&app, &admin, "de", csv).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body.contains("1 Abonnent importiert; 0 Adressen"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("1 Adresse wurde übersprungen"),
            "{}",
            r.body
        );
        assert_eq!(status_of(&app, "gone@example.de").await, None, "{url}");
        assert_eq!(
            status_of(&app, "neu@example.de").await,
            Some(SubscriberStatus::Confirmed)
        );
        // The same file again, for a Chinese-speaking administrator: nothing new.
        let r = import(&app, &admin_zh, "zh", csv).await;
        assert!(r.body.contains("已跳过 1 个地址"), "{}", r.body);
        assert_eq!(status_of(&app, "gone@example.de").await, None);

        // The person signs up again: suppressed until confirmed, then not.
        assert_eq!(sign_up(&app, "gone@example.de", "de").await.status, 303);
        assert_eq!(
            status_of(&app, "gone@example.de").await,
            Some(SubscriberStatus::Pending)
        );
        assert!(app.store.is_suppressed(&gone).await.unwrap());
        let link = link_in_mail(&app, "gone@example.de", "/newsletter/confirm/").await;
        assert_eq!(app.post_form(&link, None, "de", &[]).await.status, 200);
        assert_eq!(
            status_of(&app, "gone@example.de").await,
            Some(SubscriberStatus::Confirmed)
        );
        assert!(!app.store.is_suppressed(&gone).await.unwrap(), "{url}");
        assert!(app.store.suppressed_hashes().await.unwrap().is_empty());
    }
}

/// A signed-in reader finds their address in the sign-up forms (and may change it); an
/// anonymous one finds them empty.
#[tokio::test]
async fn the_sign_up_forms_know_a_signed_in_readers_address() {
    let app = TestApp::new().await;
    app.user("anna@example.de", kontor_domain::Locale::De, false)
        .await;
    let anna = app.sign_in("anna@example.de").await;
    for path in ["/newsletter", "/events"] {
        let page = app.get(path, Some(&anna), "de").await;
        assert!(
            page.body.contains(r#"value="anna@example.de""#),
            "{path}: {}",
            page.body
        );
        let anonymous = app.get(path, None, "de").await;
        assert!(!anonymous.body.contains("anna@example.de"), "{path}");
    }
}
