//! Newsletter subscribers on every backend: tokens work once, unconfirmed sign-ups are removed
//! after a while, confirmed ones never by that sweep, and erasure takes the proof of consent along.

use kontor_domain::{Email, Locale, SubscriberStatus, Topic, UnsubscribeChannel};
use kontor_store::subscribers::{ConsentEvent, NewSubscriber};

use crate::stores;

const NOW: i64 = 1_800_000_000_000_000;
const HOUR: i64 = 3_600_000_000;

#[tokio::test]
async fn tokens_work_once_and_stale_sign_ups_are_swept() {
    for store in stores().await {
        let (a, b) = (
            Email::parse("a@example.de").unwrap(),
            Email::parse("b@example.cn").unwrap(),
        );
        let mut tx = store.begin().await.unwrap();
        let mut ids = vec![];
        for (email, token) in [(&a, "tok-a"), (&b, "tok-b")] {
            let id = tx
                .create_subscriber(
                    &NewSubscriber {
                        email,
                        locale: Locale::Zh,
                        topics: &[Topic::Jobs],
                        status: SubscriberStatus::Pending,
                        unsubscribe_token: token,
                    },
                    NOW,
                )
                .await
                .unwrap();
            tx.add_consent_event(id, &ConsentEvent::new("signup", NOW))
                .await
                .unwrap();
            tx.create_confirmation(id, &format!("hash-{token}"), NOW, NOW + 48 * HOUR)
                .await
                .unwrap();
            ids.push(id);
        }
        tx.commit().await.unwrap();

        // The same address again is a conflict (the web layer answers as if it were new).
        let mut tx = store.begin().await.unwrap();
        let again = NewSubscriber {
            email: &a,
            locale: Locale::De,
            topics: &[],
            status: SubscriberStatus::Pending,
            unsubscribe_token: "tok-c",
        };
        assert!(matches!(
            tx.create_subscriber(&again, NOW).await,
            Err(kontor_store::StoreError::Conflict(_))
        ));
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.confirm_subscription("hash-tok-a", NOW + HOUR)
                .await
                .unwrap(),
            Some(ids[0])
        );
        assert_eq!(
            tx.confirm_subscription("hash-tok-a", NOW + HOUR)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            tx.confirm_subscription("hash-tok-b", NOW + 49 * HOUR)
                .await
                .unwrap(),
            None
        );
        tx.commit().await.unwrap();
        let counts = store.subscriber_counts().await.unwrap();
        assert_eq!((counts.confirmed, counts.pending), (1, 1));

        // A week later the unconfirmed sign-up and its records go; the confirmed one stays.
        let week = NOW + 7 * 24 * HOUR;
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.delete_stale_pending(week, week).await.unwrap(), 1);
        tx.commit().await.unwrap();
        assert!(store.subscriber_by_email(&b).await.unwrap().is_none());
        assert!(store.consent_events(ids[1]).await.unwrap().is_empty());
        let kept = store.subscriber_by_email(&a).await.unwrap().unwrap();
        assert_eq!(
            (kept.status, kept.topics),
            (SubscriberStatus::Confirmed, vec![Topic::Jobs])
        );

        let mut tx = store.begin().await.unwrap();
        let left = ConsentEvent::new("unsubscribed", NOW + 2 * HOUR);
        assert!(
            tx.unsubscribe(ids[0], UnsubscribeChannel::Link, left.clone())
                .await
                .unwrap()
        );
        assert!(
            !tx.unsubscribe(ids[0], UnsubscribeChannel::Link, left)
                .await
                .unwrap()
        );
        assert!(tx.erase_subscriber(ids[0], NOW + 3 * HOUR).await.unwrap());
        assert!(!tx.erase_subscriber(ids[0], NOW + 3 * HOUR).await.unwrap());
        tx.commit().await.unwrap();
        assert!(store.consent_events(ids[0]).await.unwrap().is_empty());
        assert_eq!(store.subscriber_counts().await.unwrap(), Default::default());
    }
}

