//! Calendars: an ICS file per meeting and per agenda, and a private, revocable webcal feed per
//! participant and event. Meetings keep their UID across changes; SEQUENCE rises and a cancelled
//! meeting stays in the feed with STATUS:CANCELLED, so calendar clients update in place.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use kontor_domain::ics::{CalendarEvent, calendar};
use kontor_domain::{MeetingMode, now_micros};
use kontor_i18n::{Arg, catalog};
use kontor_store::accounts::User;
use kontor_store::events::Event;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{PageCtx, random_hex, sha256_hex};
use crate::error::AppError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{slug}/agenda.ics", get(agenda_file))
        .route(
            "/events/{slug}/meetings/{id}/meeting.ics",
            get(meeting_file),
        )
        .route("/events/{slug}/calendar-feed", post(new_feed))
        .route("/events/{slug}/calendar-feed/revoke", post(revoke_feed))
        .route("/calendar/{token}", get(feed))
}

fn host(state: &AppState) -> String {
    state
        .config
        .base_url
        .split("://")
        .nth(1)
        .unwrap_or("kontor")
        .split('/')
        .next()
        .unwrap_or("kontor")
        .to_string()
}

/// A person's meetings at an event as calendar events, cancelled ones included.
async fn agenda_events(
    state: &AppState,
    event: &Event,
    user: &User,
) -> Result<Vec<CalendarEvent>, AppError> {
    let c = catalog();
    let title = event.title.show(user.locale).to_string();
    let mut out = vec![];
    for (m, r) in state.store.meetings_of(event.id, user.id).await? {
        let partner = state.store.user(r.partner_of(user.id)).await?;
        let org = match partner.organisation_id {
            Some(o) => state.store.organisation(o).await?.name,
            None => String::new(),
        };
        let args = [
            ("name", Arg::from(partner.name.as_str())),
            ("event", Arg::from(title.as_str())),
        ];
        let summary = c.message(user.locale, "ics-summary", &args);
        let location = match (m.mode, m.table_no) {
            (MeetingMode::Online, _) => c.message(user.locale, "meetings-online", &[]),
            (MeetingMode::OnSite, Some(n)) => {
                let table = c.message(user.locale, "meetings-table", &[("n", Arg::from(n as i64))]);
                format!("{table}, {}", event.venue.clone().unwrap_or_default())
            }
            (MeetingMode::OnSite, None) => event.venue.clone().unwrap_or_default(),
        };
        let mut description = org;
        if let Some(msg) = &r.message {
            description = format!("{description}\n{msg}");
        }
        out.push(CalendarEvent {
            uid: format!("{}@{}", m.id, host(state)),
            start: Timestamp::from_microsecond(m.slot_start).unwrap_or_default(),
            end: Timestamp::from_microsecond(m.slot_end).unwrap_or_default(),
            summary,
            description: description.trim().to_string(),
            location,
            // An online meeting's calendar entry leads to its video room.
            url: Some(match m.mode {
                MeetingMode::Online => format!("{}/meetings/{}/room", state.config.base_url, m.id),
                MeetingMode::OnSite => {
                    format!("{}/events/{}/meetings", state.config.base_url, event.slug)
                }
            }),
            sequence: m.sequence,
            cancelled: m.cancelled,
            stamp: Timestamp::from_microsecond(m.updated_at).unwrap_or_default(),
        });
    }
    Ok(out)
}

fn ics_response(body: String, filename: Option<&str>) -> Response {
    let mut r = (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response();
    if let Some(name) = filename {
        r.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\"")
                .parse()
                .expect("ASCII file name"),
        );
    }
    r
}

async fn load(state: &AppState, slug: &str) -> Result<Event, AppError> {
    let e = state.store.event_by_slug(slug).await?;
    if e.published {
        Ok(e)
    } else {
        Err(AppError::NotFound)
    }
}

async fn agenda_file(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    let events = agenda_events(&state, &event, user).await?;
    Ok(ics_response(
        calendar(event.title.show(user.locale), &events),
        Some(&format!("{slug}.ics")),
    ))
}

async fn meeting_file(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    let uid = format!("{id}@{}", host(&state));
    let events: Vec<_> = agenda_events(&state, &event, user)
        .await?
        .into_iter()
        .filter(|e| e.uid == uid)
        .collect();
    if events.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(ics_response(
        calendar(event.title.show(user.locale), &events),
        Some("meeting.ics"),
    ))
}

/// Makes a new private feed (the old one stops working) and shows its address once.
async fn new_feed(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    let token = random_hex(24);
    let mut tx = state.store.begin().await?;
    tx.replace_calendar_feed(user.id, event.id, &sha256_hex(&token), now_micros())
        .await?;
    tx.commit().await?;
    let url = format!("{}/calendar/{token}.ics", state.config.base_url);
    crate::meetings::meetings_view(&state, &ctx, &event, Some(url), None).await
}

async fn revoke_feed(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    let mut tx = state.store.begin().await?;
    tx.revoke_calendar_feed(user.id, event.id).await?;
    tx.commit().await?;
    Ok(axum::response::Redirect::to(&format!("/events/{slug}/meetings")).into_response())
}

async fn feed(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let token = token.trim_end_matches(".ics");
    let (user, event) = state
        .store
        .calendar_feed(&sha256_hex(token))
        .await?
        .ok_or(AppError::NotFound)?;
    let (user, event) = (
        state.store.user(user).await?,
        state.store.event(event).await?,
    );
    let events = agenda_events(&state, &event, &user).await?;
    Ok(ics_response(
        calendar(event.title.show(user.locale), &events),
        None,
    ))
}
