use kontor_domain::{Locale, ParticipantRole, TimeZoneName};
use kontor_store::events::MatchmakingRules;

use crate::helpers::TestApp;

async fn set_zone(app: &TestApp, email: &str, zone: &str) {
    let user = app
        .store
        .user_by_email(&kontor_domain::Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut tx = app.store.begin().await.unwrap();
    tx.update_profile(
        user.id,
        &kontor_store::accounts::ProfileUpdate {
            name: user.name.clone(),
            job_title: None,
            organisation_id: None,
            languages: vec![],
            time_zone: TimeZoneName::parse(zone).unwrap(),
            locale: user.locale,
            phone: Some("+86 851 1234567".into()),
            contact_public: false,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// The usual cast: Anna (German exhibitor) and Li (Chinese visitor), both approved for
/// h2-days and signed in.
struct Fair {
    ev: uuid::Uuid,
    anna: uuid::Uuid,
    li: uuid::Uuid,
    anna_c: String,
    li_c: String,
}

async fn fair(app: &TestApp) -> Fair {
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let anna = app.user("anna@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    let ev = app.event("h2-days", organiser).await;
    app.approved(ev, anna, ParticipantRole::Exhibitor).await;
    app.approved(ev, li, ParticipantRole::Visitor).await;
    let anna_c = app.sign_in("anna@example.de").await;
    let li_c = app.sign_in("li@example.cn").await;
    Fair {
        ev,
        anna,
        li,
        anna_c,
        li_c,
    }
}

/// Anna (`from`) asks Li (`to`) for a meeting at h2-days with `form`; Li accepts. The request id.
async fn accepted_request(
    app: &TestApp,
    from: &str,
    to: uuid::Uuid,
    to_cookie: &str,
    form: &[(&str, &str)],
) -> String {
    let r = app
        .post_form(
            &format!("/events/h2-days/people/{to}/request"),
            Some(from),
            "de",
            form,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = request_id(
        &app.get("/events/h2-days/meetings", Some(to_cookie), "zh")
            .await
            .body,
    );
    let r = app
        .post_form(
            &format!("/events/h2-days/requests/{id}/accept"),
            Some(to_cookie),
            "zh",
            &[],
        )
        .await;
    assert_eq!(r.status, 303);
    id
}

fn request_id(body: &str) -> String {
    let i = body.find("data-request=\"").expect("a request on the page") + 14;
    body[i..i + 36].to_string()
}

#[tokio::test]
async fn request_accept_book_and_see_both_local_times() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let anna = app.user("anna@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    set_zone(&app, "li@example.cn", "Asia/Shanghai").await;
    let rules = MatchmakingRules {
        max_requests: Some(1),
        ..Default::default()
    };
    let ev = app.event_with_rules("h2-days", organiser, rules).await;
    app.approved(ev, anna, ParticipantRole::Exhibitor).await;
    app.approved(ev, li, ParticipantRole::Visitor).await;
    let anna_c = app.sign_in("anna@example.de").await;
    let li_c = app.sign_in("li@example.cn").await;

    // Before anything happened, each list says what will appear there.
    let empty = app
        .get("/events/h2-days/meetings", Some(&anna_c), "de")
        .await;
    assert!(
        empty
            .body
            .contains("Sie haben noch niemanden um ein Gespräch gebeten.")
            && empty
                .body
                .contains("Noch niemand hat Sie um ein Gespräch gebeten.")
            && empty.body.contains("href=\"/events/h2-days/people\""),
        "{}",
        empty.body
    );
    // Anna finds Li in the event's directory and asks for a meeting.
    let people = app.get("/events/h2-days/people", Some(&anna_c), "de").await;
    assert!(
        people
            .body
            .contains(&format!("/events/h2-days/people/{li}/request")),
        "{}",
        people.body
    );
    let r = app
        .post_form(
            &format!("/events/h2-days/people/{li}/request"),
            Some(&anna_c),
            "de",
            &[
                ("message", "Wasserstoff?"),
                ("priority", "must"),
                ("opportunity", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Anna is told that it went out.
    let sent = app.get(r.header("location"), Some(&anna_c), "de").await;
    assert!(
        sent.body.contains("Ihre Anfrage ist verschickt"),
        "{}",
        sent.body
    );
    let mail = &app.store.outbox(Some("li@example.cn"), 1).await.unwrap()[0];
    assert!(mail.subject.contains("希望与您会谈"), "{}", mail.subject);

    // Before acceptance the contact details stay hidden; Li accepts; then both see them.
    let li_page = app.get("/events/h2-days/meetings", Some(&li_c), "zh").await;
    assert!(!li_page.body.contains("anna@example.de"));
    let id = request_id(&li_page.body);
    let accept = app
        .post_form(
            &format!("/events/h2-days/requests/{id}/accept"),
            Some(&li_c),
            "zh",
            &[],
        )
        .await;
    assert_eq!(accept.status, 303);
    let twice = app
        .post_form(
            &format!("/events/h2-days/requests/{id}/accept"),
            Some(&li_c),
            "zh",
            &[],
        )
        .await;
    assert_eq!(twice.status, 409, "a second click changes nothing");
    let anna_page = app
        .get("/events/h2-days/meetings", Some(&anna_c), "de")
        .await;
    assert!(anna_page.body.contains("li@example.cn") && anna_page.body.contains("+86 851 1234567"));
    assert!(
        app.store.outbox(Some("anna@example.de"), 1).await.unwrap()[0]
            .subject
            .contains("angenommen")
    );

    // Anna books the first common slot: 09:00 in Cologne is 16:00 in Shanghai in March.
    let slot = {
        let i = anna_page
            .body
            .find("name=\"slot\" value=\"")
            .expect("slot choices")
            + 19;
        anna_page.body[i..].split('"').next().unwrap().to_string()
    };
    assert!(
        anna_page.body.contains("09:00 Berlin · 16:00 Shanghai"),
        "{}",
        anna_page.body
    );
    let book = app
        .post_form(
            &format!("/events/h2-days/requests/{id}/book"),
            Some(&anna_c),
            "de",
            &[("slot", &slot)],
        )
        .await;
    assert_eq!(book.status, 303, "{}", book.body);
    let again = app
        .post_form(
            &format!("/events/h2-days/requests/{id}/book"),
            Some(&li_c),
            "zh",
            &[("slot", &slot)],
        )
        .await;
    assert_eq!(again.status, 409, "booked once only");
    let li_agenda = app.get("/events/h2-days/meetings", Some(&li_c), "zh").await;
    assert!(
        li_agenda.body.contains("16:00 上海 · 09:00 柏林"),
        "{}",
        li_agenda.body
    );
    assert!(li_agenda.body.contains("data-testid=\"agenda-row\""));
    let row = &li_agenda.body[li_agenda.body.find("data-testid=\"agenda-row\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert_eq!(
        row.matches("09:00 柏林").count(),
        1,
        "the event's time (Berlin) is the partner's, shown once: {row}"
    );
    let anna_agenda = app
        .get("/events/h2-days/meetings", Some(&anna_c), "de")
        .await;
    assert!(anna_agenda.body.contains("09:00 Berlin · 16:00 Shanghai"));

    // Cancelling frees the slot and tells the other side.
    let cancel = app
        .post_form(
            &format!("/events/h2-days/requests/{id}/cancel"),
            Some(&li_c),
            "zh",
            &[],
        )
        .await;
    assert_eq!(cancel.status, 303);
    assert!(app.store.busy_slots(ev, anna).await.unwrap().is_empty());
    assert!(
        app.store.outbox(Some("anna@example.de"), 1).await.unwrap()[0]
            .subject
            .contains("abgesagt")
    );
}

#[tokio::test]
async fn bad_requests_are_refused_in_the_readers_language_and_write_nothing() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let anna = app.user("anna@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    let bo = app.user("bo@example.cn", Locale::Zh, false).await;
    let outsider = app.user("out@example.de", Locale::En, false).await;
    let rules = MatchmakingRules {
        max_requests: Some(1),
        ..Default::default()
    };
    let ev = app.event_with_rules("h2-days", organiser, rules).await;
    for u in [anna, li, bo] {
        app.approved(ev, u, ParticipantRole::Visitor).await;
    }
    let anna_c = app.sign_in("anna@example.de").await;
    let form = [
        ("message", ""),
        ("priority", "would-like"),
        ("opportunity", ""),
    ];
    let ask = |to: uuid::Uuid| format!("/events/h2-days/people/{to}/request");

    let own = app.post_form(&ask(anna), Some(&anna_c), "de", &form).await;
    assert_eq!(own.status, 422);
    assert!(
        own.body
            .contains("Sie können kein Gespräch mit sich selbst anfragen.")
    );
    // A refusal of the whole request is announced in the summary and leads to the form.
    assert_eq!(own.body.matches("role=\"alert\"").count(), 1);
    assert!(own.body.contains("href=\"#f-request\"") && own.body.contains("id=\"f-request\""));
    let out = app
        .post_form(&ask(outsider), Some(&anna_c), "de", &form)
        .await;
    assert_eq!(out.status, 422);
    assert!(out.body.contains("bestätigte Teilnehmende"));
    // Someone not (yet) approved is told why, instead of being sent to pages that refuse.
    let out_c = app.sign_in("out@example.de").await;
    let page = app
        .get("/events/h2-days/meetings", Some(&out_c), "en")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Once your registration is approved"));
    assert!(!page.body.contains("/events/h2-days/availability\""));
    // Nor may they browse who takes part.
    let people = app.get("/events/h2-days/people", Some(&out_c), "en").await;
    assert_eq!(people.status, 409);
    assert!(!people.body.contains("li@example.cn") && !people.body.contains("/people/"));
    let own = app
        .get("/events/h2-days/availability", Some(&out_c), "en")
        .await;
    assert_eq!(own.status, 409);
    assert!(
        own.body
            .contains("Your registration for this event must be approved first.")
    );
    let page = app
        .get("/events/h2-days/meetings", Some(&anna_c), "en")
        .await;
    assert!(page.body.contains("/events/h2-days/availability\""));
    let bad = app
        .post_form(
            &ask(li),
            Some(&anna_c),
            "de",
            &[("priority", "urgent!!"), ("opportunity", "x")],
        )
        .await;
    assert_eq!(bad.status, 422);
    // An opportunity id that li does not offer (here: none at all) is a field error, not a
    // database error, and the typed message is kept.
    let unknown = app
        .post_form(
            &ask(li),
            Some(&anna_c),
            "de",
            &[
                ("message", "Zum Wasserstoff"),
                ("priority", "must"),
                ("opportunity", "00000000-0000-0000-0000-000000000000"),
            ],
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert!(unknown.body.contains("Zum Wasserstoff"));
    assert_eq!(
        app.store.count_requests_sent(ev, anna).await.unwrap(),
        0,
        "nothing half-written"
    );

    assert_eq!(
        app.post_form(&ask(li), Some(&anna_c), "de", &form)
            .await
            .status,
        303
    );
    // Asked already: a second form could only be refused, so the request is shown instead.
    let dup = app.post_form(&ask(li), Some(&anna_c), "de", &form).await;
    assert_eq!(
        (dup.status, dup.header("location")),
        (303, "/events/h2-days/meetings?done=request-exists")
    );
    let again = app.get(&ask(li), Some(&anna_c), "de").await;
    assert_eq!(again.header("location"), dup.header("location"));
    let page = app.get(dup.header("location"), Some(&anna_c), "de").await;
    assert!(
        page.body.contains("besteht bereits eine Gesprächsanfrage"),
        "{}",
        page.body
    );
    let quota = app.post_form(&ask(bo), Some(&anna_c), "de", &form).await;
    assert_eq!(quota.status, 422);
    assert!(quota.body.contains("erlaubten Anfragen"), "{}", quota.body);
    assert_eq!(app.store.count_requests_sent(ev, anna).await.unwrap(), 1);

    // Someone else cannot act on the request, and a slot that is not the event's is refused.
    let li_c = app.sign_in("li@example.cn").await;
    let bo_c = app.sign_in("bo@example.cn").await;
    let page = app.get("/events/h2-days/meetings", Some(&li_c), "zh").await;
    let id = request_id(&page.body);
    assert_eq!(
        app.post_form(
            &format!("/events/h2-days/requests/{id}/accept"),
            Some(&bo_c),
            "zh",
            &[]
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.post_form(
            &format!("/events/h2-days/requests/{id}/accept"),
            Some(&anna_c),
            "de",
            &[]
        )
        .await
        .status,
        403,
        "the requester cannot accept"
    );
    assert_eq!(
        app.post_form(
            &format!("/events/h2-days/requests/{id}/accept"),
            Some(&li_c),
            "zh",
            &[]
        )
        .await
        .status,
        303
    );
    let odd = app
        .post_form(
            &format!("/events/h2-days/requests/{id}/book"),
            Some(&li_c),
            "zh",
            &[("slot", "12345")],
        )
        .await;
    assert_eq!(odd.status, 422);
    assert!(odd.body.contains("请从选项中选择"), "{}", odd.body);
    // A slot outside Li's availability is refused.
    let slots = app.slot_starts(ev).await;
    let mut tx = app.store.begin().await.unwrap();
    tx.set_availability(ev, li, &[(slots[0], kontor_domain::MeetingMode::OnSite)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let unavailable = app
        .post_form(
            &format!("/events/h2-days/requests/{id}/book"),
            Some(&anna_c),
            "de",
            &[("slot", &slots[1].to_string())],
        )
        .await;
    assert_eq!(unavailable.status, 409);
    assert!(unavailable.body.contains("nicht für Sie beide frei"));
    assert!(app.store.busy_slots(ev, anna).await.unwrap().is_empty());
    let ok = app
        .post_form(
            &format!("/events/h2-days/requests/{id}/book"),
            Some(&anna_c),
            "de",
            &[("slot", &slots[0].to_string())],
        )
        .await;
    assert_eq!(ok.status, 303);
}

#[tokio::test]
async fn calendars_keep_uids_and_mark_cancellations() {
    let app = TestApp::new().await;
    let Fair {
        li, anna_c, li_c, ..
    } = fair(&app).await;
    let form = [
        ("message", "Hallo; Gespräch, bitte"),
        ("priority", "must"),
        ("opportunity", ""),
    ];
    let id = accepted_request(&app, &anna_c, li, &li_c, &form).await;
    let page = app
        .get("/events/h2-days/meetings", Some(&anna_c), "de")
        .await;
    let i = page.body.find("name=\"slot\" value=\"").unwrap() + 19;
    let slot = page.body[i..].split('"').next().unwrap().to_string();
    app.post_form(
        &format!("/events/h2-days/requests/{id}/book"),
        Some(&anna_c),
        "de",
        &[("slot", &slot)],
    )
    .await;

    let ics = app
        .get("/events/h2-days/agenda.ics", Some(&anna_c), "de")
        .await;
    assert_eq!(ics.status, 200);
    assert!(ics.header("content-type").starts_with("text/calendar"));
    let body = &ics.body;
    assert!(
        body.contains("BEGIN:VEVENT")
            && body.contains("STATUS:CONFIRMED")
            && body.contains("SEQUENCE:0"),
        "{body}"
    );
    assert!(
        body.contains("DTSTART:20300310T080000Z"),
        "09:00 Berlin is 08:00 UTC in March: {body}"
    );
    assert!(
        body.contains("Hallo\\; Gespräch\\, bitte"),
        "text is escaped: {body}"
    );
    let uid = body
        .lines()
        .find(|l| l.starts_with("UID:"))
        .unwrap()
        .to_string();

    // A private feed: made, readable without a session, in the owner's language. Before it
    // exists there is nothing to stop.
    let before = app.get("/events/h2-days/meetings", Some(&li_c), "zh").await;
    assert!(!before.body.contains("/calendar-feed/revoke"));
    let made = app
        .post_form("/events/h2-days/calendar-feed", Some(&li_c), "zh", &[])
        .await;
    assert_eq!(made.status, 200);
    let shown = made
        .body
        .split("data-testid=\"feed-url\">")
        .nth(1)
        .expect("the feed address is shown");
    let url = shown.split('<').next().unwrap().replace("&#x2f;", "/");
    let feed_path = url.trim_start_matches("http://kontor.test").to_string();
    assert!(feed_path.starts_with("/calendar/"), "{url}");
    assert!(made.body.contains("/calendar-feed/revoke"));
    let feed = app.get(&feed_path, None, "en").await;
    assert_eq!(feed.status, 200);
    assert!(feed.body.contains("会谈"), "{}", feed.body);
    assert!(feed.body.contains(&uid), "the same UID in every calendar");

    // Cancelled: the same UID, a higher SEQUENCE, STATUS:CANCELLED.
    app.post_form(
        &format!("/events/h2-days/requests/{id}/cancel"),
        Some(&anna_c),
        "de",
        &[],
    )
    .await;
    let after = app.get(&feed_path, None, "en").await.body;
    assert!(
        after.contains(&uid) && after.contains("STATUS:CANCELLED") && after.contains("SEQUENCE:1"),
        "{after}"
    );

    // Revoked: the old address no longer works; others cannot guess one.
    app.post_form(
        "/events/h2-days/calendar-feed/revoke",
        Some(&li_c),
        "zh",
        &[],
    )
    .await;
    assert_eq!(app.get(&feed_path, None, "en").await.status, 404);
    assert_eq!(app.get("/calendar/0000.ics", None, "en").await.status, 404);
    assert_eq!(
        app.get("/events/h2-days/agenda.ics", None, "en")
            .await
            .status,
        303,
        "the agenda file needs a session"
    );
}

#[tokio::test]
async fn availability_is_saved_in_the_participants_time_and_checked() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    set_zone(&app, "li@example.cn", "Asia/Shanghai").await;
    let ev = app.event("h2-days", organiser).await;
    let li_c = app.sign_in("li@example.cn").await;
    assert_eq!(
        app.get("/events/h2-days/availability", Some(&li_c), "zh")
            .await
            .status,
        409,
        "only confirmed participants"
    );
    app.approved(ev, li, ParticipantRole::Visitor).await;
    let page = app
        .get("/events/h2-days/availability", Some(&li_c), "zh")
        .await;
    assert_eq!(page.status, 200);
    // 09:00 in Cologne is 16:00 in Shanghai in March; the event's time in brackets.
    assert!(
        page.body
            .contains("16:00 <span class=\"meta\">(09:00 柏林)</span>"),
        "{}",
        page.body
    );
    let slots = app.slot_starts(ev).await;
    let (a, b) = (slots[0].to_string(), slots[2].to_string());
    let r = app
        .post_form(
            "/events/h2-days/availability",
            Some(&li_c),
            "zh",
            &[("slot", &a), ("slot", &b), (&format!("mode_{b}"), "online")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        app.store.availability(ev, li).await.unwrap(),
        vec![
            (slots[0], kontor_domain::MeetingMode::OnSite),
            (slots[2], kontor_domain::MeetingMode::Online)
        ]
    );
    for bad in [
        vec![("slot", "123".to_string())],
        vec![],
        vec![
            ("slot", a.clone()),
            (&*format!("mode_{a}"), "by-pigeon".to_string()),
        ],
    ] {
        let form: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .post_form("/events/h2-days/availability", Some(&li_c), "zh", &form)
            .await;
        assert_eq!(r.status, 422, "{form:?}");
    }
    assert_eq!(
        app.store.availability(ev, li).await.unwrap().len(),
        2,
        "a refused form changes nothing"
    );
}

#[tokio::test]
async fn the_api_requests_accepts_books_and_lists_the_agenda() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let anna = app.user("anna@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    let ev = app.event("h2-days", organiser).await;
    app.approved(ev, anna, ParticipantRole::Exhibitor).await;
    app.approved(ev, li, ParticipantRole::Visitor).await;
    let anna_t = app.token(&app.sign_in("anna@example.de").await).await;
    let li_t = app.token(&app.sign_in("li@example.cn").await).await;

    let own = app
        .api(
            "POST",
            "/api/v1/events/h2-days/requests",
            Some(&anna_t),
            Some(&format!(r#"{{"to":"{anna}"}}"#)),
        )
        .await;
    assert_eq!(own.status, 409);
    assert_eq!(own.json()["code"], "error-request-self");
    let bad = app
        .api(
            "POST",
            "/api/v1/events/h2-days/requests",
            Some(&anna_t),
            Some(&format!(r#"{{"to":"{li}","priority":"asap"}}"#)),
        )
        .await;
    assert_eq!(bad.status, 422);
    let foreign = app
        .api(
            "POST",
            "/api/v1/events/h2-days/requests",
            Some(&anna_t),
            Some(&format!(
                r#"{{"to":"{li}","opportunity":"00000000-0000-0000-0000-000000000000"}}"#
            )),
        )
        .await;
    assert_eq!(foreign.status, 422, "{}", foreign.body);
    let created = app
        .api(
            "POST",
            "/api/v1/events/h2-days/requests",
            Some(&anna_t),
            Some(&format!(
                r#"{{"to":"{li}","priority":"must","message":"你好"}}"#
            )),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let listed = app
        .api("GET", "/api/v1/events/h2-days/requests", Some(&li_t), None)
        .await
        .json();
    assert_eq!(listed[0]["status"], "pending");
    assert_eq!(listed[0]["priority"], "must");

    assert_eq!(
        app.api(
            "POST",
            &format!("/api/v1/events/h2-days/requests/{id}/accept"),
            Some(&anna_t),
            None
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.api(
            "POST",
            &format!("/api/v1/events/h2-days/requests/{id}/accept"),
            Some(&li_t),
            None
        )
        .await
        .status,
        204
    );
    let slot = app.slot_starts(ev).await[1];
    let booked = app
        .api(
            "POST",
            &format!("/api/v1/events/h2-days/requests/{id}/book"),
            Some(&li_t),
            Some(&format!(r#"{{"slot":{slot}}}"#)),
        )
        .await;
    assert_eq!(booked.status, 204, "{}", booked.body);
    let agenda = app
        .api("GET", "/api/v1/events/h2-days/agenda", Some(&anna_t), None)
        .await
        .json();
    assert_eq!(agenda.as_array().unwrap().len(), 1);
    assert_eq!(agenda[0]["start"], "2030-03-10T08:30:00Z");
    assert_eq!(agenda[0]["partner"], serde_json::json!(li));
    assert_eq!(
        app.api(
            "POST",
            &format!("/api/v1/events/h2-days/requests/{id}/explode"),
            Some(&li_t),
            None
        )
        .await
        .status,
        404
    );

    // The search API answers without a session.
    app.state.reindex().await.unwrap();
    let found = app
        .api("GET", "/api/v1/search?q=User&kind=person", None, None)
        .await
        .json();
    assert!(found["total"].as_u64().unwrap() >= 2, "{found}");
}

#[tokio::test]
async fn recommendations_come_with_their_reasons() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let ev = app.event("h2-days", organiser).await;
    let mut cookies = vec![];
    for (email, locale, org, country, kind, title) in [
        (
            "anna@example.de",
            Locale::De,
            "Domtec",
            "DE",
            "technology-request",
            "Suche Elektrolyseure",
        ),
        (
            "li@example.cn",
            Locale::Zh,
            "贵阳绿氢",
            "CN",
            "technology-offer",
            "Electrolysers for export",
        ),
        (
            "bo@example.cn",
            Locale::Zh,
            "成都旅游",
            "CN",
            "business-offer",
            "Travel packages",
        ),
    ] {
        let id = app.user(email, locale, false).await;
        app.approved(ev, id, ParticipantRole::Visitor).await;
        let c = app.sign_in(email).await;
        let sector = if org == "成都旅游" {
            "tourism"
        } else {
            "hydrogen"
        };
        let r = app
            .post_form(
                "/profile/organisation",
                Some(&c),
                "en",
                &[
                    ("org_name", org),
                    ("kind", "company"),
                    ("country", country),
                    ("sectors", sector),
                ],
            )
            .await;
        assert_eq!(r.status, 303);
        let r = app
            .post_form(
                "/opportunities",
                Some(&c),
                "en",
                &[
                    ("kind", kind),
                    ("title_en", title),
                    ("description_en", "Details on request."),
                    ("sectors", sector),
                    (
                        "target_countries",
                        if country == "DE" { "CN" } else { "DE" },
                    ),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        cookies.push(c);
    }
    let page = app
        .get("/events/h2-days/people", Some(&cookies[0]), "de")
        .await;
    let rec = page
        .body
        .split("data-testid=\"recommended\"")
        .collect::<Vec<_>>();
    // Li answers Anna's request: first. Bo only comes from a country Anna targets: second.
    assert_eq!(rec.len(), 3, "{}", page.body);
    assert!(rec[1].contains("User li"), "{}", rec[1]);
    assert!(
        rec[2].contains("User bo") && !rec[2].contains("Gleiche Branchen"),
        "{}",
        rec[2]
    );
    assert!(
        rec[1].contains("„Electrolysers for export“ passt zu Ihrem „Suche Elektrolyseure“"),
        "{}",
        rec[1]
    );
    assert!(rec[1].contains("Gleiche Branchen: Wasserstoff"));
    assert!(
        rec[1].contains("<li>Aus China, einem Ihrer Zielländer</li>"),
        "{}",
        rec[1]
    );
    // Once asked, nobody is recommended twice.
    let li = app
        .store
        .user_by_email(&kontor_domain::Email::parse("li@example.cn").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    app.post_form(
        &format!("/events/h2-days/people/{li}/request"),
        Some(&cookies[0]),
        "de",
        &[("priority", "must"), ("message", ""), ("opportunity", "")],
    )
    .await;
    let page = app
        .get("/events/h2-days/people", Some(&cookies[0]), "de")
        .await;
    let rec = page
        .body
        .split("data-testid=\"recommended\"")
        .collect::<Vec<_>>();
    assert_eq!(rec.len(), 2, "Li was asked already: {}", page.body);
    assert!(rec[1].contains("User bo"));
}

#[tokio::test]
async fn reminders_go_out_once_shortly_before_a_meeting_in_each_readers_time() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let anna = app.user("anna@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    set_zone(&app, "li@example.cn", "Asia/Shanghai").await;
    let ev = app.event("h2-days", organiser).await;
    let now = kontor_domain::now_micros();
    let mut tx = app.store.begin().await.unwrap();
    let mut meetings = vec![];
    // One meeting in 10 minutes, one in three hours.
    for (to, minutes) in [(li, 10), (organiser, 180)] {
        let r = kontor_store::matchmaking::NewMeetingRequest {
            event_id: ev,
            from_user: anna,
            to_user: to,
            opportunity_id: None,
            message: None,
            priority: kontor_domain::MeetingPriority::Must,
        };
        let id = tx.create_meeting_request(&r, now).await.unwrap();
        let r = tx
            .change_request_status(
                id,
                &[kontor_domain::MeetingRequestStatus::Pending],
                kontor_domain::MeetingRequestStatus::Accepted,
                None,
                now,
            )
            .await
            .unwrap();
        let start = now + minutes * 60_000_000;
        meetings.push(
            tx.book_meeting(
                &r,
                &[anna, to],
                (start, start + 1_800_000_000),
                kontor_domain::MeetingMode::Online,
                None,
                now,
            )
            .await
            .unwrap(),
        );
    }
    tx.commit().await.unwrap();

    assert_eq!(
        kontor_web::send_due_reminders(&app.state, 30)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        kontor_web::send_due_reminders(&app.state, 30)
            .await
            .unwrap(),
        0,
        "once only"
    );
    let to_li = &app.store.outbox(Some("li@example.cn"), 1).await.unwrap()[0];
    assert_eq!(to_li.kind, "meeting-reminder");
    assert!(
        to_li.subject.contains("即将开始") && to_li.subject.contains("上海"),
        "{}",
        to_li.subject
    );
    let to_anna = &app.store.outbox(Some("anna@example.de"), 1).await.unwrap()[0];
    assert!(
        to_anna.subject.starts_with("Gleich: Gespräch mit") && to_anna.subject.contains("Berlin"),
        "{}",
        to_anna.subject
    );
    assert!(
        app.store
            .outbox(Some("org@example.de"), 1)
            .await
            .unwrap()
            .is_empty(),
        "the later meeting waits"
    );
}

#[tokio::test]
async fn the_daily_digest_goes_out_once_in_the_readers_morning() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let anna = app.user("anna@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    set_zone(&app, "li@example.cn", "Asia/Shanghai").await;
    let ev = app.event("h2-days", organiser).await;
    // Li opts in on the profile form; Anna does not.
    let li_c = app.sign_in("li@example.cn").await;
    let r = app
        .post_form(
            "/profile",
            Some(&li_c),
            "zh",
            &[
                ("name", "李"),
                ("time_zone", "Asia/Shanghai"),
                ("locale", "zh"),
                ("daily_digest", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // A meeting with Anna at 09:00 Berlin on 2030-03-10 (16:00 in Shanghai), and a pending request.
    let start = "2030-03-10T08:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_microsecond();
    let mut tx = app.store.begin().await.unwrap();
    let r = kontor_store::matchmaking::NewMeetingRequest {
        event_id: ev,
        from_user: anna,
        to_user: li,
        opportunity_id: None,
        message: None,
        priority: kontor_domain::MeetingPriority::Must,
    };
    let id = tx.create_meeting_request(&r, 1).await.unwrap();
    let accepted = tx
        .change_request_status(
            id,
            &[kontor_domain::MeetingRequestStatus::Pending],
            kontor_domain::MeetingRequestStatus::Accepted,
            None,
            2,
        )
        .await
        .unwrap();
    tx.book_meeting(
        &accepted,
        &[anna, li],
        (start, start + 1_800_000_000),
        kontor_domain::MeetingMode::OnSite,
        Some(3),
        3,
    )
    .await
    .unwrap();
    tx.create_meeting_request(
        &kontor_store::matchmaking::NewMeetingRequest {
            from_user: organiser,
            ..r
        },
        4,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_microsecond();
    // 06:30 in Shanghai: too early.
    assert_eq!(
        kontor_web::send_digests(&app.state, at("2030-03-09T22:30:00Z"))
            .await
            .unwrap(),
        0
    );
    // 08:00 in Shanghai on the 10th: the digest, once.
    assert_eq!(
        kontor_web::send_digests(&app.state, at("2030-03-10T00:00:00Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        kontor_web::send_digests(&app.state, at("2030-03-10T03:00:00Z"))
            .await
            .unwrap(),
        0
    );
    let mail = &app.store.outbox(Some("li@example.cn"), 1).await.unwrap()[0];
    assert_eq!(mail.kind, "daily-digest");
    assert!(
        mail.subject.contains("1 场会谈") && mail.subject.contains("1 个待回复请求"),
        "{}",
        mail.subject
    );
    assert!(
        mail.body_text
            .contains("16:00 上海 · 09:00 柏林 – User anna"),
        "{}",
        mail.body_text
    );
    assert!(
        app.store
            .outbox(Some("anna@example.de"), 1)
            .await
            .unwrap()
            .iter()
            .all(|m| m.kind != "daily-digest")
    );
    // The next morning: again, now without meetings.
    assert_eq!(
        kontor_web::send_digests(&app.state, at("2030-03-11T00:00:00Z"))
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn either_side_can_propose_another_time_for_a_booked_meeting() {
    let app = TestApp::new().await;
    let Fair {
        ev,
        anna,
        li,
        anna_c,
        li_c,
    } = fair(&app).await;
    let id = accepted_request(
        &app,
        &anna_c,
        li,
        &li_c,
        &[("priority", "must"), ("message", ""), ("opportunity", "")],
    )
    .await;
    let slots = app.slot_starts(ev).await;
    let path = format!("/events/h2-days/requests/{id}/book");
    assert_eq!(
        app.post_form(
            &path,
            Some(&anna_c),
            "en",
            &[("slot", &slots[0].to_string())]
        )
        .await
        .status,
        303
    );
    let first = app
        .store
        .meeting_of_request(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let page = app.get("/events/h2-days/meetings", Some(&li_c), "zh").await;
    assert!(page.body.contains("提议其他时间"), "{}", page.body);
    assert_eq!(
        app.post_form(&path, Some(&li_c), "en", &[("slot", &slots[3].to_string())])
            .await
            .status,
        303
    );
    let moved = app
        .store
        .meeting_of_request(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        moved.id, first.id,
        "the same meeting, so calendars update in place"
    );
    assert_eq!((moved.slot_start, moved.sequence), (slots[3], 1));
    assert_eq!(
        app.store.busy_slots(ev, anna).await.unwrap(),
        vec![slots[3]]
    );
    let mail = &app.store.outbox(Some("anna@example.de"), 1).await.unwrap()[0];
    assert_eq!(mail.kind, "meeting-moved");
    assert!(mail.subject.contains("verlegt"), "{}", mail.subject);
}

#[tokio::test]
async fn opportunities_and_availability_through_the_api() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    let ev = app.event("h2-days", organiser).await;
    let token = app.token(&app.sign_in("li@example.cn").await).await;
    let bad = app
        .api(
            "POST",
            "/api/v1/opportunities",
            Some(&token),
            Some(r#"{"kind":"ponzi","title":{}}"#),
        )
        .await;
    assert_eq!(bad.status, 422);
    let problem = bad.json();
    let codes: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"invalid-choice") && codes.contains(&"invalid-title-required"),
        "{codes:?}"
    );
    let created = app
        .api("POST", "/api/v1/opportunities", Some(&token), Some(r#"{"kind":"technology-offer","title":{"zh":"氢燃料电池","en":"Fuel cells"},"description":{"en":"Stacks for buses."},"sectors":["hydrogen"],"target_countries":["DE"],"languages":["zh","en"]}"#))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let got = app
        .api("GET", &format!("/api/v1/opportunities/{id}"), None, None)
        .await
        .json();
    assert_eq!(got["title"]["zh"], "氢燃料电池");
    assert_eq!(got["target_countries"][0], "DE");
    assert_eq!(
        app.api(
            "GET",
            "/api/v1/search?q=燃料电池&kind=opportunity",
            None,
            None
        )
        .await
        .json()["total"],
        1
    );

    // Availability needs a confirmed registration, and only the event's slots count.
    let slots = app.slot_starts(ev).await;
    let body = format!(
        r#"{{"slots":[{{"start":{}}},{{"start":{},"mode":"online"}}]}}"#,
        slots[0], slots[1]
    );
    assert_eq!(
        app.api(
            "PUT",
            "/api/v1/events/h2-days/availability",
            Some(&token),
            Some(&body)
        )
        .await
        .status,
        409
    );
    app.approved(ev, li, ParticipantRole::Visitor).await;
    assert_eq!(
        app.api(
            "PUT",
            "/api/v1/events/h2-days/availability",
            Some(&token),
            Some(&body)
        )
        .await
        .status,
        204
    );
    assert_eq!(app.store.availability(ev, li).await.unwrap().len(), 2);
    let odd = app
        .api(
            "PUT",
            "/api/v1/events/h2-days/availability",
            Some(&token),
            Some(r#"{"slots":[{"start":42}]}"#),
        )
        .await;
    assert_eq!(odd.status, 422);
    assert_eq!(
        app.store.availability(ev, li).await.unwrap().len(),
        2,
        "unchanged"
    );
}

#[tokio::test]
async fn self_booked_meetings_on_site_get_their_own_table_and_online_ones_none() {
    use kontor_domain::MeetingMode;
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let ev = app.event("h2-days", organiser).await;
    let slots = app.slot_starts(ev).await;
    let mut booked = Vec::new();
    for (i, online) in [(0, false), (1, false), (2, true)] {
        let a_mail = format!("a{i}@example.de");
        let b_mail = format!("b{i}@example.cn");
        let a = app.user(&a_mail, Locale::De, false).await;
        let b = app.user(&b_mail, Locale::Zh, false).await;
        app.approved(ev, a, ParticipantRole::Exhibitor).await;
        app.approved(ev, b, ParticipantRole::Visitor).await;
        if online {
            // Li joins this slot from Guiyang: the meeting is online, whatever Anna chose.
            let mut tx = app.store.begin().await.unwrap();
            tx.set_availability(ev, b, &[(slots[0], MeetingMode::Online)])
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let a_c = app.sign_in(&a_mail).await;
        let b_c = app.sign_in(&b_mail).await;
        let id = accepted_request(
            &app,
            &a_c,
            b,
            &b_c,
            &[("priority", "must"), ("message", ""), ("opportunity", "")],
        )
        .await;
        let r = app
            .post_form(
                &format!("/events/h2-days/requests/{id}/book"),
                Some(&a_c),
                "de",
                &[("slot", &slots[0].to_string())],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let m = app
            .store
            .meeting_of_request(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        booked.push((m.mode, m.table_no));
        if i == 1 {
            let agenda = app.get("/events/h2-days/meetings", Some(&a_c), "de").await;
            assert!(agenda.body.contains("Tisch 2"), "{}", agenda.body);
        }
    }
    assert_eq!(
        booked,
        vec![
            (MeetingMode::OnSite, Some(1)),
            (MeetingMode::OnSite, Some(2)),
            (MeetingMode::Online, None)
        ]
    );
}

/// h2-days with `rules`, organised by org@example.de, with each of `emails` approved as a
/// visitor and signed in: the event and (id, session cookie) per person.
async fn cast(
    app: &TestApp,
    rules: MatchmakingRules,
    emails: &[&str],
) -> (uuid::Uuid, Vec<(uuid::Uuid, String)>) {
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let ev = app.event_with_rules("h2-days", organiser, rules).await;
    let mut people = vec![];
    for email in emails {
        let id = app.user(email, Locale::De, false).await;
        app.approved(ev, id, ParticipantRole::Visitor).await;
        people.push((id, app.sign_in(email).await));
    }
    (ev, people)
}

/// Requests sent at the same moment (double clicks, two tabs, both sides at once): the quota and
/// "one open request per pair" hold on every backend, because the writing transaction checks
/// them again under locks.
#[tokio::test]
async fn requests_sent_at_once_keep_the_quota_and_one_open_request_per_pair() {
    for (app, url) in TestApp::on_every_backend().await {
        let rules = MatchmakingRules {
            max_requests: Some(2),
            ..Default::default()
        };
        let (ev, people) = cast(
            &app,
            rules,
            &[
                "anna@example.de",
                "li@example.cn",
                "bo@example.cn",
                "c1@example.de",
                "c2@example.de",
                "c3@example.de",
            ],
        )
        .await;
        let form = [
            ("message", ""),
            ("priority", "would-like"),
            ("opportunity", ""),
        ];
        let ask = |to: uuid::Uuid| format!("/events/h2-days/people/{to}/request");
        let (anna, li, bo) = (&people[0], &people[1], &people[2]);

        // Anna asks Li four times at once while Li asks Anna.
        let (to_li, to_anna) = (ask(li.0), ask(anna.0));
        let mut sends = vec![];
        for _ in 0..4 {
            sends.push(app.post_form(&to_li, Some(&anna.1), "de", &form));
        }
        sends.push(app.post_form(&to_anna, Some(&li.1), "de", &form));
        let replies = futures_util::future::join_all(sends).await;
        // One is sent; the others are led to it (or refused while it is being written).
        let sent = "/events/h2-days/meetings?sent=1";
        let created = replies
            .iter()
            .filter(|r| r.header("location") == sent)
            .count();
        assert_eq!(created, 1, "{url}");
        for r in replies.iter().filter(|r| r.header("location") != sent) {
            assert!(
                r.status == 422
                    || r.header("location") == "/events/h2-days/meetings?done=request-exists",
                "{url}: {} {}",
                r.status,
                r.body
            );
        }
        let mut open = 0;
        for (from, to) in [(anna.0, li.0), (li.0, anna.0)] {
            open += app.store.count_requests_sent(ev, from).await.unwrap();
            assert!(
                app.store
                    .open_request_between(ev, from, to)
                    .await
                    .unwrap()
                    .is_some(),
                "{url}"
            );
        }
        assert_eq!(open, 1, "{url}: one request between Anna and Li");

        // Bo may send two: three at once to different people leave two, and the API agrees.
        let token = app.token(&bo.1).await;
        let targets: Vec<String> = people[3..].iter().map(|(to, _)| ask(*to)).collect();
        let mut sends = vec![];
        for to in &targets {
            sends.push(app.post_form(to, Some(&bo.1), "de", &form));
        }
        let replies = futures_util::future::join_all(sends).await;
        assert_eq!(
            replies.iter().filter(|r| r.status == 303).count(),
            2,
            "{url}"
        );
        assert_eq!(app.store.count_requests_sent(ev, bo.0).await.unwrap(), 2);
        let api = app
            .api(
                "POST",
                "/api/v1/events/h2-days/requests",
                Some(&token),
                Some(&serde_json::json!({ "to": anna.0 }).to_string()),
            )
            .await;
        assert_eq!(api.status, 409, "{url}: {}", api.body);
        assert_eq!(app.store.count_requests_sent(ev, bo.0).await.unwrap(), 2);
    }
}

/// An organiser who rejects a participant after approving them also withdraws that person's
/// open requests and meetings, and each partner is told; no new request can reach them.
#[tokio::test]
async fn rejecting_an_approved_participant_cancels_their_requests_and_meetings() {
    let app = TestApp::new().await;
    let f = fair(&app).await;
    let org_c = app.sign_in("org@example.de").await;
    let id = accepted_request(
        &app,
        &f.anna_c,
        f.li,
        &f.li_c,
        &[("message", ""), ("priority", "must"), ("opportunity", "")],
    )
    .await;
    let request = app
        .store
        .meeting_request(id.parse().unwrap())
        .await
        .unwrap();
    let start = app.slot_starts(f.ev).await[0];
    let mut tx = app.store.begin().await.unwrap();
    let meeting = tx
        .book_meeting(
            &request,
            &[f.anna, f.li],
            (start, start + 1_800_000_000),
            kontor_domain::MeetingMode::Online,
            None,
            5,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let registration = app.store.registration(f.ev, f.anna).await.unwrap().unwrap();
    let r = app
        .post_form(
            &format!("/events/h2-days/registrations/{}/decision", registration.id),
            Some(&org_c),
            "de",
            &[("decision", "reject")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let request = app.store.meeting_request(request.id).await.unwrap();
    assert_eq!(
        request.status,
        kontor_domain::MeetingRequestStatus::Cancelled
    );
    assert!(app.store.meeting(meeting).await.unwrap().0.cancelled);
    let mail = &app.store.outbox(Some("li@example.cn"), 1).await.unwrap()[0];
    assert_eq!(mail.kind, "participant-left", "{}", mail.subject);
    assert!(mail.body_text.contains("不再参加"), "{}", mail.body_text);
    let again = app
        .post_form(
            &format!("/events/h2-days/people/{}/request", f.anna),
            Some(&f.li_c),
            "zh",
            &[("message", ""), ("priority", "must"), ("opportunity", "")],
        )
        .await;
    assert_eq!(again.status, 422);
}

/// A participant who can no longer come withdraws: their requests are cancelled, the partner is
/// told, the event page offers registration again, and a repeat (here through the API) is a
/// no-op.
#[tokio::test]
async fn a_participant_withdraws_and_may_register_again() {
    let app = TestApp::new().await;
    let f = fair(&app).await;
    let id = accepted_request(
        &app,
        &f.anna_c,
        f.li,
        &f.li_c,
        &[("message", ""), ("priority", "must"), ("opportunity", "")],
    )
    .await;
    let page = app.get("/events/h2-days", Some(&f.anna_c), "en").await;
    assert!(
        page.body.contains("/events/h2-days/withdraw"),
        "{}",
        page.body
    );
    let mine = app.get("/me/registrations", Some(&f.anna_c), "en").await;
    assert!(
        mine.body.contains("/events/h2-days/withdraw"),
        "{}",
        mine.body
    );
    assert!(
        page.body.contains("Anmeldung zurückziehen?"),
        "{}",
        page.body
    );
    let r = app
        .post_form("/events/h2-days/withdraw", Some(&f.anna_c), "en", &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let request = app
        .store
        .meeting_request(id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        request.status,
        kontor_domain::MeetingRequestStatus::Cancelled
    );
    let mail = &app.store.outbox(Some("li@example.cn"), 1).await.unwrap()[0];
    assert_eq!(mail.kind, "participant-left");
    let page = app.get("/events/h2-days", Some(&f.anna_c), "en").await;
    assert!(
        page.body.contains("Sie haben Ihre Anmeldung zurückgezogen"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/events/h2-days/register"));

    // The organiser can no longer approve (or reject) what the participant withdrew.
    let org_c = app.sign_in("org@example.de").await;
    let registration = app.store.registration(f.ev, f.anna).await.unwrap().unwrap();
    let list = app
        .get("/events/h2-days/participants", Some(&org_c), "en")
        .await;
    assert!(
        list.body.contains("Von der Person zurückgezogen"),
        "{}",
        list.body
    );
    let mails = app.store.outbox(None, 100).await.unwrap().len();
    for decision in ["approve", "reject"] {
        app.post_form(
            &format!("/events/h2-days/registrations/{}/decision", registration.id),
            Some(&org_c),
            "en",
            &[("decision", decision)],
        )
        .await;
    }
    let after = app.store.registration(f.ev, f.anna).await.unwrap().unwrap();
    assert_eq!(after.status, kontor_domain::RegistrationStatus::Cancelled);
    assert_eq!(app.store.outbox(None, 100).await.unwrap().len(), mails);

    let token = app.token(&f.anna_c).await;
    let again = app
        .api(
            "DELETE",
            "/api/v1/events/h2-days/registrations",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(again.status, 204, "{}", again.body);
    assert_eq!(app.store.outbox(None, 100).await.unwrap().len(), mails);

    let r = app
        .post_form(
            "/events/h2-days/register",
            Some(&f.anna_c),
            "en",
            &[("role", "exhibitor"), ("message", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let reg = app.store.registration(f.ev, f.anna).await.unwrap().unwrap();
    assert_ne!(reg.status, kontor_domain::RegistrationStatus::Cancelled);
}

/// With at most one meeting per person, two partners booking a meeting with the same person at
/// the same moment (in different slots) get one meeting between them, on every backend.
#[tokio::test]
async fn bookings_at_once_keep_the_meeting_limit() {
    for (app, url) in TestApp::on_every_backend().await {
        let rules = MatchmakingRules {
            max_meetings: Some(1),
            ..Default::default()
        };
        let emails = ["alice@example.de", "bob@example.cn", "carol@example.cn"];
        let (ev, people) = cast(&app, rules, &emails).await;
        let alice = people[0].0;
        let mut requests = vec![];
        let mut tx = app.store.begin().await.unwrap();
        for (from, _) in &people[1..] {
            let r = kontor_store::matchmaking::NewMeetingRequest {
                event_id: ev,
                from_user: *from,
                to_user: alice,
                opportunity_id: None,
                message: None,
                priority: kontor_domain::MeetingPriority::Must,
            };
            let id = tx.create_meeting_request(&r, 1).await.unwrap();
            tx.change_request_status(
                id,
                &[kontor_domain::MeetingRequestStatus::Pending],
                kontor_domain::MeetingRequestStatus::Accepted,
                None,
                2,
            )
            .await
            .unwrap();
            requests.push(id);
        }
        tx.commit().await.unwrap();
        let slots: Vec<String> = app
            .slot_starts(ev)
            .await
            .iter()
            .take(2)
            .map(i64::to_string)
            .collect();
        let paths: Vec<String> = requests
            .iter()
            .map(|id| format!("/events/h2-days/requests/{id}/book"))
            .collect();
        let forms = [[("slot", slots[0].as_str())], [("slot", slots[1].as_str())]];
        let replies = futures_util::future::join_all([
            app.post_form(&paths[0], Some(&people[1].1), "en", &forms[0]),
            app.post_form(&paths[1], Some(&people[2].1), "en", &forms[1]),
        ])
        .await;
        let booked = replies.iter().filter(|r| r.status == 303).count();
        assert_eq!(
            booked,
            1,
            "{url}: {:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        let refused = replies.iter().find(|r| r.status != 303).unwrap();
        assert_eq!(refused.status, 409, "{url}: {}", refused.body);
        assert_eq!(
            app.store.count_meetings(ev, alice).await.unwrap(),
            1,
            "{url}"
        );
    }
}

/// Where only different roles may meet (a job fair: candidates and employers), a participant's
/// directory lists the people they may ask, not the others of their own role.
#[tokio::test]
async fn the_directory_lists_whom_one_may_ask() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let rules = MatchmakingRules {
        allowed_pairs: Some(vec![
            (ParticipantRole::Visitor, ParticipantRole::Exhibitor),
            (ParticipantRole::Exhibitor, ParticipantRole::Visitor),
        ]),
        ..Default::default()
    };
    let ev = app.event_with_rules("h2-days", organiser, rules).await;
    let employer = app.user("hr@example.de", Locale::En, false).await;
    app.approved(ev, employer, ParticipantRole::Exhibitor).await;
    let mut candidates = vec![];
    for email in ["c1@example.cn", "c2@example.cn"] {
        let id = app.user(email, Locale::En, false).await;
        app.approved(ev, id, ParticipantRole::Visitor).await;
        candidates.push(id);
    }
    let c1 = app.sign_in("c1@example.cn").await;
    let page = app.get("/events/h2-days/people", Some(&c1), "en").await;
    assert!(
        page.body.contains(&format!("/people/{employer}")),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(&format!("/people/{}", candidates[1])),
        "{}",
        page.body
    );
    // The organiser sees everybody, also when taking part in a role of their own.
    app.approved(ev, organiser, ParticipantRole::Visitor).await;
    let org = app.sign_in("org@example.de").await;
    let page = app.get("/events/h2-days/people", Some(&org), "en").await;
    for id in candidates.iter().chain([&employer]) {
        assert!(
            page.body.contains(&format!("/people/{id}")),
            "{}",
            page.body
        );
    }
}

/// A request that concerns an opportunity (a candidate answering a job posting) says so: on
/// both sides' cards and in the mail to the one asked, with the message.
#[tokio::test]
async fn a_request_shows_the_job_posting_it_answers() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let anna = app.user("anna@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    let ev = app.event("h2-days", organiser).await;
    app.approved(ev, anna, ParticipantRole::Visitor).await;
    app.approved(ev, li, ParticipantRole::Exhibitor).await;
    let mut tx = app.store.begin().await.unwrap();
    let posting = tx
        .create_opportunity(
            li,
            &kontor_store::matchmaking::OpportunityFields {
                event_id: Some(ev),
                kind: kontor_domain::OpportunityKind::JobPosting,
                title: kontor_domain::LocalizedText::one(Locale::Zh, "销售工程师")
                    .with(Locale::De, "Vertriebsingenieurin"),
                description: kontor_domain::LocalizedText::one(Locale::De, "Köln, Vollzeit"),
                sectors: vec![],
                target_countries: vec![],
                languages: vec![],
                interpreter_needed: false,
                job: None,
            },
            kontor_domain::now_micros(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let anna_c = app.sign_in("anna@example.de").await;
    let posting_id = posting.to_string();
    let r = app
        .post_form(
            &format!("/events/h2-days/people/{li}/request"),
            Some(&anna_c),
            "de",
            &[
                ("message", "Ich spreche Chinesisch."),
                ("priority", "must"),
                ("opportunity", &posting_id),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mail = &app.store.outbox(Some("li@example.cn"), 1).await.unwrap()[0];
    assert!(
        mail.body_text.contains("涉及：销售工程师")
            && mail.body_text.contains("Ich spreche Chinesisch."),
        "{}",
        mail.body_text
    );
    let li_c = app.sign_in("li@example.cn").await;
    for (cookie, title) in [(&li_c, "销售工程师"), (&anna_c, "Vertriebsingenieurin")] {
        let page = app
            .get("/events/h2-days/meetings", Some(cookie), "de")
            .await;
        assert!(
            page.body
                .contains(&format!("<a href=\"/opportunities/{posting}\">{title}</a>")),
            "{}",
            page.body
        );
    }
}

/// The registration deadline in the reader's own time first, then the event's.
#[tokio::test]
async fn the_deadline_is_shown_in_the_readers_time_too() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    app.user("li@example.cn", Locale::Zh, false).await;
    set_zone(&app, "li@example.cn", "Asia/Shanghai").await;
    app.event("h2-days", organiser).await;
    let li = app.sign_in("li@example.cn").await;
    let page = app.get("/events/h2-days", Some(&li), "zh").await;
    let at = page.body.find("报名截止：").expect("the deadline") + "报名截止：".len();
    let line = &page.body[at..at + page.body[at..].find('<').unwrap()];
    assert!(
        line.contains(" 上海 · ") && line.ends_with(" 柏林"),
        "Shanghai first, then Berlin: {line}"
    );
    let org = app.sign_in("org@example.de").await;
    let page = app.get("/events/h2-days", Some(&org), "de").await;
    assert!(
        !page.body.contains("Shanghai ·"),
        "one zone for a reader in the event's"
    );

    // Before registration opens, the page says when it will, not that it is closed.
    let mut tx = app.store.begin().await.unwrap();
    let sql = "UPDATE events SET registration_opens_at = 1898586000000000"; // 2030-03-01 09:00 UTC
    kontor_store::testing::execute(&mut tx, sql).await.unwrap();
    tx.commit().await.unwrap();
    let page = app.get("/events/h2-days", Some(&li), "zh").await;
    assert!(
        page.body
            .contains("报名将于 2030年3月1日 17:00 上海 · 2030年3月1日 10:00 柏林开始。"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("报名已截止"), "{}", page.body);
}

/// A long list of people narrows by a part of a name (or organisation) and by role.
#[tokio::test]
async fn the_list_of_people_filters_by_name_and_role() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let ev = app.event("h2-days", organiser).await;
    for (email, role) in [
        ("anna@example.de", ParticipantRole::Visitor),
        ("li.na@example.cn", ParticipantRole::Exhibitor),
        ("bo@example.cn", ParticipantRole::Visitor),
    ] {
        let id = app.user(email, Locale::De, false).await;
        app.approved(ev, id, role).await;
    }
    let org = app.sign_in("org@example.de").await;
    let all = app.get("/events/h2-days/people", Some(&org), "de").await;
    assert!(all.body.contains(">3 von 3</p>"), "{}", all.body);
    let named = app
        .get("/events/h2-days/people?q=LI.NA", Some(&org), "de")
        .await;
    assert!(named.body.contains(">1 von 3</p>"), "{}", named.body);
    assert!(named.body.contains("User li.na") && !named.body.contains("User anna"));
    let visitors = app
        .get("/events/h2-days/people?role=visitor", Some(&org), "de")
        .await;
    assert!(visitors.body.contains(">2 von 3</p>"), "{}", visitors.body);
    assert!(
        visitors
            .body
            .contains(r#"<option value="visitor" selected>"#)
    );
    let none = app
        .get(
            "/events/h2-days/people?q=zz&role=exhibitor",
            Some(&org),
            "de",
        )
        .await;
    assert!(
        none.body.contains("Niemand passt zu diesem Filter."),
        "{}",
        none.body
    );
    assert!(
        none.body.contains(r#"value="zz""#),
        "the filter stays in the form"
    );
}
