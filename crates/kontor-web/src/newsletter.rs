//! Newsletter issues: the editor's pages under `/admin/newsletter` (compose one edition per
//! language, preview, test send, schedule, send now, progress) and the public archive under
//! `/newsletter/archive`. Delivery itself is `kontor_mail::bulk`'s job (SMTP), or without SMTP
//! `kontor_mail::mailbox`'s (the local mailbox).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kontor_domain::{Invalid, Keyed, Locale, TimeZoneName, Topic, now_micros};
use kontor_store::newsletter::{EditionInput, IssueFields, UNSUBSCRIBE_PLACEHOLDER};
use kontor_store::outbox::NewMail;
use uuid::Uuid;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{field_errors, render, render_invalid};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/newsletter", get(index).post(create))
        .route("/admin/newsletter/new", get(new_page))
        .route("/admin/newsletter/{id}", get(issue_page).post(save))
        .route("/admin/newsletter/{id}/preview/{lang}", get(preview))
        .route("/admin/newsletter/{id}/test", post(test_send))
        .route("/admin/newsletter/{id}/schedule", post(schedule))
        .route("/admin/newsletter/{id}/send", post(send_now))
        .route("/newsletter/archive", get(archive))
        .route("/newsletter/archive/{id}", get(archived_issue))
}

fn status_label(locale: Locale, status: &str) -> String {
    kontor_i18n::t(locale, &format!("newsletter-status-{status}"))
}

fn berlin() -> TimeZoneName {
    TimeZoneName::berlin()
}

async fn index(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    crate::magazine::require_editor(&state, &ctx).await?;
    let issues = state.store.newsletter_issues().await?;
    let subscribers = state.store.confirmed_subscriber_count().await?;
    let zone = berlin();
    let rows: Vec<_> = issues
        .iter()
        .map(|i| {
            let when = i.started_at.or(i.send_at);
            serde_json::json!({
                "id": i.id, "title": i.title, "status": status_label(ctx.locale, &i.status),
                "when": when.map(|w| crate::events::format_instant_with_zone(w, &zone, ctx.locale)),
            })
        })
        .collect();
    Ok(render(
        &state,
        &ctx.reader(),
        "newsletter_admin.html",
        serde_json::json!({ "issues": rows, "subscribers": subscribers }),
    ))
}

async fn new_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    crate::magazine::require_editor(&state, &ctx).await?;
    Ok(render(
        &state,
        &ctx.reader(),
        "newsletter_issue.html",
        serde_json::json!({ "values": { "include_events": "on" }, "errors": {}, "editable": true,
                            "languages": languages(), "topics": crate::page::options::<Topic>(ctx.locale, "topic") }),
    ))
}

/// The issue page's fields as its error summary names them ("Subject (中文)").
fn labels(locale: Locale) -> serde_json::Map<String, serde_json::Value> {
    let t = |id: &str| kontor_i18n::t(locale, id);
    let mut labels = serde_json::Map::new();
    for (name, id) in [
        ("title", "newsletter-field-title"),
        ("topic", "newsletter-field-topic"),
        ("test_email", "newsletter-test-address"),
        ("send_at", "newsletter-schedule-at"),
    ] {
        labels.insert(name.into(), t(id).into());
    }
    for l in Locale::ALL {
        let language = t(&format!("language-{}", l.key()));
        for (field, id) in [
            ("subject", "newsletter-field-subject"),
            ("intro", "newsletter-field-intro"),
        ] {
            let label = format!("{} ({language})", t(id));
            labels.insert(format!("{field}_{}", l.key()), label.into());
        }
    }
    labels
}

fn languages() -> Vec<serde_json::Value> {
    Locale::ALL
        .iter()
        .map(|l| serde_json::json!({ "key": l.key(), "name": l.endonym(), "tag": l.bcp47() }))
        .collect()
}

