//! The editors' side: the list of every article, the article form (new, edit, translate) and
//! the image upload form. Only editors and administrators get here.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::DateTime;
use kontor_domain::{Invalid, Keyed, Locale, Slug, TimeZoneName, now_micros};
use kontor_store::StoreError;
use kontor_store::magazine::{Article, ArticleFields, ArticleStatus};
use serde::Deserialize;
use uuid::Uuid;

use super::require_editor;
use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::{Errors, FormData, Shape};
use crate::page::{field_errors, render};

const MAX_TITLE: usize = 200;
const MAX_LEAD: usize = 600;
const MAX_BODY: usize = 100_000;
const MAX_TAGS: usize = 10;

#[derive(Deserialize)]
pub struct ListQuery {
    image: Option<Uuid>,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    require_editor(&state, &ctx).await?;
    let articles = state.store.all_articles().await?;
    let rows: Vec<_> = articles
        .iter()
        .map(|a| {
            let missing = untranslated(articles.iter().map(|o| (o.translation_group, o.locale)), a.translation_group);
            serde_json::json!({
                "id": a.id, "title": a.title, "lang": a.locale.bcp47(), "locale": a.locale.key(),
                "url": super::article_path(a),
                "status": a.status.key(),
                "publish_at": a.publish_at.map(|t| crate::events::format_instant_with_zone(t, &TimeZoneName::berlin(), ctx.locale)),
                "scheduled": a.status == ArticleStatus::Published && a.publish_at.is_some_and(|t| t > now_micros()),
                "missing": missing,
            })
        })
        .collect();
    let all_pages = state.store.pages().await?;
    let pages: Vec<_> = all_pages
        .iter()
        .map(|p| {
            let missing = untranslated(all_pages.iter().map(|o| (o.translation_group, o.locale)), p.translation_group);
            serde_json::json!({
                "title": p.title, "lang": p.locale.bcp47(), "locale": p.locale.key(), "slug": p.slug,
                "nav_order": p.nav_order, "missing": missing,
            })
        })
        .collect();
    let is_admin = ctx.user.as_ref().is_some_and(|u| u.is_admin);
    let editors: Vec<_> = if is_admin {
        state
            .store
            .editors()
            .await?
            .into_iter()
            .map(|(id, name, email)| serde_json::json!({ "id": id, "name": name, "email": email }))
            .collect()
    } else {
        vec![]
    };
    let uploaded = match q.image {
        Some(id) => Some(
            serde_json::json!({ "id": id, "picture": super::images::picture(&state, id).await? }),
        ),
        None => None,
    };
    Ok(render(
        &state,
        &ctx.reader(),
        "magazine_editor.html",
        serde_json::json!({
            "articles": rows, "uploaded": uploaded, "is_admin": is_admin, "editors": editors, "pages": pages,
            "max_mb": super::images::MAX_BYTES / (1024 * 1024),
        }),
    ))
}

/// The languages a translation group has no text in yet, as links to offer.
fn untranslated(
    texts: impl Iterator<Item = (Uuid, Locale)> + Clone,
    group: Uuid,
) -> Vec<serde_json::Value> {
    Locale::ALL
        .iter()
        .filter(|l| !texts.clone().any(|(g, o)| g == group && o == **l))
        .map(|l| serde_json::json!({ "key": l.key(), "name": l.endonym() }))
        .collect()
}

#[derive(Deserialize)]
pub struct NewQuery {
    translation_of: Option<Uuid>,
    locale: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    require_editor(&state, &ctx).await?;
    let mut values = serde_json::json!({
        "locale": q.locale.as_deref().unwrap_or(ctx.locale.key()),
        "status": "draft",
        "author_name": ctx.user.as_ref().map(|u| u.name.clone()),
    });
    if let Some(id) = q.translation_of {
        let source = state.store.article(id).await?;
        values["translation_of"] = serde_json::json!(id);
        values["tags"] = serde_json::json!(source.tags.join(", "));
        values["hero_image_id"] = serde_json::json!(source.hero_image_id);
        values["hero_credit"] = serde_json::json!(source.hero_credit);
        values["source_title"] = serde_json::json!(source.title);
    }
    let images = state.store.recent_images(IMAGE_CHOICES).await?;
    Ok(form_page(
        &state,
        &ctx,
        None,
        values,
        serde_json::json!({}),
        StatusCode::OK,
        &images,
    ))
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    require_editor(&state, &ctx).await?;
    let a = state.store.article(id).await?;
    let images = state.store.recent_images(IMAGE_CHOICES).await?;
    Ok(form_page(
        &state,
        &ctx,
        Some(&a),
        values_of(&a),
        serde_json::json!({}),
        StatusCode::OK,
        &images,
    ))
}

