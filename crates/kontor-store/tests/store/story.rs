use kontor_domain::{
    Country, Email, EventFormat, EventKind, Locale, LocalizedText, MatchmakingSession, OrgKind,
    ParticipantRole, RegistrationStatus, Sector, Slug, TimeZoneName,
};
use kontor_store::accounts::{CodeCheck, NewUser, ProfileUpdate};
use kontor_store::events::NewEvent;
use kontor_store::organisations::OrganisationFields;
use kontor_store::outbox::NewMail;
use kontor_store::{Backend, StoreError};

use crate::stores;

const NOW: i64 = 1_800_000_000_000_000;

fn new_user(email: &str, locale: Locale) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        name: "Li Wei".into(),
        time_zone: TimeZoneName::parse("Asia/Shanghai").unwrap(),
        locale,
        is_admin: false,
        password_hash: None,
        email_verified: false,
    }
}

pub fn event(slug: &str) -> NewEvent {
    NewEvent {
        slug: Slug::parse(slug).unwrap(),
        kind: EventKind::TradeFair,
        format: EventFormat::Hybrid,
        title: LocalizedText::one(Locale::De, "Wasserstofftage").with(Locale::Zh, "氢能日"),
        description: LocalizedText::new(),
        venue: Some("Köln".into()),
        time_zone: TimeZoneName::berlin(),
        starts_on: "2027-03-10".parse().unwrap(),
        ends_on: "2027-03-11".parse().unwrap(),
        registration_opens_at: NOW - 1,
        registration_closes_at: NOW + 1_000_000,
        needs_approval: true,
        roles: vec![ParticipantRole::Exhibitor, ParticipantRole::Visitor],
        sessions: vec![
            MatchmakingSession::parse(
                "2027-03-10",
                "09:00",
                "12:00",
                30,
                &[("10:00".into(), "10:30".into())],
            )
            .unwrap(),
        ],
        rules: Default::default(),
    }
}

#[tokio::test]
async fn accounts_codes_sessions_tokens() {
    for store in stores().await {
        let mut tx = store.begin().await.unwrap();
        let id = tx
            .create_user(new_user("Li.Wei@Example.CN", Locale::Zh), NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        // One account per address, whatever its case.
        let mut tx = store.begin().await.unwrap();
        let dup = tx
            .create_user(new_user("li.wei@example.cn", Locale::En), NOW)
            .await;
        assert!(
            matches!(dup, Err(StoreError::Conflict(_))),
            "{:?}: {dup:?}",
            store.backend()
        );
        drop(tx);

        let user = store
            .user_by_email(&Email::parse("li.wei@example.cn").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.id, id);
        assert_eq!(user.locale, Locale::Zh);
        assert!(!user.email_verified);

        // A code: wrong attempts count, the right one works once and verifies the address.
        let mut tx = store.begin().await.unwrap();
        tx.create_login_code(id, "h-right", "link-1", NOW, NOW + 900_000_000)
            .await
            .unwrap();
        assert_eq!(
            tx.check_login_code(id, "h-wrong", NOW, 5).await.unwrap(),
            CodeCheck::Wrong
        );
        assert_eq!(
            tx.check_login_code(id, "h-right", NOW, 5).await.unwrap(),
            CodeCheck::Valid(id)
        );
        assert_eq!(
            tx.check_login_code(id, "h-right", NOW, 5).await.unwrap(),
            CodeCheck::Exhausted
        );
        assert_eq!(
            tx.use_login_link("link-1", NOW).await.unwrap(),
            None,
            "the link went with the code"
        );
        tx.commit().await.unwrap();
        assert!(store.user(id).await.unwrap().email_verified);

        // Too many wrong attempts use a code up; an expired code never works.
        let mut tx = store.begin().await.unwrap();
        tx.create_login_code(id, "h2", "link-2", NOW, NOW + 10)
            .await
            .unwrap();
        for _ in 0..3 {
            assert_eq!(
                tx.check_login_code(id, "nope", NOW, 3).await.unwrap(),
                CodeCheck::Wrong
            );
        }
        assert_eq!(
            tx.check_login_code(id, "h2", NOW, 3).await.unwrap(),
            CodeCheck::Exhausted
        );
        tx.create_login_code(id, "h3", "link-3", NOW, NOW + 10)
            .await
            .unwrap();
        assert_eq!(tx.use_login_link("link-3", NOW + 11).await.unwrap(), None);
        assert_eq!(
            tx.use_login_link("link-3", NOW + 5).await.unwrap(),
            Some(id)
        );
        tx.commit().await.unwrap();

        // Parallel guesses (each its own transaction) are counted one by one: no more than
        // the limit are ever compared, on either database.
        let mut tx = store.begin().await.unwrap();
        tx.create_login_code(id, "h4", "link-4", NOW, NOW + 900_000_000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut guesses = tokio::task::JoinSet::new();
        for i in 0..10 {
            let store = store.clone();
            guesses.spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let check = tx
                    .check_login_code(id, &format!("guess-{i}"), NOW, 3)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                check
            });
        }
        let checks = guesses.join_all().await;
        let wrong = checks.iter().filter(|c| **c == CodeCheck::Wrong).count();
        assert_eq!((wrong, checks.len()), (3, 10), "{checks:?}");

        // Sessions expire; tokens can be revoked.
        let mut tx = store.begin().await.unwrap();
        tx.create_session("s1", id, NOW, NOW + 100).await.unwrap();
        let token = tx.create_api_token(id, "script", "t1", NOW).await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            store
                .user_by_session("s1", NOW + 50)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .user_by_session("s1", NOW + 100)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.user_by_token("t1").await.unwrap().unwrap().id, id);
        let mut tx = store.begin().await.unwrap();
        tx.revoke_api_token(id, token, NOW).await.unwrap();
        assert!(matches!(
            tx.revoke_api_token(id, token, NOW).await,
            Err(StoreError::NotFound)
        ));
        let swept = tx.sweep_expired(NOW + 1_000_000_000, NOW).await.unwrap();
        tx.commit().await.unwrap();
        assert!(store.user_by_token("t1").await.unwrap().is_none());
        assert!(swept >= 1);
    }
}

