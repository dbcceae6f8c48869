//! The editors' form for static pages (location and infrastructure, …): one page per language
//! and address; a navigation order puts it into the magazine's page navigation.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kontor_domain::{Invalid, Keyed, Locale, Slug, now_micros};
use kontor_store::magazine::PageFields;
use serde::Deserialize;

use super::require_editor;
use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::{Errors, FormData, Shape};
use crate::page::{field_errors, render};

#[derive(Deserialize)]
pub struct PageQuery {
    locale: Option<String>,
    slug: Option<String>,
    /// Another language's page (`de/slug`) this one translates.
    translation_of: Option<String>,
}

/// `GET /magazine/editor/page`: the form, empty or filled with an existing page.
pub async fn form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    require_editor(&state, &ctx).await?;
    let locale = q
        .locale
        .as_deref()
        .and_then(|l| Locale::parse(l).ok())
        .unwrap_or(ctx.locale);
    let mut values =
        serde_json::json!({ "locale": locale.key(), "translation_of": q.translation_of });
    if let Some(slug) = q.slug.as_deref() {
        let p = state.store.page_by_slug(locale, slug).await?;
        values = serde_json::json!({
            "locale": p.locale.key(), "slug": p.slug, "title": p.title, "body": p.body_md,
            "nav_order": p.nav_order.map(|n| n.to_string()),
        });
    }
    Ok(page(
        &state,
        &ctx,
        values,
        serde_json::json!({}),
        StatusCode::OK,
    ))
}

fn page(
    state: &AppState,
    ctx: &PageCtx,
    values: serde_json::Value,
    errors: serde_json::Value,
    status: StatusCode,
) -> Response {
    let mut r = render(
        state,
        &ctx.reader(),
        "magazine_page_edit.html",
        serde_json::json!({
            "values": values, "errors": errors, "article_locales": crate::page::locale_options(),
        }),
    );
    *r.status_mut() = status;
    r
}

/// `POST /magazine/editor/page`: creates or replaces the page at (language, address).
pub async fn save(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    require_editor(&state, &ctx).await?;
    let mut e = Errors::default();
    let locale = e.take("locale", Locale::parse(form.get("locale")));
    let slug = e.take("slug", Slug::parse(form.get("slug")));
    let title = e.text(&form, "title", Shape::Line, 200, true);
    let body = e.text(&form, "body", Shape::Block, 100_000, true);
    let nav_raw = form.get("nav_order").trim();
    let nav_order = if nav_raw.is_empty() {
        None
    } else {
        e.take(
            "nav_order",
            nav_raw
                .parse::<i32>()
                .ok()
                .filter(|n| (0..=1000).contains(n))
                .ok_or(Invalid::new("invalid-limit")),
        )
    };
    // The translation group of the page this one translates (`de/slug`).
    let group = match form.get("translation_of").trim().split_once('/') {
        Some((l, s)) => match Locale::parse(l) {
            Ok(l) => state
                .store
                .page_by_slug(l, s)
                .await
                .ok()
                .map(|p| p.translation_group),
            Err(_) => None,
        },
        None => None,
    };
    let (Some(locale), Some(slug)) = (locale, slug) else {
        return Ok(invalid(&state, &ctx, &form, &e));
    };
    if !e.is_empty() {
        return Ok(invalid(&state, &ctx, &form, &e));
    }
    let mut tx = state.store.begin().await?;
    tx.upsert_page(
        &PageFields {
            translation_group: group,
            locale,
            slug: slug.as_str().into(),
            title,
            body_md: body,
            nav_order,
        },
        now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/pages/{}/{}", locale.key(), slug.as_str())).into_response())
}

fn invalid(state: &AppState, ctx: &PageCtx, form: &FormData, e: &Errors) -> Response {
    page(
        state,
        ctx,
        form.values(),
        field_errors(ctx.locale, &e.0),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}