fn values_of(a: &Article) -> serde_json::Value {
    let publish_at = a.publish_at.and_then(|t| {
        jiff::Timestamp::from_microsecond(t).ok().map(|ts| {
            ts.to_zoned_datetime(TimeZoneName::berlin().tz())
                .strftime("%Y-%m-%dT%H:%M")
                .to_string()
        })
    });
    serde_json::json!({
        "locale": a.locale.key(), "slug": a.slug, "title": a.title, "lead": a.lead,
        "body": a.body_md, "author_name": a.author_name, "tags": a.tags.join(", "),
        "hero_image_id": a.hero_image_id, "hero_alt": a.hero_alt, "hero_credit": a.hero_credit,
        "status": a.status.key(), "publish_at": publish_at,
    })
}

/// How many recent images the form offers.
const IMAGE_CHOICES: i64 = 12;

#[allow(clippy::too_many_arguments)]
fn form_page(
    state: &AppState,
    ctx: &PageCtx,
    article: Option<&Article>,
    values: serde_json::Value,
    errors: serde_json::Value,
    status: StatusCode,
    images: &[(Uuid, i32, i64)],
) -> Response {
    let mut choices: Vec<_> = images
        .iter()
        .map(|(id, width, at)| {
            serde_json::json!({
                "id": id.to_string(),
                "width": width,
                "uploaded": crate::events::format_instant(*at, Some(&TimeZoneName::berlin()), ctx.locale),
            })
        })
        .collect();
    // The article's own picture stays on offer, however old.
    if let Some(current) = values["hero_image_id"].as_str().filter(|c| !c.is_empty())
        && !choices.iter().any(|c| c["id"] == current)
    {
        choices.insert(
            0,
            serde_json::json!({ "id": current, "width": 480, "uploaded": "" }),
        );
    }
    let statuses: Vec<_> = ArticleStatus::ALL
        .iter()
        .map(|s| serde_json::json!({ "key": s.key(), "label": kontor_i18n::t(ctx.locale, &format!("magazine-status-{}", s.key())) }))
        .collect();
    let locales = crate::page::locale_options();
    let mut r = render(
        state,
        &ctx.reader(),
        "magazine_edit.html",
        serde_json::json!({
            "action": article.map_or("/magazine/editor/new".to_string(), |a| format!("/magazine/editor/{}", a.id)),
            "editing": article.map(|a| serde_json::json!({ "id": a.id, "url": super::article_path(a) })),
            "values": values, "errors": errors, "statuses": statuses, "article_locales": locales,
            "tag_keys": super::TAGS, "images": choices,
        }),
    );
    *r.status_mut() = status;
    r
}

