//! The newsletter delivery queue on every backend: claims are ranges of one issue's queue; a
//! batch is marked sent in one go, but only the rows its claim still holds; a range is given up
//! only when nothing in it is queued, and an issue is finished only then.

use kontor_domain::{Email, Locale, SubscriberStatus};
use kontor_store::newsletter::{EditionInput, IssueFields, RenderedEdition};
use kontor_store::subscribers::NewSubscriber;
use kontor_store::{Store, Uuid};

use crate::stores;

const NOW: i64 = 1_800_000_000_000_000;
const LEASE: i64 = 300_000_000;

async fn issue(store: &Store, title: &str) -> Uuid {
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .create_issue(
            &IssueFields {
                title: title.into(),
                include_events: false,
                topic: None,
                editions: vec![EditionInput {
                    locale: Locale::En,
                    subject: title.into(),
                    intro: String::new(),
                }],
            },
            NOW,
        )
        .await
        .unwrap();
    let rendered = RenderedEdition {
        locale: Locale::En,
        subject: title.into(),
        text: "text".into(),
        html: "<p>html</p>".into(),
    };
    tx.start_sending(id, &[rendered], NOW).await.unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn a_batch_is_marked_sent_only_where_its_claim_holds() {
    for store in stores().await {
        let mut tx = store.begin().await.unwrap();
        for i in 0..700 {
            let email = Email::parse(&format!("reader{i}@example.org")).unwrap();
            tx.create_subscriber(
                &NewSubscriber {
                    email: &email,
                    locale: Locale::En,
                    topics: &[],
                    status: SubscriberStatus::Confirmed,
                    unsubscribe_token: &format!("token-{i}"),
                },
                NOW,
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let (first, second) = (issue(&store, "one").await, issue(&store, "two").await);

        // A claim is one range of one issue's queue: the issue that started first comes first.
        let rows = store.claim_deliveries(NOW, LEASE, 2_000).await.unwrap();
        assert_eq!(rows.len(), 700);
        assert!(
            rows.iter()
                .all(|r| r.issue_id == first && r.claim_id == rows[0].claim_id)
        );
        let more = store.claim_deliveries(NOW, LEASE, 2_000).await.unwrap();
        assert_eq!(more.len(), 700);
        assert!(
            more.iter()
                .all(|r| r.issue_id == second && r.claim_id == more[0].claim_id)
        );
        assert_ne!(rows[0].claim_id, more[0].claim_id);
        assert!(
            store
                .claim_deliveries(NOW, LEASE, 2_000)
                .await
                .unwrap()
                .is_empty()
        );

        let mut sent: Vec<(Uuid, i64, Uuid)> = rows
            .iter()
            .chain(&more)
            .map(|r| (r.issue_id, r.seq, r.claim_id))
            .collect();
        // The last row of the first issue was refused: it is not in the batch.
        let refused = sent
            .iter()
            .rposition(|r| r.0 == first)
            .expect("rows of the first issue");
        let refused = sent.remove(refused);
        // A row under a claim that ran out (another worker holds it now) is not marked.
        sent.push((first, refused.1, Uuid::now_v7()));
        let marked = store.mark_deliveries_sent(&sent, NOW + 1).await.unwrap();
        assert_eq!(marked, 1_399);

        let p = store.newsletter_progress(first).await.unwrap();
        assert_eq!((p.sent, p.queued), (699, 1));
        let p = store.newsletter_progress(second).await.unwrap();
        assert_eq!((p.sent, p.queued), (700, 0));
        // Marking again changes nothing: the rows are no longer queued.
        assert_eq!(store.mark_deliveries_sent(&sent, NOW + 2).await.unwrap(), 0);

        // Done with both claims: the second range is settled and gone, the first keeps its
        // queued row and is due again at once, under a new claim id.
        store.settle_claim(rows[0].claim_id).await.unwrap();
        store.settle_claim(more[0].claim_id).await.unwrap();
        assert_eq!(store.finish_newsletter_issues(NOW + 3).await.unwrap(), 1);
        let again = store.claim_deliveries(NOW + 3, LEASE, 2_000).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].issue_id, again[0].seq), (first, refused.1));
        assert_ne!(again[0].claim_id, rows[0].claim_id);
        // The old holder can no longer settle it.
        store
            .mark_delivery_failed(&rows[rows.len() - 1], "late", None)
            .await
            .unwrap();
        assert_eq!(store.newsletter_progress(first).await.unwrap().queued, 1);

        // A temporary failure keeps the row in its claim until it is due again.
        store
            .mark_delivery_failed(&again[0], "451 later", Some(NOW + 1_000))
            .await
            .unwrap();
        store.settle_claim(again[0].claim_id).await.unwrap();
        assert!(
            store
                .claim_deliveries(NOW + 999, LEASE, 2_000)
                .await
                .unwrap()
                .is_empty()
        );
        let retry = store
            .claim_deliveries(NOW + 1_000, LEASE, 2_000)
            .await
            .unwrap();
        assert_eq!((retry.len(), retry[0].attempts), (1, 1));
        // Given back (the server is down): taken over only from the given time on.
        store
            .release_deliveries(retry[0].claim_id, NOW + 2_000)
            .await
            .unwrap();
        assert!(
            store
                .claim_deliveries(NOW + 1_999, LEASE, 2_000)
                .await
                .unwrap()
                .is_empty()
        );
        let last = store
            .claim_deliveries(NOW + 2_000, LEASE, 2_000)
            .await
            .unwrap();
        assert_eq!(last.len(), 1);
        let done = [(last[0].issue_id, last[0].seq, last[0].claim_id)];
        assert_eq!(
            store
                .mark_deliveries_sent(&done, NOW + 2_001)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store.finish_newsletter_issues(NOW + 2_002).await.unwrap(),
            0,
            "a claim is left"
        );
        store.settle_claim(last[0].claim_id).await.unwrap();
        assert_eq!(
            store.finish_newsletter_issues(NOW + 2_003).await.unwrap(),
            1
        );
    }
}
