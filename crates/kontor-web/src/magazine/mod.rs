//! The magazine: articles in German, English and Chinese linked as translations, static pages,
//! responsive images, an Atom feed per language and the sitemap.
//!
//! Invariants:
//! - The public reads only what is published and due ([`kontor_store::magazine`] filters on
//!   the clock, so scheduled articles appear without a job). Editors and administrators see
//!   drafts (marked, with `noindex`) and write.
//! - Article bodies are Markdown rendered through an allow-list ([`markdown`]): no raw HTML, no
//!   `javascript:` links, no images from another origin.
//! - Image uploads have their own body limit ([`upload_routes`]); everything else keeps the
//!   global one.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use kontor_domain::{Keyed, Locale, TimeZoneName, now_micros};
use kontor_store::Uuid;
use kontor_store::magazine::Article;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;

mod editor;
mod feeds;
pub mod images;
pub mod markdown;
mod pages;
mod public;
mod similar;

/// Tags offered in the editor (free tags are allowed too); labels are `magazine-tag-<key>`.
pub const TAGS: [&str; 8] = [
    "international",
    "china",
    "hydrogen",
    "life-sciences",
    "events",
    "jobs",
    "partnership",
    "location",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/magazine", get(public::index))
        .route("/magazine/search", get(public::search))
        .route("/magazine/tags/{tag}", get(public::tag))
        .route("/magazine/{file}", get(feeds::atom))
        .route("/magazine/{lang}/{slug}", get(public::article))
        .route("/magazine/images/{id}/{file}", get(images::serve))
        .route("/pages/{lang}/{slug}", get(public::page))
        .route("/sitemap.xml", get(feeds::sitemap))
        .route("/magazine/editor", get(editor::list))
        .route("/magazine/editor/editors", post(editor::set_editor))
        .route("/magazine/editor/page", get(pages::form).post(pages::save))
        .route(
            "/magazine/editor/new",
            get(editor::new_form).post(editor::create),
        )
        .route(
            "/magazine/editor/{id}",
            get(editor::edit_form).post(editor::update),
        )
}

/// The upload route, with its own body limit: merge it outside the global limit.
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/magazine/editor/images", post(images::upload))
        // The handler counts the image's bytes itself and answers with a clear error; a
        // declared length above the limit is refused the same way before reading; the layer
        // caps bodies without a declared length.
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            images::MAX_BYTES * 2,
        ))
        // Outermost, so it answers before the cap does.
        .layer(axum::middleware::from_fn_with_state(
            (images::MAX_BYTES, "magazine-image-too-large"),
            crate::form::refuse_declared_oversize,
        ))
}

/// The signed-in user if they may write the magazine (editors and administrators).
pub async fn require_editor(state: &AppState, ctx: &PageCtx) -> Result<Uuid, AppError> {
    let user = ctx.require_user()?;
    if is_editor(state, ctx).await? {
        Ok(user.id)
    } else {
        Err(AppError::Forbidden)
    }
}

async fn is_editor(state: &AppState, ctx: &PageCtx) -> Result<bool, AppError> {
    Ok(match &ctx.user {
        Some(u) => u.is_admin || state.store.is_editor(u.id).await?,
        None => false,
    })
}

/// The canonical address of an article.
pub fn article_url(base: &str, a: &Article) -> String {
    format!("{base}{}", article_path(a))
}

pub fn article_path(a: &Article) -> String {
    format!("/magazine/{}/{}", a.locale.key(), a.slug)
}

/// The path of the public translation into `to` of the article at `path`
/// (`/magazine/{lang}/{slug}`), if it is one and has one: where the language switch leads.
pub async fn translation_path(
    state: &AppState,
    path: &str,
    to: Locale,
) -> Result<Option<String>, AppError> {
    let Some((lang, slug)) = path
        .strip_prefix("/magazine/")
        .and_then(|rest| rest.split_once('/'))
    else {
        return Ok(None);
    };
    let Some(from) = Locale::from_key(lang).filter(|l| *l != to) else {
        return Ok(None);
    };
    let article = match state.store.article_by_slug(from, slug).await {
        Ok(a) => a,
        Err(kontor_store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let now = kontor_domain::now_micros();
    let translations = state
        .store
        .article_translations(article.translation_group)
        .await?;
    Ok(translations
        .iter()
        .find(|t| t.locale == to && t.is_public(now))
        .map(article_path))
}

/// What a list shows of an article.
pub fn teaser(a: &Article, locale: Locale) -> serde_json::Value {
    serde_json::json!({
        "url": article_path(a),
        "title": a.title,
        "lead": a.lead,
        "lang": a.locale.bcp47(),
        "date": crate::events::format_day(a.published_at(), &TimeZoneName::berlin(), locale),
        "tags": tags(&a.tags, locale),
        "hero": a.hero_image_id.map(|id| format!("/magazine/images/{id}/480.jpeg")),
        "hero_alt": a.hero_alt,
    })
}

/// Tags with their labels (a free tag is its own label).
pub fn tags(keys: &[String], locale: Locale) -> Vec<serde_json::Value> {
    keys.iter()
        .map(|k| {
            let id = format!("magazine-tag-{k}");
            let label = kontor_i18n::t(locale, &id);
            let label = if label == id { k.clone() } else { label };
            serde_json::json!({ "key": k, "label": label })
        })
        .collect()
}

/// The latest articles in the reader's language, for the start page.
pub async fn home_teasers(
    state: &AppState,
    locale: Locale,
) -> Result<Vec<serde_json::Value>, AppError> {
    let articles = state
        .store
        .public_articles(now_micros(), Some(locale), 4)
        .await?;
    Ok(articles.iter().map(|a| teaser(a, locale)).collect())
}

/// The pages in the navigation, in the reader's language.
async fn nav_pages(state: &AppState, locale: Locale) -> Result<Vec<serde_json::Value>, AppError> {
    Ok(state
        .store
        .pages()
        .await?
        .into_iter()
        .filter(|p| p.locale == locale && p.nav_order.is_some())
        .map(|p| serde_json::json!({ "url": format!("/pages/{}/{}", p.locale.key(), p.slug), "title": p.title }))
        .collect())
}