/// Parses the article form; the translation group is looked up by the caller.
async fn parse(state: &AppState, form: &FormData, author: Uuid) -> Result<ArticleFields, Errors> {
    let mut e = Errors::default();
    let title = e.text(form, "title", Shape::Line, MAX_TITLE, true);
    let lead = e.text(form, "lead", Shape::Block, MAX_LEAD, true);
    let body_md = e.text(form, "body", Shape::Block, MAX_BODY, true);
    let author_name = e.text(form, "author_name", Shape::Line, MAX_TITLE, true);
    let hero_alt = e.text(form, "hero_alt", Shape::Line, MAX_LEAD, false);
    let hero_credit = e.text(form, "hero_credit", Shape::Line, MAX_TITLE, false);
    let locale = e.take("locale", Locale::parse(form.get("locale")));
    let slug_raw = form.get("slug").trim();
    let slug = if slug_raw.is_empty() {
        // Without a title there is nothing to make one from (the title says what is missing);
        // a title in Chinese characters gives no letters to make one from.
        let why = if title.trim().is_empty() {
            None
        } else {
            Some(Invalid::new("magazine-invalid-slug-from-title"))
        };
        match (Slug::from_title(&title), why) {
            (Some(slug), _) => Some(slug),
            (None, Some(why)) => e.take("slug", Err(why)),
            (None, None) => None,
        }
    } else {
        e.take("slug", Slug::parse(slug_raw))
    };
    let status = e.take(
        "status",
        ArticleStatus::from_key(form.get("status")).ok_or(Invalid::new("invalid-choice")),
    );
    // Ticked boxes, or (from scripts and older forms) one comma-separated field.
    let mut tags: Vec<String> = Vec::new();
    for tag in form
        .all("tags")
        .iter()
        .flat_map(|v| v.split([',', ' ', '，']))
        .map(|t| t.trim().to_lowercase())
    {
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS
        || tags.iter().any(|t| {
            t.len() > 40
                || !t
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
    {
        e.0.push(("tags".into(), Invalid::new("magazine-invalid-tags")));
    }
    let publish_raw = form.get("publish_at").trim();
    let publish_at = if publish_raw.is_empty() {
        None
    } else {
        e.take(
            "publish_at",
            publish_raw
                .parse::<DateTime>()
                .ok()
                .and_then(|dt| TimeZoneName::berlin().tz().to_timestamp(dt).ok())
                .map(|ts| ts.as_microsecond())
                .ok_or(Invalid::new("magazine-invalid-publish-at")),
        )
    };
    let hero_raw = form.get("hero_image_id").trim();
    let hero_image_id = if hero_raw.is_empty() {
        None
    } else {
        match hero_raw.parse::<Uuid>() {
            Ok(id) if state.store.image(id).await.is_ok() => Some(id),
            _ => {
                e.0.push((
                    "hero_image_id".into(),
                    Invalid::new("magazine-invalid-image"),
                ));
                None
            }
        }
    };
    if hero_image_id.is_some() && hero_alt.is_empty() {
        e.0.push(("hero_alt".into(), Invalid::new("magazine-invalid-alt")));
    }
    let (Some(locale), Some(slug), Some(status)) = (locale, slug, status) else {
        return Err(e);
    };
    if !e.is_empty() {
        return Err(e);
    }
    // Publishing without a date publishes now.
    let publish_at = match (status, publish_at) {
        (ArticleStatus::Published, None) => Some(now_micros()),
        (_, p) => p,
    };
    Ok(ArticleFields {
        translation_group: None,
        locale,
        slug: slug.as_str().to_string(),
        title,
        lead,
        body_md,
        author_name,
        author_id: Some(author),
        tags,
        hero_image_id,
        hero_alt,
        hero_credit,
        status,
        publish_at,
    })
}

/// A unique constraint refused the article: which field to blame.
fn conflict_field(constraint: &str) -> (String, Invalid) {
    if constraint.contains("slug") {
        ("slug".into(), Invalid::new("magazine-invalid-slug-taken"))
    } else {
        (
            "locale".into(),
            Invalid::new("magazine-invalid-translation-exists"),
        )
    }
}

pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let author = require_editor(&state, &ctx).await?;
    save(&state, &ctx, None, author, &form).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    form: FormData,
) -> Result<Response, AppError> {
    let author = require_editor(&state, &ctx).await?;
    let article = state.store.article(id).await?;
    save(&state, &ctx, Some(&article), author, &form).await
}

async fn save(
    state: &AppState,
    ctx: &PageCtx,
    article: Option<&Article>,
    author: Uuid,
    form: &FormData,
) -> Result<Response, AppError> {
    let images = state.store.recent_images(IMAGE_CHOICES).await?;
    let invalid = |errors: &[(String, Invalid)]| {
        let mut values = form.values();
        values["tags"] = form.all("tags").join(", ").into();
        form_page(
            state,
            ctx,
            article,
            values,
            field_errors(ctx.locale, errors),
            StatusCode::UNPROCESSABLE_ENTITY,
            &images,
        )
    };
    let mut fields = match parse(state, form, author).await {
        Ok(f) => f,
        Err(e) => return Ok(invalid(&e.0)),
    };
    let translation_of = form.get("translation_of").trim();
    if article.is_none() && !translation_of.is_empty() {
        let source: Uuid = translation_of
            .parse()
            .map_err(|_| AppError::BadRequest("error-bad-form"))?;
        fields.translation_group = Some(state.store.article(source).await?.translation_group);
    }
    let now = now_micros();
    let mut tx = state.store.begin().await?;
    let result = match article {
        Some(a) => tx.update_article(a.id, &fields, now).await.map(|()| a.id),
        None => tx.create_article(&fields, now).await,
    };
    match result {
        Ok(_) => tx.commit().await?,
        Err(StoreError::Conflict(c)) => return Ok(invalid(&[conflict_field(&c)])),
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!(
        "/magazine/{}/{}?saved=1",
        fields.locale.key(),
        fields.slug
    ))
    .into_response())
}

/// `POST /magazine/editor/editors`: an administrator grants (`email`) or revokes (`remove`, a
/// user id) the editor role.
pub async fn set_editor(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let admin = ctx.require_user()?;
    if !admin.is_admin {
        return Err(AppError::Forbidden);
    }
    let (user, grant) = match form.get("remove").parse::<Uuid>() {
        Ok(id) => (id, false),
        Err(_) => {
            let email = kontor_domain::Email::parse(form.get("email"))
                .map_err(|e| AppError::field("email", e))?;
            let user =
                state.store.user_by_email(&email).await?.ok_or_else(|| {
                    AppError::field("email", Invalid::new("invalid-unknown-user"))
                })?;
            (user.id, true)
        }
    };
    let mut tx = state.store.begin().await?;
    tx.set_editor(user, grant, now_micros()).await?;
    tx.commit().await?;
    Ok(Redirect::to("/magazine/editor").into_response())
}
