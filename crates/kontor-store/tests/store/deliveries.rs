//! The newsletter delivery queue on every backend: a batch is marked sent in one go, but only
//! the rows its claim still holds, across issues, and nothing else.

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

        // One claim over both issues' rows: 1,400 rows, more than one statement's chunk.
        let rows = store.claim_deliveries(NOW, LEASE, 2_000).await.unwrap();
        assert_eq!(rows.len(), 1_400);
        let claim = rows[0].claim_id;
        assert!(rows.iter().all(|r| r.claim_id == claim));
        let mut sent: Vec<(Uuid, Uuid, Uuid)> = rows
            .iter()
            .map(|r| (r.issue_id, r.subscriber_id, r.claim_id))
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
    }
}