/// Title, topic and editions from the form; a language with neither subject nor intro is left
/// out.
fn parse_issue(form: &FormData) -> Result<IssueFields, Errors> {
    let mut errors = Errors::default();
    let topic = match form.get("topic").trim() {
        "" => None,
        key => match Topic::from_key(key) {
            Some(t) => Some(t),
            None => {
                errors
                    .0
                    .push(("topic".into(), Invalid::new("invalid-choice")));
                None
            }
        },
    };
    let title = form.get("title").trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        errors
            .0
            .push(("title".into(), Invalid::new("invalid-newsletter-title")));
    }
    let mut editions = Vec::new();
    for locale in Locale::ALL {
        let subject = form.get(&format!("subject_{}", locale.key())).trim();
        let intro = form.get(&format!("intro_{}", locale.key())).trim();
        if subject.is_empty() && intro.is_empty() {
            continue;
        }
        if subject.is_empty() || subject.chars().count() > 200 || subject.contains(['\r', '\n']) {
            errors.0.push((
                format!("subject_{}", locale.key()),
                Invalid::new("invalid-newsletter-subject"),
            ));
            continue;
        }
        editions.push(EditionInput {
            locale: *locale,
            subject: subject.to_string(),
            intro: intro.replace("\r\n", "\n"),
        });
    }
    if editions.is_empty() && errors.is_empty() {
        errors
            .0
            .push(("subject_de".into(), Invalid::new("newsletter-no-editions")));
    }
    if errors.is_empty() {
        Ok(IssueFields {
            title,
            include_events: form.checked("include_events"),
            topic,
            editions,
        })
    } else {
        Err(errors)
    }
}

/// The form again with its errors; `issue` when it edits an existing one.
fn form_error(
    state: &AppState,
    ctx: &PageCtx,
    form: &FormData,
    errors: Errors,
    issue: Option<Uuid>,
) -> Response {
    render_invalid(
        state,
        &ctx.reader(),
        "newsletter_issue.html",
        serde_json::json!({
            "issue": issue.map(|id| serde_json::json!({ "id": id })),
            "values": form.values(), "errors": field_errors(ctx.locale, &errors.0), "labels": labels(ctx.locale),
            "editable": true, "languages": languages(), "topics": crate::page::options::<Topic>(ctx.locale, "topic"),
        }),
    )
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    crate::magazine::require_editor(&state, &ctx).await?;
    let issue = match parse_issue(&form) {
        Ok(x) => x,
        Err(errors) => return Ok(form_error(&state, &ctx, &form, errors, None)),
    };
    let mut tx = state.store.begin().await?;
    let id = tx.create_issue(&issue, now_micros()).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/newsletter/{id}")).into_response())
}

async fn save(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    form: FormData,
) -> Result<Response, AppError> {
    crate::magazine::require_editor(&state, &ctx).await?;
    let issue = match parse_issue(&form) {
        Ok(x) => x,
        Err(errors) => return Ok(form_error(&state, &ctx, &form, errors, Some(id))),
    };
    let mut tx = state.store.begin().await?;
    tx.update_issue(id, &issue, now_micros()).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/newsletter/{id}?saved=1")).into_response())
}

#[derive(serde::Deserialize, Default)]
struct Notice {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    notice: Option<String>,
    #[serde(default)]
    count: Option<i64>,
    #[serde(default)]
    email: Option<String>,
}

async fn issue_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    axum::extract::Query(notice): axum::extract::Query<Notice>,
) -> Result<Response, AppError> {
    crate::magazine::require_editor(&state, &ctx).await?;
    show_issue(&state, &ctx, id, notice, None).await
}

