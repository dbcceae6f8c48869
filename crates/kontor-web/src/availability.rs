//! A participant's availability at an event: which slots they can attend, on site or online,
//! shown in their own time and the event's. No answer means every slot, in the event's usual
//! mode.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use jiff::Timestamp;
use kontor_domain::{EventFormat, Invalid, Keyed, MeetingMode, RegistrationStatus};

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::FormData;
use crate::page::render;

pub fn routes() -> Router<AppState> {
    Router::new().route("/events/{slug}/availability", get(page).post(save))
}

async fn event_for_participant(
    state: &AppState,
    ctx: &PageCtx,
    slug: &str,
) -> Result<kontor_store::events::Event, AppError> {
    let user = ctx.require_user()?;
    let event = state.store.event_by_slug(slug).await?;
    let approved = state
        .store
        .registration(event.id, user.id)
        .await?
        .is_some_and(|r| r.status == RegistrationStatus::Approved);
    if !approved {
        return Err(AppError::Rejected("error-not-approved"));
    }
    Ok(event)
}

fn default_mode(format: EventFormat) -> MeetingMode {
    if format == EventFormat::Online {
        MeetingMode::Online
    } else {
        MeetingMode::OnSite
    }
}

async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let event = event_for_participant(&state, &ctx, &slug).await?;
    let user = ctx.require_user()?;
    let saved = state.store.availability(event.id, user.id).await?;
    let mut rows = vec![];
    for session in state.store.event_sessions(event.id).await? {
        for slot in session.slots(&event.time_zone) {
            let start = slot.start.as_microsecond();
            let chosen = saved.iter().find(|(s, _)| *s == start).map(|(_, m)| *m);
            let own = Timestamp::from_microsecond(start)
                .unwrap_or_default()
                .to_zoned_datetime(user.time_zone.tz());
            let theirs = slot.start.to_zoned_datetime(event.time_zone.tz());
            rows.push(serde_json::json!({
                "start": start,
                "day": crate::events::format_date(own.date(), ctx.locale),
                "time": own.strftime("%H:%M").to_string(),
                "event_time": (event.time_zone.tz() != user.time_zone.tz()).then(|| format!("{} {}", theirs.strftime("%H:%M"), crate::events::zone_city(&event.time_zone, ctx.locale))),
                "checked": saved.is_empty() || chosen.is_some(),
                "mode": chosen.unwrap_or(default_mode(event.format)).key(),
            }));
        }
    }
    Ok(render(
        &state,
        &ctx.reader(),
        "availability.html",
        serde_json::json!({
            "event": crate::events::event_json(&event, ctx.locale),
            "slots": rows,
            "hybrid": event.format == EventFormat::Hybrid,
            "zone": crate::events::zone_city(&user.time_zone, ctx.locale),
        }),
    ))
}

async fn save(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let event = event_for_participant(&state, &ctx, &slug).await?;
    let user = ctx.require_user()?;
    apply(&state, &event, user, &form).await?;
    Ok(Redirect::to(&format!("/events/{slug}/meetings")).into_response())
}

/// Replaces a confirmed participant's availability with the slots in `form` (`slot` values and
/// optional `mode_<slot>`); shared by the page and the API.
pub async fn apply(
    state: &AppState,
    event: &kontor_store::events::Event,
    user: &kontor_store::accounts::User,
    form: &FormData,
) -> Result<(), AppError> {
    let valid: Vec<i64> = state
        .store
        .event_sessions(event.id)
        .await?
        .iter()
        .flat_map(|s| s.slots(&event.time_zone))
        .map(|s| s.start.as_microsecond())
        .collect();
    let mut chosen = vec![];
    for raw in form.all("slot") {
        let start: i64 = raw
            .parse()
            .map_err(|_| AppError::field("slot", Invalid::new("invalid-choice")))?;
        if !valid.contains(&start) {
            return Err(AppError::field("slot", Invalid::new("invalid-choice")));
        }
        let mode = match form.get(&format!("mode_{start}")) {
            "" => default_mode(event.format),
            m => MeetingMode::from_key(m)
                .ok_or(AppError::field("mode", Invalid::new("invalid-choice")))?,
        };
        if event.format == EventFormat::Online && mode == MeetingMode::OnSite {
            return Err(AppError::field("mode", Invalid::new("invalid-choice")));
        }
        chosen.push((start, mode));
    }
    if chosen.is_empty() {
        return Err(AppError::field("slot", Invalid::new("invalid-no-slot")));
    }
    let mut tx = state.store.begin().await?;
    tx.set_availability(event.id, user.id, &chosen).await?;
    tx.commit().await?;
    Ok(())
}
