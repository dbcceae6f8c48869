//! The organiser's dashboard of an event (registrations, requests, meetings, top sectors and
//! countries, as server-rendered bar charts) and CSV exports of participants, requests and
//! meetings.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kontor_domain::Keyed;
use uuid::Uuid;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::page::{label, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{slug}/dashboard", get(page))
        .route("/events/{slug}/export/{what}", get(export))
}

/// Bars for a chart: label, value and width in percent of the largest.
fn bars(items: Vec<(String, i64)>) -> Vec<serde_json::Value> {
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    items
        .into_iter()
        .map(|(l, n)| serde_json::json!({ "label": l, "n": n, "width": n * 100 / max }))
        .collect()
}

async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let event = crate::events::organiser_event(&state, &ctx, &slug).await?;
    let l = ctx.locale;
    let registrations: Vec<_> = state
        .store
        .registration_counts(event.id)
        .await?
        .into_iter()
        .map(|(s, n)| (label(l, "registration-status", s), n))
        .collect();
    let requests: Vec<_> = state
        .store
        .request_counts(event.id)
        .await?
        .into_iter()
        .map(|(s, n)| (label(l, "meeting-status", s), n))
        .collect();
    let (mut sectors, mut countries): (HashMap<String, i64>, HashMap<String, i64>) =
        Default::default();
    for p in state
        .store
        .participants(event.id, Some(kontor_domain::RegistrationStatus::Approved))
        .await?
    {
        if let Some(org) = state
            .store
            .user(p.registration.user_id)
            .await?
            .organisation_id
        {
            let org = state.store.organisation(org).await?;
            *countries.entry(org.country.code().to_string()).or_default() += 1;
            for s in org.sectors {
                *sectors.entry(label(l, "sector", s)).or_default() += 1;
            }
        }
    }
    let top = |m: HashMap<String, i64>| {
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(8);
        bars(v)
    };
    let meetings = state.store.count_scheduled_meetings(event.id).await?;
    Ok(render(
        &state,
        &ctx.reader(),
        "dashboard.html",
        serde_json::json!({
            "event": crate::events::event_json(&event, l),
            "charts": [
                { "title": kontor_i18n::t(l, "dashboard-registrations"), "bars": bars(registrations) },
                { "title": kontor_i18n::t(l, "dashboard-requests"), "bars": bars(requests) },
                { "title": kontor_i18n::t(l, "dashboard-sectors"), "bars": top(sectors) },
                { "title": kontor_i18n::t(l, "dashboard-countries"), "bars": top(countries), "countries": true },
            ],
            "meetings": meetings,
        }),
    ))
}

/// One CSV field: quoted when needed; a leading `= + - @` is neutralised so that spreadsheet
/// programs do not run it as a formula.
/// One CSV field: always quoted (a spreadsheet that splits on `;`, as German Excel does, then
/// still sees one cell), and a leading `= + - @`, tab or CR neutralised with an apostrophe so
/// that no spreadsheet evaluates it as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(crate) fn csv(rows: Vec<Vec<String>>) -> String {
    // A byte-order mark, so that spreadsheet programs read Chinese and umlauts as UTF-8.
    let mut out = String::from("\u{feff}");
    for row in rows {
        out.push_str(&row.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// The same rows as an Excel workbook; every cell is written as text, so nothing is evaluated.
fn xlsx(rows: &[Vec<String>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if r == 0 {
                sheet.write_string_with_format(r as u32, c as u16, cell, &bold)?;
            } else {
                sheet.write_string(r as u32, c as u16, cell)?;
            }
        }
    }
    book.save_to_buffer()
}

async fn export(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, what)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let event = crate::events::organiser_event(&state, &ctx, &slug).await?;
    let tz = Some(&event.time_zone);
    let l = ctx.locale;
    let participants = state.store.participants(event.id, None).await?;
    let names: HashMap<Uuid, (String, String)> = participants
        .iter()
        .map(|p| (p.registration.user_id, (p.name.clone(), p.email.clone())))
        .collect();
    let name = |id: &Uuid| names.get(id).map_or_else(String::new, |(n, _)| n.clone());
    let (name_part, format) = what.rsplit_once('.').ok_or(AppError::NotFound)?;
    if !matches!(format, "csv" | "xlsx") {
        return Err(AppError::NotFound);
    }
    let rows: Vec<Vec<String>> = match name_part {
        "participants" => {
            let mut rows = vec![
                [
                    "name",
                    "email",
                    "organisation",
                    "country",
                    "role",
                    "status",
                    "registered",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for p in &participants {
                rows.push(vec![
                    p.name.clone(),
                    p.email.clone(),
                    p.organisation.clone().unwrap_or_default(),
                    p.country.clone().unwrap_or_default(),
                    p.registration.role.key().into(),
                    p.registration.status.key().into(),
                    crate::events::format_instant(p.registration.created_at, tz, l),
                ]);
            }
            rows
        }
        "requests" => {
            let mut rows = vec![
                ["from", "to", "priority", "status", "message", "created"]
                    .map(String::from)
                    .to_vec(),
            ];
            for r in state.store.event_requests(event.id).await? {
                rows.push(vec![
                    name(&r.from_user),
                    name(&r.to_user),
                    r.priority.key().into(),
                    r.status.key().into(),
                    r.message.clone().unwrap_or_default(),
                    crate::events::format_instant(r.created_at, tz, l),
                ]);
            }
            rows
        }
        "meetings" => {
            let mut rows = vec![
                [
                    "start",
                    "end",
                    "table",
                    "mode",
                    "participant_a",
                    "participant_b",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for (m, r) in state.store.event_meetings(event.id).await? {
                rows.push(vec![
                    crate::events::format_instant(m.slot_start, tz, l),
                    crate::events::format_instant(m.slot_end, tz, l),
                    m.table_no.map(|t| t.to_string()).unwrap_or_default(),
                    m.mode.key().into(),
                    name(&r.from_user),
                    name(&r.to_user),
                ]);
            }
            rows
        }
        _ => return Err(AppError::NotFound),
    };
    let disposition = format!("attachment; filename=\"{slug}-{what}\"");
    if format == "xlsx" {
        let body = xlsx(&rows).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
        let kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string();
        return Ok((
            [
                (header::CONTENT_TYPE, kind),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            body,
        )
            .into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv(rows),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(field("plain"), "\"plain\"");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-1"), "\"'-1\"");
        // German Excel splits on `;`: a field with one must not start a formula in the next cell.
        assert_eq!(field("/x;=cmd|' /C calc'!A0"), "\"/x;=cmd|' /C calc'!A0\"");
        assert_eq!(field("\tx"), "\"'\tx\"");
        assert!(csv(vec![vec!["王芳".into()]]).starts_with('\u{feff}'));
    }
}
