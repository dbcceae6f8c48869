//! Partner cities: the public list and page (agreements, timeline), and the staff's forms for a
//! city and its timeline.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use kontor_domain::partnership::{AgreementStatus, MilestoneKind, parse_day, parse_year};
use kontor_domain::{Country, Invalid, KeyedParse, Locale, Slug, now_micros};
use kontor_store::StoreError;
use kontor_store::Uuid;
use kontor_store::partnerships::{City, CityFields, MilestoneFields};
use serde::Deserialize;

use super::{
    agreement_view, city_view, localized, localized_required, localized_values, milestone_options,
    require_staff, shown, timeline,
};
use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{field_errors, render, render_invalid};

/// `GET /partnerships`
pub async fn index(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let cities = state.store.partner_cities().await?;
    let mut views = Vec::with_capacity(cities.len());
    for c in &cities {
        let agreements = state.store.agreements(c.id).await?;
        let mut v = city_view(c, ctx.locale);
        let mut fields: Vec<_> = agreements
            .iter()
            .filter(|a| a.status == AgreementStatus::Signed)
            .flat_map(|a| a.fields.iter().copied())
            .collect();
        fields.sort();
        fields.dedup();
        v["fields"] = super::fields_view(&fields, ctx.locale).into();
        v["agreements"] = agreements
            .iter()
            .filter(|a| a.status == AgreementStatus::Signed)
            .count()
            .into();
        views.push(v);
    }
    Ok(render(
        &state,
        &ctx.reader(),
        "partnerships.html",
        serde_json::json!({ "cities": views, "staff": ctx.editor }),
    ))
}

#[derive(Deserialize)]
pub struct Notice {
    saved: Option<String>,
}

/// `GET /partnerships/{slug}`
pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    let city = state.store.partner_city(&slug).await?;
    let agreements = state.store.agreements(city.id).await?;
    let milestones = state.store.milestones(city.id).await?;
    let visible: Vec<_> = agreements
        .iter()
        .filter(|a| ctx.editor || a.status == AgreementStatus::Signed)
        .map(|a| agreement_view(a, &city, ctx.locale))
        .collect();
    Ok(render(
        &state,
        &ctx.reader(),
        "partner_city.html",
        serde_json::json!({
            "city": city_view(&city, ctx.locale),
            "description": crate::page::paragraphs(shown(&city.description, ctx.locale)["text"].as_str().unwrap_or("")),
            "agreements": visible,
            "timeline": timeline(&milestones, &agreements, &city, ctx.locale),
            "staff": ctx.editor,
            "saved": q.saved.is_some(),
        }),
    ))
}

/// `GET /partnerships/new`
pub async fn new_form(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    Ok(city_form(
        &state,
        &ctx,
        None,
        serde_json::json!({}),
        serde_json::json!({}),
        false,
    ))
}

/// `GET /partnerships/{slug}/edit`
pub async fn edit_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let mut values = serde_json::Map::new();
    localized_values(&mut values, "name", &city.name);
    localized_values(&mut values, "description", &city.description);
    values.insert("country".into(), city.country.code().into());
    values.insert(
        "since_year".into(),
        city.since_year
            .map(|y| y.to_string())
            .unwrap_or_default()
            .into(),
    );
    Ok(city_form(
        &state,
        &ctx,
        Some(&city),
        values.into(),
        serde_json::json!({}),
        false,
    ))
}

fn city_form(
    state: &AppState,
    ctx: &PageCtx,
    city: Option<&City>,
    values: serde_json::Value,
    errors: serde_json::Value,
    invalid: bool,
) -> Response {
    let body = serde_json::json!({
        "city": city.map(|c| city_view(c, ctx.locale)),
        "values": values,
        "errors": errors,
        "countries": country_options(ctx.locale),
        "labels": {
            "slug": kontor_i18n::t(ctx.locale, "partnership-field-slug"),
            "name_en": kontor_i18n::t(ctx.locale, "partnership-field-name"),
            "country": kontor_i18n::t(ctx.locale, "field-country"),
            "since_year": kontor_i18n::t(ctx.locale, "partnership-field-since"),
        },
    });
    if invalid {
        render_invalid(state, &ctx.reader(), "partner_city_edit.html", body)
    } else {
        render(state, &ctx.reader(), "partner_city_edit.html", body)
    }
}

/// Countries by their name in the reader's language.
fn country_options(locale: Locale) -> Vec<serde_json::Value> {
    let mut options: Vec<(String, &str)> = Country::codes()
        .map(|c| {
            (
                kontor_i18n::country_name(locale, c)
                    .unwrap_or(c)
                    .to_string(),
                c,
            )
        })
        .collect();
    options.sort();
    options
        .into_iter()
        .map(|(label, key)| serde_json::json!({ "key": key, "label": label }))
        .collect()
}

fn parse_city(form: &FormData, e: &mut Errors, slug: Option<String>) -> Option<CityFields> {
    let slug = match slug {
        Some(s) => Some(s),
        None => e
            .take("slug", Slug::parse(form.get("slug")))
            .map(|s| s.as_str().to_string()),
    };
    let name = e.take("name_en", localized_required(form, "name", 120, false));
    let country = e.take(
        "country",
        Country::parse(form.get("country")).map_err(|_| Invalid::new("invalid-choice")),
    );
    let since_year = e.take("since_year", parse_year(form.get("since_year")));
    let description = e.take("description_en", localized(form, "description", 5000, true));
    Some(CityFields {
        slug: slug?,
        name: name?,
        country: country?,
        since_year: since_year?.map(i32::from),
        description: description?,
    })
}

