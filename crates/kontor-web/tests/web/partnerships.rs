//! Partnerships on both databases: staff write a partner city, an agreement and its timeline;
//! the agreement is sent, signed by link in two languages and completed; the public and the
//! API see it only then.

use kontor_domain::Locale;

use crate::helpers::{Reply, TestApp};
use crate::magazine::editor;

/// The signing link's path from a mail's text.
fn sign_path(text: &str) -> String {
    let i = text.find("/sign/").expect("a signing link");
    text[i..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

/// The digest of the text a signing page shows (its hidden field), if it has the form.
fn shown_digest(page: &str) -> Option<String> {
    let i = page.find("name=\"digest\" value=\"")? + 21;
    Some(page[i..i + 64].to_string())
}

/// Signs through the page behind `link`, as a browser would: the form sends the digest it shows
/// (a page without the form, as after signing, sends none).
async fn sign(app: &TestApp, link: &str, lang: &str, name: &str) -> Reply {
    let digest = shown_digest(&app.get(link, None, lang).await.body).unwrap_or_default();
    app.post_form(
        link,
        None,
        lang,
        &[
            ("signed_name", name),
            ("consent", "yes"),
            ("digest", &digest),
        ],
    )
    .await
}

fn agreement_form<'a>(signatories: &[(&'a str, &'a str, &'a str)]) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = vec![
        ("kind".into(), "memorandum".into()),
        ("title_de".into(), "Absichtserklärung Wasserstoff".into()),
        ("title_zh".into(), "氢能合作备忘录".into()),
        (
            "body_de".into(),
            "## Artikel 1\n\nWir arbeiten zusammen.".into(),
        ),
        ("body_zh".into(), "## 第一条\n\n我们开展合作。".into()),
        ("fields".into(), "economy".into()),
        ("fields".into(), "environment".into()),
    ];
    for (i, (name, email, locale)) in signatories.iter().enumerate() {
        form.push((format!("sig{i}_name"), name.to_string()));
        form.push((format!("sig{i}_capacity"), format!("Vertreter {i}")));
        form.push((format!("sig{i}_email"), email.to_string()));
        form.push((format!("sig{i}_locale"), locale.to_string()));
    }
    form
}

async fn post(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    lang: &str,
    form: &[(String, String)],
) -> Reply {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form(path, cookie, lang, &pairs).await
}

