//! Administrators: the subscriber list with counts and search, CSV export and import (with the
//! consent status and an `imported` consent event; all lines or none; erased addresses on the
//! suppression list are skipped and counted), and per person the GDPR Art. 15 export (JSON with
//! every consent event) and Art. 17 erasure.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kontor_domain::{
    Email, Invalid, Keyed, Locale, SubscriberStatus, Topic, UnsubscribeChannel, now_micros,
};
use kontor_i18n::{Arg, catalog};
use kontor_store::Uuid;
use kontor_store::subscribers::{ConsentEvent, NewSubscriber, SubscriberWithConsent, address_hash};
use serde::Deserialize;

use super::parse_status;
use crate::AppState;
use crate::auth::{PageCtx, random_hex};
use crate::error::AppError;
use crate::form::FormData;
use crate::page::{label, render};

pub const CSV_HEADER: [&str; 6] = [
    "email",
    "locale",
    "topics",
    "status",
    "consent_source",
    "consent_date",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/subscribers", get(list))
        .route("/admin/subscribers.csv", get(export_csv))
        .route("/admin/subscribers/import", post(import))
        .route("/admin/subscribers/{id}/export", get(export_person))
        .route("/admin/subscribers/{id}/unsubscribe", post(unsubscribe))
        .route("/admin/subscribers/{id}/erase", post(erase))
}

fn require_admin(ctx: &PageCtx) -> Result<&kontor_store::accounts::User, AppError> {
    let user = ctx.require_user()?;
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    Ok(user)
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    page: i64,
}

/// Rows per page of the admin list.
const PAGE: i64 = 500;

pub(super) fn date_time(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map_or_else(|_| String::new(), |t| t.to_string())
}

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    require_admin(&ctx)?;
    list_view(&state, &ctx, &q.q, &q.notice, q.page.max(0), None).await
}

async fn list_view(
    state: &AppState,
    ctx: &PageCtx,
    search: &str,
    notice: &str,
    page: i64,
    report: Option<serde_json::Value>,
) -> Result<Response, AppError> {
    let l = ctx.locale;
    let counts = state.store.subscriber_counts().await?;
    let mut found = state
        .store
        .subscribers_from(search, PAGE + 1, page.saturating_mul(PAGE))
        .await?;
    let more = found.len() as i64 > PAGE;
    found.truncate(PAGE as usize);
    let at_page = |n: i64| {
        serde_urlencoded::to_string([("q", search.to_string()), ("page", n.to_string())])
            .unwrap_or_default()
    };
    let rows: Vec<_> = found
        .into_iter()
        .map(|r| {
            let s = &r.subscriber;
            let topics: Vec<String> = s.topics.iter().map(|t| label(l, "topic", *t)).collect();
            serde_json::json!({
                "id": s.id, "email": s.email.as_str(), "locale": s.locale.endonym(),
                "topics": if topics.is_empty() { kontor_i18n::t(l, "subscribers-all-topics") } else { crate::page::list(l, &topics) },
                "status": label(l, "subscriber-status", s.status),
                "unsubscribed": s.status == SubscriberStatus::Unsubscribed,
                "since": crate::events::format_day(s.created_at, &kontor_domain::TimeZoneName::berlin(), l),
            })
        })
        .collect();
    let notice = match notice {
        "erased" => kontor_i18n::t(l, "subscribers-erased"),
        "unsubscribed" => kontor_i18n::t(l, "subscribers-unsubscribed"),
        _ => String::new(),
    };
    let failed = report
        .as_ref()
        .is_some_and(|r| r["errors"].as_array().is_some_and(|e| !e.is_empty()));
    let mut response = render(
        state,
        &ctx.reader(),
        "subscribers.html",
        serde_json::json!({
            "counts": counts, "rows": rows, "q": search, "notice": notice, "report": report,
            "prev": (page > 0).then(|| at_page(page - 1)),
            "next": more.then(|| at_page(page + 1)),
        }),
    );
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

fn csv_rows(all: Vec<SubscriberWithConsent>) -> Vec<Vec<String>> {
    let mut rows = vec![CSV_HEADER.iter().map(|s| s.to_string()).collect()];
    for r in all {
        let s = r.subscriber;
        let topics: Vec<&str> = s.topics.iter().map(|t| t.key()).collect();
        rows.push(vec![
            s.email.as_str().to_string(),
            s.locale.key().to_string(),
            topics.join(" "),
            s.status.key().to_string(),
            r.consent_source.unwrap_or_default(),
            r.consent_at.map(date_time).unwrap_or_default(),
        ]);
    }
    rows
}

async fn export_csv(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    require_admin(&ctx)?;
    let all = state.store.subscribers("", i64::MAX).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"subscribers.csv\"",
            ),
        ],
        crate::dashboard::csv(csv_rows(all)),
    )
        .into_response())
}