/// `POST /partnerships/new`
pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let mut e = Errors::default();
    let fields = parse_city(&form, &mut e, None);
    let Some(fields) = fields.filter(|_| e.is_empty()) else {
        return Ok(invalid_city(&state, &ctx, None, &form, &e));
    };
    let mut tx = state.store.begin().await?;
    match tx.create_partner_city(&fields, now_micros()).await {
        Ok(_) => tx.commit().await?,
        Err(StoreError::Conflict(_)) => {
            e.0.push((
                "slug".into(),
                Invalid::new("invalid-partnership-slug-taken"),
            ));
            return Ok(invalid_city(&state, &ctx, None, &form, &e));
        }
        Err(other) => return Err(other.into()),
    }
    Ok(Redirect::to(&format!("/partnerships/{}?saved=1", fields.slug)).into_response())
}

/// `POST /partnerships/{slug}/edit`
pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let mut e = Errors::default();
    let fields = parse_city(&form, &mut e, Some(city.slug.clone()));
    let Some(fields) = fields.filter(|_| e.is_empty()) else {
        return Ok(invalid_city(&state, &ctx, Some(&city), &form, &e));
    };
    let mut tx = state.store.begin().await?;
    tx.update_partner_city(city.id, &fields, now_micros())
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/partnerships/{}?saved=1", city.slug)).into_response())
}

fn invalid_city(
    state: &AppState,
    ctx: &PageCtx,
    city: Option<&City>,
    form: &FormData,
    e: &Errors,
) -> Response {
    city_form(
        state,
        ctx,
        city,
        form.values(),
        field_errors(ctx.locale, &e.0),
        true,
    )
}

/// `GET /partnerships/{slug}/timeline/new`
pub async fn milestone_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    Ok(milestone_page(
        &state,
        &ctx,
        &city,
        serde_json::json!({ "kind": "delegation" }),
        serde_json::json!({}),
        false,
    ))
}

fn milestone_page(
    state: &AppState,
    ctx: &PageCtx,
    city: &City,
    values: serde_json::Value,
    errors: serde_json::Value,
    invalid: bool,
) -> Response {
    let body = serde_json::json!({
        "city": city_view(city, ctx.locale),
        "values": values,
        "errors": errors,
        "kinds": milestone_options(ctx.locale),
        "labels": {
            "happened_on": kontor_i18n::t(ctx.locale, "milestone-field-date"),
            "kind": kontor_i18n::t(ctx.locale, "milestone-field-kind"),
            "title_en": kontor_i18n::t(ctx.locale, "milestone-field-title"),
        },
    });
    if invalid {
        render_invalid(state, &ctx.reader(), "milestone_edit.html", body)
    } else {
        render(state, &ctx.reader(), "milestone_edit.html", body)
    }
}

/// `POST /partnerships/{slug}/timeline/new`
pub async fn add_milestone(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let mut e = Errors::default();
    let happened_on = e.take("happened_on", parse_day(form.get("happened_on")));
    let kind = e.take(
        "kind",
        MilestoneKind::parse_key(form.get("kind"), "invalid-choice"),
    );
    let title = e.take("title_en", localized_required(&form, "title", 200, false));
    let body = e.take("body_en", localized(&form, "body", 5000, true));
    let (Some(happened_on), Some(kind), Some(title), Some(body)) = (happened_on, kind, title, body)
    else {
        return Ok(milestone_page(
            &state,
            &ctx,
            &city,
            form.values(),
            field_errors(ctx.locale, &e.0),
            true,
        ));
    };
    let mut tx = state.store.begin().await?;
    tx.add_milestone(
        city.id,
        &MilestoneFields {
            happened_on,
            kind,
            title,
            body,
        },
        now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/partnerships/{}?saved=1#timeline", city.slug)).into_response())
}

/// `GET /partnerships/{slug}/timeline/{id}/delete`: asks before deleting.
pub async fn delete_milestone_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let milestone = state
        .store
        .milestones(city.id)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(AppError::NotFound)?;
    Ok(render(
        &state,
        &ctx.reader(),
        "milestone_delete.html",
        serde_json::json!({
            "city": city_view(&city, ctx.locale),
            "milestone": {
                "id": milestone.id,
                "date": crate::events::format_date(milestone.happened_on, ctx.locale),
                "title": shown(&milestone.title, ctx.locale),
                "kind_label": crate::page::label(ctx.locale, "milestone-kind", milestone.kind),
            },
        }),
    ))
}

/// `POST /partnerships/{slug}/timeline/{id}/delete`
pub async fn delete_milestone(
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
    Ok(Redirect::to(&format!("/partnerships/{}#timeline", city.slug)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_offered_by_name_in_the_readers_language() {
        let de = country_options(Locale::De);
        assert_eq!(de.len(), Country::codes().count());
        let china = de.iter().find(|o| o["key"] == "CN").unwrap();
        assert_eq!(china["label"], "China");
        let first = de[0]["label"].as_str().unwrap();
        assert!(first.starts_with('A'), "{first}");
    }
}
