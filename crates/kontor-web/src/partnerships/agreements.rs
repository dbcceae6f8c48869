//! Agreements with a partner city: the staff's form for a draft, the agreement page, and
//! sending it for signature (which freezes the text and mails every signatory a link).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use kontor_domain::partnership::{
    AgreementKind, AgreementStatus, CooperationField, MAX_SIGNATORIES,
};
use kontor_domain::{Email, Invalid, Keyed, KeyedParse, Locale, Text, now_micros};
use kontor_store::Uuid;
use kontor_store::partnerships::{Agreement, AgreementFields, City, SignatoryFields};
use serde::Deserialize;

use super::{
    agreement_view, city_view, day, kind_options, localized, localized_labels, localized_values,
    require_staff,
};
use crate::AppState;
use crate::auth::{PageCtx, random_hex, sha256_hex};
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{field_errors, render};

/// `GET /partnerships/{slug}/agreements/new`
pub async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let values =
        serde_json::json!({ "kind": "memorandum", "sig0_locale": "de", "sig1_locale": "zh" });
    Ok(form_page(
        &state,
        &ctx,
        &city,
        None,
        values,
        serde_json::json!({}),
        false,
    ))
}

/// `GET /partnerships/{slug}/agreements/{id}/edit`
pub async fn edit_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let (city, a) = load(&state, &slug, id).await?;
    if a.status != AgreementStatus::Draft {
        return Err(AppError::Rejected("agreement-not-draft"));
    }
    let mut values = serde_json::Map::new();
    values.insert("kind".into(), a.kind.key().into());
    localized_values(&mut values, "title", &a.title);
    localized_values(&mut values, "body", &a.body);
    let fields: Vec<&str> = a.fields.iter().map(|f| f.key()).collect();
    values.insert("fields".into(), fields.into());
    for (i, s) in a.signatories.iter().enumerate() {
        values.insert(format!("sig{i}_name"), s.name.clone().into());
        values.insert(format!("sig{i}_capacity"), s.capacity.clone().into());
        values.insert(format!("sig{i}_email"), s.email.clone().into());
        values.insert(format!("sig{i}_locale"), s.locale.key().into());
    }
    Ok(form_page(
        &state,
        &ctx,
        &city,
        Some(&a),
        values.into(),
        serde_json::json!({}),
        false,
    ))
}

fn form_page(
    state: &AppState,
    ctx: &PageCtx,
    city: &City,
    agreement: Option<&Agreement>,
    values: serde_json::Value,
    errors: serde_json::Value,
    invalid: bool,
) -> Response {
    let l = ctx.locale;
    let mut labels = serde_json::json!({
        "kind": kontor_i18n::t(l, "agreement-field-kind"),
        "fields": kontor_i18n::t(l, "agreement-field-fields"),
        "signatories": kontor_i18n::t(l, "agreement-signatories"),
    });
    localized_labels(
        &mut labels,
        "title",
        &kontor_i18n::t(l, "agreement-field-title"),
    );
    localized_labels(
        &mut labels,
        "body",
        &kontor_i18n::t(l, "agreement-field-text"),
    );
    for i in 0..MAX_SIGNATORIES {
        let n = i + 1;
        for (field, message) in [
            ("name", "agreement-signatory-name"),
            ("capacity", "agreement-signatory-capacity"),
            ("email", "agreement-signatory-email"),
            ("locale", "agreement-signatory-language"),
        ] {
            labels[format!("sig{i}_{field}")] = format!(
                "{} {n}{}{}",
                kontor_i18n::t(l, "agreement-signatory"),
                kontor_i18n::colon(l),
                kontor_i18n::t(l, message)
            )
            .into();
        }
    }
    let field_options: Vec<_> = CooperationField::ALL
        .iter()
        .map(|f| serde_json::json!({ "key": f.key(), "label": crate::page::label(l, "cooperation-field", *f) }))
        .collect();
    let checked: Vec<String> = match &values["fields"] {
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        serde_json::Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    };
    let body = serde_json::json!({
        "city": city_view(city, l),
        "agreement": agreement.map(|a| agreement_view(a, city, l)),
        "values": values,
        "checked": checked,
        "errors": errors,
        "labels": labels,
        "kinds": kind_options(l),
        "field_options": field_options,
        "rows": (0..MAX_SIGNATORIES).collect::<Vec<_>>(),
        "locales": crate::page::locale_options(),
    });
    super::render_form(state, ctx, "agreement_edit.html", body, invalid)
}

