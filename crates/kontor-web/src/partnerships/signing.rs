//! Signing by link: a signatory (with or without an account) reads the frozen text and signs it
//! by typing their name. The link's token is the capability; only its digest is stored.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use kontor_domain::partnership::{AgreementStatus, name_matches};
use kontor_domain::{Invalid, Locale, Text, TimeZoneName, now_micros};
use kontor_i18n::Arg;
use kontor_store::partnerships::{Agreement, City, Signed};
use serde::Deserialize;

use super::agreements::{signatories, texts};
use super::{agreement_view, city_view, day};
use crate::AppState;
use crate::auth::{PageCtx, rate_limit, sha256_hex};
use crate::error::AppError;
use crate::form::FormData;
use crate::page::field_errors;

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
        serde_json::json!({ "signed_notice": q.signed.is_some() && signed_by(&a, position) }),
        false,
    )
    .await
}

/// Whether the signatory at `position` has signed.
fn signed_by(a: &Agreement, position: i32) -> bool {
    a.signatories
        .iter()
        .any(|s| s.position == position && s.signed_at.is_some())
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
        "signed_notice": false,
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
    Ok(super::render_form(
        state,
        ctx,
        "agreement_sign.html",
        body,
        invalid,
    ))
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
    // An unknown link costs one read; a known one may be tried a few times an hour.
    let (a, position) = state.store.agreement_by_token(&hash).await?;
    rate_limit(&state, &format!("sign:{hash}"), 20, 3600).await?;
    let me = a
        .signatories
        .iter()
        .find(|s| s.position == position)
        .ok_or(AppError::NotFound)?;
    let mut errors = Vec::new();
    let typed = match Text::line(form.get("signed_name"), 200) {
        // Spaces are kept as one: the name is shown as typed.
        Ok(t) => t.as_str().split_whitespace().collect::<Vec<_>>().join(" "),
        Err(e) => {
            errors.push(("signed_name".to_string(), e));
            String::new()
        }
    };
    if errors.is_empty() && !name_matches(&typed, &me.name) {
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
    // The one who wrote it hears of its completion too (unless they sign it themselves).
    let author = match a.created_by {
        Some(id) => state
            .store
            .user(id)
            .await
            .ok()
            .filter(|u| a.signatories.iter().all(|s| s.email != u.email.as_str())),
        None => None,
    };
    let now = now_micros();
    let mut tx = state.store.begin().await?;
    match tx
        .sign_agreement(&hash, &typed, form.get("digest"), now)
        .await?
    {
        Signed::Recorded(signed) => {
            if signed.status == AgreementStatus::Signed {
                let mut recipients: Vec<(&str, Locale, &str)> = signed
                    .signatories
                    .iter()
                    .map(|s| (s.email.as_str(), s.locale, s.name.as_str()))
                    .collect();
                if let Some(u) = &author {
                    recipients.push((u.email.as_str(), u.locale, u.name.as_str()));
                }
                mail_record(&state, &mut tx, &city, &signed, &recipients, now).await?;
            }
            tx.commit().await?;
        }
        Signed::Already => {}
        Signed::NotOpen => return Err(AppError::Rejected("agreement-not-open")),
        Signed::Changed => {
            tracing::warn!(agreement = %a.id, "signature refused: the text differs from the one sent or shown");
            return Err(AppError::Rejected("agreement-changed"));
        }
    }
    Ok(Redirect::to(&format!("/sign/{token}?signed=1")).into_response())
}

/// Mails the completed record to `recipients` (address, language, name): who signed when, as
/// what name, and the text's digest.
async fn mail_record(
    state: &AppState,
    tx: &mut kontor_store::Tx,
    city: &City,
    a: &Agreement,
    recipients: &[(&str, Locale, &str)],
    now: i64,
) -> Result<(), AppError> {
    let path = format!("/partnerships/{}/agreements/{}", city.slug, a.id);
    let berlin = TimeZoneName::berlin();
    for &(to, locale, name) in recipients {
        let lines: Vec<String> = a
            .signatories
            .iter()
            .map(|o| {
                kontor_i18n::catalog().message(
                    locale,
                    "mail-agreement-signed-line",
                    &[
                        ("name", Arg::from(o.name.as_str())),
                        ("capacity", Arg::from(o.capacity.as_str())),
                        ("typed", Arg::from(o.signed_name.as_deref().unwrap_or(""))),
                        (
                            "when",
                            Arg::from(
                                o.signed_at
                                    .map(|t| {
                                        crate::events::format_instant_with_zone(t, &berlin, locale)
                                    })
                                    .unwrap_or_default()
                                    .as_str(),
                            ),
                        ),
                    ],
                )
            })
            .collect();
        let mail = state.composer.agreement_signed(
            to,
            locale,
            name,
            a.title.show(locale),
            &lines,
            a.digest.as_deref().unwrap_or(""),
            &path,
        );
        tx.enqueue_mail(&mail, now).await?;
    }
    Ok(())
}
