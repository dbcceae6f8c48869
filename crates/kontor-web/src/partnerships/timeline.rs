//! A partner city's timeline: the staff's form for an entry (new or edited) and its removal,
//! which asks first.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use kontor_domain::parse_day;
use kontor_domain::partnership::MilestoneKind;
use kontor_domain::{Keyed, KeyedParse, now_micros};
use kontor_store::Uuid;
use kontor_store::partnerships::{City, Milestone, MilestoneFields};

use super::{
    city_view, localized, localized_labels, localized_values, milestone_options, require_staff,
    shown,
};
use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{field_errors, render};

/// `GET /partnerships/{slug}/timeline/new`
pub async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let values = serde_json::json!({ "kind": "delegation" });
    Ok(page(
        &state,
        &ctx,
        &city,
        None,
        values,
        serde_json::json!({}),
        false,
    ))
}

/// `GET /partnerships/{slug}/timeline/{id}/edit`
pub async fn edit_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let (city, m) = load(&state, &slug, id).await?;
    let mut values = serde_json::Map::new();
    values.insert("happened_on".into(), m.happened_on.to_string().into());
    values.insert("kind".into(), m.kind.key().into());
    localized_values(&mut values, "title", &m.title);
    localized_values(&mut values, "body", &m.body);
    Ok(page(
        &state,
        &ctx,
        &city,
        Some(id),
        values.into(),
        serde_json::json!({}),
        false,
    ))
}

async fn load(state: &AppState, slug: &str, id: Uuid) -> Result<(City, Milestone), AppError> {
    let city = state.store.partner_city(slug).await?;
    let m = state
        .store
        .milestones(city.id)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(AppError::NotFound)?;
    Ok((city, m))
}

fn page(
    state: &AppState,
    ctx: &PageCtx,
    city: &City,
    id: Option<Uuid>,
    values: serde_json::Value,
    errors: serde_json::Value,
    invalid: bool,
) -> Response {
    let l = ctx.locale;
    let mut labels = serde_json::json!({
        "happened_on": kontor_i18n::t(l, "milestone-field-date"),
        "kind": kontor_i18n::t(l, "milestone-field-kind"),
    });
    localized_labels(
        &mut labels,
        "title",
        &kontor_i18n::t(l, "milestone-field-title"),
    );
    localized_labels(
        &mut labels,
        "body",
        &kontor_i18n::t(l, "milestone-field-body"),
    );
    let action = match id {
        Some(id) => format!("/partnerships/{}/timeline/{id}/edit", city.slug),
        None => format!("/partnerships/{}/timeline/new", city.slug),
    };
    let body = serde_json::json!({
        "city": city_view(city, l),
        "editing": id.is_some(),
        "action": action,
        "values": values,
        "errors": errors,
        "kinds": milestone_options(l),
        "labels": labels,
    });
    super::render_form(state, ctx, "milestone_edit.html", body, invalid)
}

/// The entry from the form, or every field error recorded.
fn parse(form: &FormData, e: &mut Errors, ctx: &PageCtx) -> Option<MilestoneFields> {
    let happened_on = e.take("happened_on", parse_day(form.get("happened_on")));
    let kind = e.take(
        "kind",
        MilestoneKind::parse_key(form.get("kind"), "invalid-choice"),
    );
    let title = localized(form, e, "title", 200, false, Some(ctx.locale));
    let body = localized(form, e, "body", 5000, true, None);
    Some(MilestoneFields {
        happened_on: happened_on?,
        kind: kind?,
        title: title?,
        body: body?,
    })
}

/// `POST /partnerships/{slug}/timeline/new`
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let mut e = Errors::default();
    let Some(fields) = parse(&form, &mut e, &ctx).filter(|_| e.is_empty()) else {
        let errors = field_errors(ctx.locale, &e.0);
        return Ok(page(&state, &ctx, &city, None, form.values(), errors, true));
    };
    let mut tx = state.store.begin().await?;
    tx.add_milestone(city.id, &fields, now_micros()).await?;
    tx.commit().await?;
    Ok(saved(&city))
}

/// `POST /partnerships/{slug}/timeline/{id}/edit`
pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
    form: FormData,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let (city, m) = load(&state, &slug, id).await?;
    let mut e = Errors::default();
    let Some(fields) = parse(&form, &mut e, &ctx).filter(|_| e.is_empty()) else {
        let errors = field_errors(ctx.locale, &e.0);
        return Ok(page(
            &state,
            &ctx,
            &city,
            Some(m.id),
            form.values(),
            errors,
            true,
        ));
    };
    let mut tx = state.store.begin().await?;
    if !tx.update_milestone(city.id, m.id, &fields).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(saved(&city))
}

fn saved(city: &City) -> Response {
    Redirect::to(&format!("/partnerships/{}?saved=1#timeline", city.slug)).into_response()
}

/// `GET /partnerships/{slug}/timeline/{id}/delete`: asks before removing.
pub async fn delete_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let (city, m) = load(&state, &slug, id).await?;
    Ok(render(
        &state,
        &ctx.reader(),
        "milestone_delete.html",
        serde_json::json!({
            "city": city_view(&city, ctx.locale),
            "milestone": {
                "id": m.id,
                "date": crate::events::format_date(m.happened_on, ctx.locale),
                "title": shown(&m.title, ctx.locale),
                "kind_label": crate::page::label(ctx.locale, "milestone-kind", m.kind),
            },
        }),
    ))
}

/// `POST /partnerships/{slug}/timeline/{id}/delete`
pub async fn delete(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let mut tx = state.store.begin().await?;
    if !tx.delete_milestone(city.id, id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/partnerships/{}?removed=1#timeline", city.slug)).into_response())
}
