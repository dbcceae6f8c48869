//! Matchmaking storage, and self-booking under contention: many participants booking at the
//! same moment never produce a double booking, and no request is lost.

use std::collections::{HashMap, HashSet};

use kontor_domain::{
    Email, Locale, MeetingMode, MeetingPriority, MeetingRequestStatus, OpportunityKind, Sector,
    TimeZoneName,
};
use kontor_store::accounts::NewUser;
use kontor_store::events::EventLock;
use kontor_store::matchmaking::{NewMeetingRequest, OpportunityFields};
use kontor_store::{Store, StoreError, Uuid};

use crate::stores;

const NOW: i64 = 1_800_000_000_000_000;
const SLOT: i64 = 1_800_000_000;

async fn users(store: &Store, n: usize) -> Vec<Uuid> {
    let mut tx = store.begin().await.unwrap();
    let mut ids = vec![];
    for i in 0..n {
        ids.push(
            tx.create_user(
                NewUser {
                    email: Email::parse(&format!("p{i}@example.cn")).unwrap(),
                    name: format!("P{i}"),
                    time_zone: TimeZoneName::berlin(),
                    locale: Locale::En,
                    is_admin: false,
                    password_hash: None,
                    email_verified: true,
                },
                NOW,
            )
            .await
            .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    ids
}

async fn event(store: &Store, organiser: Uuid) -> Uuid {
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .create_event(&crate::story::event("fair"), organiser, NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn accept(tx: &mut kontor_store::Tx, id: Uuid) -> kontor_store::matchmaking::MeetingRequest {
    tx.change_request_status(
        id,
        &[MeetingRequestStatus::Pending],
        MeetingRequestStatus::Accepted,
        None,
        NOW,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn requests_move_through_their_states_once() {
    for store in stores().await {
        let p = users(&store, 3).await;
        let ev = event(&store, p[0]).await;
        let mut tx = store.begin().await.unwrap();
        let opp = tx
            .create_opportunity(
                p[1],
                &OpportunityFields {
                    event_id: Some(ev),
                    kind: OpportunityKind::TechnologyOffer,
                    title: kontor_domain::LocalizedText::one(Locale::Zh, "氢燃料电池"),
                    description: kontor_domain::LocalizedText::new(),
                    sectors: vec![Sector::Hydrogen],
                    target_countries: vec![kontor_domain::Country::GERMANY],
                    languages: vec!["zh".into(), "en".into()],
                    interpreter_needed: true,
                    job: None,
                },
                NOW,
            )
            .await
            .unwrap();
        let req = NewMeetingRequest {
            event_id: ev,
            from_user: p[0],
            to_user: p[1],
            opportunity_id: Some(opp),
            message: Some("Hallo"),
            priority: MeetingPriority::Must,
        };
        let id = tx.create_meeting_request(&req, NOW).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.opportunities_for_event(ev).await.unwrap()[0].sectors,
            vec![Sector::Hydrogen]
        );
        let some = store.users_by_ids(&[p[0], p[2]]).await.unwrap();
        assert_eq!(some.len(), 2);
        assert_eq!(some[&p[2]].name, "P2");
        assert!(store.users_by_ids(&[]).await.unwrap().is_empty());
        assert!(
            store.organisation_names(&[p[0]]).await.unwrap().is_empty(),
            "not an organisation id"
        );
        assert_eq!(store.count_requests_sent(ev, p[0]).await.unwrap(), 1);
        assert_eq!(
            store
                .open_request_between(ev, p[1], p[0])
                .await
                .unwrap()
                .unwrap()
                .id,
            id
        );
        assert!(
            store
                .open_request_between(ev, p[1], p[2])
                .await
                .unwrap()
                .is_none()
        );

        let mut tx = store.begin().await.unwrap();
        let accepted = accept(&mut tx, id).await;
        assert_eq!(accepted.status, MeetingRequestStatus::Accepted);
        tx.commit().await.unwrap();
        // A second decision on the same request finds nothing to change.
        let mut tx = store.begin().await.unwrap();
        let again = tx
            .change_request_status(
                id,
                &[MeetingRequestStatus::Pending],
                MeetingRequestStatus::Declined,
                Some("no"),
                NOW,
            )
            .await;
        assert!(matches!(again, Err(StoreError::NotFound)));
        drop(tx);

        // A request to oneself is refused by the database too.
        let mut tx = store.begin().await.unwrap();
        let own = NewMeetingRequest {
            to_user: p[0],
            ..req
        };
        // Refused by the CHECK (from_user <> to_user), not by anything else.
        match tx.create_meeting_request(&own, NOW).await {
            Err(StoreError::Database(e)) => assert!(
                e.as_database_error()
                    .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::CheckViolation),
                "{e}"
            ),
            other => panic!("a check violation, not {other:?}"),
        }
        drop(tx);

        // Booking, then cancelling, frees the slot and raises the sequence.
        let mut tx = store.begin().await.unwrap();
        let m = tx
            .book_meeting(
                &accepted,
                &[p[0], p[1]],
                (SLOT, SLOT + 1),
                MeetingMode::Online,
                None,
                NOW,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.busy_slots(ev, p[1]).await.unwrap(), vec![SLOT]);
        let read = store.slots_of(ev, &[p[1], p[2]]).await.unwrap();
        assert_eq!(read.busy.get(&p[1]), Some(&[SLOT].into()));
        assert_eq!(read.busy.get(&p[2]), None);
        assert_eq!(store.meeting_of_request(id).await.unwrap().unwrap().id, m);
        let mut tx = store.begin().await.unwrap();
        tx.cancel_meeting(m, NOW + 5).await.unwrap();
        tx.commit().await.unwrap();
        assert!(store.busy_slots(ev, p[1]).await.unwrap().is_empty());
        let (meeting, _) = store.meetings_of(ev, p[0]).await.unwrap().remove(0);
        assert!(meeting.cancelled);
        assert_eq!(meeting.sequence, 1);

        // Booked again (a later published agenda places it), the request gets its meeting row
        // back: one row and one calendar UID per request, and no unique-key failure.
        let mut tx = store.begin().await.unwrap();
        let again = tx
            .book_meeting(
                &accepted,
                &[p[0], p[1]],
                (SLOT + 2, SLOT + 3),
                MeetingMode::Online,
                None,
                NOW + 6,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(again, m);
        let back = store.meeting_of_request(id).await.unwrap().unwrap();
        assert_eq!(
            (back.slot_start, back.sequence, back.cancelled),
            (SLOT + 2, 2, false)
        );
        assert_eq!(store.busy_slots(ev, p[1]).await.unwrap(), vec![SLOT + 2]);

        // Cancelling the request cancels its meeting, found inside the transaction; a
        // cancelled request cannot be booked.
        let mut tx = store.begin().await.unwrap();
        tx.change_request_status(
            id,
            &[MeetingRequestStatus::Accepted],
            MeetingRequestStatus::Cancelled,
            None,
            NOW + 7,
        )
        .await
        .unwrap();
        assert_eq!(
            tx.cancel_meeting_of_request(id, NOW + 7).await.unwrap(),
            Some(m)
        );
        assert_eq!(
            tx.cancel_meeting_of_request(id, NOW + 7).await.unwrap(),
            None
        );
        let late = tx
            .book_meeting(
                &accepted,
                &[p[0], p[1]],
                (SLOT + 4, SLOT + 5),
                MeetingMode::Online,
                None,
                NOW + 8,
            )
            .await;
        assert!(matches!(late, Err(StoreError::NotFound)), "{late:?}");
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        tx.set_availability(
            ev,
            p[2],
            &[
                (SLOT, MeetingMode::OnSite),
                (SLOT + 10, MeetingMode::Online),
            ],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.availability(ev, p[2]).await.unwrap().len(), 2);
        let read = store.slots_of(ev, &[p[0], p[2]]).await.unwrap();
        assert_eq!(read.available.get(&p[2]), Some(&[SLOT, SLOT + 10].into()));
        assert_eq!(read.available.get(&p[0]), None, "not said: absent");
    }
}

/// 300 participants with accepted requests all book at once, each trying the slots in its own
/// order; the database must refuse every double booking and every request must end up either
/// booked or without any slot left that both sides have free.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_people_self_booking_at_once() {
    const PEOPLE: usize = 300;
    const SLOTS: i64 = 6;
    for store in stores().await {
        let p = users(&store, PEOPLE).await;
        let ev = event(&store, p[0]).await;
        // Each person asks the next three: 900 accepted requests, 6 slots each.
        let mut tx = store.begin().await.unwrap();
        let mut requests = vec![];
        for i in 0..PEOPLE {
            for k in 1..=3 {
                let r = NewMeetingRequest {
                    event_id: ev,
                    from_user: p[i],
                    to_user: p[(i + k * 7) % PEOPLE],
                    opportunity_id: None,
                    message: None,
                    priority: MeetingPriority::WouldLike,
                };
                let id = tx.create_meeting_request(&r, NOW).await.unwrap();
                requests.push(accept(&mut tx, id).await);
            }
        }
        tx.commit().await.unwrap();

        let mut tasks = vec![];
        for chunk in requests.chunks(3) {
            let (store, chunk) = (store.clone(), chunk.to_vec());
            tasks.push(tokio::spawn(async move {
                let mut outcome = vec![];
                for (n, r) in chunk.iter().enumerate() {
                    let mut booked = None;
                    for s in 0..SLOTS {
                        // Different people try the slots in different orders, to collide often.
                        let offset = (r.from_user.as_u128() % SLOTS as u128) as i64;
                        let slot = SLOT + ((s + n as i64 + offset) % SLOTS) * 10;
                        let mut tx = store.begin().await.unwrap();
                        match tx
                            .book_meeting(
                                r,
                                &[r.from_user, r.to_user],
                                (slot, slot + 5),
                                MeetingMode::OnSite,
                                None,
                                NOW,
                            )
                            .await
                        {
                            Ok(id) => {
                                tx.assign_free_table(id).await.unwrap();
                                tx.commit().await.unwrap();
                                booked = Some(slot);
                                break;
                            }
                            Err(StoreError::Conflict(_)) => continue,
                            Err(e) => panic!("booking failed: {e}"),
                        }
                    }
                    outcome.push((r.clone(), booked));
                }
                outcome
            }));
        }
        let mut outcomes = vec![];
        for t in tasks {
            outcomes.extend(t.await.unwrap());
        }
        assert_eq!(outcomes.len(), requests.len(), "every request was handled");

        // No double booking: each person at most once per slot, seen through the meetings.
        let mut seen: HashSet<(Uuid, i64)> = HashSet::new();
        let mut booked = 0;
        for person in &p {
            for (m, r) in store.meetings_of(ev, *person).await.unwrap() {
                assert!(!m.cancelled);
                assert!(
                    seen.insert((*person, m.slot_start)),
                    "{person} double-booked at {}",
                    m.slot_start
                );
                assert!(r.from_user == *person || r.to_user == *person);
                if r.from_user == *person {
                    booked += 1;
                }
            }
        }
        let claimed: usize = outcomes.iter().filter(|(_, b)| b.is_some()).count();
        assert_eq!(
            booked, claimed,
            "every successful booking is stored, and nothing else"
        );
        assert!(
            booked > requests.len() / 2,
            "most requests fit: {booked} of {}",
            requests.len()
        );
        // Every on-site meeting has a table of its own in its slot, numbered 1, 2, 3, … without gaps.
        let mut tables: HashMap<i64, Vec<i32>> = HashMap::new();
        for m in store.scheduled_meetings(ev).await.unwrap() {
            tables
                .entry(m.slot_start)
                .or_default()
                .push(m.table_no.expect("a table"));
        }
        for (slot, mut t) in tables {
            t.sort();
            let n = t.len() as i32;
            assert_eq!(t, (1..=n).collect::<Vec<_>>(), "tables in slot {slot}");
        }
        // Nothing lost: an unbooked request has no slot left where both are free.
        let busy: HashMap<Uuid, HashSet<i64>> = {
            let mut m = HashMap::new();
            for person in &p {
                m.insert(
                    *person,
                    store
                        .busy_slots(ev, *person)
                        .await
                        .unwrap()
                        .into_iter()
                        .collect(),
                );
            }
            m
        };
        for (r, b) in &outcomes {
            if b.is_none() {
                let free = (0..SLOTS)
                    .map(|s| SLOT + s * 10)
                    .find(|s| !busy[&r.from_user].contains(s) && !busy[&r.to_user].contains(s));
                assert!(
                    free.is_none(),
                    "request {} lost: slot {free:?} is free for both",
                    r.id
                );
            }
        }
    }
}

/// A booking checks its slot against the event's sessions inside its transaction, and an edit
/// checks the booked meetings inside its own: whichever comes second waits for the first and
/// sees its change, so a meeting can never end up in a slot the edit removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_and_event_edits_see_each_other() {
    use std::time::Duration;
    for store in stores().await {
        let p = users(&store, 2).await;
        let ev = event(&store, p[0]).await;
        let mut tx = store.begin().await.unwrap();
        let req = NewMeetingRequest {
            event_id: ev,
            from_user: p[0],
            to_user: p[1],
            opportunity_id: None,
            message: None,
            priority: MeetingPriority::WouldLike,
        };
        let id = tx.create_meeting_request(&req, NOW).await.unwrap();
        let accepted = accept(&mut tx, id).await;
        tx.commit().await.unwrap();
        // The edit moves the only session to the afternoon: every old slot goes.
        let mut later = crate::story::event("fair");
        later.sessions = vec![
            kontor_domain::MatchmakingSession::parse("2027-03-10", "14:00", "15:00", 30, &[])
                .unwrap(),
        ];

        // A booking holds its slot check; the edit starts meanwhile and must wait for it.
        let mut booking = store.begin().await.unwrap();
        let slots = booking
            .lock_event(ev, EventLock::Share)
            .await
            .unwrap()
            .slots;
        assert_eq!(slots.len(), 5, "09:00–12:00 by 30 min, without 10:00–10:30");
        let editing = {
            let (store, later) = (store.clone(), later.clone());
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                tx.update_event(ev, &later).await.unwrap();
                let booked = tx.lock_scheduled_meetings(ev).await.unwrap();
                if booked.is_empty() {
                    tx.commit().await.unwrap();
                }
                booked.len()
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !editing.is_finished(),
            "the edit did not wait for the booking"
        );
        booking
            .book_meeting(
                &accepted,
                &[p[0], p[1]],
                slots[0],
                MeetingMode::Online,
                None,
                NOW,
            )
            .await
            .unwrap();
        booking.commit().await.unwrap();
        assert_eq!(editing.await.unwrap(), 1, "the edit sees the new meeting");
        assert_eq!(
            store.event_sessions(ev).await.unwrap().len(),
            1,
            "not saved"
        );

        // The other way round: an edit in progress, and a booking's check waits and then
        // sees the new slots only.
        let mut tx = store.begin().await.unwrap();
        tx.cancel_meeting_of_request(id, NOW).await.unwrap();
        tx.commit().await.unwrap();
        let mut editing = store.begin().await.unwrap();
        editing.update_event(ev, &later).await.unwrap();
        let booking = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                tx.lock_event(ev, EventLock::Share).await.unwrap().slots
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !booking.is_finished(),
            "the booking's check did not wait for the edit"
        );
        assert!(
            editing
                .lock_scheduled_meetings(ev)
                .await
                .unwrap()
                .is_empty()
        );
        editing.commit().await.unwrap();
        let now_slots = booking.await.unwrap();
        assert_eq!(now_slots.len(), 2, "14:00 and 14:30");
        assert!(!now_slots.contains(&slots[0]));
    }
}

#[tokio::test]
async fn waiting_requests_are_counted_until_a_day_after_their_event() {
    for store in stores().await {
        let p = users(&store, 3).await;
        let ev = event(&store, p[0]).await; // ends on 2027-03-11
        let mut tx = store.begin().await.unwrap();
        for from in [p[0], p[2]] {
            let req = NewMeetingRequest {
                event_id: ev,
                from_user: from,
                to_user: p[1],
                opportunity_id: None,
                message: None,
                priority: MeetingPriority::Must,
            };
            tx.create_meeting_request(&req, NOW).await.unwrap();
        }
        tx.commit().await.unwrap();
        let on = |day: &str| day.parse::<jiff::civil::Date>().unwrap();
        assert_eq!(
            store
                .pending_request_count(p[1], on("2027-03-11"))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .pending_request_count(p[1], on("2027-03-12"))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .pending_request_count(p[1], on("2027-03-13"))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .pending_request_count(p[0], on("2027-03-11"))
                .await
                .unwrap(),
            0
        );
    }
}