/// Parses the agreement form, or records every field error.
fn parse(form: &FormData, e: &mut Errors, reader: Locale) -> Option<AgreementFields> {
    let kind = e.take(
        "kind",
        AgreementKind::parse_key(form.get("kind"), "invalid-choice"),
    );
    let title = localized(form, e, "title", 200, false, Some(reader));
    let body = localized(form, e, "body", 50_000, true, Some(reader));
    let mut fields = Vec::new();
    for key in form.all("fields") {
        match CooperationField::from_key(key) {
            Some(f) if !fields.contains(&f) => fields.push(f),
            Some(_) => {}
            None => e.0.push(("fields".into(), Invalid::new("invalid-choice"))),
        }
    }
    if fields.is_empty() {
        e.0.push(("fields".into(), Invalid::new("invalid-choose-one")));
    }
    let mut signatories: Vec<SignatoryFields> = Vec::new();
    let mut rows = 0;
    for i in 0..MAX_SIGNATORIES {
        let get = |f: &str| form.get(&format!("sig{i}_{f}"));
        // A row with none of these is left empty on purpose; its language has a default.
        if [get("name"), get("capacity"), get("email")]
            .iter()
            .all(|v| v.trim().is_empty())
        {
            continue;
        }
        rows += 1;
        let name = e.take(&format!("sig{i}_name"), Text::line(get("name"), 120));
        let capacity = e.take(
            &format!("sig{i}_capacity"),
            Text::line(get("capacity"), 200),
        );
        let email = e.take(&format!("sig{i}_email"), Email::parse(get("email")));
        let locale = e.take(&format!("sig{i}_locale"), Locale::parse(get("locale")));
        // The mail and the signing page are in this language: the text must be too.
        if let (Some(l), Some(text)) = (locale, &body)
            && text.exact(l).is_none()
        {
            e.0.push((
                format!("sig{i}_locale"),
                Invalid::new("invalid-signatory-language"),
            ));
        }
        if let Some(email) = &email
            && signatories.iter().any(|s| s.email == email.as_str())
        {
            e.0.push((
                format!("sig{i}_email"),
                Invalid::new("invalid-signatory-twice"),
            ));
        }
        if let (Some(name), Some(capacity), Some(email), Some(locale)) =
            (name, capacity, email, locale)
        {
            signatories.push(SignatoryFields {
                name: name.into_string(),
                capacity: capacity.into_string(),
                email: email.as_str().to_string(),
                locale,
            });
        }
    }
    if rows < 2 {
        e.0.push((
            "signatories".into(),
            Invalid::new("invalid-two-signatories"),
        ));
    }
    if !e.is_empty() {
        return None;
    }
    Some(AgreementFields {
        kind: kind?,
        title: title?,
        body: body?,
        fields,
        signatories,
    })
}

/// `POST /partnerships/{slug}/agreements/new`
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let mut e = Errors::default();
    let Some(fields) = parse(&form, &mut e, ctx.locale) else {
        return Ok(invalid(&state, &ctx, &city, None, &form, &e));
    };
    let user = ctx.require_user()?.id;
    let mut tx = state.store.begin().await?;
    let id = tx
        .create_agreement(city.id, &fields, Some(user), now_micros())
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/partnerships/{}/agreements/{id}?saved=1",
        city.slug
    ))
    .into_response())
}

/// `POST /partnerships/{slug}/agreements/{id}/edit`
pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
    form: FormData,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let (city, a) = load(&state, &slug, id).await?;
    let mut e = Errors::default();
    let Some(fields) = parse(&form, &mut e, ctx.locale) else {
        return Ok(invalid(&state, &ctx, &city, Some(&a), &form, &e));
    };
    let mut tx = state.store.begin().await?;
    if !tx.update_agreement(a.id, &fields, now_micros()).await? {
        return Err(AppError::Rejected("agreement-not-draft"));
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/partnerships/{}/agreements/{id}?saved=1",
        city.slug
    ))
    .into_response())
}

