//! The public directory of organisations and the public view of a person. Contact details are
//! private by default: shown only to the person, administrators, or when the person chose so.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use kontor_domain::Keyed;
use kontor_store::accounts::User;
use serde::Deserialize;
use uuid::Uuid;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::page::{label, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/organisations", get(list))
        .route("/organisations/{id}", get(show))
        .route("/people/{id}", get(person))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: i64,
}

const PAGE: i64 = 30;
/// Far beyond any directory; a larger page number would overflow the offset.
pub(crate) const MAX_PAGE: i64 = 1_000_000;

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page = q.page.clamp(0, MAX_PAGE);
    let query = q.q.trim();
    let orgs = state
        .store
        .organisations((!query.is_empty()).then_some(query), PAGE + 1, page * PAGE)
        .await?;
    let more = orgs.len() as i64 > PAGE;
    let rows: Vec<_> = orgs.iter().take(PAGE as usize).map(|o| serde_json::json!({
        "id": o.id, "name": o.name, "kind": label(ctx.locale, "org-kind", o.kind), "country": o.country.code(),
        "flag": o.country.flag(), "city": o.city,
        "sectors": o.sectors.iter().map(|s| label(ctx.locale, "sector", *s)).collect::<Vec<_>>(),
    })).collect();
    Ok(render(
        &state,
        &ctx.reader(),
        "organisations.html",
        serde_json::json!({
            "organisations": rows, "q": query, "page": page, "more": more,
        }),
    ))
}

async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let o = state.store.organisation(id).await?;
    let people: Vec<_> = state
        .store
        .users_of_organisation(id)
        .await?
        .iter()
        .map(|u| serde_json::json!({ "id": u.id, "name": u.name, "job_title": u.job_title }))
        .collect();
    let (lang, description) = o
        .description
        .get(ctx.locale)
        .map_or((None, ""), |(l, t)| (Some(l), t));
    Ok(render(
        &state,
        &ctx.reader(),
        "organisation.html",
        serde_json::json!({
            "org": {
                "name": o.name, "kind": label(ctx.locale, "org-kind", o.kind), "country": o.country.code(),
                "flag": o.country.flag(), "city": o.city, "website": o.website,
                "size": o.size.map(|s| label(ctx.locale, "org-size", s)),
                "sectors": o.sectors.iter().map(|s| label(ctx.locale, "sector", *s)).collect::<Vec<_>>(),
                "description": description,
            "paragraphs": crate::page::paragraphs(description),
                "description_lang": lang.filter(|l| *l != ctx.locale).map(|l| l.bcp47()),
            },
            "people": people,
        }),
    ))
}

/// Whether `viewer` may see the private contact details of `person`.
pub fn sees_contact(viewer: Option<&User>, person: &User) -> bool {
    person.contact_public || viewer.is_some_and(|v| v.id == person.id || v.is_admin)
}

async fn person(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let p = state.store.user(id).await?;
    let org = match p.organisation_id {
        Some(o) => Some(state.store.organisation(o).await?),
        None => None,
    };
    let contact = sees_contact(ctx.user.as_ref(), &p)
        .then(|| serde_json::json!({ "email": p.email.as_str(), "phone": p.phone }));
    let cv = match &ctx.user {
        Some(viewer) if state.store.may_see_cv(viewer.id, p.id).await? => state
            .store
            .cv(p.id)
            .await?
            .map(|cv| serde_json::json!({ "href": format!("/people/{}/cv", p.id), "size": crate::cvs::size_label(cv.size_bytes, ctx.locale) })),
        _ => None,
    };
    Ok(render(
        &state,
        &ctx.reader(),
        "person.html",
        serde_json::json!({
            "person": {
                "name": p.name, "job_title": p.job_title, "time_zone": crate::events::zone_city(&p.time_zone, ctx.locale),
                "languages": p.languages, "locale": p.locale.key(),
            },
            "org": org.map(|o| serde_json::json!({ "id": o.id, "name": o.name, "flag": o.country.flag() })),
            "contact": contact,
            "cv": cv,
        }),
    ))
}
