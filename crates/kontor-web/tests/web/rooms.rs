//! Video rooms: who may enter, when, the WebSocket's origin check, and signalling between two
//! participants, over real sockets. On PostgreSQL (`KONTOR_TEST_DATABASE_URL`) the two
//! participants sit on two instances sharing one database, so signals go through LISTEN/NOTIFY.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kontor_domain::{Locale, MeetingMode, MeetingRequestStatus, ParticipantRole, now_micros};
use kontor_store::Store;
use kontor_store::matchmaking::NewMeetingRequest;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use uuid::Uuid;

use crate::helpers::{BASE, TestApp};

const MINUTE: i64 = 60_000_000;

/// The stores to run on: SQLite always, PostgreSQL (a fresh database) when configured.
async fn stores() -> Vec<(Store, Option<String>)> {
    let sqlite = Store::connect("sqlite::memory:").await.unwrap();
    sqlite.migrate().await.unwrap();
    let mut out = vec![(sqlite, None)];
    if let Some(server) = kontor_store::testing::postgres_server() {
        let db = kontor_store::testing::fresh_postgres_url(&server).await;
        let store = Store::connect(&db).await.unwrap();
        store.migrate().await.unwrap();
        out.push((store, Some(db)));
    }
    out
}

struct Room {
    app: TestApp,
    /// A second instance on the same database (PostgreSQL only).
    second: Option<TestApp>,
    anna: String,
    /// Anna's account.
    anna_user: Uuid,
    li: String,
    organiser: String,
    outsider: String,
    /// Open now.
    open: Uuid,
    /// Open now too: Dora and Emil's meeting at the same time.
    parallel: Uuid,
    dora: String,
    /// Tomorrow.
    later: Uuid,
    /// Ended an hour ago.
    past: Uuid,
    /// Starts in half an hour: opens in twenty minutes.
    soon: Uuid,
    /// On site: no room.
    on_site: Uuid,
}

/// A booked meeting between `a` and `b` at `start` for 30 minutes.
async fn meeting(
    app: &TestApp,
    event: Uuid,
    a: Uuid,
    b: Uuid,
    start: i64,
    mode: MeetingMode,
) -> Uuid {
    let mut tx = app.store.begin().await.unwrap();
    let id = tx
        .create_meeting_request(
            &NewMeetingRequest {
                event_id: event,
                from_user: a,
                to_user: b,
                opportunity_id: None,
                message: None,
                priority: kontor_domain::MeetingPriority::Must,
            },
            1,
        )
        .await
        .unwrap();
    let request = tx
        .change_request_status(
            id,
            &[MeetingRequestStatus::Pending],
            MeetingRequestStatus::Accepted,
            None,
            2,
        )
        .await
        .unwrap();
    let m = tx
        .book_meeting(
            &request,
            &[a, b],
            (start, start + 30 * MINUTE),
            mode,
            None,
            3,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    m
}

async fn room(store: Store, db: Option<&str>) -> Room {
    let app = TestApp::on(store);
    let second = match db {
        Some(url) => Some(TestApp::on(Store::connect(url).await.unwrap())),
        None => None,
    };
    let org = app.user("org@example.org", Locale::De, false).await;
    let anna = app.user("anna@example.de", Locale::De, false).await;
    let li = app.user("li@example.cn", Locale::Zh, false).await;
    let carl = app.user("carl@example.de", Locale::En, false).await;
    app.user("bob@example.org", Locale::En, false).await;
    let dora = app.user("dora@example.de", Locale::De, false).await;
    let emil = app.user("emil@example.de", Locale::De, false).await;
    let ev = app.event("video-days", org).await;
    for (u, r) in [
        (anna, ParticipantRole::Exhibitor),
        (li, ParticipantRole::Visitor),
        (carl, ParticipantRole::Visitor),
        (dora, ParticipantRole::Exhibitor),
        (emil, ParticipantRole::Visitor),
    ] {
        app.approved(ev, u, r).await;
    }
    let now = now_micros();
    let open = meeting(&app, ev, anna, li, now + 2 * MINUTE, MeetingMode::Online).await;
    let parallel = meeting(&app, ev, dora, emil, now + 2 * MINUTE, MeetingMode::Online).await;
    let later = meeting(
        &app,
        ev,
        anna,
        carl,
        now + 24 * 60 * MINUTE,
        MeetingMode::Online,
    )
    .await;
    let past = meeting(&app, ev, li, carl, now - 90 * MINUTE, MeetingMode::Online).await;
    let soon = meeting(&app, ev, li, carl, now + 30 * MINUTE, MeetingMode::Online).await;
    let on_site = meeting(&app, ev, carl, anna, now + 60 * MINUTE, MeetingMode::OnSite).await;
    Room {
        anna: app.sign_in("anna@example.de").await,
        anna_user: anna,
        li: app.sign_in("li@example.cn").await,
        organiser: app.sign_in("org@example.org").await,
        outsider: app.sign_in("bob@example.org").await,
        dora: app.sign_in("dora@example.de").await,
        parallel,
        app,
        second,
        open,
        later,
        past,
        soon,
        on_site,
    }
}

/// Serves `app` on a loopback port; returns `ws://127.0.0.1:PORT`.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(kontor_web::serve(
        listener,
        app.state.clone(),
        std::future::pending(),
    ));
    format!("ws://{addr}")
}

