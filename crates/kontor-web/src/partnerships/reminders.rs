//! Signatories who have not signed a week after an agreement was sent get one reminder, with a
//! new link: only the link's digest is stored, so the first link cannot be sent again.

use kontor_domain::now_micros;

use crate::AppState;
use crate::auth::{random_hex, sha256_hex};

/// How long after sending a signatory is reminded.
pub const REMIND_AFTER_DAYS: i64 = 7;

/// Queues the reminders due at `now`; each in one transaction with its new link, under the
/// agreement's lock, so a signature or withdrawal at the same moment wins. Returns how many.
pub async fn send_signing_reminders(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let due = state
        .store
        .signatories_to_remind(now - REMIND_AFTER_DAYS * 86_400_000_000)
        .await?;
    let mut sent = 0;
    for (agreement, position) in due {
        let a = state.store.agreement(agreement).await?;
        let city = state.store.partner_city_by_id(a.city_id).await?;
        let Some(s) = a.signatories.iter().find(|s| s.position == position) else {
            continue;
        };
        let token = random_hex(32);
        let mail = state.composer.agreement_signature_reminder(
            &s.email,
            s.locale,
            &s.name,
            a.title.show(s.locale),
            city.name.show(s.locale),
            &token,
        );
        let mut tx = state.store.begin().await?;
        tx.lock_agreement(agreement).await?;
        if !tx
            .remind_signatory(agreement, position, &sha256_hex(&token), now_micros())
            .await?
        {
            continue;
        }
        tx.enqueue_mail(&mail, now).await?;
        tx.commit().await?;
        sent += 1;
    }
    if sent > 0 {
        state.outbox_wake.notify_one();
    }
    Ok(sent)
}
