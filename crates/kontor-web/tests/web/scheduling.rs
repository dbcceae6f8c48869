use kontor_domain::{
    Locale, MeetingPriority, MeetingRequestStatus, ParticipantRole, SchedulingMode,
};
use kontor_store::events::MatchmakingRules;
use kontor_store::matchmaking::NewMeetingRequest;

use crate::helpers::TestApp;

/// Polls the organiser's page until the run is done.
async fn wait_for_draft(app: &TestApp, cookie: &str) -> String {
    for _ in 0..200 {
        let page = app
            .get("/events/h2-days/schedule", Some(cookie), "de")
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        if page.body.contains("data-testid=\"draft-meetings\"") {
            return page.body;
        }
        assert!(
            page.body.contains("data-testid=\"progress\""),
            "neither running nor done: {}",
            page.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the optimiser did not finish");
}

fn cell(body: &str, testid: &str) -> String {
    let marker = format!("data-testid=\"{testid}\">");
    let i = body.find(&marker).unwrap() + marker.len();
    body[i..].split('<').next().unwrap().trim().to_string()
}

/// An organiser-scheduled h2-days with six Chinese visitors who all want to meet each other
/// (15 accepted requests). The event and the visitors.
async fn six_who_want_to_meet(app: &TestApp) -> (uuid::Uuid, Vec<uuid::Uuid>) {
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let rules = MatchmakingRules {
        scheduling: SchedulingMode::Organiser,
        ..Default::default()
    };
    let ev = app.event_with_rules("h2-days", organiser, rules).await;
    let mut people = vec![];
    for i in 0..6 {
        let u = app
            .user(&format!("p{i}@example.cn"), Locale::Zh, false)
            .await;
        app.approved(ev, u, ParticipantRole::Visitor).await;
        people.push(u);
    }
    // Everybody wants to meet everybody: 15 accepted requests, 6 slots.
    let mut tx = app.store.begin().await.unwrap();
    for i in 0..6 {
        for j in i + 1..6 {
            accepted(
                &mut tx,
                ev,
                (people[i], people[j]),
                MeetingPriority::WouldLike,
            )
            .await;
        }
    }
    tx.commit().await.unwrap();
    (ev, people)
}

/// An accepted request between `from` and `to`, written in `tx`; its id.
async fn accepted(
    tx: &mut kontor_store::Tx,
    event: uuid::Uuid,
    (from, to): (uuid::Uuid, uuid::Uuid),
    priority: MeetingPriority,
) -> uuid::Uuid {
    let r = NewMeetingRequest {
        event_id: event,
        from_user: from,
        to_user: to,
        opportunity_id: None,
        message: None,
        priority,
    };
    let id = tx.create_meeting_request(&r, 1).await.unwrap();
    tx.change_request_status(
        id,
        &[MeetingRequestStatus::Pending],
        MeetingRequestStatus::Accepted,
        None,
        2,
    )
    .await
    .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organiser_optimises_reviews_publishes_and_reoptimises_with_few_changes() {
    let app = TestApp::new().await;
    let (ev, people) = six_who_want_to_meet(&app).await;

    let participant = app.sign_in("p0@example.cn").await;
    assert_eq!(
        app.get("/events/h2-days/schedule", Some(&participant), "zh")
            .await
            .status,
        403
    );
    assert_eq!(
        app.post_form(
            "/events/h2-days/schedule/run",
            Some(&participant),
            "zh",
            &[]
        )
        .await
        .status,
        403
    );

    let org = app.sign_in("org@example.de").await;
    assert_eq!(
        app.post_form("/events/h2-days/schedule/publish", Some(&org), "de", &[])
            .await
            .status,
        409,
        "nothing to publish yet"
    );
    // A number out of range is explained, not replaced by a default.
    let bad = app
        .post_form(
            "/events/h2-days/schedule/run",
            Some(&org),
            "de",
            &[("tables", "-3"), ("seconds", "2")],
        )
        .await;
    assert_eq!(bad.status, 422);
    // On the form again, at its field and in the summary, with what was typed.
    for text in [
        "Tische pro Slot: Bitte geben Sie eine ganze Zahl von 1 bis 10000 ein.",
        "<p class=\"error\" id=\"e-tables\">",
        "value=\"-3\"",
        "action=\"/events/h2-days/schedule/run\"",
    ] {
        assert!(bad.body.contains(text), "{text}: {}", bad.body);
    }
    let r = app
        .post_form(
            "/events/h2-days/schedule/run",
            Some(&org),
            "de",
            &[("tables", "3"), ("seconds", "2")],
        )
        .await;
    assert_eq!(r.status, 303);
    let draft = wait_for_draft(&app, &org).await;
    // K6 in 6 slots with 3 tables: a perfect 1-factorisation holds all 15; the bound proves it.
    assert_eq!(cell(&draft, "draft-meetings"), "15", "{draft}");
    assert!(cell(&draft, "draft-gap").starts_with("0.00"), "{draft}");
    assert_eq!(
        cell(&draft, "draft-summary"),
        "15 von 15 angenommenen Anfragen passen in diesen Entwurf. Mit diesen Tischen und Zeiten geht es nicht besser."
    );
    // The next run's form starts from this run's tables and time.
    assert!(
        draft.contains("name=\"tables\" type=\"number\" value=\"3\"")
            && draft.contains("name=\"seconds\" type=\"number\" value=\"2\""),
        "{draft}"
    );

    let published = app
        .post_form("/events/h2-days/schedule/publish", Some(&org), "de", &[])
        .await;
    assert_eq!(published.status, 303);
    assert_eq!(app.store.count_scheduled_meetings(ev).await.unwrap(), 15);
    // Published, the page shows the agenda, not the draft to publish again.
    let page = app
        .get(published.header("location"), Some(&org), "de")
        .await;
    assert!(
        !page.body.contains("data-testid=\"draft-meetings\"")
            && page.body.contains("id=\"published-h\""),
        "{}",
        page.body
    );
    // Nobody twice in a slot, at most three tables per slot, every participant told.
    for p in &people {
        let busy = app.store.busy_slots(ev, *p).await.unwrap();
        let mut unique = busy.clone();
        unique.dedup();
        assert_eq!(busy.len(), 5);
        assert_eq!(unique.len(), 5);
        let mail = &app
            .store
            .outbox(
                Some(&app.store.user(*p).await.unwrap().email.to_string()),
                1,
            )
            .await
            .unwrap()[0];
        assert_eq!(mail.kind, "agenda-changed");
    }
    // The dashboard and the exports reflect the published agenda; participants see neither.
    let dash = app.get("/events/h2-days/dashboard", Some(&org), "de").await;
    assert_eq!(dash.status, 200);
    assert!(
        dash.body.contains("15 Gespräche eingeplant") && dash.body.contains("<ul class=\"bars\">"),
        "{}",
        dash.body
    );
    let csv = app
        .get("/events/h2-days/export/meetings.csv", Some(&org), "de")
        .await;
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert_eq!(
        csv.body.trim_end().lines().count(),
        16,
        "a header and 15 meetings: {}",
        csv.body
    );
    // For programs: stable keys, codes and ISO 8601 times with the event's offset; every
    // person with e-mail and organisation (names repeat).
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(
        lines[0].starts_with("\"start\",\"end\",\"table\",\"mode\",\"participant_a\",\"email_a\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("\"2030-03-10T09:00:00+01:00\",\"2030-03-10T09:30:00+01:00\"")
            && lines[1].contains("\"on-site\"")
            && lines[1].contains("@example.cn\""),
        "{}",
        lines[1]
    );
    let people_csv = app
        .get("/events/h2-days/export/participants.csv", Some(&org), "de")
        .await;
    assert!(people_csv.body.contains("p3@example.cn"));
    assert_eq!(
        app.get("/events/h2-days/export/requests.csv", Some(&org), "de")
            .await
            .body
            .trim_end()
            .lines()
            .count(),
        16
    );
    let xlsx = app
        .get("/events/h2-days/export/meetings.xlsx", Some(&org), "de")
        .await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.header("content-type").contains("spreadsheetml"));
    assert!(xlsx.body.starts_with("PK"), "an xlsx file is a zip archive");
    // For people: the organiser's language, a named sheet, real date-time cells.
    let mut book = zip::ZipArchive::new(std::io::Cursor::new(xlsx.bytes.clone())).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut book.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let strings = read("xl/sharedStrings.xml");
    for label in ["Beginn", "Teilnehmende A", "A: E-Mail", "Vor Ort"] {
        assert!(strings.contains(label), "{label}: {strings}");
    }
    assert!(read("xl/workbook.xml").contains("name=\"Gespräche\""));
    assert!(read("xl/styles.xml").contains("yyyy-mm-dd hh:mm"));
    assert_eq!(
        app.get("/events/h2-days/export/meetings.pdf", Some(&org), "de")
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/events/h2-days/dashboard", Some(&participant), "zh")
            .await
            .status,
        403
    );
    assert_eq!(
        app.get(
            "/events/h2-days/export/participants.csv",
            Some(&participant),
            "zh"
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.get("/events/h2-days/export/passwords.csv", Some(&org), "de")
            .await
            .status,
        404
    );
    let page = app
        .get("/events/h2-days/meetings", Some(&participant), "zh")
        .await;
    assert_eq!(page.body.matches("data-testid=\"agenda-row\"").count(), 5);

    // One request is cancelled; the re-run keeps every other published meeting where it was.
    let gone = app.store.accepted_requests(ev).await.unwrap().remove(0);
    let m = app
        .store
        .meeting_of_request(gone.id)
        .await
        .unwrap()
        .unwrap();
    let mut tx = app.store.begin().await.unwrap();
    tx.change_request_status(
        gone.id,
        &[MeetingRequestStatus::Accepted],
        MeetingRequestStatus::Cancelled,
        None,
        3,
    )
    .await
    .unwrap();
    tx.cancel_meeting(m.id, 3).await.unwrap();
    tx.commit().await.unwrap();
    let before: Vec<_> = {
        let mut v = vec![];
        for r in app.store.accepted_requests(ev).await.unwrap() {
            let m = app.store.meeting_of_request(r.id).await.unwrap().unwrap();
            v.push((r.id, m.id, m.slot_start));
        }
        v
    };
    // By default the published meetings stay where they are (the page ticks it).
    let page = app.get("/events/h2-days/schedule", Some(&org), "en").await;
    assert!(
        page.body
            .contains("name=\"keep\" type=\"checkbox\" value=\"on\" checked"),
        "{}",
        page.body
    );
    let keep = [("tables", "3"), ("seconds", "1"), ("keep", "on")];
    app.post_form("/events/h2-days/schedule/run", Some(&org), "de", &keep)
        .await;
    let draft = wait_for_draft(&app, &org).await;
    assert_eq!(cell(&draft, "draft-meetings"), "14");
    assert_eq!(cell(&draft, "draft-changes"), "0");
    app.post_form(
        "/events/h2-days/schedule/run",
        Some(&org),
        "de",
        &[("tables", "3"), ("seconds", "2")],
    )
    .await;
    let draft = wait_for_draft(&app, &org).await;
    assert_eq!(cell(&draft, "draft-meetings"), "14");
    // Unticked: breaks come before changes in the objective, so some meetings may move to close
    // a gap; the draft says how many, and publishing moves exactly those and keeps the rest.
    let changes: usize = cell(&draft, "draft-changes").parse().unwrap();
    assert!(
        changes < 14,
        "the re-run does not reshuffle the agenda: {changes} changes"
    );
    let r = app
        .post_form("/events/h2-days/schedule/publish", Some(&org), "de", &[])
        .await;
    assert_eq!(r.status, 303);
    let mut moved = 0;
    for (request, meeting, slot) in before {
        let now = app
            .store
            .meeting_of_request(request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            now.id, meeting,
            "a moved meeting keeps its id (the calendar UID)"
        );
        if now.slot_start != slot {
            moved += 1;
            assert!(now.sequence > 0, "a moved meeting raises its sequence");
        }
    }
    assert_eq!(moved, changes);
    assert_eq!(app.store.count_scheduled_meetings(ev).await.unwrap(), 14);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_meeting_keeps_its_slot_on_the_next_run() {
    let app = TestApp::new().await;
    let organiser = app.user("org@example.de", Locale::De, false).await;
    let rules = MatchmakingRules {
        scheduling: SchedulingMode::Organiser,
        ..Default::default()
    };
    let ev = app.event_with_rules("h2-days", organiser, rules).await;
    let a = app.user("a@example.cn", Locale::Zh, false).await;
    let b = app.user("b@example.de", Locale::De, false).await;
    for u in [a, b] {
        app.approved(ev, u, ParticipantRole::Visitor).await;
    }
    let mut tx = app.store.begin().await.unwrap();
    let id = accepted(&mut tx, ev, (a, b), MeetingPriority::Must).await;
    tx.commit().await.unwrap();
    let org = app.sign_in("org@example.de").await;
    let run = || {
        app.post_form(
            "/events/h2-days/schedule/run",
            Some(&org),
            "de",
            &[("tables", "2"), ("seconds", "1")],
        )
    };
    run().await;
    wait_for_draft(&app, &org).await;
    app.post_form("/events/h2-days/schedule/publish", Some(&org), "de", &[])
        .await;
    let m = app.store.meeting_of_request(id).await.unwrap().unwrap();

    // Pinned, and A can no longer make that slot: the optimiser keeps the pin and says why the
    // meeting cannot be held there, instead of moving it.
    let r = app
        .post_form(
            "/events/h2-days/schedule/pin",
            Some(&org),
            "de",
            &[("meeting", &m.id.to_string()), ("pinned", "true")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(
        app.store
            .meeting_of_request(id)
            .await
            .unwrap()
            .unwrap()
            .pinned
    );
    let slots: Vec<(i64, kontor_domain::MeetingMode)> = {
        let e = app.store.event(ev).await.unwrap();
        app.store.event_sessions(ev).await.unwrap()[0]
            .slots(&e.time_zone)
            .iter()
            .map(|s| s.start.as_microsecond())
            .filter(|s| *s != m.slot_start)
            .map(|s| (s, kontor_domain::MeetingMode::OnSite))
            .collect()
    };
    let mut tx = app.store.begin().await.unwrap();
    tx.set_availability(ev, a, &slots).await.unwrap();
    tx.commit().await.unwrap();
    run().await;
    let draft = wait_for_draft(&app, &org).await;
    assert_eq!(cell(&draft, "draft-meetings"), "0", "{draft}");
    assert!(draft.contains("kein gemeinsamer freier Slot"));

    // Unpinned, the next run moves it to a slot both can make.
    let r = app
        .post_form(
            "/events/h2-days/schedule/pin",
            Some(&org),
            "de",
            &[("meeting", &m.id.to_string()), ("pinned", "false")],
        )
        .await;
    assert_eq!(r.status, 303);
    run().await;
    let draft = wait_for_draft(&app, &org).await;
    assert_eq!(cell(&draft, "draft-meetings"), "1", "{draft}");
    let participant = app.sign_in("a@example.cn").await;
    assert_eq!(
        app.post_form(
            "/events/h2-days/schedule/pin",
            Some(&participant),
            "zh",
            &[("meeting", &m.id.to_string()), ("pinned", "true")]
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn the_organiser_sets_the_meeting_rules_in_the_event_form() {
    let app = TestApp::new().await;
    app.user("admin@example.de", Locale::De, true).await;
    let admin = app.sign_in("admin@example.de").await;
    let mut form = vec![
        ("kind", "job-fair"),
        ("format", "online"),
        ("title_en", "Talent Days"),
        ("time_zone", "Europe/Berlin"),
        ("starts_on", "2030-04-23"),
        ("ends_on", "2030-04-24"),
        ("registration_opens", "2030-01-01"),
        ("registration_closes", "2030-04-20"),
        ("roles", "employer"),
        ("roles", "candidate"),
        ("session_day_0", "2030-04-23"),
        ("session_start_0", "10:00"),
        ("session_end_0", "13:00"),
        ("session_slot_0", "20"),
        ("scheduling", "organiser"),
        ("max_requests", "0"),
        ("different_roles_only", "on"),
    ];
    let bad = app.post_form("/events", Some(&admin), "de", &form).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("ganze Zahl von 1 bis 1000"),
        "{}",
        bad.body
    );
    form.retain(|(k, _)| *k != "max_requests");
    form.push(("max_requests", "5"));
    form.push(("max_meetings", "8"));
    // A second session that overlaps the first on the same day is refused; on the next day
    // the same hours are fine.
    let mut overlapping = form.clone();
    overlapping.extend([
        ("session_day_1", "2030-04-23"),
        ("session_start_1", "12:30"),
        ("session_end_1", "15:00"),
        ("session_slot_1", "20"),
    ]);
    let bad = app
        .post_form("/events", Some(&admin), "de", &overlapping)
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("überschneidet sich"), "{}", bad.body);
    // What was chosen stays chosen.
    for role in ["employer", "candidate"] {
        assert!(
            bad.body.contains(&format!("value=\"{role}\" checked")),
            "{role}: {}",
            bad.body
        );
    }
    assert!(!bad.body.contains("value=\"visitor\" checked"));
    form.extend([
        ("session_day_1", "2030-04-24"),
        ("session_start_1", "12:30"),
        ("session_end_1", "15:00"),
        ("session_slot_1", "20"),
    ]);
    let ok = app.post_form("/events", Some(&admin), "de", &form).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let e = app.store.event_by_slug("talent-days").await.unwrap();
    assert_eq!(e.rules.scheduling, SchedulingMode::Organiser);
    assert_eq!(
        (e.rules.max_requests, e.rules.max_meetings),
        (Some(5), Some(8))
    );
    assert!(
        e.rules
            .allows(ParticipantRole::Employer, ParticipantRole::Candidate)
    );
    assert!(
        !e.rules
            .allows(ParticipantRole::Candidate, ParticipantRole::Candidate)
    );
}

/// A draft published after a participant's meeting changed would undo that change: it is
/// refused as stale until the organiser runs again. Publishing the same draft twice is fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_older_than_a_meeting_change_is_not_published() {
    let app = TestApp::new().await;
    let (ev, people) = six_who_want_to_meet(&app).await;
    let org = app.sign_in("org@example.de").await;
    let run = [("tables", "3"), ("seconds", "1")];
    let publish = || app.post_form("/events/h2-days/schedule/publish", Some(&org), "de", &[]);
    app.post_form("/events/h2-days/schedule/run", Some(&org), "de", &run)
        .await;
    wait_for_draft(&app, &org).await;
    assert_eq!(publish().await.status, 303);
    assert_eq!(
        publish().await.status,
        303,
        "the same draft again changes nothing"
    );

    app.post_form("/events/h2-days/schedule/run", Some(&org), "de", &run)
        .await;
    wait_for_draft(&app, &org).await;
    // Meanwhile one meeting moves to another table (as a booking or an edit would).
    let meetings = app.store.scheduled_meetings(ev).await.unwrap();
    let m = &meetings[0];
    let request = app.store.meeting_request(m.request_id).await.unwrap();
    assert!(people.contains(&request.from_user));
    let mut tx = app.store.begin().await.unwrap();
    tx.release_meeting_slot(m.id).await.unwrap();
    tx.move_meeting(
        m.id,
        ev,
        &[request.from_user, request.to_user],
        (m.slot_start, m.slot_end),
        (Some(99), m.mode),
        kontor_domain::now_micros(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let stale = publish().await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    let (after, _) = app.store.meeting(m.id).await.unwrap();
    assert_eq!(after.table_no, Some(99), "the change is kept");

    app.post_form("/events/h2-days/schedule/run", Some(&org), "de", &run)
        .await;
    wait_for_draft(&app, &org).await;
    assert_eq!(publish().await.status, 303);
}

/// Organisers edit their event; the address stays, and a change that would take the slot of
/// a booked meeting away is refused until that meeting is moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisers_edit_their_event_without_losing_booked_slots() {
    let app = TestApp::new().await;
    let (ev, people) = six_who_want_to_meet(&app).await;
    let org = app.sign_in("org@example.de").await;
    let page = app.get("/events/h2-days/edit", Some(&org), "de").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("value=\"Wasserstofftage\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"09:00\""));
    let participant = app.sign_in("p0@example.cn").await;
    assert_eq!(
        app.get("/events/h2-days/edit", Some(&participant), "zh")
            .await
            .status,
        403
    );
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").unwrap())
        .date()
        .to_string();
    let form = |end: &'static str, closes: &'static str| {
        vec![
            ("kind", "trade-fair".to_string()),
            ("format", "hybrid".into()),
            ("title_de", "Wasserstofftage 2030".into()),
            ("title_zh", "氢能日".into()),
            ("description_en", "Two days of meetings.".into()),
            ("slug", "another-address".into()),
            ("time_zone", "Europe/Berlin".into()),
            ("starts_on", "2030-03-10".into()),
            ("ends_on", "2030-03-10".into()),
            ("registration_opens", today.clone()),
            ("registration_closes", closes.into()),
            ("roles", "exhibitor".into()),
            ("roles", "visitor".into()),
            ("session_day_0", "2030-03-10".into()),
            ("session_start_0", "09:00".into()),
            ("session_end_0", end.into()),
            ("session_slot_0", "30".into()),
            ("scheduling", "organiser".into()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let org = org.clone();
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_form("/events/h2-days/edit", Some(&org), "de", &pairs)
                .await
        }
    };
    // Availability for a slot that an edit removes goes with it; the rest stays.
    let starts = app.slot_starts(ev).await;
    let (first, last) = (starts[0], *starts.last().unwrap());
    let mut tx = app.store.begin().await.unwrap();
    tx.set_availability(
        ev,
        people[0],
        &[
            (first, kontor_domain::MeetingMode::Online),
            (last, kontor_domain::MeetingMode::Online),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(post(form("11:30", "2030-03-09")).await.status, 303);
    let kept: Vec<i64> = app
        .store
        .availability(ev, people[0])
        .await
        .unwrap()
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(kept, [first]);
    let r = post(form("12:00", "2030-03-09")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let e = app.store.event_by_slug("h2-days").await.unwrap();
    assert_eq!(e.id, ev, "the address stays");
    assert_eq!(e.title.show(Locale::De), "Wasserstofftage 2030");
    let late = post(form("12:00", "2030-03-11")).await;
    assert_eq!(late.status, 422);
    assert!(late.body.contains("nach dem letzten Tag"), "{}", late.body);

    // Publish an agenda: 15 meetings in the six slots of 09:00–12:00.
    app.post_form(
        "/events/h2-days/schedule/run",
        Some(&org),
        "de",
        &[("tables", "3"), ("seconds", "1")],
    )
    .await;
    wait_for_draft(&app, &org).await;
    let published = app
        .post_form("/events/h2-days/schedule/publish", Some(&org), "de", &[])
        .await;
    assert_eq!(published.status, 303);
    let shorter = post(form("10:00", "2030-03-09")).await;
    assert_eq!(shorter.status, 422);
    // Said next to that session, with how many and from when.
    for text in [
        "Session 1 · Tag: ",
        "in Slots, die diese Änderung entfernt (das erste am 10.03.2030 1",
        "<p class=\"error\" id=\"e-session_day_0\">",
    ] {
        assert!(shorter.body.contains(text), "{text}: {}", shorter.body);
    }
    assert_eq!(
        app.store.event_sessions(ev).await.unwrap()[0]
            .end
            .to_string(),
        "12:00:00"
    );
    // A longer session keeps every booked slot.
    assert_eq!(post(form("13:00", "2030-03-09")).await.status, 303);

    // The API reads the event so that it can be written back, and refuses the same changes.
    let token = app.token(&org).await;
    let got = app.api("GET", "/api/v1/events/h2-days", None, None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let mut body = got.json();
    assert_eq!(body["registration_closes"], "2030-03-09");
    assert_eq!(body["scheduling"], "organiser");
    assert_eq!(body["sessions"][0]["end"], "13:00");
    body["sessions"][0]["end"] = "10:00".into();
    let put = |body: &serde_json::Value, token: &str| {
        let (app, body, token) = (&app, body.to_string(), token.to_string());
        async move {
            app.api("PUT", "/api/v1/events/h2-days", Some(&token), Some(&body))
                .await
        }
    };
    let refused = put(&body, &token).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.json()["errors"][0]["field"], "sessions");
    assert_eq!(
        refused.json()["errors"][0]["code"],
        "invalid-sessions-in-use"
    );
    body["sessions"][0]["end"] = "13:30".into();
    body["title"]["en"] = "Hydrogen Days 2030".into();
    body["slug"] = "not-taken-over".into();
    let participant_token = app.token(&participant).await;
    assert_eq!(put(&body, &participant_token).await.status, 403);
    let saved = put(&body, &token).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let saved = saved.json();
    assert_eq!(saved["sessions"][0]["slots"].as_array().unwrap().len(), 9);
    // Everything else reads back as sent.
    let mut expected = body.clone();
    expected["slug"] = "h2-days".into();
    expected["sessions"][0]["slots"] = saved["sessions"][0]["slots"].clone();
    assert_eq!(saved, expected);
    assert_eq!(app.store.event_by_slug("h2-days").await.unwrap().id, ev);
}

/// What the API returns, sent back unchanged, changes nothing (also registration times that
/// are not at midnight); what it cannot take is refused, not dropped.
#[tokio::test]
async fn an_event_read_and_written_back_through_the_api_stays_the_same() {
    let app = TestApp::new().await;
    let org = app.user("org@example.de", Locale::De, false).await;
    let ev = app.event("h2-days", org).await;
    let token = app.token(&app.sign_in("org@example.de").await).await;
    let before = app.store.event(ev).await.unwrap();
    let got = app
        .api("GET", "/api/v1/events/h2-days", None, None)
        .await
        .json();
    let put = |body: serde_json::Value| {
        let (app, token) = (&app, token.clone());
        async move {
            app.api(
                "PUT",
                "/api/v1/events/h2-days",
                Some(&token),
                Some(&body.to_string()),
            )
            .await
        }
    };
    let same = put(got.clone()).await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(same.json(), got);
    let after = app.store.event(ev).await.unwrap();
    assert_eq!(
        (after.registration_opens_at, after.registration_closes_at),
        (before.registration_opens_at, before.registration_closes_at),
        "the days were sent back as read: the times stay"
    );
    assert_eq!(after.rules, before.rules);

    let refused = |body: serde_json::Value, field: &'static str, code: &'static str| {
        let put = &put;
        async move {
            let r = put(body).await;
            assert_eq!(r.status, 422, "{}", r.body);
            assert_eq!(r.json()["errors"][0]["field"], field, "{}", r.body);
            assert_eq!(r.json()["errors"][0]["code"], code, "{}", r.body);
        }
    };
    let mut typo = got.clone();
    typo["max_meeting"] = 3.into();
    refused(typo, "max_meeting", "invalid-field").await;
    let mut french = got.clone();
    french["title"]["fr"] = "Journées".into();
    refused(french, "title", "invalid-locale").await;
    let mut half_break = got.clone();
    half_break["sessions"][0]["break_end"] = "10:30".into();
    half_break["sessions"][0]
        .as_object_mut()
        .unwrap()
        .remove("break_start");
    refused(half_break, "session_break_start_0", "invalid-time").await;
    // Each session error names the field to correct.
    for (key, value, field, code) in [
        ("day", "", "session_day_0", "invalid-date"),
        ("end", "08:00", "session_end_0", "invalid-session-order"),
        ("end", "09:20", "session_slot_0", "invalid-session-no-slot"),
        ("start", "9 Uhr", "session_start_0", "invalid-time"),
    ] {
        let mut body = got.clone();
        body["sessions"][0][key] = value.into();
        refused(body, field, code).await;
    }
    assert_eq!(app.store.event(ev).await.unwrap().title, before.title);
}

/// Administrators create events through the API with the form's rules; whatever the form
/// would refuse, the API refuses with the field and a code.
#[tokio::test]
async fn administrators_create_events_through_the_api() {
    let app = TestApp::new().await;
    app.user("admin@example.de", Locale::De, true).await;
    app.user("li@example.cn", Locale::Zh, false).await;
    let admin = app.token(&app.sign_in("admin@example.de").await).await;
    let li = app.token(&app.sign_in("li@example.cn").await).await;
    let mut body = serde_json::json!({
        "kind": "job-fair",
        "format": "online",
        "title": {"de": "Jobmesse China", "zh": "中国招聘会"},
        "time_zone": "Asia/Shanghai",
        "starts_on": "2030-05-20",
        "ends_on": "2030-05-21",
        "registration_opens": "2030-04-01",
        "registration_closes": "2030-05-19",
        "needs_approval": true,
        "sessions": [{"day": "2030-05-20", "start": "14:00", "end": "17:00", "slot_minutes": 20,
                      "break_start": "15:00", "break_end": "15:20"}],
    });
    let post = |body: &serde_json::Value, token: &str| {
        let (app, body, token) = (&app, body.to_string(), token.to_string());
        async move {
            app.api("POST", "/api/v1/events", Some(&token), Some(&body))
                .await
        }
    };
    assert_eq!(post(&body, &li).await.status, 403);
    let created = post(&body, &admin).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let e = created.json();
    assert_eq!(e["slug"], "jobmesse-china", "made from the German title");
    assert_eq!(e["roles"], serde_json::json!(["employer", "candidate"]));
    assert_eq!(e["sessions"][0]["break_start"], "15:00");
    // 14:00–17:00 by 20 minutes, without 15:00–15:20: eight slots, 06:00 UTC first.
    let slots = e["sessions"][0]["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 8);
    assert_eq!(slots[0], "2030-05-20T06:00:00Z");
    let again = post(&body, &admin).await;
    assert_eq!(again.status, 422);
    assert_eq!(again.json()["errors"][0]["field"], "slug");

    body["slug"] = "jobs-2".into();
    body["ends_on"] = "2030-05-01".into();
    body["roles"] = serde_json::json!(["pirate"]);
    assert_eq!(
        post(&body, &admin).await.json()["errors"][0]["field"],
        "roles"
    );
    body["roles"] = serde_json::json!(["candidate", "employer"]);
    let bad = post(&body, &admin).await;
    assert_eq!(bad.status, 422);
    let fields: Vec<String> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert!(fields.contains(&"ends_on".to_string()), "{fields:?}");
    body["ends_on"] = "2030-05-21".into();
    let session = body["sessions"][0].clone();
    body["sessions"] = serde_json::json!([session, session, session, session, session]);
    let five = post(&body, &admin).await;
    assert_eq!(five.status, 422);
    assert_eq!(
        five.json()["errors"][0]["code"],
        "invalid-sessions-too-many"
    );
    assert!(
        app.store.event_by_slug("jobs-2").await.is_err(),
        "nothing saved"
    );
}

/// Publishing an agenda while a participant withdraws, at the same moment, on both backends:
/// neither fails with a server error (on PostgreSQL the two used to be able to deadlock), and
/// whichever comes second sees the first, so the one who left has no meeting.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn publishing_while_a_participant_withdraws_leaves_them_no_meeting() {
    for (app, _) in TestApp::on_every_backend().await {
        let (ev, people) = six_who_want_to_meet(&app).await;
        let org = app.sign_in("org@example.de").await;
        let leaving = app.sign_in("p0@example.cn").await;
        let r = app
            .post_form(
                "/events/h2-days/schedule/run",
                Some(&org),
                "de",
                &[("tables", "3"), ("seconds", "1")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        wait_for_draft(&app, &org).await;
        let (published, withdrawn) = tokio::join!(
            app.post_form("/events/h2-days/schedule/publish", Some(&org), "de", &[]),
            app.post_form("/events/h2-days/withdraw", Some(&leaving), "zh", &[]),
        );
        assert_eq!(withdrawn.status, 303, "{}", withdrawn.body);
        // Published (303), or refused as stale because the withdrawal came first (409).
        assert!(
            published.status == 303
                || (published.status == 409 && published.body.contains("Optimierung erneut")),
            "{}: {}",
            published.status,
            published.body
        );
        let left = app.store.busy_slots(ev, people[0]).await.unwrap();
        assert!(
            left.is_empty(),
            "the one who withdrew keeps meetings at {left:?}"
        );
        if published.status == 303 {
            // The others kept theirs: 15 pairs, 5 of them with the one who left.
            assert_eq!(app.store.count_scheduled_meetings(ev).await.unwrap(), 10);
        }
    }
}

/// At a hybrid fair, someone available only online meets online: the optimiser gives those
/// meetings no table, and they are published as video meetings; the others get tables. A
/// published meeting follows when its participant switches to online only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_a_hybrid_fair_those_available_only_online_meet_online() {
    let app = TestApp::new().await;
    let (ev, people) = six_who_want_to_meet(&app).await;
    let org = app.sign_in("org@example.de").await;
    let run_and_publish = |keep: bool| {
        let (app, org) = (&app, org.clone());
        async move {
            let mut run = vec![("tables", "3"), ("seconds", "1")];
            if keep {
                run.push(("keep", "on"));
            }
            app.post_form("/events/h2-days/schedule/run", Some(&org), "de", &run)
                .await;
            wait_for_draft(app, &org).await;
            let r = app
                .post_form("/events/h2-days/schedule/publish", Some(&org), "de", &[])
                .await;
            assert_eq!(r.status, 303, "{}", r.body);
            app.store.event_meetings(ev).await.unwrap()
        }
    };
    // Everyone on site at first.
    let before = run_and_publish(false).await;
    assert!(
        before
            .iter()
            .all(|(m, _)| m.mode == kontor_domain::MeetingMode::OnSite)
    );
    // Then p0 can only join online: its published meetings stay where they are, by video.
    let slots: Vec<(i64, kontor_domain::MeetingMode)> = app
        .slot_starts(ev)
        .await
        .into_iter()
        .map(|s| (s, kontor_domain::MeetingMode::Online))
        .collect();
    let mut tx = app.store.begin().await.unwrap();
    tx.set_availability(ev, people[0], &slots).await.unwrap();
    tx.commit().await.unwrap();
    let after = run_and_publish(true).await;
    assert_eq!(after.len(), before.len());
    for (m, r) in after {
        let online = r.from_user == people[0] || r.to_user == people[0];
        assert_eq!(
            (m.mode, m.table_no.is_some()),
            match online {
                true => (kontor_domain::MeetingMode::Online, false),
                false => (kontor_domain::MeetingMode::OnSite, true),
            },
            "{m:?}"
        );
        let was = before
            .iter()
            .find(|(b, _)| b.id == m.id)
            .expect("the same meeting");
        assert_eq!(was.0.slot_start, m.slot_start, "kept in its slot");
    }
}

/// Requests left out for a participant's meeting limit say whose limit it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_draft_names_whose_meeting_limit_left_a_request_out() {
    let app = TestApp::new().await;
    six_who_want_to_meet(&app).await;
    let mut tx = app.store.begin().await.unwrap();
    let sql = "UPDATE events SET max_meetings = 2";
    kontor_store::testing::execute(&mut tx, sql).await.unwrap();
    tx.commit().await.unwrap();
    let org = app.sign_in("org@example.de").await;
    let run = [("tables", "3"), ("seconds", "1")];
    app.post_form("/events/h2-days/schedule/run", Some(&org), "de", &run)
        .await;
    let draft = wait_for_draft(&app, &org).await;
    // Six people, two meetings each: at most six of the fifteen.
    assert!(cell(&draft, "draft-meetings").parse::<u32>().unwrap() <= 6);
    assert!(
        (0..6).any(|i| draft.contains(&format!("User p{i} hat die Höchstzahl an Gesprächen"))),
        "{draft}"
    );
}

/// Kept published meetings are not pushed out by weightier new requests: a latecomer who must
/// meet everyone gets only the times left free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_meetings_are_not_pushed_out_by_weightier_new_requests() {
    let app = TestApp::new().await;
    let (ev, people) = six_who_want_to_meet(&app).await;
    let org = app.sign_in("org@example.de").await;
    let run = |keep: bool| {
        let (app, org) = (&app, org.clone());
        async move {
            let mut form = vec![("tables", "3"), ("seconds", "1")];
            if keep {
                form.push(("keep", "on"));
            }
            app.post_form("/events/h2-days/schedule/run", Some(&org), "de", &form)
                .await;
            wait_for_draft(app, &org).await
        }
    };
    run(false).await;
    let r = app
        .post_form("/events/h2-days/schedule/publish", Some(&org), "de", &[])
        .await;
    assert_eq!(r.status, 303);
    let late = app.user("late@example.de", Locale::De, false).await;
    app.approved(ev, late, ParticipantRole::Visitor).await;
    let mut tx = app.store.begin().await.unwrap();
    for &p in &people {
        accepted(&mut tx, ev, (late, p), MeetingPriority::Must).await;
    }
    tx.commit().await.unwrap();
    let draft = run(true).await;
    assert_eq!(cell(&draft, "draft-changes"), "0", "{draft}");
    assert!(cell(&draft, "draft-meetings").parse::<u32>().unwrap() >= 15);
}

/// When tables are what keeps requests out, the draft says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_draft_says_when_more_tables_would_hold_more() {
    let app = TestApp::new().await;
    six_who_want_to_meet(&app).await;
    let org = app.sign_in("org@example.de").await;
    let run = [("tables", "1"), ("seconds", "1")];
    app.post_form("/events/h2-days/schedule/run", Some(&org), "de", &run)
        .await;
    let draft = wait_for_draft(&app, &org).await;
    // Six slots with one table each: six of the fifteen.
    assert_eq!(
        cell(&draft, "draft-summary"),
        "6 von 15 angenommenen Anfragen passen in diesen Entwurf. Mit diesen Tischen und Zeiten geht es nicht besser. \
         Den meisten übrigen fehlte ein freier Tisch: Mit mehr Tischen pro Slot passen mehr hinein."
    );
}