/// The issue's page; with `refused`, one of its forms (sending a test, scheduling) comes back
/// refused: the field, what was typed and why, as a 422.
async fn show_issue(
    state: &AppState,
    ctx: &PageCtx,
    id: Uuid,
    notice: Notice,
    refused: Option<(&str, &str, Invalid)>,
) -> Result<Response, AppError> {
    let issue = state.store.newsletter_issue(id).await?;
    let editions = state.store.newsletter_editions(id).await?;
    let mut values = serde_json::Map::new();
    values.insert("title".into(), issue.title.clone().into());
    if issue.include_events {
        values.insert("include_events".into(), "on".into());
    }
    values.insert(
        "topic".into(),
        issue.topic.clone().unwrap_or_default().into(),
    );
    for e in &editions {
        values.insert(format!("subject_{}", e.locale), e.subject.clone().into());
        values.insert(format!("intro_{}", e.locale), e.intro.clone().into());
    }
    let zone = berlin();
    let send_at_local = issue.send_at.map(|t| {
        jiff::Timestamp::from_microsecond(t)
            .map(|ts| {
                ts.to_zoned_datetime(zone.tz())
                    .strftime("%Y-%m-%dT%H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    });
    values.insert("send_at".into(), send_at_local.unwrap_or_default().into());
    let editable = matches!(issue.status.as_str(), "draft" | "scheduled");
    // Who would get it if sent now, and who would not for want of an edition in their language.
    let (mut reached, mut missed, mut missing) = (0i64, 0i64, Vec::new());
    if editable {
        for (locale, n) in state.store.newsletter_audience(id).await? {
            if editions.iter().any(|e| e.locale == locale) {
                reached += n;
            } else {
                missed += n;
                missing.push(format!(
                    "{} ({n})",
                    kontor_i18n::t(ctx.locale, &format!("language-{locale}"))
                ));
            }
        }
    }
    let progress = if editable {
        None
    } else {
        let p = state.store.newsletter_progress(id).await?;
        let failures = state.store.failed_deliveries(id, 50).await?;
        Some(serde_json::json!({
            "sent": p.sent, "failed": p.failed, "remaining": p.queued, "skipped": p.skipped,
            "rate": p.rate().map(|r| format!("{r:.1}")),
            "failures": failures.iter().map(|(e, why)| serde_json::json!({"email": e, "error": why})).collect::<Vec<_>>(),
        }))
    };
    let message = match (notice.saved.as_deref(), notice.notice.as_deref()) {
        (Some(_), _) => Some(kontor_i18n::t(ctx.locale, "newsletter-saved")),
        (_, Some("started")) => Some(kontor_i18n::catalog().message(
            ctx.locale,
            "newsletter-started",
            &[("count", kontor_i18n::Arg::from(notice.count.unwrap_or(0)))],
        )),
        (_, Some("scheduled")) => Some(kontor_i18n::t(ctx.locale, "newsletter-scheduled")),
        (_, Some("unscheduled")) => Some(kontor_i18n::t(ctx.locale, "newsletter-unscheduled")),
        (_, Some("test")) => Some(kontor_i18n::catalog().message(
            ctx.locale,
            "newsletter-test-sent",
            &[(
                "email",
                kontor_i18n::Arg::from(notice.email.unwrap_or_default()),
            )],
        )),
        _ => None,
    };
    let mut errors = serde_json::json!({});
    if let Some((field, typed, why)) = refused {
        values.insert(field.into(), typed.into());
        errors = field_errors(ctx.locale, &[(field.into(), why)]);
    }
    let page = render(
        state,
        &ctx.reader(),
        "newsletter_issue.html",
        serde_json::json!({
            "issue": {
                "id": issue.id, "status": issue.status,
                "status_label": status_label(ctx.locale, &issue.status),
                "send_at": issue.send_at.map(|w| crate::events::format_instant_with_zone(w, &zone, ctx.locale)),
            },
            "values": values, "errors": errors, "labels": labels(ctx.locale), "editable": editable, "languages": languages(), "topics": crate::page::options::<Topic>(ctx.locale, "topic"),
            "editions": editions.iter().map(|e| e.locale.clone()).collect::<Vec<_>>(),
            "progress": progress, "notice": message,
            "audience": { "reached": reached, "missed": missed, "missing": crate::page::list(ctx.locale, &missing) },
            "smtp": state.config.newsletter_smtp,
        }),
    );
    Ok(match refused {
        Some(_) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
        None => page,
    })
}

/// The edition as it would be sent today (or as it was sent), as an HTML page.
async fn preview(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((id, lang)): Path<(Uuid, String)>,
) -> Result<Response, AppError> {
    crate::magazine::require_editor(&state, &ctx).await?;
    let locale = Locale::from_key(&lang).ok_or(AppError::NotFound)?;
    let base = &state.config.base_url;
    let rendered =
        kontor_mail::newsletter::render_issue(&state.store, base, id, berlin().today(), |l| {
            kontor_mail::newsletter::archive_url(base, id, l)
        })
        .await?;
    let edition = rendered
        .into_iter()
        .find(|r| r.locale == locale)
        .ok_or(AppError::NotFound)?;
    Ok(page_without_token(&state, &edition.html))
}

/// A newsletter as a web page: a copy belongs to no subscriber, so its unsubscribe link goes
/// to the newsletter page, which says that every received issue carries the personal link.
fn page_without_token(state: &AppState, html: &str) -> Response {
    let html = html.replace(
        UNSUBSCRIBE_PLACEHOLDER,
        &format!("{}/newsletter", state.config.base_url),
    );
    let mut r = Html(html).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
        ),
    );
    r
}

/// Queues every edition to one address through the ordinary outbox.
async fn test_send(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    form: FormData,
) -> Result<Response, AppError> {
    crate::magazine::require_editor(&state, &ctx).await?;
    let typed = form.get("test_email");
    let email = match kontor_domain::Email::parse(typed) {
        Ok(email) => email,
        Err(why) => {
            let refused = Some(("test_email", typed, why));
            return show_issue(&state, &ctx, id, Notice::default(), refused).await;
        }
    };
    // Not sent yet, the issue has no archive page: "read online" leads to the preview.
    let base = &state.config.base_url;
    let preview = |l: Locale| format!("{base}/admin/newsletter/{id}/preview/{}", l.key());
    let rendered =
        kontor_mail::newsletter::render_issue(&state.store, base, id, berlin().today(), preview)
            .await?;
    let dummy = format!("{}/newsletter/unsubscribe/test", state.config.base_url);
    let now = now_micros();
    let mut tx = state.store.begin().await?;
    for r in &rendered {
        let mail = NewMail {
            to: email.as_str().to_string(),
            locale: r.locale,
            kind: "newsletter-test",
            subject: format!("[Test] {}", r.subject),
            text: r.text.replace(UNSUBSCRIBE_PLACEHOLDER, &dummy),
            html: r.html.replace(UNSUBSCRIBE_PLACEHOLDER, &dummy),
        };
        tx.enqueue_mail(&mail, now).await?;
    }
    tx.commit().await?;
    state.outbox_wake.notify_one();
    let query = serde_urlencoded::to_string([("notice", "test"), ("email", email.as_str())])
        .map_err(anyhow::Error::from)?;
    Ok(Redirect::to(&format!("/admin/newsletter/{id}?{query}")).into_response())
}

/// Schedules (a local Europe/Berlin time in the future) or, with an empty time, unschedules.
async fn schedule(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    form: FormData,
) -> Result<Response, AppError> {
    crate::magazine::require_editor(&state, &ctx).await?;
    let raw = form.get("send_at").trim();
    let now = now_micros();
    let unschedule = raw.is_empty() || form.checked("unschedule");
    let send_at = if unschedule {
        None
    } else {
        let at = raw
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| berlin().tz().to_timestamp(dt).ok())
            .map(|ts| ts.as_microsecond())
            .filter(|t| *t > now);
        let Some(at) = at else {
            let refused = Some(("send_at", raw, Invalid::new("invalid-newsletter-time")));
            return show_issue(&state, &ctx, id, Notice::default(), refused).await;
        };
        Some(at)
    };
    let mut tx = state.store.begin().await?;
    tx.schedule_issue(id, send_at, now).await?;
    tx.commit().await?;
    let notice = if unschedule {
        "unscheduled"
    } else {
        "scheduled"
    };
    Ok(Redirect::to(&format!("/admin/newsletter/{id}?notice={notice}")).into_response())
}

async fn send_now(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    crate::magazine::require_editor(&state, &ctx).await?;
    let n = kontor_mail::newsletter::start_issue(
        &state.store,
        &state.config.base_url,
        id,
        now_micros(),
    )
    .await?;
    state.config.newsletter_wake.notify_waiters();
    Ok(Redirect::to(&format!("/admin/newsletter/{id}?notice=started&count={n}")).into_response())
}

async fn archive(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let editions = state.store.newsletter_archive().await?;
    let mut rows = Vec::new();
    // Editions come grouped by issue, newest first.
    for issue in editions.chunk_by(|a, b| a.issue_id == b.issue_id) {
        // The reader's language first, else the first edition there is.
        let e = issue
            .iter()
            .find(|e| e.locale == ctx.locale.key())
            .unwrap_or(&issue[0]);
        // The day it went out, in the reader's zone (Berlin for visitors): a time would need
        // its zone named, and the day is what an archive needs.
        let zone = ctx
            .user
            .as_ref()
            .map_or_else(berlin, |u| u.time_zone.clone());
        let date = e
            .started_at
            .map(|t| crate::events::format_day(t, &zone, ctx.locale));
        // An issue not written in the reader's language says which language it is in.
        let other = (e.locale != ctx.locale.key())
            .then(|| kontor_i18n::t(ctx.locale, &format!("language-{}", e.locale)));
        rows.push(serde_json::json!({
            "id": e.issue_id, "subject": e.subject, "lang": e.locale, "date": date,
            "in_language": other,
        }));
    }
    Ok(render(
        &state,
        &ctx.reader(),
        "newsletter_archive.html",
        serde_json::json!({ "issues": rows }),
    ))
}

#[derive(serde::Deserialize)]
struct Lang {
    lang: Option<String>,
}

async fn archived_issue(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    axum::extract::Query(q): axum::extract::Query<Lang>,
) -> Result<Response, AppError> {
    let issue = state.store.newsletter_issue(id).await?;
    if !matches!(issue.status.as_str(), "sending" | "sent") {
        return Err(AppError::NotFound);
    }
    let editions = state.store.newsletter_editions(id).await?;
    let want = q.lang.unwrap_or_else(|| ctx.locale.key().to_string());
    let edition = editions
        .iter()
        .find(|e| e.locale == want)
        .or(editions.first())
        .ok_or(AppError::NotFound)?;
    let html = edition.rendered_html.as_deref().ok_or(AppError::NotFound)?;
    // On this page the mail's "read online" would lead to itself: it leads to the archive, and
    // says so. In issues sent before that link read "read online" it was already named the
    // archive, so their link alone is redirected.
    let base = &state.config.base_url;
    let locale = Locale::from_key(&edition.locale).unwrap_or(Locale::En);
    let itself = format!(
        "href=\"{}\"",
        kontor_mail::newsletter::archive_url(base, id, locale)
    );
    let archive = format!("href=\"{base}/newsletter/archive\"");
    let (read_online, archive_title) = (
        kontor_i18n::t(locale, "newsletter-read-online"),
        kontor_i18n::t(locale, "newsletter-archive-title"),
    );
    let html = html
        .replace(
            &format!("<a {itself}>{read_online}</a>"),
            &format!("<a {archive}>{archive_title}</a>"),
        )
        .replace(&itself, &archive);
    Ok(page_without_token(&state, &html))
}
