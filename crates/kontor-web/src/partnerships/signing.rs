//! Signing by link: a signatory (with or without an account) reads the frozen text and signs it
//! by typing their name. The link's token is the capability; only its digest is stored.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use kontor_domain::partnership::{AgreementStatus, name_matches};
use kontor_domain::{Invalid, now_micros};
use kontor_store::partnerships::{Agreement, City, Signed};
use serde::Deserialize;

use super::agreements::{signatories, texts};
use super::{agreement_view, city_view, day};
use crate::AppState;
use crate::auth::{PageCtx, rate_limit, sha256_hex};
use crate::error::AppError;
use crate::form::FormData;
use crate::page::{field_errors, render, render_invalid};

#[derive(Deserialize)]
pub struct Notice {
    signed: Option<String>,
}

/// `GET /sign/{token}`
pub async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    let (a, position) = state.store.agreement_by_token(&sha256_hex(&token)).await?;
    sign_page(
        &state,
        &ctx,
        &a,
        position,
        &token,
        serde_json::json!({ "signed_notice": q.signed.is_some() }),
        false,
    )
    .await
}

async fn sign_page(
    state: &AppState,
    ctx: &PageCtx,
    a: &Agreement,
    position: i32,
    token: &str,
    extra: serde_json::Value,
    invalid: bool,
) -> Result<Response, AppError> {
    let city = state.store.partner_city_by_id(a.city_id).await?;
    let me = a
        .signatories
        .iter()
        .find(|s| s.position == position)
        .ok_or(AppError::NotFound)?;
    let mut body = serde_json::json!({
        "city": city_view(&city, ctx.locale),
        "agreement": agreement_view(a, &city, ctx.locale),
        "texts": texts(a),
        "signatories": signatories(a, ctx.locale, false),
        "digest": a.digest,
        "token": token,
        "me": {
            "name": me.name,
            "capacity": me.capacity,
            "signed_on": me.signed_at.map(|t| day(t, ctx.locale)),
        },
        "open": a.status == AgreementStatus::Signing && me.signed_at.is_none(),
        "values": {},
        "errors": {},
        "labels": {
            "signed_name": kontor_i18n::t(ctx.locale, "sign-field-name"),
            "consent": kontor_i18n::t(ctx.locale, "sign-consent-label"),
        },
    });
    if let (Some(b), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    Ok(if invalid {
        render_invalid(state, &ctx.reader(), "agreement_sign.html", body)
    } else {
        render(state, &ctx.reader(), "agreement_sign.html", body)
    })
}

/// `POST /sign/{token}`: records the signature; the last one completes the agreement and
/// mails everyone the record.
pub async fn sign(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let hash = sha256_hex(&token);
    // Guessing names against a link is pointless, but a script should not hammer it.
    rate_limit(&state, &format!("sign:{hash}"), 20, 3600).await?;
    let (a, position) = state.store.agreement_by_token(&hash).await?;
    let me = a
        .signatories
        .iter()
        .find(|s| s.position == position)
        .ok_or(AppError::NotFound)?;
    let typed = form.get("signed_name").trim();
    let mut errors = Vec::new();
    if !name_matches(typed, &me.name) {
        errors.push(("signed_name".to_string(), Invalid::new("invalid-sign-name")));
    }
    if !form.checked("consent") {
        errors.push(("consent".to_string(), Invalid::new("invalid-sign-consent")));
    }
    if !errors.is_empty() {
        let extra = serde_json::json!({
            "values": form.values(),
            "errors": field_errors(ctx.locale, &errors),
        });
        return sign_page(&state, &ctx, &a, position, &token, extra, true).await;
    }
    // Read before the transaction: SQLite has one writer connection (docs/ARCHITECTURE.md).
    let city = state.store.partner_city_by_id(a.city_id).await?;
    let now = now_micros();
    let mut tx = state.store.begin().await?;
    let locked = tx.lock_agreement(a.id).await?;
    // The text must be the one that was sent; a changed row is refused, not signed.
    if locked.status == AgreementStatus::Signing
        && locked.digest.as_deref() != Some(locked.text_digest().as_str())
    {
        tracing::error!(agreement = %a.id, "agreement text differs from its digest");
        return Err(AppError::Rejected("agreement-changed"));
    }
    match tx.sign_agreement(&hash, typed, now).await? {
        Signed::Recorded { complete } => {
            if complete {
                let signed = tx.lock_agreement(a.id).await?;
                mail_record(&state, &mut tx, &city, &signed, now).await?;
            }
            tx.commit().await?;
        }
        Signed::Already => {}
        Signed::NotOpen => return Err(AppError::Rejected("agreement-not-open")),
    }
    Ok(Redirect::to(&format!("/sign/{token}?signed=1")).into_response())
}

/// Mails every signatory the completed record: who signed when, and the text's digest.
async fn mail_record(
    state: &AppState,
    tx: &mut kontor_store::Tx,
    city: &City,
    a: &Agreement,
    now: i64,
) -> Result<(), AppError> {
    let path = format!("/partnerships/{}/agreements/{}", city.slug, a.id);
    for s in &a.signatories {
        let lines: Vec<String> = a
            .signatories
            .iter()
            .map(|o| {
                format!(
                    "{} ({}){}{}",
                    o.name,
                    o.capacity,
                    kontor_i18n::colon(s.locale),
                    o.signed_at.map(|t| day(t, s.locale)).unwrap_or_default()
                )
            })
            .collect();
        let mail = state.composer.agreement_signed(
            &s.email,
            s.locale,
            &s.name,
            a.title.show(s.locale),
            &lines,
            a.digest.as_deref().unwrap_or(""),
            &path,
        );
        tx.enqueue_mail(&mail, now).await?;
    }
    Ok(())
}
