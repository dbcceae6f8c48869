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

async fn city(tx: &mut kontor_store::Tx, slug: &str) -> kontor_store::Uuid {
    let fields = CityFields {
        slug: slug.into(),
        name: LocalizedText::one(Locale::En, slug),
        country: Country::CHINA,
        since_year: None,
        description: LocalizedText::new(),
    };
    tx.create_partner_city(&fields, now_micros()).await.unwrap()
}

/// Signs in a transaction of its own, in the background; returns after giving it time to get
/// as far as it can, so that the caller can check it is still waiting.
async fn sign_blocked(
    store: &kontor_store::Store,
    token: &'static str,
    name: &'static str,
    digest: &str,
) -> tokio::task::JoinHandle<Signed> {
    let (store, digest) = (store.clone(), digest.to_string());
    let handle = tokio::spawn(async move {
        let mut tx = store.begin().await.unwrap();
        let outcome = tx
            .sign_agreement(token, name, &digest, now_micros())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        outcome
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    handle
}

#[tokio::test]
async fn the_last_signature_waits_for_the_one_before_and_completes_the_agreement() {
    for store in stores().await {
        let now = now_micros();
        let mut tx = store.begin().await.unwrap();
        let city = city(&mut tx, "guiyang").await;
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
        let digest = a.text_digest();
        assert!(tx.send_agreement(id, &digest, &hashes, now).await.unwrap());
        assert!(
            !tx.update_agreement(id, &agreement(2), now).await.unwrap(),
            "a sent agreement does not change"
        );
        assert!(
            !tx.send_agreement(id, "x", &hashes, now).await.unwrap(),
            "sent once"
        );
        assert_eq!(
            tx.sign_agreement("token-0", "Signatory 0", "another text", now)
                .await
                .unwrap(),
            Signed::Changed,
            "a signature counts only for the text the signatory saw"
        );
        let Signed::Recorded(a) = tx
            .sign_agreement("token-0", "Signatory 0", &digest, now)
            .await
            .unwrap()
        else {
            panic!("recorded")
        };
        assert_eq!(a.status, AgreementStatus::Signing);
        tx.commit().await.unwrap();

        // The second signature is written but not committed when the last one arrives: the
        // last one must wait for it, see it, and complete the agreement. Without the
        // agreement's lock it counts the second as missing, and nobody completes it.
        let mut second = store.begin().await.unwrap();
        let outcome = second
            .sign_agreement("token-1", "Signatory 1", &digest, now)
            .await
            .unwrap();
        assert!(matches!(outcome, Signed::Recorded(a) if a.status == AgreementStatus::Signing));
        let last = sign_blocked(&store, "token-2", "Signatory 2", &digest).await;
        assert!(
            !last.is_finished(),
            "the last signature waits for the second"
        );
        second.commit().await.unwrap();
        let outcome = last.await.unwrap();
        assert!(
            matches!(&outcome, Signed::Recorded(a) if a.status == AgreementStatus::Signed),
            "{outcome:?}"
        );

        let a = store.agreement(id).await.unwrap();
        assert_eq!(a.status, AgreementStatus::Signed);
        assert!(a.signed_at.is_some() && a.signatories.iter().all(|s| s.signed_at.is_some()));
        assert_eq!(a.digest.as_deref(), Some(a.text_digest().as_str()));
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.sign_agreement("token-0", "x", &digest, now)
                .await
                .unwrap(),
            Signed::Already
        );
        assert_eq!(
            tx.sign_agreement("unknown", "x", &digest, now)
                .await
                .unwrap(),
            Signed::NotOpen
        );
    }
}

#[tokio::test]
async fn a_withdrawn_agreement_is_a_draft_again_and_its_links_are_dead() {
    for store in stores().await {
        let now = now_micros();
        let mut tx = store.begin().await.unwrap();
        let city = city(&mut tx, "beijing").await;
        let id = tx
            .create_agreement(city, &agreement(2), None, now)
            .await
            .unwrap();
        assert!(
            !tx.withdraw_agreement(id, now).await.unwrap(),
            "a draft is not out"
        );
        let a = tx.lock_agreement(id).await.unwrap();
        let hashes = vec![(0, "t0".to_string()), (1, "t1".to_string())];
        let digest = a.text_digest();
        assert!(tx.send_agreement(id, &digest, &hashes, now).await.unwrap());
        assert!(matches!(
            tx.sign_agreement("t0", "Signatory 0", &digest, now)
                .await
                .unwrap(),
            Signed::Recorded(_)
        ));
        assert!(tx.withdraw_agreement(id, now).await.unwrap());
        let a = tx.lock_agreement(id).await.unwrap();
        assert_eq!(a.status, AgreementStatus::Draft);
        assert!(a.digest.is_none() && a.signatories.iter().all(|s| s.signed_at.is_none()));
        assert_eq!(
            tx.sign_agreement("t1", "Signatory 1", &digest, now)
                .await
                .unwrap(),
            Signed::NotOpen
        );
        assert!(
            tx.update_agreement(id, &agreement(3), now).await.unwrap(),
            "editable again"
        );
        tx.commit().await.unwrap();
    }
}

/// A two-signatory agreement with a new city, sent with these link tokens (as their digests):
/// its id and text digest.
async fn sent(
    tx: &mut kontor_store::Tx,
    slug: &str,
    tokens: [&str; 2],
) -> (kontor_store::Uuid, String) {
    let now = now_micros();
    let city = city(tx, slug).await;
    let id = tx
        .create_agreement(city, &agreement(2), None, now)
        .await
        .unwrap();
    let digest = tx.lock_agreement(id).await.unwrap().text_digest();
    let hashes = vec![(0, tokens[0].to_string()), (1, tokens[1].to_string())];
    assert!(tx.send_agreement(id, &digest, &hashes, now).await.unwrap());
    (id, digest)
}

#[tokio::test]
async fn a_text_changed_behind_the_stores_back_is_not_signed() {
    for store in stores().await {
        let now = now_micros();
        let mut tx = store.begin().await.unwrap();
        let (id, digest) = sent(&mut tx, "guiyang", ["t0", "t1"]).await;
        kontor_store::testing::execute(
            &mut tx,
            // The only agreement in this fresh database.
            r#"UPDATE agreements SET body = '{"en":"We do not cooperate."}'"#,
        )
        .await
        .unwrap();
        assert_eq!(
            tx.sign_agreement("t0", "Signatory 0", &digest, now)
                .await
                .unwrap(),
            Signed::Changed,
            "the page showed the old text and the digest sent, but the stored text differs"
        );
        let a = tx.lock_agreement(id).await.unwrap();
        assert!(a.signatories.iter().all(|s| s.signed_at.is_none()));
    }
}

/// A signatory submits while staff replace their link: the signature finds the link gone once
/// it holds the lock, and must say "not open" (the page behind the old link answers 404), not
/// "already signed".
#[tokio::test]
async fn a_signature_racing_a_new_link_is_refused_as_not_open() {
    for store in stores().await {
        if store.backend() != kontor_store::Backend::Postgres {
            // One writer: the renewal cannot fall between the lookup and the lock.
            continue;
        }
        let mut tx = store.begin().await.unwrap();
        let (id, digest) = sent(&mut tx, "beijing", ["old", "t1"]).await;
        tx.commit().await.unwrap();

        let mut staff = store.begin().await.unwrap();
        staff.lock_agreement(id).await.unwrap();
        let signing = sign_blocked(&store, "old", "Signatory 0", &digest).await;
        assert!(!signing.is_finished(), "the signature waits for the lock");
        assert!(
            staff
                .renew_signing_link(id, 0, "new", now_micros())
                .await
                .unwrap()
        );
        staff.commit().await.unwrap();
        assert_eq!(signing.await.unwrap(), Signed::NotOpen);
        let a = store.agreement(id).await.unwrap();
        assert!(a.signatories.iter().all(|s| s.signed_at.is_none()));
    }
}

/// The digest is part of what signatories were mailed and what the API publishes: it must not
/// change with a build setting or a dependency's feature.
#[test]
fn the_text_digest_has_one_stable_form() {
    let a = kontor_store::partnerships::Agreement {
        id: kontor_store::Uuid::nil(),
        city_id: kontor_store::Uuid::nil(),
        kind: AgreementKind::Memorandum,
        title: LocalizedText::one(Locale::Zh, "备忘录").with(Locale::De, "Memorandum"),
        body: LocalizedText::one(Locale::En, "We cooperate."),
        fields: vec![CooperationField::Science, CooperationField::Economy],
        status: AgreementStatus::Draft,
        digest: None,
        sent_at: None,
        signed_at: None,
        created_by: None,
        signatories: vec![],
    };
    assert_eq!(
        a.text_digest(),
        // sha256 of {"kind":"memorandum","title":{"de":"Memorandum","zh":"备忘录"},"text":{"en":"We cooperate."},"fields":["science","economy"],"signatories":[]}
        "7f71e2287a50df7e76fad75be0e31b424a8cbe4d02ef2900b7c2100e3715a234"
    );
}
