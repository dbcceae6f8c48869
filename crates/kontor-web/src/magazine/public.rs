//! The public magazine: the list, the article page, tag pages, search and static pages.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use kontor_domain::{Keyed, Locale, TimeZoneName, now_micros};
use serde::Deserialize;

use super::{article_url, images, is_editor, nav_pages, similar, tags, teaser};
use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::page::render;

const LIST: i64 = 50;
/// Articles scored for related teasers and search (newest first).
const CANDIDATES: i64 = 1000;

pub async fn index(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let articles = state
        .store
        .public_articles(now_micros(), Some(ctx.locale), LIST)
        .await?;
    list_page(
        &state,
        &ctx,
        articles.iter().map(|a| teaser(a, ctx.locale)).collect(),
        serde_json::json!({}),
    )
    .await
}

async fn list_page(
    state: &AppState,
    ctx: &PageCtx,
    articles: Vec<serde_json::Value>,
    extra: serde_json::Value,
) -> Result<Response, AppError> {
    let mut values = serde_json::json!({
        "articles": articles,
        "pages": nav_pages(state, ctx.locale).await?,
        "all_tags": tags(&super::TAGS.map(String::from), ctx.locale),
        "feed": format!("/magazine/feed.{}.atom", ctx.locale.key()),
        "is_editor": is_editor(state, ctx).await?,
    });
    if let (Some(v), serde_json::Value::Object(e)) = (values.as_object_mut(), extra) {
        v.extend(e);
    }
    Ok(render(state, &ctx.reader(), "magazine_list.html", values))
}