#[tokio::test]
async fn rate_limits_count_per_window() {
    for store in stores().await {
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.hit_rate_limit("signin:a", 0).await.unwrap(), 1);
        assert_eq!(tx.hit_rate_limit("signin:a", 0).await.unwrap(), 2);
        assert_eq!(tx.hit_rate_limit("signin:b", 0).await.unwrap(), 1);
        assert_eq!(tx.hit_rate_limit("signin:a", 60).await.unwrap(), 1);
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn organisations_profiles_events_registrations() {
    for store in stores().await {
        let mut tx = store.begin().await.unwrap();
        let user = tx
            .create_user(new_user("a@example.cn", Locale::Zh), NOW)
            .await
            .unwrap();
        let organiser = tx
            .create_user(new_user("org@example.de", Locale::De), NOW)
            .await
            .unwrap();
        let org = tx
            .create_organisation(
                &OrganisationFields {
                    name: "贵阳氢能科技有限公司".into(),
                    kind: OrgKind::Company,
                    country: Country::CHINA,
                    city: Some("Guiyang".into()),
                    website: None,
                    sectors: vec![Sector::Hydrogen, Sector::EnvironmentalTechnology],
                    size: None,
                    description: LocalizedText::one(Locale::Zh, "氢能")
                        .with(Locale::En, "Hydrogen"),
                },
                NOW,
            )
            .await
            .unwrap();
        tx.update_profile(
            user,
            &ProfileUpdate {
                name: "王芳".into(),
                job_title: Some("总经理".into()),
                organisation_id: Some(org),
                languages: vec!["zh".into(), "en".into()],
                time_zone: TimeZoneName::parse("Asia/Shanghai").unwrap(),
                locale: Locale::Zh,
                phone: None,
                contact_public: false,
            },
        )
        .await
        .unwrap();
        let ev = tx
            .create_event(&event("h2-days"), organiser, NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // A failed statement ends a transaction on PostgreSQL: conflicts get their own.
        let mut tx = store.begin().await.unwrap();
        assert!(matches!(
            tx.create_event(&event("h2-days"), organiser, NOW).await,
            Err(StoreError::Conflict(_))
        ));
        drop(tx);

        let o = store.organisation(org).await.unwrap();
        assert_eq!(
            o.sectors,
            vec![Sector::Hydrogen, Sector::EnvironmentalTechnology]
        );
        assert_eq!(o.description.show(Locale::De), "Hydrogen");
        assert_eq!(
            store
                .organisations(Some("氢能"), 10, 0)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.users_of_organisation(org).await.unwrap()[0].name,
            "王芳"
        );

        let e = store.event_by_slug("h2-days").await.unwrap();
        assert_eq!(e.id, ev);
        assert_eq!(e.title.show(Locale::Zh), "氢能日");
        assert!(store.is_organiser(ev, organiser).await.unwrap());
        assert!(!store.is_organiser(ev, user).await.unwrap());
        let sessions = store.event_sessions(ev).await.unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].slots(&e.time_zone).len(), 5);
        assert_eq!(
            store
                .upcoming_events("2027-03-11".parse().unwrap())
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .upcoming_events("2027-03-12".parse().unwrap())
                .await
                .unwrap()
                .len(),
            0
        );

        // "Not ended" is judged in each event's own zone. h2-days (Berlin) ends on 11 March;
        // a Shanghai and a Los Angeles event end that day too.
        let mut tx = store.begin().await.unwrap();
        for (slug, zone) in [
            ("sh-fair", "Asia/Shanghai"),
            ("la-fair", "America/Los_Angeles"),
        ] {
            let mut e = event(slug);
            e.time_zone = TimeZoneName::parse(zone).unwrap();
            tx.create_event(&e, organiser, NOW).await.unwrap();
        }
        tx.commit().await.unwrap();
        let open_at = |at: &str| {
            let store = store.clone();
            let at: jiff::Timestamp = at.parse().unwrap();
            async move {
                let mut slugs: Vec<String> = store
                    .events_not_ended(at)
                    .await
                    .unwrap()
                    .iter()
                    .map(|e| e.slug.as_str().to_string())
                    .collect();
                slugs.sort();
                slugs
            }
        };
        // 23:30 in Berlin on the 11th is 06:30 on the 12th in Shanghai and 14:30 on the 11th
        // in Los Angeles.
        assert_eq!(
            open_at("2027-03-11T22:30:00Z").await,
            ["h2-days", "la-fair"]
        );
        // 02:00 in Berlin on the 12th: Los Angeles is still on the 11th.
        assert_eq!(open_at("2027-03-12T01:00:00Z").await, ["la-fair"]);
        assert_eq!(
            open_at("2027-03-11T15:00:00Z").await,
            ["h2-days", "la-fair", "sh-fair"]
        );

        let mut tx = store.begin().await.unwrap();
        let reg = tx
            .register(
                ev,
                user,
                ParticipantRole::Exhibitor,
                RegistrationStatus::Pending,
                Some("你好"),
                NOW,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        assert!(matches!(
            tx.register(
                ev,
                user,
                ParticipantRole::Visitor,
                RegistrationStatus::Pending,
                None,
                NOW
            )
            .await,
            Err(StoreError::Conflict(_))
        ));
        drop(tx);
        let mut tx = store.begin().await.unwrap();
        let decided = tx
            .decide_registration(ev, reg, RegistrationStatus::Approved, organiser, NOW + 1)
            .await
            .unwrap();
        assert_eq!(decided.status, RegistrationStatus::Approved);
        let other_event = uuid::Uuid::now_v7();
        assert!(matches!(
            tx.decide_registration(
                other_event,
                reg,
                RegistrationStatus::Rejected,
                organiser,
                NOW
            )
            .await,
            Err(StoreError::NotFound)
        ));
        tx.commit().await.unwrap();
        let list = store
            .participants(ev, Some(RegistrationStatus::Approved))
            .await
            .unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(
            list[0].organisation.as_deref(),
            Some("贵阳氢能科技有限公司")
        );
        assert_eq!(
            store
                .participants(ev, Some(RegistrationStatus::Pending))
                .await
                .unwrap()
                .len(),
            0
        );
        assert_eq!(store.registrations_of_user(user).await.unwrap()[0].1.id, ev);
        assert_eq!(
            store.registration_counts(ev).await.unwrap(),
            vec![(RegistrationStatus::Approved, 1)]
        );
    }
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_nothing() {
    for store in stores().await {
        let mut tx = store.begin().await.unwrap();
        tx.create_user(new_user("gone@example.de", Locale::De), NOW)
            .await
            .unwrap();
        tx.enqueue_mail(&mail("gone@example.de"), NOW)
            .await
            .unwrap();
        drop(tx);
        assert!(
            store
                .user_by_email(&Email::parse("gone@example.de").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.outbox_counts().await.unwrap().pending, 0);
    }
}

fn mail(to: &str) -> NewMail {
    NewMail {
        to: to.into(),
        locale: Locale::De,
        kind: "test",
        subject: "Betreff".into(),
        text: "Text".into(),
        html: "<p>Text</p>".into(),
    }
}

#[tokio::test]
async fn a_fallback_mail_waits_and_can_be_taken_back_until_claimed() {
    for store in stores().await {
        let mut tx = store.begin().await.unwrap();
        let kept = tx
            .enqueue_mail_due(&mail("a@example.de"), NOW, NOW + 1_000)
            .await
            .unwrap();
        let taken_back = tx
            .enqueue_mail_due(&mail("b@example.de"), NOW, NOW + 1_000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            store
                .claim_due_mail(NOW + 999, 10, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let mut tx = store.begin().await.unwrap();
        assert!(tx.withdraw_mail(taken_back, NOW + 500).await.unwrap());
        assert!(
            !tx.withdraw_mail(taken_back, NOW + 500).await.unwrap(),
            "gone"
        );
        tx.commit().await.unwrap();
        let due = store.claim_due_mail(NOW + 1_000, 10_000, 10).await.unwrap();
        assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), [kept]);
        assert_eq!(due[0].created_at, NOW, "written when queued");
        // Claimed by a worker: on its way, no longer taken back.
        let mut tx = store.begin().await.unwrap();
        assert!(!tx.withdraw_mail(kept, NOW + 1_001).await.unwrap());
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn outbox_claims_leases_and_retries() {
    for store in stores().await {
        let mut tx = store.begin().await.unwrap();
        for i in 0..5 {
            tx.enqueue_mail(&mail(&format!("p{i}@example.de")), NOW + i)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let first = store.claim_due_mail(NOW + 10, 1_000, 3).await.unwrap();
        assert_eq!(first.len(), 3);
        // Claimed mails are leased: a second worker gets only the rest.
        let second = store.claim_due_mail(NOW + 10, 1_000, 10).await.unwrap();
        assert_eq!(second.len(), 2);
        assert!(first.iter().all(|m| second.iter().all(|s| s.id != m.id)));
        store
            .mark_mail_sent(first[0].id, "smtp", NOW + 20)
            .await
            .unwrap();
        store
            .mark_mail_attempt_failed(first[1].id, "451 try later", Some(NOW + 5_000))
            .await
            .unwrap();
        store
            .mark_mail_attempt_failed(first[2].id, "550 no such user", None)
            .await
            .unwrap();
        // After the lease runs out, the unfinished ones come back; the retried one only when due.
        let again = store.claim_due_mail(NOW + 2_000, 1_000, 10).await.unwrap();
        assert_eq!(again.len(), 2, "the two leased by the second worker");
        let later = store.claim_due_mail(NOW + 10_000, 1_000, 10).await.unwrap();
        assert!(later.iter().any(|m| m.id == first[1].id
            && m.attempts == 1
            && m.last_error.as_deref() == Some("451 try later")));
        let counts = store.outbox_counts().await.unwrap();
        assert_eq!((counts.sent, counts.failed), (1, 1));
        // Local mailbox copies of a kind expire; mail for SMTP does not.
        let mut tx = store.begin().await.unwrap();
        let mut copy = mail("reader@example.de");
        copy.kind = "newsletter-issue";
        tx.add_to_mailbox(&copy, "raw", NOW).await.unwrap();
        tx.add_to_mailbox(&copy, "raw", NOW + 100).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store
                .delete_local_mail("newsletter-issue", NOW + 50)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .delete_local_mail("newsletter-issue", NOW + 50)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store.delete_local_mail("test", NOW + 10_000).await.unwrap(),
            0,
            "not local"
        );
        assert_eq!(
            store
                .outbox(Some("reader@example.de"), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.outbox(Some("p0@example.de"), 10).await.unwrap().len(),
            1
        );
    }
}

#[tokio::test]
async fn schema_is_the_same_on_both_backends() {
    let all = stores().await;
    if all.len() < 2 {
        eprintln!("schema parity needs PostgreSQL (KONTOR_TEST_DATABASE_URL); only SQLite ran");
        return;
    }
    let sqlite = all.iter().find(|s| s.backend() == Backend::Sqlite).unwrap();
    let pg = all
        .iter()
        .find(|s| s.backend() == Backend::Postgres)
        .unwrap();
    let (a, b) = (
        sqlite.schema_columns().await.unwrap(),
        pg.schema_columns().await.unwrap(),
    );
    assert!(a.len() > 50, "{a:?}");
    assert_eq!(a, b, "the migrations of the two dialects differ");
}

fn org_named(name: &str) -> OrganisationFields {
    OrganisationFields {
        name: name.into(),
        kind: OrgKind::Company,
        country: Country::GERMANY,
        city: None,
        website: None,
        sectors: vec![],
        size: None,
        description: LocalizedText::one(Locale::De, "Energie"),
    }
}

/// The directory's name filter ignores case beyond ASCII on every backend (SQLite's LOWER()
/// folds only ASCII, so "öko" did not find "Ökotec" there).
#[tokio::test]
async fn organisation_names_match_without_regard_to_case_in_every_script() {
    for store in stores().await {
        let mut tx = store.begin().await.unwrap();
        for name in [
            "Ökotec GmbH",
            "ÜBERLANDWERK Süd",
            "Energie Müller",
            "Ölmühle Essen",
            "H2_Labs 100%",
        ] {
            tx.create_organisation(&org_named(name), NOW).await.unwrap();
        }
        let id = tx
            .create_organisation(&org_named("provisional"), NOW)
            .await
            .unwrap();
        tx.update_organisation(id, &org_named("Ärztenetz Köln"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let names = |q: &'static str| {
            let store = store.clone();
            async move {
                let found = store.organisations(Some(q), 10, 0).await.unwrap();
                found.into_iter().map(|o| o.name).collect::<Vec<_>>()
            }
        };
        assert_eq!(names("öko").await, ["Ökotec GmbH"]);
        assert_eq!(names("überland").await, ["ÜBERLANDWERK Süd"]);
        assert_eq!(names("MÜLLER").await, ["Energie Müller"]);
        assert_eq!(names("ärzte").await, ["Ärztenetz Köln"]);
        assert_eq!(names("ÖLM").await, ["Ölmühle Essen"]);
        // `_` and `%` are characters to find, not wildcards.
        assert_eq!(names("2_l").await, ["H2_Labs 100%"]);
        assert_eq!(names("0%").await, ["H2_Labs 100%"]);
        assert!(names("k_tec").await.is_empty());
        assert!(names("ö%c").await.is_empty());
    }
}

/// Rows written before the folded name existed are folded when the schema is brought up to
/// date.
#[tokio::test]
async fn migrating_folds_names_written_before() {
    let file = std::env::temp_dir().join(format!("kontor-fold-{}.db", uuid::Uuid::now_v7()));
    let url = format!("sqlite://{}", file.display());
    let store = kontor_store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.create_organisation(&org_named("Ökotec GmbH"), NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    drop(store);
    // As an older version left it.
    let raw = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE organisations SET name_folded = ''")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let store = kontor_store::Store::connect(&url).await.unwrap();
    assert!(
        store
            .organisations(Some("öko"), 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
    store.migrate().await.unwrap();
    assert_eq!(
        store.organisations(Some("öko"), 10, 0).await.unwrap().len(),
        1
    );
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}