/// Erasure keeps only the hash of the address on the suppression list; a new sign-up's
/// confirmation (new consent) lifts it, an unconfirmed one does not.
#[tokio::test]
async fn an_erased_address_is_suppressed_until_it_confirms_again() {
    use kontor_store::subscribers::address_hash;
    for store in stores().await {
        let email = Email::parse("wei@example.cn").unwrap();
        let sign_up = |token: &'static str| NewSubscriber {
            email: &email,
            locale: Locale::Zh,
            topics: &[],
            status: SubscriberStatus::Pending,
            unsubscribe_token: token,
        };
        let mut tx = store.begin().await.unwrap();
        let id = tx.create_subscriber(&sign_up("tok-1"), NOW).await.unwrap();
        tx.create_confirmation(id, "hash-1", NOW, NOW + 48 * HOUR)
            .await
            .unwrap();
        assert_eq!(
            tx.confirm_subscription("hash-1", NOW).await.unwrap(),
            Some(id)
        );
        tx.commit().await.unwrap();
        assert!(!store.is_suppressed(&email).await.unwrap(), "never erased");

        let mut tx = store.begin().await.unwrap();
        assert!(tx.erase_subscriber(id, NOW + HOUR).await.unwrap());
        tx.commit().await.unwrap();
        assert!(store.is_suppressed(&email).await.unwrap());
        let hashes = store.suppressed_hashes().await.unwrap();
        assert_eq!(hashes.len(), 1);
        let hash = hashes.into_iter().next().unwrap();
        assert_eq!(
            hash,
            address_hash(" WEI@example.CN "),
            "case and blanks do not matter"
        );
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains("wei"), "only the hash is kept");

        // Signed up again: still suppressed while unconfirmed, lifted by the confirmation.
        let mut tx = store.begin().await.unwrap();
        let again = tx
            .create_subscriber(&sign_up("tok-2"), NOW + 2 * HOUR)
            .await
            .unwrap();
        tx.create_confirmation(again, "hash-2", NOW + 2 * HOUR, NOW + 50 * HOUR)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(store.is_suppressed(&email).await.unwrap());
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.confirm_subscription("hash-2", NOW + 3 * HOUR)
                .await
                .unwrap(),
            Some(again)
        );
        tx.commit().await.unwrap();
        assert!(!store.is_suppressed(&email).await.unwrap());
        assert!(store.suppressed_hashes().await.unwrap().is_empty());
    }
}

/// The sweep keys on working links, not on the first sign-up: someone who signed up on day 0 and
/// again on day 6.9 keeps their fresh 48-hour link; once it has expired, their row, proof, links
/// and confirmation mails go together.
#[tokio::test]
async fn the_sweep_spares_a_fresh_link_and_takes_the_mails_along() {
    for store in stores().await {
        let email = Email::parse("late@example.de").unwrap();
        let mut tx = store.begin().await.unwrap();
        let id = tx
            .create_subscriber(
                &NewSubscriber {
                    email: &email,
                    locale: Locale::De,
                    topics: &[],
                    status: SubscriberStatus::Pending,
                    unsubscribe_token: "tok-late",
                },
                NOW,
            )
            .await
            .unwrap();
        let again = NOW + 6 * 24 * HOUR + 22 * HOUR;
        for (at, hash) in [(NOW, "hash-1"), (again, "hash-2")] {
            tx.add_consent_event(id, &ConsentEvent::new("signup", at))
                .await
                .unwrap();
            tx.create_confirmation(id, hash, at, at + 48 * HOUR)
                .await
                .unwrap();
            let mail = kontor_store::outbox::NewMail {
                to: email.as_str().to_string(),
                locale: Locale::De,
                kind: "newsletter-confirm",
                subject: "Bitte bestätigen".into(),
                text: "link".into(),
                html: "<p>link</p>".into(),
            };
            tx.enqueue_mail(&mail, at).await.unwrap();
        }
        tx.commit().await.unwrap();

        let week = NOW + 7 * 24 * HOUR;
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.delete_stale_pending(week, week).await.unwrap(), 0);
        tx.commit().await.unwrap();
        assert!(store.subscriber_by_email(&email).await.unwrap().is_some());
        assert_eq!(
            store.pending_confirmation("hash-2", week).await.unwrap(),
            Some(id)
        );

        // After the fresh link expired: everything about the address goes.
        let later = again + 49 * HOUR;
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.delete_stale_pending(later - 7 * 24 * HOUR, later)
                .await
                .unwrap(),
            1
        );
        tx.commit().await.unwrap();
        assert!(store.subscriber_by_email(&email).await.unwrap().is_none());
        assert!(store.consent_events(id).await.unwrap().is_empty());
        assert!(
            store
                .outbox(Some(email.as_str()), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// An import meets an address that signed up after the import read the list: that line is left
/// alone, the others are written, nothing fails.
#[tokio::test]
async fn an_import_skips_an_address_that_arrived_meanwhile() {
    for store in stores().await {
        let (early, new) = (
            Email::parse("early@example.de").unwrap(),
            Email::parse("new@example.de").unwrap(),
        );
        let row = |email, token| NewSubscriber {
            email,
            locale: Locale::De,
            topics: &[],
            status: SubscriberStatus::Confirmed,
            unsubscribe_token: token,
        };
        let mut tx = store.begin().await.unwrap();
        let first = tx
            .create_subscriber(&row(&early, "tok-early"), NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let ids = tx
            .import_subscribers(&[row(&early, "tok-1"), row(&new, "tok-2")], NOW + HOUR)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(ids[0], None);
        let added = store.subscriber_by_email(&new).await.unwrap().unwrap();
        assert_eq!(ids[1], Some(added.id));
        let kept = store.subscriber_by_email(&early).await.unwrap().unwrap();
        assert_eq!(
            (kept.id, kept.unsubscribe_token.as_str()),
            (first, "tok-early")
        );
    }
}
