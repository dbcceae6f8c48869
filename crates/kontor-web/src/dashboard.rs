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

/// One cell of an export: text as it is; a code (its key in the CSV, for programs, its label in
/// the reader's language in the workbook, for people); an instant (ISO 8601 with the event's
/// UTC offset in the CSV, a date-time cell in the event's zone in the workbook).
enum Cell {
    Text(String),
    Code(&'static str, String),
    Time(i64),
}

/// An export: its sheet's name, its columns (key and label) and rows.
struct Table {
    sheet: String,
    columns: Vec<(&'static str, String)>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    fn new(locale: kontor_domain::Locale, sheet: &str, columns: &[&'static str]) -> Table {
        let t = |id: &str| kontor_i18n::t(locale, id);
        Table {
            sheet: t(&format!("export-sheet-{sheet}")),
            columns: columns
                .iter()
                .map(|&c| (c, t(&format!("export-col-{}", c.replace('_', "-")))))
                .collect(),
            rows: Vec::new(),
        }
    }

    fn csv(&self, zone: &kontor_domain::TimeZoneName) -> String {
        let header = self
            .columns
            .iter()
            .map(|(key, _)| key.to_string())
            .collect();
        let rows = self.rows.iter().map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Cell::Text(s) => s.clone(),
                    Cell::Code(key, _) => key.to_string(),
                    Cell::Time(micros) => jiff::Timestamp::from_microsecond(*micros)
                        .map(|t| {
                            t.to_zoned_datetime(zone.tz())
                                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                                .to_string()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        });
        csv(std::iter::once(header).chain(rows).collect())
    }

    /// The workbook: labels in the reader's language, the header row bold and frozen, times as
    /// date-time cells in the event's zone; text cells are written as text, so nothing is
    /// evaluated.
    fn xlsx(
        &self,
        zone: &kontor_domain::TimeZoneName,
    ) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(&self.sheet)?;
        let bold = Format::new().set_bold();
        let when = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        for (c, (_, label)) in self.columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, label, &bold)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => sheet.write_string(r, c, s)?,
                    Cell::Code(_, label) => sheet.write_string(r, c, label)?,
                    Cell::Time(micros) => {
                        let Ok(t) = jiff::Timestamp::from_microsecond(*micros) else {
                            continue;
                        };
                        let d = t.to_zoned_datetime(zone.tz()).datetime();
                        let cell = ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )?
                        .and_hms(d.hour() as u16, d.minute() as u8, 0)?;
                        sheet.write_datetime_with_format(r, c, &cell, &when)?
                    }
                };
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofit();
        book.save_to_buffer()
    }
}

async fn export(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, what)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let event = crate::events::organiser_event(&state, &ctx, &slug).await?;
    let l = ctx.locale;
    let participants = state.store.participants(event.id, None).await?;
    // Names repeat (two "Zhang Qiang"): every person comes with e-mail and organisation.
    let people: HashMap<Uuid, [String; 3]> = participants
        .iter()
        .map(|p| {
            let org = p.organisation.clone().unwrap_or_default();
            (
                p.registration.user_id,
                [p.name.clone(), p.email.clone(), org],
            )
        })
        .collect();
    let person = |id: &Uuid| people.get(id).cloned().unwrap_or_default().map(Cell::Text);
    let (name_part, format) = what.rsplit_once('.').ok_or(AppError::NotFound)?;
    if !matches!(format, "csv" | "xlsx") {
        return Err(AppError::NotFound);
    }
    let table = match name_part {
        "participants" => {
            let mut table = Table::new(
                l,
                "participants",
                &[
                    "name",
                    "email",
                    "organisation",
                    "country",
                    "role",
                    "status",
                    "registered",
                ],
            );
            for p in &participants {
                let [name, email, org] = person(&p.registration.user_id);
                let (role, status) = (p.registration.role, p.registration.status);
                table.rows.push(vec![
                    name,
                    email,
                    org,
                    Cell::Text(p.country.clone().unwrap_or_default()),
                    Cell::Code(role.key(), label(l, "role", role)),
                    Cell::Code(status.key(), label(l, "registration-status", status)),
                    Cell::Time(p.registration.created_at),
                ]);
            }
            table
        }
        "requests" => {
            let mut table = Table::new(
                l,
                "requests",
                &[
                    "from",
                    "from_email",
                    "from_organisation",
                    "to",
                    "to_email",
                    "to_organisation",
                    "priority",
                    "status",
                    "message",
                    "created",
                ],
            );
            for r in state.store.event_requests(event.id).await? {
                let mut row: Vec<Cell> = person(&r.from_user).into_iter().collect();
                row.extend(person(&r.to_user));
                row.extend([
                    Cell::Code(
                        r.priority.key(),
                        crate::meetings::priority_label(l, &event, r.priority),
                    ),
                    Cell::Code(r.status.key(), label(l, "meeting-status", r.status)),
                    Cell::Text(r.message.clone().unwrap_or_default()),
                    Cell::Time(r.created_at),
                ]);
                table.rows.push(row);
            }
            table
        }
        "meetings" => {
            let mut table = Table::new(
                l,
                "meetings",
                &[
                    "start",
                    "end",
                    "table",
                    "mode",
                    "participant_a",
                    "email_a",
                    "organisation_a",
                    "participant_b",
                    "email_b",
                    "organisation_b",
                ],
            );
            for (m, r) in state.store.event_meetings(event.id).await? {
                let mode = match m.mode {
                    kontor_domain::MeetingMode::OnSite => "meetings-on-site",
                    kontor_domain::MeetingMode::Online => "meetings-online",
                };
                let mut row = vec![
                    Cell::Time(m.slot_start),
                    Cell::Time(m.slot_end),
                    Cell::Text(m.table_no.map(|t| t.to_string()).unwrap_or_default()),
                    Cell::Code(m.mode.key(), kontor_i18n::t(l, mode)),
                ];
                row.extend(person(&r.from_user));
                row.extend(person(&r.to_user));
                table.rows.push(row);
            }
            table
        }
        _ => return Err(AppError::NotFound),
    };
    let disposition = format!("attachment; filename=\"{slug}-{what}\"");
    if format == "xlsx" {
        let body = table
            .xlsx(&event.time_zone)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
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
        table.csv(&event.time_zone),
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