fn invalid(
    state: &AppState,
    ctx: &PageCtx,
    city: &City,
    a: Option<&Agreement>,
    form: &FormData,
    e: &Errors,
) -> Response {
    let mut values = form.values();
    values["fields"] = form.all("fields").into();
    form_page(
        state,
        ctx,
        city,
        a,
        values,
        field_errors(ctx.locale, &e.0),
        true,
    )
}

/// The city and one of its agreements.
async fn load(state: &AppState, slug: &str, id: Uuid) -> Result<(City, Agreement), AppError> {
    let city = state.store.partner_city(slug).await?;
    let a = state.store.agreement(id).await?;
    if a.city_id != city.id {
        return Err(AppError::NotFound);
    }
    Ok((city, a))
}

#[derive(Deserialize)]
pub struct Notice {
    saved: Option<String>,
    sent: Option<String>,
    withdrawn: Option<String>,
    renewed: Option<i32>,
}

/// `GET /partnerships/{slug}/agreements/{id}`: public once signed; staff see drafts too.
pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    let (city, a) = load(&state, &slug, id).await?;
    if a.status != AgreementStatus::Signed && !ctx.editor {
        return Err(AppError::NotFound);
    }
    Ok(render(
        &state,
        &ctx.reader(),
        "agreement.html",
        serde_json::json!({
            "city": city_view(&city, ctx.locale),
            "agreement": agreement_view(&a, &city, ctx.locale),
            "texts": texts(&a),
            "signatories": signatories(&a, ctx.locale, ctx.editor),
            "digest": a.digest,
            "staff": ctx.editor,
            "saved": q.saved.is_some(),
            "sent": q.sent.is_some(),
            "withdrawn": q.withdrawn.is_some(),
            "renewed": q.renewed.filter(|_| ctx.editor).and_then(|p| a.signatories.iter().find(|s| s.position == p)).map(|s| &s.name),
        }),
    ))
}

/// The agreement's text in each of its languages, rendered from Markdown.
pub(super) fn texts(a: &Agreement) -> Vec<serde_json::Value> {
    a.body
        .languages()
        .map(|l| {
            serde_json::json!({
                "lang": l.bcp47(),
                "language": l.endonym(),
                "title": a.title.exact(l).or_else(|| a.title.get(l).map(|(_, t)| t)),
                "colon": kontor_i18n::colon(l),
                // The text's own headings sit below the language's heading.
                "html": crate::magazine::markdown::render_shifted(a.body.exact(l).unwrap_or(""), 1),
            })
        })
        .collect()
}

/// Who signs, and who has; addresses only for staff.
pub(super) fn signatories(a: &Agreement, locale: Locale, staff: bool) -> Vec<serde_json::Value> {
    a.signatories
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "capacity": s.capacity,
                "email": staff.then_some(&s.email),
                "position": s.position,
                "signed_on": s.signed_at.map(|t| day(t, locale)),
                "signed_name": s.signed_name,
                "link": staff.then_some(&s.link),
            })
        })
        .collect()
}

/// A staff action on one agreement: its city, an open transaction, and the agreement read under
/// its lock (what the action mails and decides on is what the lock shows).
async fn staff_lock(
    state: &AppState,
    ctx: &PageCtx,
    slug: &str,
    id: Uuid,
) -> Result<(City, kontor_store::Tx, Agreement), AppError> {
    require_staff(ctx)?;
    let (city, a) = load(state, slug, id).await?;
    let mut tx = state.store.begin().await?;
    let a = tx.lock_agreement(a.id).await?;
    Ok((city, tx, a))
}

