//! Agreements on every backend: only drafts change, and a signature arriving while another is
//! being written still completes the agreement.

use kontor_domain::partnership::{AgreementKind, AgreementStatus, CooperationField};
use kontor_domain::{Country, Locale, LocalizedText, now_micros};
use kontor_store::partnerships::{AgreementFields, CityFields, SignatoryFields, Signed};

use crate::stores;

fn agreement(signatories: usize) -> AgreementFields {
    AgreementFields {
        kind: AgreementKind::Memorandum,
        title: LocalizedText::one(Locale::En, "Memorandum"),
        body: LocalizedText::one(Locale::En, "We cooperate."),
        fields: vec![CooperationField::Economy],
        signatories: (0..signatories)
            .map(|i| SignatoryFields {
                name: format!("Signatory {i}"),
                capacity: "Mayor".into(),
                email: format!("s{i}@example.org"),
                locale: Locale::En,
            })
            .collect(),
    }
}

#[tokio::test]
async fn the_last_signature_waits_for_the_one_before_and_completes_the_agreement() {
    for store in stores().await {
        let now = now_micros();
        let mut tx = store.begin().await.unwrap();
        let city = tx
            .create_partner_city(
                &CityFields {
                    slug: "guiyang".into(),
                    name: LocalizedText::one(Locale::En, "Guiyang"),
                    country: Country::CHINA,
                    since_year: None,
                    description: LocalizedText::new(),
                },
                now,
            )
            .await
            .unwrap();
        let id = tx
            .create_agreement(city, &agreement(3), None, now)
            .await
            .unwrap();
        let a = tx.lock_agreement(id).await.unwrap();
        let hashes: Vec<(i32, String)> = a
            .signatories
            .iter()
            .map(|s| (s.position, format!("token-{}", s.position)))
            .collect();
        assert!(
            tx.send_agreement(id, &a.text_digest(), &hashes, now)
                .await
                .unwrap()
        );
        assert!(
            !tx.update_agreement(id, &agreement(2), now).await.unwrap(),
            "a sent agreement does not change"
        );
        assert!(
            !tx.send_agreement(id, "x", &hashes, now).await.unwrap(),
            "sent once"
        );
        assert_eq!(
            tx.sign_agreement("token-0", "Signatory 0", now)
                .await
                .unwrap(),
            Signed::Recorded { complete: false }
        );
        tx.commit().await.unwrap();

        // The second signature is written but not committed when the last one arrives: the
        // last one must wait for it, see it, and complete the agreement. Without the
        // agreement's lock it counts the second as missing, and nobody completes it.
        let mut second = store.begin().await.unwrap();
        assert_eq!(
            second
                .sign_agreement("token-1", "Signatory 1", now)
                .await
                .unwrap(),
            Signed::Recorded { complete: false }
        );
        let last = tokio::spawn({
            let store = store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                let outcome = tx
                    .sign_agreement("token-2", "Signatory 2", now_micros())
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                outcome
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !last.is_finished(),
            "the last signature waits for the second"
        );
        second.commit().await.unwrap();
        assert_eq!(last.await.unwrap(), Signed::Recorded { complete: true });

        let a = store.agreement(id).await.unwrap();
        assert_eq!(a.status, AgreementStatus::Signed);
        assert!(a.signed_at.is_some() && a.signatories.iter().all(|s| s.signed_at.is_some()));
        assert_eq!(a.digest.as_deref(), Some(a.text_digest().as_str()));
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.sign_agreement("token-0", "x", now).await.unwrap(),
            Signed::Already
        );
        assert_eq!(
            tx.sign_agreement("unknown", "x", now).await.unwrap(),
            Signed::NotOpen
        );
    }
}