/// The first instance's server and, on PostgreSQL, a second one on the same database (else
/// the first again).
async fn servers(r: &Room) -> (String, String) {
    let one = serve(&r.app).await;
    let two = match &r.second {
        Some(app) => serve(app).await,
        None => one.clone(),
    };
    (one, two)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a room's WebSocket; `Err(status)` when the server refuses the upgrade.
async fn connect(
    server: &str,
    meeting: Uuid,
    cookie: Option<&str>,
    origin: &str,
) -> Result<Socket, u16> {
    let mut req = format!("{server}/meetings/{meeting}/room/ws")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("origin", origin.parse().unwrap());
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

/// The next JSON message, within five seconds.
async fn next(ws: &mut Socket) -> serde_json::Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("socket open")
            .expect("no error");
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

#[tokio::test]
async fn only_participants_and_organisers_enter_the_room() {
    for (store, db) in stores().await {
        let r = room(store, db.as_deref()).await;
        let path = format!("/meetings/{}/room", r.open);
        for (who, cookie) in [
            ("anna", &r.anna),
            ("li", &r.li),
            ("organiser", &r.organiser),
        ] {
            let page = r.app.get(&path, Some(cookie), "en").await;
            assert_eq!(page.status, 200, "{who}: {}", page.body);
            assert!(page.body.contains("id=\"room\""), "{who} sees the room");
        }
        // Anna sees Li, her partner, with the partner's time zone for the clock.
        let page = r.app.get(&path, Some(&r.anna), "en").await;
        assert!(page.body.contains("User li"), "{}", page.body);
        assert!(
            page.body.contains("data-zone=\"Europe&#x2f;Berlin\""),
            "{}",
            page.body
        );
        let outsider = r.app.get(&path, Some(&r.outsider), "en").await;
        assert_eq!(outsider.status, 403);
        assert!(!outsider.body.contains("id=\"room\""));
        let anonymous = r.app.get(&path, None, "en").await;
        assert_eq!(
            anonymous.status, 303,
            "anonymous visitors are sent to sign in"
        );
        let on_site = r
            .app
            .get(
                &format!("/meetings/{}/room", r.on_site),
                Some(&r.anna),
                "en",
            )
            .await;
        assert_eq!(on_site.status, 404, "an on-site meeting has no room");

        let server = serve(&r.app).await;
        assert_eq!(
            connect(&server, r.open, Some(&r.outsider), BASE)
                .await
                .err(),
            Some(403)
        );
        assert_eq!(connect(&server, r.open, None, BASE).await.err(), Some(403));
        assert!(
            connect(&server, r.open, Some(&r.organiser), BASE)
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn the_room_is_closed_outside_its_window() {
    for (store, db) in stores().await {
        let r = room(store, db.as_deref()).await;
        let later = r
            .app
            .get(&format!("/meetings/{}/room", r.later), Some(&r.anna), "de")
            .await;
        assert_eq!(later.status, 200);
        assert!(
            later.body.contains("data-testid=\"room-not-yet\""),
            "{}",
            later.body
        );
        assert!(later.body.contains("Der Raum öffnet"), "{}", later.body);
        assert!(!later.body.contains("id=\"room\""));
        assert_eq!(
            later.header("refresh"),
            "",
            "tomorrow is too far to wait on the page"
        );
        let soon = r
            .app
            .get(&format!("/meetings/{}/room", r.soon), Some(&r.li), "en")
            .await;
        let refresh: i64 = soon.header("refresh").parse().expect("a Refresh header");
        assert!(
            (1100..=1201).contains(&refresh),
            "reloads when the room opens: {refresh}"
        );
        let past = r
            .app
            .get(&format!("/meetings/{}/room", r.past), Some(&r.li), "zh")
            .await;
        assert!(
            past.body.contains("data-testid=\"room-over\""),
            "{}",
            past.body
        );
        assert!(past.body.contains("会谈已结束"));

        let server = serve(&r.app).await;
        assert_eq!(
            connect(&server, r.later, Some(&r.anna), BASE).await.err(),
            Some(409)
        );
        assert_eq!(
            connect(&server, r.past, Some(&r.li), BASE).await.err(),
            Some(409)
        );

        // The reminder of the meeting that starts now leads to its room (two meetings start
        // now: Anna and Li's, Dora and Emil's).
        assert_eq!(
            kontor_web::send_due_reminders(&r.app.state, 10)
                .await
                .unwrap(),
            2
        );
        let mail = &r
            .app
            .store
            .outbox(Some("anna@example.de"), 1)
            .await
            .unwrap()[0];
        assert_eq!(mail.kind, "meeting-reminder");
        let room = format!("{BASE}/meetings/{}/room", r.open);
        assert!(mail.body_text.contains(&room), "{}", mail.body_text);
        assert!(
            mail.body_html.contains("Zum Videogespräch"),
            "{}",
            mail.body_html
        );

        // So does the calendar entry (URL folded at 75 octets).
        let ics = r
            .app
            .get("/events/video-days/agenda.ics", Some(&r.anna), "en")
            .await;
        assert!(
            ics.body
                .replace("\r\n ", "")
                .contains(&format!("URL:{room}")),
            "{}",
            ics.body
        );

        // The agenda offers "Join video" for the open meeting only.
        let agenda = r
            .app
            .get("/events/video-days/meetings", Some(&r.anna), "en")
            .await;
        assert_eq!(
            agenda.body.matches("data-testid=\"join-video\"").count(),
            1,
            "{}",
            agenda.body
        );
        assert!(agenda.body.contains(&format!(
            "href=\"/meetings/{}/room\" data-testid=\"join-video\"",
            r.open
        )));
    }
}

#[tokio::test]
async fn a_cross_site_upgrade_is_refused() {
    for (store, db) in stores().await {
        let r = room(store, db.as_deref()).await;
        let server = serve(&r.app).await;
        assert_eq!(
            connect(&server, r.open, Some(&r.anna), "http://evil.example")
                .await
                .err(),
            Some(403)
        );
        assert_eq!(
            connect(&server, r.open, Some(&r.anna), "null").await.err(),
            Some(403)
        );
        // Our host, but another scheme: a plain-http page cannot speak for an https site, nor
        // the other way round.
        let host = server.strip_prefix("ws://").unwrap();
        for origin in [
            format!("https://{host}"),
            BASE.replacen("http://", "https://", 1),
            format!("ftp://{host}"),
        ] {
            assert_eq!(
                connect(&server, r.open, Some(&r.anna), &origin).await.err(),
                Some(403),
                "{origin}"
            );
        }
        assert!(
            connect(&server, r.open, Some(&r.anna), &format!("http://{host}"))
                .await
                .is_ok()
        );
        assert!(connect(&server, r.open, Some(&r.anna), BASE).await.is_ok());
    }
}

#[tokio::test]
async fn a_signal_reaches_the_other_participant_and_no_one_else() {
    for (store, db) in stores().await {
        let r = room(store, db.as_deref()).await;
        // On PostgreSQL Li talks to another instance.
        let (one, two) = servers(&r).await;
        let mut anna = connect(&one, r.open, Some(&r.anna), BASE).await.unwrap();
        let mut li = connect(&two, r.open, Some(&r.li), BASE).await.unwrap();
        let anna_id = next(&mut anna).await["id"].as_str().unwrap().to_string();
        let li_id = next(&mut li).await["id"].as_str().unwrap().to_string();
        assert_ne!(anna_id, li_id);
        // Someone else's meeting at the same time, with its participant connected to either
        // instance, must not hear this room.
        let mut dora = connect(&one, r.parallel, Some(&r.dora), BASE)
            .await
            .unwrap();
        let mut dora_two = connect(&two, r.parallel, Some(&r.dora), BASE)
            .await
            .unwrap();
        next(&mut dora).await;
        next(&mut dora_two).await;

        li.send(Message::text(r#"{"type":"hello"}"#)).await.unwrap();
        let hello = next(&mut anna).await;
        assert_eq!(hello["type"], "hello");
        assert_eq!(hello["from"], li_id.as_str(), "the server names the sender");

        // An SDP larger than NOTIFY's 8000-byte payload.
        let sdp = format!(
            "v=0\r\n{}",
            "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n".repeat(200)
        );
        assert!(sdp.len() > 8000);
        let offer = serde_json::json!({
            "type": "offer", "to": li_id, "from": "forged", "user": "forged", "description": { "type": "offer", "sdp": sdp },
        });
        anna.send(Message::text(offer.to_string())).await.unwrap();
        let got = next(&mut li).await;
        assert_eq!(got["type"], "offer");
        assert_eq!(
            got["from"],
            anna_id.as_str(),
            "a forged sender is overwritten"
        );
        assert_eq!(
            got["user"],
            r.anna_user.to_string().as_str(),
            "so is a forged person"
        );
        assert_eq!(got["description"]["sdp"], sdp.as_str());

        // Unknown kinds are not relayed; the next message is the one after it.
        li.send(Message::text(r#"{"type":"welcome","id":"x"}"#))
            .await
            .unwrap();
        li.send(Message::text(
            serde_json::json!({"type":"answer","to":anna_id}).to_string(),
        ))
        .await
        .unwrap();
        assert_eq!(next(&mut anna).await["type"], "answer");
        // Dora heard none of it: not the hello, the offer, the answer.
        silent(&mut dora, "another room").await;
        silent(&mut dora_two, "another room, other instance").await;

        // Leaving says bye to the other side.
        li.close(None).await.unwrap();
        let bye = next(&mut anna).await;
        assert_eq!(bye["type"], "bye");
        assert_eq!(bye["from"], li_id.as_str());
    }
}

/// An organiser's choice of video provider for the event; returns the status.
async fn choose(app: &TestApp, cookie: &str, provider: &str) -> u16 {
    app.post_form(
        "/events/video-days/video",
        Some(cookie),
        "en",
        &[("provider", provider)],
    )
    .await
    .status
}

#[tokio::test]
async fn organisers_may_send_an_event_to_jitsi_instead() {
    for (store, db) in stores().await {
        let r = room(store.clone(), db.as_deref()).await;
        // Without a configured Jitsi server there is no choice.
        let page = r
            .app
            .get("/events/video-days/participants", Some(&r.organiser), "en")
            .await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("action=\"/events/video-days/video\""));
        assert_eq!(choose(&r.app, &r.organiser, "jitsi").await, 400);

        let mut config = kontor_web::WebConfig::new(BASE);
        config.video.jitsi_url = "https://meet.example.org".into();
        config.video.jitsi_secret = "a secret of some length".into();
        let app = TestApp::configured(store, config);
        let page = app
            .get("/events/video-days/participants", Some(&r.organiser), "de")
            .await;
        assert!(
            page.body
                .contains("Jitsi Meet unter https:&#x2f;&#x2f;meet.example.org"),
            "{}",
            page.body
        );
        for cookie in [&r.anna, &r.outsider] {
            assert_eq!(
                choose(&app, cookie, "jitsi").await,
                403,
                "only organisers choose"
            );
        }
        let room = format!("/meetings/{}/room", r.open);
        let before = app.get(&room, Some(&r.anna), "en").await;
        assert!(!before.body.contains("jitsi-link"));
        assert_eq!(choose(&app, &r.organiser, "jitsi").await, 303);
        let page = app.get(&room, Some(&r.anna), "en").await;
        // The room's name is derived from the meeting's id with the server's secret: the id
        // alone (in links, mails, calendar entries) does not lead to it.
        let prefix = "https:&#x2f;&#x2f;meet.example.org&#x2f;Kontor-";
        let name = page.body.split(prefix).nth(1).expect("a Jitsi link");
        let (name, rest) = name.split_once('#').unwrap();
        assert_eq!(name.len(), 32, "{name}");
        assert!(name.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        assert!(!page.body.contains(&r.open.simple().to_string()[..12]));
        assert!(rest.starts_with(
            "config.prejoinConfig.enabled=false&amp;userInfo.displayName=%22User%20anna%22"
        ));
        // Li is sent to the same room; another secret names another room.
        let li = app.get(&room, Some(&r.li), "en").await;
        assert!(li.body.contains(&format!("{prefix}{name}#")));
        let mut other = kontor_web::WebConfig::new(BASE);
        other.video.jitsi_url = "https://meet.example.org".into();
        other.video.jitsi_secret = "another secret, just as long".into();
        let other = TestApp::configured(r.app.store.clone(), other);
        let page = other.get(&room, Some(&r.anna), "en").await;
        assert!(page.body.contains(prefix) && !page.body.contains(name));
        assert!(!page.body.contains("id=\"room\""), "no built-in room");
        // The outsider still cannot see the meeting's link.
        assert_eq!(app.get(&room, Some(&r.outsider), "en").await.status, 403);
        // Back to the built-in rooms.
        assert_eq!(choose(&app, &r.organiser, "builtin").await, 303);
        let page = app.get(&room, Some(&r.anna), "en").await;
        assert!(page.body.contains("id=\"room\""));
    }
}

/// Nothing arrives on `ws` within a second (pings aside).
async fn silent(ws: &mut Socket, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Text(t)))) => panic!("{what}: unexpected message {t}"),
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("{what}: socket ended: {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_organiser_looking_in_hears_no_one_elses_offer() {
    for (store, db) in stores().await {
        let r = room(store, db.as_deref()).await;
        let (one, two) = servers(&r).await;
        // The organiser is first in the room.
        let mut org = connect(&one, r.open, Some(&r.organiser), BASE)
            .await
            .unwrap();
        let org_id = next(&mut org).await["id"].as_str().unwrap().to_string();
        let mut anna = connect(&one, r.open, Some(&r.anna), BASE).await.unwrap();
        let anna_id = next(&mut anna).await["id"].as_str().unwrap().to_string();
        let mut li = connect(&two, r.open, Some(&r.li), BASE).await.unwrap();
        let li_id = next(&mut li).await["id"].as_str().unwrap().to_string();

        // Anna says hello: both hear it, named as a participant.
        anna.send(Message::text(r#"{"type":"hello","role":"organiser"}"#))
            .await
            .unwrap();
        for ws in [&mut org, &mut li] {
            let hello = next(ws).await;
            assert_eq!(hello["type"], "hello");
            assert_eq!(hello["from"], anna_id.as_str());
            assert_eq!(hello["role"], "participant", "the server names the role");
        }
        // Li's offer, answer and candidates reach Anna only.
        for kind in ["offer", "candidate"] {
            let msg =
                serde_json::json!({ "type": kind, "to": anna_id, "description": {"sdp": "v=0"} });
            li.send(Message::text(msg.to_string())).await.unwrap();
            let got = next(&mut anna).await;
            assert_eq!(got["type"], kind);
            assert_eq!(got["from"], li_id.as_str());
        }
        anna.send(Message::text(
            serde_json::json!({ "type": "answer", "to": li_id }).to_string(),
        ))
        .await
        .unwrap();
        assert_eq!(next(&mut li).await["type"], "answer");
        // An offer without an addressee is not relayed to anyone.
        li.send(Message::text(r#"{"type":"offer","description":{}}"#))
            .await
            .unwrap();
        silent(&mut org, "the organiser").await;
        silent(&mut anna, "anna").await;
        // The organiser is still reachable when addressed.
        anna.send(Message::text(
            serde_json::json!({ "type": "offer", "to": org_id }).to_string(),
        ))
        .await
        .unwrap();
        let got = next(&mut org).await;
        assert_eq!(got["type"], "offer");
        assert_eq!(got["from"], anna_id.as_str());
        silent(&mut li, "li").await;
    }
}

#[tokio::test]
async fn signals_flow_again_after_the_database_drops_the_listener() {
    for (store, db) in stores().await {
        let Some(url) = db else { continue }; // PostgreSQL only
        let r = room(store, Some(&url)).await;
        let (one, two) = servers(&r).await;
        let mut anna = connect(&one, r.open, Some(&r.anna), BASE).await.unwrap();
        let mut li = connect(&two, r.open, Some(&r.li), BASE).await.unwrap();
        next(&mut anna).await;
        next(&mut li).await;
        // The database ends both instances' LISTEN connections (a restart, a failover, an
        // idle-session killer).
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        let ended: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        )
        .fetch_all(&admin)
        .await
        .unwrap();
        assert_eq!(ended.len(), 2, "one listener per instance");
        // Within a few seconds Li's hello reaches Anna on the other instance again.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no signal after 15 s"
            );
            li.send(Message::text(r#"{"type":"hello"}"#)).await.unwrap();
            match tokio::time::timeout(Duration::from_millis(500), anna.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    assert!(t.contains("hello"), "{t}");
                    break;
                }
                Ok(Some(Ok(_))) | Err(_) => {}
                Ok(other) => panic!("socket ended: {other:?}"),
            }
        }
        // Both instances listen again (the other one perhaps a moment later).
        loop {
            let listeners: Vec<(i32,)> = sqlx::query_as(
                "SELECT pid FROM pg_stat_activity \
                 WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
            )
            .fetch_all(&admin)
            .await
            .unwrap();
            if listeners.len() == 2 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{listeners:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn a_person_holds_at_most_two_sockets_in_a_room() {
    for (store, db) in stores().await {
        let r = room(store, db.as_deref()).await;
        let server = serve(&r.app).await;
        let first = connect(&server, r.open, Some(&r.anna), BASE).await.unwrap();
        let _second = connect(&server, r.open, Some(&r.anna), BASE).await.unwrap();
        assert_eq!(
            connect(&server, r.open, Some(&r.anna), BASE).await.err(),
            Some(409),
            "a third socket is refused"
        );
        assert!(connect(&server, r.open, Some(&r.li), BASE).await.is_ok());
        // A closed socket frees its place (the server notices the close at once).
        drop(first);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while connect(&server, r.open, Some(&r.anna), BASE).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the place stays taken"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn a_cancelled_meetings_sockets_are_closed() {
    for (store, _db) in stores().await {
        let r = room(store.clone(), None).await;
        let mut config = kontor_web::WebConfig::new(BASE);
        config.video.ping_every = Some(Duration::from_millis(300));
        let app = TestApp::configured(store, config);
        let server = serve(&app).await;
        let mut li = connect(&server, r.open, Some(&r.li), BASE).await.unwrap();
        let mut dora = connect(&server, r.parallel, Some(&r.dora), BASE)
            .await
            .unwrap();
        next(&mut li).await;
        next(&mut dora).await;
        let mut tx = app.store.begin().await.unwrap();
        tx.cancel_meeting(r.open, now_micros()).await.unwrap();
        tx.commit().await.unwrap();
        // At the next check the server says the room is closed, and closes the socket.
        assert_eq!(next(&mut li).await["type"], "closed");
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match li.next().await {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert!(end.is_ok(), "the socket is closed");
        // Another meeting's socket stays open.
        silent(&mut dora, "the other room").await;
        dora.send(Message::text(r#"{"type":"hello"}"#))
            .await
            .unwrap();
    }
}
