//! Signatories who have not signed a week after their link was mailed get one reminder, with a
//! new link: only the link's digest is stored, so the first link cannot be sent again.

use kontor_domain::partnership::AgreementStatus;
use kontor_store::Uuid;

use crate::AppState;
use crate::auth::{random_hex, sha256_hex};

/// How long after a link was mailed its signatory is reminded.
pub const REMIND_AFTER_DAYS: i64 = 7;

/// Queues the reminders due at `now`, each in one transaction with its new link. Returns how
/// many; one that fails is logged and the others still go.
pub async fn send_signing_reminders(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let sent_before = now - REMIND_AFTER_DAYS * 86_400_000_000;
    let due = state.store.signatories_to_remind(sent_before).await?;
    let mut sent = 0;
    for (agreement, position) in due {
        match remind(state, agreement, position, sent_before, now).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(%agreement, position, error = %e, "signing reminder failed"),
        }
    }
    if sent > 0 {
        state.outbox_wake.notify_one();
    }
    Ok(sent)
}

/// One reminder, decided and written under the agreement's lock: the mail goes to the
/// signatory as they are then (a withdrawal and a new address since the list was read are
/// seen), and a signature or withdrawal holding the lock first wins.
async fn remind(
    state: &AppState,
    agreement: Uuid,
    position: i32,
    sent_before: i64,
    now: i64,
) -> anyhow::Result<bool> {
    let token = random_hex(32);
    // Read before the transaction (SQLite has one writer connection); a city never changes.
    let city_id = state.store.agreement(agreement).await?.city_id;
    let city = state.store.partner_city_by_id(city_id).await?;
    let mut tx = state.store.begin().await?;
    let a = tx.lock_agreement(agreement).await?;
    let Some(s) = a.signatories.iter().find(|s| s.position == position) else {
        return Ok(false);
    };
    if a.status != AgreementStatus::Signing
        || !tx
            .remind_signatory(agreement, position, &sha256_hex(&token), sent_before, now)
            .await?
    {
        return Ok(false);
    }
    let mail = state.composer.agreement_signature_reminder(
        &s.email,
        s.locale,
        &s.name,
        a.title.show(s.locale),
        city.name.show(s.locale),
        &token,
    );
    tx.enqueue_mail(&mail, now).await?;
    tx.commit().await?;
    Ok(true)
}