/// `POST /partnerships/{slug}/agreements/{id}/send`: freezes the draft and mails each
/// signatory their link, in one transaction (the mails go through the outbox).
pub async fn send(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    let (city, mut tx, a) = staff_lock(&state, &ctx, &slug, id).await?;
    let now = now_micros();
    match a.status {
        AgreementStatus::Draft => {}
        // A second click on "send": the first one did it.
        AgreementStatus::Signing => return Ok(sent_page(&city, id)),
        AgreementStatus::Signed => return Err(AppError::Rejected("agreement-not-draft")),
    }
    let tokens: Vec<(i32, String)> = a
        .signatories
        .iter()
        .map(|s| (s.position, random_hex(32)))
        .collect();
    let hashes: Vec<(i32, String)> = tokens.iter().map(|(p, t)| (*p, sha256_hex(t))).collect();
    if !tx
        .send_agreement(a.id, &a.text_digest(), &hashes, now)
        .await?
    {
        return Err(AppError::Rejected("agreement-not-draft"));
    }
    for (s, (_, token)) in a.signatories.iter().zip(&tokens) {
        let mail = state.composer.agreement_signature_request(
            &s.email,
            s.locale,
            &s.name,
            a.title.show(s.locale),
            city.name.show(s.locale),
            token,
        );
        tx.enqueue_mail(&mail, now).await?;
    }
    tx.commit().await?;
    Ok(sent_page(&city, id))
}

/// `POST /partnerships/{slug}/agreements/{id}/delete`: a draft only.
pub async fn delete(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    let (city, mut tx, a) = staff_lock(&state, &ctx, &slug, id).await?;
    if !tx.delete_draft_agreement(a.id).await? {
        return Err(AppError::Rejected("agreement-not-draft"));
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/partnerships/{}?deleted=1", city.slug)).into_response())
}

fn sent_page(city: &City, id: Uuid) -> Response {
    Redirect::to(&format!(
        "/partnerships/{}/agreements/{id}?sent=1",
        city.slug
    ))
    .into_response()
}

/// `POST /partnerships/{slug}/agreements/{id}/signatories/{position}/link`: a new link for one
/// signatory who has not signed (a lost or deleted mail); the old link stops working. The form
/// names the link it replaces, so that a second click does not kill the link just mailed.
pub async fn renew_link(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id, position)): Path<(String, Uuid, i32)>,
    form: FormData,
) -> Result<Response, AppError> {
    let (city, mut tx, a) = staff_lock(&state, &ctx, &slug, id).await?;
    let s = a
        .signatories
        .iter()
        .find(|s| s.position == position)
        .ok_or(AppError::NotFound)?;
    let renewed = Redirect::to(&format!(
        "/partnerships/{}/agreements/{id}?renewed={position}",
        city.slug
    ))
    .into_response();
    if a.status == AgreementStatus::Signing
        && s.signed_at.is_none()
        && s.link.as_deref() != Some(form.get("link"))
    {
        return Ok(renewed);
    }
    let token = random_hex(32);
    if !tx
        .renew_signing_link(a.id, position, &sha256_hex(&token), now_micros())
        .await?
    {
        return Err(AppError::Rejected("agreement-not-open"));
    }
    let mail = state.composer.agreement_signature_request(
        &s.email,
        s.locale,
        &s.name,
        a.title.show(s.locale),
        city.name.show(s.locale),
        &token,
    );
    tx.enqueue_mail(&mail, now_micros()).await?;
    tx.commit().await?;
    Ok(renewed)
}

/// `POST /partnerships/{slug}/agreements/{id}/withdraw`: back to a draft (to correct it or an
/// address); the links stop working, signatures given so far are void, and every signatory
/// is told.
pub async fn withdraw(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    let (city, mut tx, a) = staff_lock(&state, &ctx, &slug, id).await?;
    let now = now_micros();
    let withdrawn = Redirect::to(&format!(
        "/partnerships/{}/agreements/{id}?withdrawn=1",
        city.slug
    ))
    .into_response();
    match a.status {
        AgreementStatus::Signing => {}
        // A second click on "withdraw": the first one did it (and told the signatories).
        AgreementStatus::Draft => return Ok(withdrawn),
        AgreementStatus::Signed => return Err(AppError::Rejected("agreement-not-open")),
    }
    if !tx.withdraw_agreement(a.id, now).await? {
        return Err(AppError::Rejected("agreement-not-open"));
    }
    for s in &a.signatories {
        let mail = state.composer.agreement_withdrawn(
            &s.email,
            s.locale,
            &s.name,
            a.title.show(s.locale),
            city.name.show(s.locale),
        );
        tx.enqueue_mail(&mail, now).await?;
    }
    tx.commit().await?;
    Ok(withdrawn)
}