/// Splits CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF) into numbered records.
pub fn parse_csv(text: &str) -> Vec<(usize, Vec<String>)> {
    let text = text.trim_start_matches('\u{feff}');
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut line, mut start_line) = (false, 1usize, 1usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if field.is_empty() => quoted = true,
            ',' if !quoted => record.push(std::mem::take(&mut field)),
            '\r' if !quoted => {}
            '\n' if !quoted => {
                record.push(std::mem::take(&mut field));
                if record.iter().any(|f| !f.trim().is_empty()) {
                    records.push((start_line, std::mem::take(&mut record)));
                }
                record.clear();
                line += 1;
                start_line = line;
            }
            c => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
        }
    }
    record.push(field);
    if record.iter().any(|f| !f.trim().is_empty()) {
        records.push((start_line, record));
    }
    records
}

/// One valid line of an import file.
struct ImportRow {
    email: Email,
    locale: Locale,
    topics: Vec<Topic>,
    status: SubscriberStatus,
    source: Option<String>,
    consented_at: Option<i64>,
}

fn parse_consent_date(s: &str) -> Result<Option<i64>, Invalid> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || Invalid::new("invalid-consent-date");
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(Some(t.as_microsecond()));
    }
    let date: jiff::civil::Date = s.parse().map_err(|_| bad())?;
    let t = date
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map_err(|_| bad())?;
    Ok(Some(t.timestamp().as_microsecond()))
}

fn parse_row(fields: &[String]) -> Result<ImportRow, Invalid> {
    let [email, locale, topics, status, source, date] = fields else {
        return Err(Invalid::new("invalid-csv-columns"));
    };
    // A leading apostrophe is how our export neutralises formulas; take it off again.
    let cell = |s: &str| s.trim().trim_start_matches('\'').to_string();
    let row = ImportRow {
        email: Email::parse(&cell(email))?,
        locale: Locale::parse(&cell(locale))?,
        topics: Topic::parse_list([cell(topics).as_str()])?,
        status: parse_status(&cell(status))?,
        source: Some(cell(source)).filter(|s| !s.is_empty()),
        consented_at: parse_consent_date(&cell(date))?,
    };
    if row.source.as_ref().is_some_and(|s| s.chars().count() > 300) {
        return Err(Invalid::too_long(300));
    }
    // An import sends no confirmation mail, and the janitor deletes unconfirmed entries after
    // a week: a `pending` line would vanish silently.
    if row.status == SubscriberStatus::Pending {
        return Err(Invalid::new("invalid-import-pending"));
    }
    if row.source.is_none() || row.consented_at.is_none() {
        return Err(Invalid::new("invalid-consent-proof"));
    }
    Ok(row)
}

/// Checks every line first; writes all of them in one transaction only if none is wrong.
/// Addresses already on the list stay as they are (an import never re-subscribes anyone).
async fn import(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let admin = require_admin(&ctx)?.clone();
    let l = ctx.locale;
    let records = parse_csv(form.get("csv"));
    let mut errors: Vec<String> = Vec::new();
    let line_error = |line: usize, invalid: &Invalid| {
        catalog().message(
            l,
            "subscribers-import-line",
            &[
                ("line", Arg::from(line)),
                (
                    "message",
                    Arg::from(crate::error::message(l, invalid).as_str()),
                ),
            ],
        )
    };
    let mut rows: Vec<ImportRow> = Vec::new();
    let mut iter = records.into_iter();
    match iter.next() {
        Some((_, header))
            if header
                .iter()
                .map(|h| h.trim().to_lowercase())
                .eq(CSV_HEADER.iter().map(|h| h.to_string())) => {}
        first => errors.push(line_error(
            first.map_or(1, |(n, _)| n),
            &Invalid::new("invalid-csv-header"),
        )),
    }
    let mut seen = std::collections::HashSet::new();
    for (line, fields) in iter {
        match parse_row(&fields) {
            Ok(row) if !seen.insert(row.email.as_str().to_string()) => {
                errors.push(line_error(line, &Invalid::new("invalid-duplicate-line")));
            }
            Ok(row) => rows.push(row),
            Err(invalid) => errors.push(line_error(line, &invalid)),
        }
    }
    if !errors.is_empty() {
        // The lines come back in the field, to correct rather than paste again.
        let report = serde_json::json!({ "errors": errors, "csv": form.get("csv") });
        return list_view(&state, &ctx, "", "", 0, Some(report)).await;
    }
    // Read before writing (SQLite has one writer): which addresses are on the list already,
    // and which were erased at the person's request (never imported again).
    let known = state.store.subscriber_emails().await?;
    let suppressed = state.store.suppressed_hashes().await?;
    let (fresh, held_back): (Vec<ImportRow>, Vec<ImportRow>) = rows
        .into_iter()
        .filter(|r| !known.contains(r.email.as_str()))
        .partition(|r| !suppressed.contains(&address_hash(r.email.as_str())));

    let now = now_micros();
    let tokens: Vec<String> = fresh.iter().map(|_| random_hex(24)).collect();
    let new: Vec<NewSubscriber> = fresh
        .iter()
        .zip(&tokens)
        .map(|(row, token)| NewSubscriber {
            email: &row.email,
            locale: row.locale,
            topics: &row.topics,
            status: row.status,
            unsubscribe_token: token,
        })
        .collect();
    let mut tx = state.store.begin().await?;
    // A sign-up between reading the list and this insert leaves that address alone (no error).
    let ids = tx.import_subscribers(&new, now).await?;
    let imported = ids.iter().flatten().count();
    let skipped = seen.len() - imported - held_back.len();
    let mut events = Vec::with_capacity(ids.len());
    for (row, id) in fresh.iter().zip(ids) {
        let Some(id) = id else { continue };
        let event = ConsentEvent {
            source: row.source.clone(),
            claimed_at: row.consented_at,
            detail: Some(format!(
                "status={} imported by {}",
                row.status.key(),
                admin.email
            )),
            ..ConsentEvent::new("imported", now)
        };
        events.push((id, event));
        if row.status == SubscriberStatus::Unsubscribed {
            let left = ConsentEvent {
                channel: Some(UnsubscribeChannel::Import.key().into()),
                ..ConsentEvent::new("unsubscribed", now)
            };
            events.push((id, left));
        }
    }
    tx.add_consent_events(&events).await?;
    tx.commit().await?;
    let done = catalog().message(
        l,
        "subscribers-import-done",
        &[
            ("count", Arg::from(imported)),
            ("skipped", Arg::from(skipped)),
        ],
    );
    let suppressed = (!held_back.is_empty()).then(|| {
        catalog().message(
            l,
            "subscribers-import-suppressed",
            &[("count", Arg::from(held_back.len()))],
        )
    });
    list_view(
        &state,
        &ctx,
        "",
        "",
        0,
        Some(serde_json::json!({ "done": done, "suppressed": suppressed, "errors": [] })),
    )
    .await
}