pub async fn tag(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(tag): Path<String>,
) -> Result<Response, AppError> {
    let articles = state
        .store
        .public_articles(now_micros(), Some(ctx.locale), CANDIDATES)
        .await?;
    let rows: Vec<_> = articles
        .iter()
        .filter(|a| a.tags.contains(&tag))
        .map(|a| teaser(a, ctx.locale))
        .collect();
    // A topic of the magazine's list has a page even while empty in this language; any other
    // tag only while an article in some language carries it.
    if rows.is_empty() && !super::TAGS.contains(&tag.as_str()) {
        let anywhere = state
            .store
            .public_articles(now_micros(), None, CANDIDATES)
            .await?;
        if !anywhere.iter().any(|a| a.tags.contains(&tag)) {
            return Err(AppError::NotFound);
        }
    }
    let label = tags(std::slice::from_ref(&tag), ctx.locale)[0]["label"].clone();
    list_page(&state, &ctx, rows, serde_json::json!({ "tag": label })).await
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn search(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let query = q.q.trim();
    if query.is_empty() {
        // Nothing to look for: the magazine itself, not an empty result.
        return Ok(axum::response::Redirect::to("/magazine").into_response());
    }
    let articles = state
        .store
        .public_articles(now_micros(), Some(ctx.locale), CANDIDATES)
        .await?;
    let rows = similar::search(ctx.locale.key(), query, &articles)
        .into_iter()
        .map(|a| teaser(a, ctx.locale))
        .collect();
    list_page(
        &state,
        &ctx,
        rows,
        serde_json::json!({ "q": query, "searched": !query.is_empty() }),
    )
    .await
}

pub async fn article(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((lang, slug)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let locale = Locale::from_key(&lang).ok_or(AppError::NotFound)?;
    let a = state.store.article_by_slug(locale, &slug).await?;
    let now = now_micros();
    let editor = is_editor(&state, &ctx).await?;
    if !a.is_public(now) && !editor {
        return Err(AppError::NotFound);
    }
    let base = &state.config.base_url;
    let translations: Vec<_> = state
        .store
        .article_translations(a.translation_group)
        .await?
        .into_iter()
        .filter(|t| t.id == a.id || t.is_public(now) || editor)
        .map(|t| {
            serde_json::json!({
                "url": super::article_path(&t), "absolute": article_url(base, &t),
                "lang": t.locale.bcp47(), "name": t.locale.endonym(), "current": t.id == a.id,
            })
        })
        .collect();
    let candidates = state
        .store
        .public_articles(now, Some(a.locale), CANDIDATES)
        .await?;
    let related: Vec<_> = similar::related(&a, &candidates, 3)
        .into_iter()
        .map(|r| teaser(r, ctx.locale))
        .collect();
    let picture = match a.hero_image_id {
        Some(id) => Some(images::picture(&state, id).await?),
        None => None,
    };
    let canonical = article_url(base, &a);
    let image_url = a
        .hero_image_id
        .map(|id| format!("{base}/magazine/images/{id}/960.jpeg"));
    let jsonld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a.title,
        "description": a.lead,
        "inLanguage": a.locale.bcp47(),
        "datePublished": super::feeds::rfc3339(a.published_at()),
        "dateModified": super::feeds::rfc3339(a.updated_at.max(a.published_at())),
        "author": { "@type": "Person", "name": a.author_name },
        "image": image_url.iter().collect::<Vec<_>>(),
        "keywords": a.tags,
        "mainEntityOfPage": canonical,
    });
    // Inside <script>, `<` must not open a tag: JSON allows it escaped.
    let jsonld = jsonld.to_string().replace('<', "\\u003c");
    Ok(render(
        &state,
        &ctx.reader(),
        "magazine_article.html",
        serde_json::json!({
            "article": {
                "title": a.title, "lead": a.lead, "lang": a.locale.bcp47(),
                "body_html": &*similar::body_html(&a),
                "author": a.author_name,
                "date": crate::events::format_day(a.published_at(), &TimeZoneName::berlin(), ctx.locale),
                "date_iso": super::feeds::rfc3339(a.published_at()),
                "tags": tags(&a.tags, ctx.locale),
                "hero_alt": a.hero_alt, "hero_credit": a.hero_credit,
                "status": a.status.key(), "public": a.is_public(now),
                // Published with a time still ahead: when the public will see it.
                "scheduled_for": a.publish_at.filter(|t| a.status == kontor_store::magazine::ArticleStatus::Published && *t > now)
                    .map(|t| crate::events::format_instant_with_zone(t, &TimeZoneName::berlin(), ctx.locale)),
                "id": a.id,
            },
            "picture": picture,
            "image_url": image_url,
            "canonical": canonical,
            "og_locale": match a.locale { Locale::De => "de_DE", Locale::En => "en_GB", Locale::Zh => "zh_CN" },
            "translations": translations,
            "related": related,
            "jsonld": jsonld,
            "is_editor": editor,
            // After the editor's "save" (`?saved=1`): say so, to editors only.
            "saved": editor && q.contains_key("saved"),
        }),
    ))
}

pub async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((lang, slug)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let locale = Locale::from_key(&lang).ok_or(AppError::NotFound)?;
    let p = state.store.page_by_slug(locale, &slug).await?;
    let base = &state.config.base_url;
    let translations: Vec<_> = state
        .store
        .pages()
        .await?
        .into_iter()
        .filter(|t| t.translation_group == p.translation_group)
        .map(|t| {
            let path = format!("/pages/{}/{}", t.locale.key(), t.slug);
            serde_json::json!({
                "url": path, "absolute": format!("{base}{path}"), "lang": t.locale.bcp47(),
                "name": t.locale.endonym(), "current": t.id == p.id,
            })
        })
        .collect();
    Ok(render(
        &state,
        &ctx.reader(),
        "magazine_page.html",
        serde_json::json!({
            "page": { "title": p.title, "lang": p.locale.bcp47(), "body_html": super::markdown::render(&p.body_md) },
            "canonical": format!("{base}/pages/{}/{}", p.locale.key(), p.slug),
            "translations": translations,
            "pages": nav_pages(&state, ctx.locale).await?,
        }),
    ))
}
