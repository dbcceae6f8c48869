//! The newsletter editor (magazine editors and administrators): compose editions, validation in the reader's
//! language, preview, test send through the outbox, schedule, send, progress, public archive.

use kontor_domain::Locale;

use crate::helpers::TestApp;

async fn editor(app: &TestApp) -> String {
    app.user("editor@kontor.test", Locale::De, true).await;
    app.sign_in("editor@kontor.test").await
}

fn issue_form(subject_en: &str) -> Vec<(&str, &str)> {
    vec![
        ("title", "November"),
        ("include_events", "on"),
        ("subject_de", "Neues im November"),
        ("intro_de", "Liebe Leserinnen und Leser,\n\nes gibt Neues."),
        ("subject_en", subject_en),
        ("intro_en", "Dear readers,\n\n<b>news</b>."),
        ("subject_zh", ""),
        ("intro_zh", ""),
    ]
}

async fn create(app: &TestApp, cookie: &str) -> String {
    let r = app
        .post_form(
            "/admin/newsletter",
            Some(cookie),
            "en",
            &issue_form("News in November"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.header("location").to_string()
}

#[tokio::test]
async fn only_editors_and_administrators_edit_newsletters() {
    let app = TestApp::new().await;
    app.user("someone@kontor.test", Locale::En, false).await;
    let someone = app.sign_in("someone@kontor.test").await;
    assert_eq!(
        app.get("/admin/newsletter", Some(&someone), "en")
            .await
            .status,
        403
    );
    let r = app.get("/admin/newsletter", None, "en").await;
    assert_eq!(r.status, 303);
    let r = app
        .post_form("/admin/newsletter", Some(&someone), "en", &issue_form("x"))
        .await;
    assert_eq!(r.status, 403);
    assert!(app.store.newsletter_issues().await.unwrap().is_empty());
    // The archive is public.
    assert_eq!(app.get("/newsletter/archive", None, "zh").await.status, 200);
}

#[tokio::test]
async fn an_issue_is_composed_previewed_tested_and_sent() {
    let app = TestApp::new().await;
    let cookie = editor(&app).await;
    // An upcoming event for the issue's event section (10 March 2030, one day).
    let organiser = app.user("org@example.de", Locale::De, false).await;
    app.event("h2-days", organiser).await;
    // A subject is needed where an introduction is written; the error is in German.
    let mut bad = issue_form("");
    bad.push(("title", ""));
    let r = app
        .post_form("/admin/newsletter", Some(&cookie), "de", &bad)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Geben Sie einen Betreff an"), "{}", r.body);

    let page = create(&app, &cookie).await;
    let id = page.rsplit('/').next().unwrap().to_string();
    let r = app.get(&page, Some(&cookie), "en").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("News in November"));
    assert!(
        r.body
            .contains(&format!("/admin/newsletter/{id}/preview/de"))
    );
    assert!(
        !r.body
            .contains(&format!("/admin/newsletter/{id}/preview/zh"))
    );

    // The preview is the mail's HTML, escaped, with a working link instead of a token.
    let r = app
        .get(&format!("{page}/preview/en"), Some(&cookie), "en")
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<h1>News in November</h1>"));
    assert!(r.body.contains("&lt;b&gt;news&lt;/b&gt;"));
    // Events carry their dates as readers of the edition write them.
    let de = app
        .get(&format!("{page}/preview/de"), Some(&cookie), "de")
        .await;
    assert!(de.body.contains("10.03.2030"), "{}", de.body);
    assert!(!r.body.contains("{{unsubscribe_url}}"));

    // A test goes through the ordinary outbox, one mail per edition.
    let r = app
        .post_form(
            &format!("{page}/test"),
            Some(&cookie),
            "en",
            &[("test_email", "check@kontor.test")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mails = app
        .store
        .outbox(Some("check@kontor.test"), 10)
        .await
        .unwrap();
    assert_eq!(mails.len(), 2);
    assert!(mails.iter().any(|m| m.subject == "[Test] News in November"));
    assert!(
        mails
            .iter()
            .all(|m| m.body_text.contains("/newsletter/unsubscribe/test"))
    );
    // Not sent yet, it has no archive page: "read online" is the editors' preview.
    assert!(
        mails
            .iter()
            .all(|m| m.body_text.contains(&format!("{page}/preview/"))
                && !m.body_text.contains("/newsletter/archive/")),
        "{mails:?}"
    );

    // Scheduling in the past is refused; in the future it holds.
    let r = app
        .post_form(
            &format!("{page}/schedule"),
            Some(&cookie),
            "en",
            &[("send_at", "2020-01-01T09:00")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // On the issue's page again, at the field, with what was typed.
    for text in [
        "<p class=\"error\" id=\"e-send_at\">",
        "<li><a href=\"#f-send_at\">Versenden am (Berliner Zeit): ",
        "value=\"2020-01-01T09:00\"",
        "name=\"subject_en\"",
    ] {
        assert!(r.body.contains(text), "{text}: {}", r.body);
    }
    let r = app
        .post_form(
            &format!("{page}/test"),
            Some(&cookie),
            "en",
            &[("test_email", "a@b")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"e-test_email\"") && r.body.contains("value=\"a@b\""));
    let r = app
        .post_form(
            &format!("{page}/schedule"),
            Some(&cookie),
            "en",
            &[("send_at", "2099-01-01T09:00")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let issue = app.store.newsletter_issues().await.unwrap().remove(0);
    assert_eq!(issue.status, "scheduled");

    // Send now: no confirmed subscriber yet, so nothing is queued, and the issue is frozen.
    let r = app
        .post_form(&format!("{page}/send"), Some(&cookie), "en", &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.header("location").contains("count=0"));
    let r = app.get(&page, Some(&cookie), "en").await;
    assert!(r.body.contains("aria-live"), "{}", r.body);
    assert!(r.body.contains("Verbleibend"), "the editor reads German");
    assert!(
        !r.body.contains("name=\"subject_en\""),
        "no longer editable"
    );
    let r = app
        .post_form(&page, Some(&cookie), "en", &issue_form("Changed"))
        .await;
    assert_eq!(r.status, 404, "a sent issue cannot change");
    let r = app
        .post_form(&format!("{page}/send"), Some(&cookie), "en", &[])
        .await;
    assert_eq!(r.status, 404, "an issue is sent once");

    // The archive shows it to everyone in their language, without any token.
    let r = app.get("/newsletter/archive", None, "de").await;
    assert!(r.body.contains("Neues im November"), "{}", r.body);
    let r = app.get("/newsletter/archive", None, "en").await;
    assert!(r.body.contains("News in November"), "{}", r.body);
    assert!(!r.body.contains("Neues im November"), "one line per issue");
    assert!(
        !r.body.contains("(German)"),
        "in the reader's language: no note"
    );
    // No Chinese edition: the Chinese reader is told the issue's language.
    let r = app.get("/newsletter/archive", None, "zh").await;
    assert!(r.body.contains("</a> (德语)"), "{}", r.body);
    let r = app
        .get(&format!("/newsletter/archive/{id}?lang=en"), None, "en")
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("News in November"));
    assert!(!r.body.contains("{{unsubscribe_url}}"));
    // The copy's unsubscribe link leads to the newsletter page (which explains the personal
    // link in every received issue), not back to the archive.
    assert!(
        r.body
            .contains("href=\"http://kontor.test/newsletter?lang=en\""),
        "{}",
        r.body
    );
    // Its "read online" would lead to itself: it leads to the archive.
    assert!(
        r.body
            .contains("<a href=\"http://kontor.test/newsletter/archive\">Newsletter archive</a>")
            && !r.body.contains(&format!("newsletter/archive/{id}?lang=en")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn magazine_editors_compose_and_an_edition_lists_its_languages_new_articles() {
    use crate::magazine::{create as article, editor as magazine_editor, fields};
    let app = TestApp::new().await;
    let cookie = magazine_editor(&app, "redaktion@kontor.test").await;
    article(
        &app,
        fields(
            Locale::En,
            "guiyang-mou",
            "Guiyang signs an MoU",
            "Body.",
            &["china"],
        ),
    )
    .await;
    article(
        &app,
        fields(
            Locale::De,
            "absichtserklaerung",
            "Absichtserklärung unterzeichnet",
            "Text.",
            &["china"],
        ),
    )
    .await;
    let mut old = fields(
        Locale::En,
        "last-year",
        "An article from last year",
        "Old.",
        &[],
    );
    old.publish_at = Some(kontor_domain::now_micros() - 400 * 86_400_000_000);
    article(&app, old).await;

    // A magazine editor who is not an administrator may write newsletters.
    let page = create(&app, &cookie).await;
    let en = app
        .get(&format!("{page}/preview/en"), Some(&cookie), "en")
        .await;
    assert_eq!(en.status, 200, "{}", en.body);
    assert!(en.body.contains("New in the magazine"), "{}", en.body);
    assert!(en.body.contains("/magazine/en/guiyang-mou"));
    assert!(
        !en.body.contains("Absichtserklärung"),
        "only the edition's language"
    );
    assert!(
        !en.body.contains("last-year"),
        "only the last month's articles"
    );
    let de = app
        .get(&format!("{page}/preview/de"), Some(&cookie), "de")
        .await;
    assert!(de.body.contains("Neu im Magazin"), "{}", de.body);
    assert!(de.body.contains("/magazine/de/absichtserklaerung"));
}

#[tokio::test]
async fn an_issue_with_a_topic_goes_to_its_subscribers_and_those_who_chose_none() {
    use kontor_domain::{Email, SubscriberStatus, Topic};
    use kontor_store::subscribers::NewSubscriber;
    for (app, _) in TestApp::on_every_backend().await {
        let cookie = editor(&app).await;
        let mut tx = app.store.begin().await.unwrap();
        for (email, topics, locale) in [
            ("all@example.de", vec![], Locale::De),
            (
                "h2@example.de",
                vec![Topic::Hydrogen, Topic::China],
                Locale::De,
            ),
            ("jobs@example.de", vec![Topic::Jobs], Locale::De),
            // No Chinese edition below: this reader is counted as missed, not silently dropped.
            ("qing@example.cn", vec![Topic::Hydrogen], Locale::Zh),
        ] {
            let email = Email::parse(email).unwrap();
            let token = format!("token-{}", email.as_str());
            tx.create_subscriber(
                &NewSubscriber {
                    email: &email,
                    locale,
                    topics: &topics,
                    status: SubscriberStatus::Confirmed,
                    unsubscribe_token: &token,
                },
                kontor_domain::now_micros(),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();

        let mut form = issue_form("Hydrogen news");
        form.push(("topic", "no-such-topic"));
        let r = app
            .post_form("/admin/newsletter", Some(&cookie), "en", &form)
            .await;
        assert_eq!(r.status, 422, "an unknown topic is refused");
        form.pop();
        form.push(("topic", "hydrogen"));
        let r = app
            .post_form("/admin/newsletter", Some(&cookie), "en", &form)
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = r.header("location").to_string();
        let edit = app.get(&page, Some(&cookie), "en").await;
        assert!(
            edit.body.contains(r#"<option value="hydrogen" selected>"#),
            "{}",
            edit.body
        );
        // Before sending, the page says who gets it and who does not.
        assert!(
            edit.body
                .contains("Diese Ausgabe geht an 2 bestätigte Abonnentinnen"),
            "{}",
            edit.body
        );
        assert!(
            edit.body.contains(
                "1 weitere erhalten nichts, weil es in ihrer Sprache keine Ausgabe gibt: Chinesisch (1)."
            ),
            "{}",
            edit.body
        );
        assert!(
            edit.body
                .contains("Jetzt an 2 Abonnentinnen und Abonnenten versenden?")
        );
        let hydrogen: uuid::Uuid = page.rsplit('/').next().unwrap().parse().unwrap();
        let everyone: uuid::Uuid = {
            let r = create(&app, &cookie).await;
            r.rsplit('/').next().unwrap().parse().unwrap()
        };
        let now = kontor_domain::now_micros();
        let base = "https://kontor.example.org";
        assert_eq!(
            kontor_mail::newsletter::start_issue(&app.store, base, hydrogen, now)
                .await
                .unwrap(),
            2,
            "the hydrogen reader and the reader of every topic"
        );
        assert_eq!(
            kontor_mail::newsletter::start_issue(&app.store, base, everyone, now)
                .await
                .unwrap(),
            3
        );
    }
}

/// Without SMTP (the demo) "Send" puts one message per confirmed subscriber into the local
/// mailbox, rendered as for SMTP (List-Unsubscribe pair), once; progress and archive as usual.
#[tokio::test]
async fn without_smtp_an_issue_goes_to_the_local_mailbox_once_per_confirmed_subscriber() {
    use kontor_domain::{Email, SubscriberStatus};
    use kontor_mail::bulk::NewsletterMailer;
    use kontor_mail::mailbox::{KIND, MailboxSender};
    use kontor_mail::smtp::sender_address;
    use kontor_store::subscribers::NewSubscriber;
    for (app, url) in TestApp::on_every_backend().await {
        let cookie = editor(&app).await;
        let mut tx = app.store.begin().await.unwrap();
        for (i, (email, locale, status)) in [
            ("anna@example.de", Locale::De, SubscriberStatus::Confirmed),
            ("ben@example.com", Locale::En, SubscriberStatus::Confirmed),
            ("lena@example.de", Locale::De, SubscriberStatus::Confirmed),
            ("pending@example.de", Locale::De, SubscriberStatus::Pending),
            (
                "left@example.de",
                Locale::De,
                SubscriberStatus::Unsubscribed,
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let email = Email::parse(email).unwrap();
            let token = format!("unsubscribetoken{i}");
            tx.create_subscriber(
                &NewSubscriber {
                    email: &email,
                    locale,
                    topics: &[],
                    status,
                    unsubscribe_token: &token,
                },
                kontor_domain::now_micros(),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let page = create(&app, &cookie).await;
        let r = app.get(&page, Some(&cookie), "en").await;
        assert!(
            r.body.contains("Newsletter gehen in das lokale Postfach"),
            "{}",
            r.body
        );
        let r = app
            .post_form(&format!("{page}/send"), Some(&cookie), "en", &[])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(r.header("location").contains("count=3"), "{url}");

        let starter = kontor_mail::newsletter::starter(&app.store, crate::helpers::BASE);
        let mailer = NewsletterMailer::new(
            sender_address("Kontor <newsletter@kontor.test>").unwrap(),
            crate::helpers::BASE,
            None,
        );
        let mut sender = MailboxSender::new(app.store.clone(), mailer, starter);
        sender.batch = 2; // several batches
        assert_eq!(sender.deliver_due().await.unwrap(), 3, "{url}");
        assert_eq!(
            sender.deliver_due().await.unwrap(),
            0,
            "each recipient once"
        );

        let mails: Vec<_> = app
            .store
            .outbox(None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.kind == KIND)
            .collect();
        let mut to: Vec<&str> = mails.iter().map(|m| m.recipient.as_str()).collect();
        to.sort();
        assert_eq!(
            to,
            ["anna@example.de", "ben@example.com", "lena@example.de"],
            "{url}"
        );
        for m in &mails {
            assert_eq!(
                (m.status.as_str(), m.transport.as_deref()),
                ("sent", Some("local"))
            );
            let raw = m.raw_message.as_deref().expect("the whole message");
            let token = app
                .store
                .subscriber_by_email(&Email::parse(&m.recipient).unwrap())
                .await
                .unwrap()
                .unwrap()
                .unsubscribe_token;
            let link = format!("{}/newsletter/unsubscribe/{token}", crate::helpers::BASE);
            assert!(
                raw.contains(&format!("List-Unsubscribe: <{link}>\r\n")),
                "{raw}"
            );
            assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
            assert!(raw.contains("Message-ID: <"));
            assert!(m.body_text.contains(&link), "the visible link works");
            let expected = if m.recipient.ends_with(".com") {
                "News in November"
            } else {
                "Neues im November"
            };
            assert_eq!(m.subject, expected);
        }
        // The mailbox page shows the headers and the unsubscribe link.
        let r = app
            .get(&format!("/mailbox/{}", mails[0].id), Some(&cookie), "en")
            .await;
        assert_eq!(r.status, 200);
        assert!(
            r.body
                .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{}",
            r.body
        );

        // Progress and archive as with SMTP.
        let issue = app.store.newsletter_issues().await.unwrap().remove(0);
        assert_eq!(issue.status, "sent");
        let p = app.store.newsletter_progress(issue.id).await.unwrap();
        assert_eq!((p.sent, p.queued, p.failed), (3, 0, 0));
        let r = app.get(&page, Some(&cookie), "en").await;
        assert!(r.body.contains("aria-live"), "{}", r.body);
        let r = app.get("/newsletter/archive", None, "en").await;
        assert!(r.body.contains("News in November"), "{}", r.body);
    }
}