/// GDPR Art. 15: everything stored about one subscriber, with every consent event and the
/// consent texts they refer to.
async fn export_person(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    require_admin(&ctx)?;
    let s = state.store.subscriber(id).await?;
    let events = state.store.consent_events(id).await?;
    let mut versions: Vec<i32> = events.iter().filter_map(|e| e.consent_version).collect();
    versions.sort_unstable();
    versions.dedup();
    let mut texts = Vec::new();
    for v in versions {
        texts.extend(state.store.consent_text(v).await?);
    }
    let body = serde_json::json!({
        "subscriber": {
            "email": s.email.as_str(), "locale": s.locale.key(), "topics": s.topics,
            "status": s.status.key(), "created_at": date_time(s.created_at),
            "confirmed_at": s.confirmed_at.map(date_time),
            "unsubscribed_at": s.unsubscribed_at.map(date_time),
        },
        "consent_events": events.iter().map(|e| {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            v["at"] = date_time(e.at).into();
            if let Some(c) = e.claimed_at { v["claimed_at"] = date_time(c).into(); }
            v
        }).collect::<Vec<_>>(),
        "consent_texts": texts,
        "exported_at": date_time(now_micros()),
    });
    let filename = format!("attachment; filename=\"subscriber-{id}.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        serde_json::to_string_pretty(&body).unwrap_or_default(),
    )
        .into_response())
}

async fn unsubscribe(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let admin = require_admin(&ctx)?;
    state.store.subscriber(id).await?;
    let event = ConsentEvent {
        detail: Some(format!("by {}", admin.email)),
        ..ConsentEvent::new("unsubscribed", now_micros())
    };
    let mut tx = state.store.begin().await?;
    tx.unsubscribe(id, UnsubscribeChannel::Admin, event).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/subscribers?notice=unsubscribed").into_response())
}

async fn erase(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    require_admin(&ctx)?;
    let mut tx = state.store.begin().await?;
    let erased = tx.erase_subscriber(id, now_micros()).await?;
    tx.commit().await?;
    if !erased {
        return Err(AppError::NotFound);
    }
    tracing::info!(subscriber = %id, "subscriber erased");
    Ok(Redirect::to("/admin/subscribers?notice=erased").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_keep_quotes_commas_and_line_numbers() {
        let r = parse_csv("\u{feff}a,b\r\n\"x, \"\"y\"\"\",2\n\n\"multi\nline\",3\nlast,4");
        assert_eq!(r[0], (1, vec!["a".to_string(), "b".to_string()]));
        assert_eq!(r[1], (2, vec!["x, \"y\"".to_string(), "2".to_string()]));
        assert_eq!(r[2], (4, vec!["multi\nline".to_string(), "3".to_string()]));
        assert_eq!(r[3].0, 6);
    }
}
