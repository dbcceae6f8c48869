//! Partner cities: the public list and page (agreements, timeline), and the staff's forms for a
//! city and its timeline.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use kontor_domain::partnership::{AgreementStatus, parse_year};
use kontor_domain::{Country, Invalid, Locale, Slug, now_micros};
use kontor_store::StoreError;
use kontor_store::partnerships::{City, CityFields};
use serde::Deserialize;

use super::{
    agreement_view, city_view, localized, localized_labels, localized_values, require_staff,
    timeline_view,
};
use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{field_errors, render};

/// `GET /partnerships`
pub async fn index(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    let cities = state.store.partner_cities().await?;
    let signed = state.store.signed_agreement_fields().await?;
    let views: Vec<_> = cities
        .iter()
        .map(|c| {
            let mine: Vec<_> = signed.iter().filter(|(city, _)| *city == c.id).collect();
            let mut fields: Vec<_> = mine.iter().flat_map(|(_, f)| f.iter().copied()).collect();
            fields.sort();
            fields.dedup();
            let mut v = city_view(c, ctx.locale);
            v["fields"] = super::fields_view(&fields, ctx.locale).into();
            v["agreements"] = mine.len().into();
            v
        })
        .collect();
    Ok(render(
        &state,
        &ctx.reader(),
        "partnerships.html",
        serde_json::json!({ "cities": views, "staff": ctx.editor, "removed": q.removed.is_some() && ctx.editor }),
    ))
}

#[derive(Deserialize)]
pub struct Notice {
    saved: Option<String>,
    removed: Option<String>,
    deleted: Option<String>,
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
            "description": crate::page::paragraphs(city.description.show(ctx.locale)),
            "agreements": visible,
            "timeline": timeline_view(&milestones, &agreements, &city, ctx.locale),
            "staff": ctx.editor,
            "saved": q.saved.is_some(),
            "removed": q.removed.is_some(),
            "deleted": q.deleted.is_some(),
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
        serde_json::json!({ "country": "CN" }),
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
    let l = ctx.locale;
    let mut labels = serde_json::json!({
        "slug": kontor_i18n::t(l, "partnership-field-slug"),
        "country": kontor_i18n::t(l, "field-country"),
        "since_year": kontor_i18n::t(l, "partnership-field-since"),
    });
    localized_labels(
        &mut labels,
        "name",
        &kontor_i18n::t(l, "partnership-field-name"),
    );
    localized_labels(
        &mut labels,
        "description",
        &kontor_i18n::t(l, "partnership-field-description"),
    );
    let body = serde_json::json!({
        "city": city.map(|c| city_view(c, ctx.locale)),
        "values": values,
        "errors": errors,
        "countries": country_options(ctx.locale),
        "labels": labels,
    });
    super::render_form(state, ctx, "partner_city_edit.html", body, invalid)
}

/// Countries by their name in the reader's language, the corridor's two first.
fn country_options(locale: Locale) -> Vec<serde_json::Value> {
    const FIRST: [&str; 2] = ["CN", "DE"];
    let name = |c: &str| {
        kontor_i18n::country_name(locale, c)
            .unwrap_or(c)
            .to_string()
    };
    let mut rest: Vec<(String, String, &str)> = Country::codes()
        .filter(|c| !FIRST.contains(c))
        .map(|c| (sort_key(&name(c)), name(c), c))
        .collect();
    rest.sort();
    FIRST
        .iter()
        .map(|c| (name(c), *c))
        .chain(rest.into_iter().map(|(_, n, c)| (n, c)))
        .map(|(label, key)| serde_json::json!({ "key": key, "label": label }))
        .collect()
}

/// Sorts "Österreich" with the O's, not after Z.
fn sort_key(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'Ä' | 'Á' | 'À' | 'Å' | 'Â' => 'A',
            'É' | 'È' | 'Ê' => 'E',
            'Í' | 'Î' => 'I',
            'Ö' | 'Ó' | 'Ô' => 'O',
            'Ü' | 'Ú' => 'U',
            'ä' | 'á' | 'à' | 'å' | 'â' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'î' | 'ï' => 'i',
            'ö' | 'ó' | 'ô' | 'õ' => 'o',
            'ü' | 'ú' | 'û' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

/// Addresses that are pages of their own.
const RESERVED_SLUGS: [&str; 1] = ["new"];

fn parse_city(
    form: &FormData,
    e: &mut Errors,
    slug: Option<String>,
    reader: Locale,
) -> Option<CityFields> {
    let slug = match slug {
        Some(s) => Some(s),
        None => e
            .take(
                "slug",
                Slug::parse(form.get("slug")).and_then(|s| {
                    if RESERVED_SLUGS.contains(&s.as_str()) {
                        Err(Invalid::new("invalid-slug-reserved"))
                    } else {
                        Ok(s)
                    }
                }),
            )
            .map(|s| s.as_str().to_string()),
    };
    let name = localized(form, e, "name", 120, false, Some(reader));
    let country = e.take(
        "country",
        Country::parse(form.get("country")).map_err(|_| Invalid::new("invalid-choice")),
    );
    let since_year = e.take("since_year", parse_year(form.get("since_year")));
    let description = localized(form, e, "description", 5000, true, None);
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
    let fields = parse_city(&form, &mut e, None, ctx.locale);
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
    let fields = parse_city(&form, &mut e, Some(city.slug.clone()), ctx.locale);
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

/// `GET /partnerships/{slug}/delete`: asks before removing, and says what goes with it.
pub async fn delete_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let kept = state
        .store
        .agreements(city.id)
        .await?
        .iter()
        .any(|a| a.status != kontor_domain::partnership::AgreementStatus::Draft);
    Ok(render(
        &state,
        &ctx.reader(),
        "partner_city_delete.html",
        serde_json::json!({ "city": city_view(&city, ctx.locale), "kept": kept }),
    ))
}

/// `POST /partnerships/{slug}/delete`: with its timeline and drafts; refused while it has an
/// agreement out for signature or signed.
pub async fn delete(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    require_staff(&ctx)?;
    let city = state.store.partner_city(&slug).await?;
    let mut tx = state.store.begin().await?;
    if !tx.delete_partner_city(city.id).await? {
        return Err(AppError::Rejected("partnership-has-agreements"));
    }
    tx.commit().await?;
    Ok(Redirect::to("/partnerships?removed=1").into_response())
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
        assert_eq!(de[0]["key"], "CN");
        assert_eq!(de[1]["key"], "DE");
        let position = |code: &str| de.iter().position(|o| o["key"] == code).unwrap();
        // Österreich between Oman and Pakistan, not after Zypern.
        assert!(position("OM") < position("AT") && position("AT") < position("PK"));
    }
}