/// The hidden `link` field of the staff's "new link" form for the signatory at `position`.
fn link_field(page: &str, position: i32) -> String {
    let form = page
        .find(&format!("/signatories/{position}/link\""))
        .expect("a new-link form");
    let marker = "name=\"link\" value=\"";
    let start = form + page[form..].find(marker).expect("its link field") + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

/// Posts an action as an outsider (refused) and then as staff; the staff's reply.
async fn staff_only(app: &TestApp, path: &str, outsider: &str, staff: &str) -> Reply {
    let refused = app.post_form(path, Some(outsider), "en", &[]).await;
    assert_eq!(refused.status, 403, "{path}");
    app.post_form(path, Some(staff), "en", &[]).await
}

/// A draft to Anna Becker (German) and 李伟 (Chinese).
async fn new_agreement(app: &TestApp, staff: &str) -> Reply {
    let form = agreement_form(&[
        ("Anna Becker", "anna@agentur.example", "de"),
        ("李伟", "li.wei@guiyang.example", "zh"),
    ]);
    post(
        app,
        "/partnerships/guiyang/agreements/new",
        Some(staff),
        "en",
        &form,
    )
    .await
}

#[tokio::test]
async fn an_agreement_is_written_sent_signed_by_link_and_then_public() {
    for (app, _) in TestApp::on_every_backend().await {
        let staff = editor(&app, "desk@agentur.example").await;
        app.user("someone@example.de", Locale::De, false).await;
        let outsider = app.sign_in("someone@example.de").await;

        // The city: refused field by field, then saved.
        let bad = app
            .post_form(
                "/partnerships/new",
                Some(&staff),
                "de",
                &[
                    ("slug", "Gui Yang"),
                    ("country", "XX"),
                    ("since_year", "87"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        for message in [
            "Please fill this in in at least one language.",
            "Please enter a year between 1900 and 2200, such as 1987.",
            "Please choose one of the options.",
        ] {
            assert!(bad.body.contains(message), "{message}: {}", bad.body);
        }
        let city = [
            ("slug", "guiyang"),
            ("name_de", "Guiyang"),
            ("name_zh", "贵阳"),
            ("country", "CN"),
            ("since_year", "2025"),
            ("description_de", "Partnerstadt in Guizhou."),
        ];
        assert_eq!(
            app.post_form("/partnerships/new", Some(&outsider), "de", &city)
                .await
                .status,
            403
        );
        let r = app
            .post_form("/partnerships/new", Some(&staff), "de", &city)
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let again = app
            .post_form("/partnerships/new", Some(&staff), "de", &city)
            .await;
        assert_eq!(again.status, 422);
        assert!(
            again.body.contains("another partner city"),
            "{}",
            again.body
        );
        let list = app.get("/partnerships", None, "zh").await;
        assert!(
            list.body.contains("贵阳") && list.body.contains("自 2025 年起结为伙伴"),
            "{}",
            list.body
        );

        // The agreement: one signatory is not enough; the same address twice is refused.
        let one = post(
            &app,
            "/partnerships/guiyang/agreements/new",
            Some(&staff),
            "en",
            &agreement_form(&[("Anna Becker", "anna@agentur.example", "de")]),
        )
        .await;
        assert_eq!(one.status, 422);
        assert!(
            one.body.contains("at least two signatories"),
            "{}",
            one.body
        );
        let twice = post(
            &app,
            "/partnerships/guiyang/agreements/new",
            Some(&staff),
            "en",
            &agreement_form(&[
                ("Anna Becker", "anna@agentur.example", "de"),
                ("Li Wei", "anna@agentur.example", "zh"),
            ]),
        )
        .await;
        assert_eq!(twice.status, 422);
        assert!(
            twice.body.contains("already given for another signatory"),
            "{}",
            twice.body
        );
        let r = new_agreement(&app, &staff).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let url = r.header("location").split('?').next().unwrap().to_string();

        // A draft may be deleted (only a draft).
        let scrap = new_agreement(&app, &staff).await;
        let scrap = scrap
            .header("location")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let deleted = staff_only(&app, &format!("{scrap}/delete"), &outsider, &staff).await;
        assert_eq!(deleted.status, 303);
        assert!(
            app.get(deleted.header("location"), Some(&staff), "en")
                .await
                .body
                .contains("The draft has been deleted.")
        );
        assert_eq!(app.get(&scrap, Some(&staff), "en").await.status, 404);

        // A draft is the staff's: not on the public page, not in the API.
        assert_eq!(app.get(&url, None, "en").await.status, 404);
        assert_eq!(app.get(&url, Some(&outsider), "en").await.status, 404);
        let public = app.get("/partnerships/guiyang", None, "en").await;
        assert!(!public.body.contains("Absichtserklärung Wasserstoff"));
        let api = app
            .get("/api/v1/partnerships/guiyang", None, "en")
            .await
            .json();
        assert_eq!(api["agreements"], serde_json::json!([]));
        let page = app.get(&url, Some(&staff), "en").await;
        assert!(page.body.contains("Send to 2 signatories"), "{}", page.body);

        // Sending freezes it and mails each signatory a link in their language.
        let sent = staff_only(&app, &format!("{url}/send"), &outsider, &staff).await;
        assert_eq!(sent.status, 303);
        let twice = app
            .post_form(&format!("{url}/send"), Some(&staff), "en", &[])
            .await;
        assert_eq!(twice.status, 303, "a second click shows what the first did");
        assert_eq!(
            app.store
                .outbox(Some("anna@agentur.example"), 5)
                .await
                .unwrap()
                .len(),
            1,
            "sent once"
        );

        // Withdrawn (say, to correct an address): links die, signatories are told, a draft again.
        let first_link = sign_path(
            &app.store
                .outbox(Some("anna@agentur.example"), 1)
                .await
                .unwrap()[0]
                .body_text,
        );
        let withdrawn = staff_only(&app, &format!("{url}/withdraw"), &outsider, &staff).await;
        assert_eq!(withdrawn.status, 303);
        let told = &app
            .store
            .outbox(Some("li.wei@guiyang.example"), 5)
            .await
            .unwrap();
        assert!(told[0].subject.starts_with("已撤回"), "{}", told[0].subject);
        // A second click on "withdraw" lands on the same page and tells nobody twice.
        let twice = app
            .post_form(&format!("{url}/withdraw"), Some(&staff), "en", &[])
            .await;
        assert_eq!(twice.status, 303);
        assert_eq!(twice.header("location"), withdrawn.header("location"));
        assert_eq!(
            app.store
                .outbox(Some("li.wei@guiyang.example"), 5)
                .await
                .unwrap()
                .len(),
            told.len()
        );
        assert_eq!(
            app.get(&first_link, None, "de").await.status,
            404,
            "the old link is dead"
        );
        let page = app.get(&url, Some(&staff), "en").await;
        assert!(
            page.body.contains("Send to 2 signatories"),
            "a draft again: {}",
            page.body
        );
        assert_eq!(
            app.post_form(&format!("{url}/send"), Some(&staff), "en", &[])
                .await
                .status,
            303
        );
        let edit = post(
            &app,
            &format!("{url}/edit"),
            Some(&staff),
            "en",
            &agreement_form(&[
                ("Anna Becker", "anna@agentur.example", "de"),
                ("Li Wei", "li@x.example", "zh"),
            ]),
        )
        .await;
        assert_eq!(edit.status, 409, "a sent agreement does not change");
        assert_eq!(
            app.post_form(&format!("{url}/delete"), Some(&staff), "en", &[])
                .await
                .status,
            409,
            "nor is it deleted"
        );
        let anna = &app
            .store
            .outbox(Some("anna@agentur.example"), 5)
            .await
            .unwrap()[0];
        assert!(
            anna.subject
                .starts_with("Bitte unterzeichnen: Absichtserklärung Wasserstoff"),
            "{}",
            anna.subject
        );
        let li = &app
            .store
            .outbox(Some("li.wei@guiyang.example"), 5)
            .await
            .unwrap()[0];
        assert!(li.subject.contains("氢能合作备忘录"), "{}", li.subject);
        let (anna_link, old_li_link) = (sign_path(&anna.body_text), sign_path(&li.body_text));

        // Li lost the mail: a new link replaces the old one. The form names the link it
        // replaces, so a second click does not kill the link just sent.
        let renew = format!("{url}/signatories/1/link");
        assert_eq!(
            app.post_form(&renew, Some(&outsider), "en", &[])
                .await
                .status,
            403
        );
        let current = link_field(&app.get(&url, Some(&staff), "en").await.body, 1);
        let renewed = app
            .post_form(&renew, Some(&staff), "en", &[("link", &current)])
            .await;
        assert_eq!(renewed.status, 303);
        let double = app
            .post_form(&renew, Some(&staff), "en", &[("link", &current)])
            .await;
        assert_eq!(double.status, 303);
        assert_eq!(double.header("location"), renewed.header("location"));
        let notice = app
            .get(renewed.header("location"), Some(&staff), "en")
            .await;
        assert!(
            notice.body.contains("李伟 has been sent a new link"),
            "{}",
            notice.body
        );
        assert_eq!(
            app.get(&old_li_link, None, "zh").await.status,
            404,
            "the old link is dead"
        );
        let li_link = sign_path(
            &app.store
                .outbox(Some("li.wei@guiyang.example"), 1)
                .await
                .unwrap()[0]
                .body_text,
        );
        assert_ne!(li_link, old_li_link);
        assert_eq!(
            app.store
                .outbox(Some("li.wei@guiyang.example"), 9)
                .await
                .unwrap()
                .iter()
                .filter(|m| m.body_text.contains("/sign/"))
                .count(),
            3,
            "first request, request after the withdrawal, one new link"
        );
        assert_eq!(app.get(&li_link, None, "zh").await.status, 200);

        // The signing page shows the frozen text; a wrong name or no consent signs nothing.
        let page = app.get(&anna_link, None, "de").await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("Wir arbeiten zusammen.") && page.body.contains("我们开展合作。"),
            "{}",
            page.body
        );
        assert!(
            !page.body.contains("li.wei@guiyang.example"),
            "no addresses on the signing page"
        );
        assert_eq!(app.get("/sign/not-a-token", None, "de").await.status, 404);
        let digest = shown_digest(&page.body).expect("the signing form");
        let wrong = app
            .post_form(
                &anna_link,
                None,
                "de",
                &[
                    ("signed_name", "Anna B."),
                    ("consent", "yes"),
                    ("digest", &digest),
                ],
            )
            .await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.body.contains("genau so ein"), "{}", wrong.body);
        assert!(
            wrong.body.contains("aria-required=\"true\" checked"),
            "the box stays ticked"
        );
        // A page showing another text (an old tab, a forged form) signs nothing.
        let stale = app
            .post_form(
                &anna_link,
                None,
                "de",
                &[
                    ("signed_name", "Anna Becker"),
                    ("consent", "yes"),
                    ("digest", &"0".repeat(64)),
                ],
            )
            .await;
        assert_eq!(stale.status, 409);
        assert!(stale.body.contains("stimmt nicht mehr"), "{}", stale.body);
        let no_consent = app
            .post_form(&anna_link, None, "de", &[("signed_name", "Anna Becker")])
            .await;
        assert_eq!(no_consent.status, 422);
        assert!(
            no_consent.body.contains("Bitte bestätigen Sie"),
            "{}",
            no_consent.body
        );

        let signed = sign(&app, &anna_link, "de", "  anna   becker ").await;
        assert_eq!(signed.status, 303, "{}", signed.body);
        let after = app.get(signed.header("location"), None, "de").await;
        assert!(
            after.body.contains("1 von 2 haben unterschrieben"),
            "{}",
            after.body
        );
        assert!(
            !after.body.contains("name=\"signed_name\""),
            "no second signature form"
        );
        assert_eq!(
            app.get(&url, None, "en").await.status,
            404,
            "not public while signing"
        );
        // Signing twice changes nothing.
        let again = sign(&app, &anna_link, "de", "Anna Becker").await;
        assert_eq!(again.status, 303);
        assert_eq!(
            app.store
                .outbox(Some("anna@agentur.example"), 5)
                .await
                .unwrap()
                .len(),
            3,
            "request, withdrawal, request again; no record before everyone signed"
        );

        let last = sign(&app, &li_link, "zh", "李 伟").await;
        assert_eq!(last.status, 303, "{}", last.body);
        let done = app.get(last.header("location"), None, "zh").await;
        assert!(done.body.contains("所有签署人均已签署"), "{}", done.body);

        // Complete: everyone gets the record with the text's fingerprint; the public sees it.
        let record = &app
            .store
            .outbox(Some("anna@agentur.example"), 5)
            .await
            .unwrap()[0];
        assert!(
            record.subject.starts_with("Von allen unterzeichnet"),
            "{}",
            record.subject
        );
        assert!(
            record
                .body_text
                .contains("李伟 (Vertreter 1): unterschrieben als „李 伟“ am"),
            "{}",
            record.body_text
        );
        let desk = &app
            .store
            .outbox(Some("desk@agentur.example"), 5)
            .await
            .unwrap()[0];
        assert!(
            desk.subject.starts_with("Signed by everyone"),
            "the author hears of it: {}",
            desk.subject
        );
        // Signed: the city stays on record.
        let kept = app
            .get("/partnerships/guiyang/delete", Some(&staff), "en")
            .await;
        assert!(kept.body.contains("it stays on record"), "{}", kept.body);
        assert_eq!(
            app.post_form("/partnerships/guiyang/delete", Some(&staff), "en", &[])
                .await
                .status,
            409
        );
        // Signed: it can no longer be withdrawn, deleted, or given new links.
        for (action, form) in [
            ("withdraw", vec![]),
            ("delete", vec![]),
            ("signatories/1/link", vec![("link", current.as_str())]),
        ] {
            let r = app
                .post_form(&format!("{url}/{action}"), Some(&staff), "en", &form)
                .await;
            assert_eq!(r.status, 409, "{action}");
        }
        let agreement = app.get(&format!("{url}?renewed=1"), None, "en").await;
        assert_eq!(agreement.status, 200);
        assert!(
            !agreement.body.contains("new link"),
            "staff notices stay with the staff"
        );
        assert!(
            agreement.body.contains("signed as “李 伟”")
                && agreement.body.contains("signed as “anna becker”"),
            "{}",
            agreement.body
        );
        assert!(
            !agreement.body.contains("li.wei@guiyang.example"),
            "addresses stay with the staff"
        );
        let city_page = app.get("/partnerships/guiyang", None, "en").await;
        assert!(
            city_page.body.contains("Absichtserklärung Wasserstoff")
                && city_page.body.contains("Memorandum of understanding"),
            "{}",
            city_page.body
        );
        let api = app
            .get("/api/v1/partnerships/guiyang", None, "en")
            .await
            .json();
        assert_eq!(
            api["agreements"][0]["fields"],
            serde_json::json!(["economy", "environment"])
        );
        assert_eq!(api["agreements"][0]["digest"].as_str().unwrap().len(), 64);
        assert_eq!(api["agreements"][0]["signatories"][1]["name"], "李伟");
        assert_eq!(
            app.get("/api/v1/partnerships", None, "en").await.json()[0]["name"]["zh"],
            "贵阳"
        );
    }
}

#[tokio::test]
async fn the_timeline_takes_entries_and_asks_before_removing_one() {
    for (app, _) in TestApp::on_every_backend().await {
        let staff = editor(&app, "desk@agentur.example").await;
        let r = app
            .post_form(
                "/partnerships/new",
                Some(&staff),
                "en",
                &[
                    ("slug", "beijing"),
                    ("name_en", "Beijing"),
                    ("country", "CN"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let bad = app
            .post_form(
                "/partnerships/beijing/timeline/new",
                Some(&staff),
                "en",
                &[("happened_on", "2020-02-30"), ("kind", "parade")],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(
            bad.body.contains("Please enter a date")
                && bad.body.contains("Please choose one of the options"),
            "{}",
            bad.body
        );
        for (day, title) in [
            ("2020-04-08", "Face masks for hospitals"),
            ("2023-05-02", "Mayors meet"),
        ] {
            let r = app
                .post_form(
                    "/partnerships/beijing/timeline/new",
                    Some(&staff),
                    "en",
                    &[("happened_on", day), ("kind", "aid"), ("title_en", title)],
                )
                .await;
            assert_eq!(r.status, 303, "{}", r.body);
        }
        // An entry is corrected: the older one gets its date right.
        let staff_page = app.get("/partnerships/beijing", Some(&staff), "en").await;
        let end = staff_page.body.rfind("/edit\"").unwrap() + "/edit".len();
        let start = staff_page.body[..end].rfind('"').unwrap() + 1;
        let edit = staff_page.body[start..end].to_string();
        let form = app.get(&edit, Some(&staff), "en").await;
        assert!(form.body.contains("value=\"2020-04-08\""), "{}", form.body);
        let r = app
            .post_form(
                &edit,
                Some(&staff),
                "en",
                &[
                    ("happened_on", "2020-04-09"),
                    ("kind", "aid"),
                    ("title_en", "Face masks for hospitals"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = app.get("/partnerships/beijing", None, "de").await;
        assert!(page.body.contains("09.04.2020"), "{}", page.body);
        let (newer, older) = (
            page.body.find("Mayors meet").unwrap(),
            page.body.find("Face masks").unwrap(),
        );
        assert!(newer < older, "newest first");
        assert!(
            page.body.contains("09.04.2020") && page.body.contains("Hilfslieferung"),
            "{}",
            page.body
        );
        assert!(
            !page.body.contains("/delete"),
            "the public cannot remove entries"
        );

        app.user("someone@example.de", Locale::De, false).await;
        let outsider = app.sign_in("someone@example.de").await;
        let staff_page = app.get("/partnerships/beijing", Some(&staff), "en").await;
        let end = staff_page.body.find("/delete\"").unwrap() + "/delete".len();
        let start = staff_page.body[..end].rfind('"').unwrap() + 1;
        let path = staff_page.body[start..end].to_string();
        let ask = app.get(&path, Some(&staff), "en").await;
        assert_eq!(ask.status, 200);
        assert!(ask.body.contains("cannot be undone"), "{}", ask.body);
        for (path, form) in [
            (
                "/partnerships/beijing/edit".to_string(),
                vec![("name_en", "X"), ("country", "CN")],
            ),
            (
                "/partnerships/beijing/timeline/new".to_string(),
                vec![
                    ("happened_on", "2024-01-01"),
                    ("kind", "aid"),
                    ("title_en", "X"),
                ],
            ),
            (
                edit.clone(),
                vec![
                    ("happened_on", "2024-01-01"),
                    ("kind", "aid"),
                    ("title_en", "X"),
                ],
            ),
            (path.clone(), vec![]),
        ] {
            let r = app.post_form(&path, Some(&outsider), "en", &form).await;
            assert_eq!(r.status, 403, "{path}");
        }
        for page in [&path, &edit] {
            assert_eq!(app.get(page, Some(&outsider), "en").await.status, 403);
        }
        assert_eq!(
            app.post_form(&path, Some(&staff), "en", &[]).await.status,
            303
        );
        assert_eq!(
            app.post_form(&path, Some(&staff), "en", &[]).await.status,
            404
        );
        let page = app.get("/partnerships/beijing", None, "en").await;
        assert_eq!(
            page.body.matches("Face masks").count() + page.body.matches("Mayors meet").count(),
            1
        );

        // Removed as a whole (no agreement out or signed): staff only, after a question.
        let remove = "/partnerships/beijing/delete";
        assert_eq!(app.get(remove, Some(&outsider), "en").await.status, 403);
        assert_eq!(
            app.post_form(remove, Some(&outsider), "en", &[])
                .await
                .status,
            403
        );
        let ask = app.get(remove, Some(&staff), "en").await;
        assert!(ask.body.contains("cannot be undone"), "{}", ask.body);
        let r = app.post_form(remove, Some(&staff), "en", &[]).await;
        assert_eq!(r.header("location"), "/partnerships?removed=1");
        assert_eq!(
            app.get("/partnerships/beijing", None, "en").await.status,
            404
        );
    }
}

#[tokio::test]
async fn a_signatory_who_has_not_signed_is_reminded_once_with_a_new_link() {
    for (app, _) in TestApp::on_every_backend().await {
        let staff = editor(&app, "desk@agentur.example").await;
        let r = app
            .post_form(
                "/partnerships/new",
                Some(&staff),
                "en",
                &[("slug", "guiyang"), ("name_zh", "贵阳"), ("country", "CN")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let created = new_agreement(&app, &staff).await;
        let url = created
            .header("location")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            app.post_form(&format!("{url}/send"), Some(&staff), "en", &[])
                .await
                .status,
            303
        );
        let link_of = |mails: Vec<kontor_store::outbox::OutboxMail>| sign_path(&mails[0].body_text);
        let anna = link_of(
            app.store
                .outbox(Some("anna@agentur.example"), 1)
                .await
                .unwrap(),
        );
        assert_eq!(sign(&app, &anna, "de", "Anna Becker").await.status, 303);

        let now = kontor_domain::now_micros();
        assert_eq!(
            kontor_web::send_signing_reminders(&app.state, now)
                .await
                .unwrap(),
            0
        );
        // A week and a day later; but staff sent Li a new link today: not yet.
        let week_ago = || async {
            let mut tx = app.store.begin().await.unwrap();
            for sql in [
                "UPDATE agreements SET sent_at = sent_at - 8 * 86400000000",
                "UPDATE agreement_signatories SET link_sent_at = link_sent_at - 8 * 86400000000",
            ] {
                kontor_store::testing::execute(&mut tx, sql).await.unwrap();
            }
            tx.commit().await.unwrap();
        };
        week_ago().await;
        let current = link_field(&app.get(&url, Some(&staff), "en").await.body, 1);
        let renewed = app
            .post_form(
                &format!("{url}/signatories/1/link"),
                Some(&staff),
                "en",
                &[("link", &current)],
            )
            .await;
        assert_eq!(renewed.status, 303);
        let first = link_of(
            app.store
                .outbox(Some("li.wei@guiyang.example"), 1)
                .await
                .unwrap(),
        );
        assert_eq!(
            kontor_web::send_signing_reminders(&app.state, now)
                .await
                .unwrap(),
            0,
            "a link mailed today is not reminded"
        );
        week_ago().await;
        assert_eq!(
            kontor_web::send_signing_reminders(&app.state, now)
                .await
                .unwrap(),
            1,
            "only Li"
        );
        assert_eq!(
            kontor_web::send_signing_reminders(&app.state, now)
                .await
                .unwrap(),
            0,
            "once"
        );
        let mails = app
            .store
            .outbox(Some("li.wei@guiyang.example"), 5)
            .await
            .unwrap();
        let reminder = mails
            .iter()
            .find(|m| m.subject.starts_with("提醒：请签署"))
            .expect("a reminder in Chinese");
        let second = sign_path(&reminder.body_text);
        assert_eq!(
            app.get(&first, None, "zh").await.status,
            404,
            "the first link died"
        );
        assert_eq!(sign(&app, &second, "zh", "李伟").await.status, 303);
        let page = app.get(&url, None, "en").await;
        assert_eq!(page.status, 200, "signed by both: public");
        assert_eq!(
            app.store
                .outbox(Some("anna@agentur.example"), 5)
                .await
                .unwrap()
                .len(),
            2,
            "Anna signed: the request and the record, no reminder"
        );
    }
}
