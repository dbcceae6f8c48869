//! Events: the public list and page, registration, the organiser's event form and participant
//! list with approve/reject, and each participant's own registrations.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::Date;
use kontor_domain::{
    EventFormat, EventKind, Keyed, Locale, LocalizedText, MatchmakingSession, ParticipantRole,
    RegistrationStatus, SchedulingMode, Slug, Text, TimeZoneName, now_micros,
};
use kontor_store::accounts::User;
use kontor_store::events::{Event, EventLock, MatchmakingRules, NewEvent};
use uuid::Uuid;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{field_errors, label, options, render, render_invalid};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/events", get(events_page).post(create))
        .route("/events/new", get(new_page))
        .route("/events/{slug}", get(show))
        .route("/events/{slug}/register", post(register))
        .route("/events/{slug}/withdraw", post(withdraw))
        .route("/events/{slug}/edit", get(edit_page).post(save_edit))
        .route("/events/{slug}/participants", get(participants))
        .route("/events/{slug}/registrations/{id}/decision", post(decide))
        .route(
            "/events/{slug}/registrations/approve",
            post(approve_selected),
        )
        // The organisers are listed on the participants page (a reload after adding one).
        .route(
            "/events/{slug}/organisers",
            get(|Path(slug): Path<String>| async move {
                Redirect::to(&format!("/events/{slug}/participants#org-h"))
            })
            .post(add_organiser),
        )
        .route(
            "/events/{slug}/organisers/{user}/remove",
            post(remove_organiser),
        )
        .route("/me/registrations", get(my_registrations))
}

/// An instant as the reader sees it: date and time in `zone` (the reader's, else Berlin).
pub fn format_instant(micros: i64, zone: Option<&TimeZoneName>, locale: Locale) -> String {
    let zone = zone.cloned().unwrap_or_else(TimeZoneName::berlin);
    let Ok(ts) = Timestamp::from_microsecond(micros) else {
        return String::new();
    };
    let z = ts.to_zoned_datetime(zone.tz());
    match locale {
        Locale::De => z.strftime("%d.%m.%Y %H:%M").to_string(),
        Locale::Zh => z.strftime("%Y年%-m月%-d日 %H:%M").to_string(),
        Locale::En => z.strftime("%-d %B %Y %H:%M").to_string(),
    }
}

/// [`format_instant`] with the zone's city, for times the reader must not misread as their own
/// (deadlines, scheduled sends): "10.03.2030 18:00 Berlin".
pub fn format_instant_with_zone(micros: i64, zone: &TimeZoneName, locale: Locale) -> String {
    format!(
        "{} {}",
        format_instant(micros, Some(zone), locale),
        zone_city(zone, locale)
    )
}

/// A deadline that falls at midnight ends the day before: "17.03.2030 24:00 Berlin", not
/// "18.03.2030 00:00 Berlin", which readers take for the 18th.
pub fn format_deadline(micros: i64, zone: &TimeZoneName, locale: Locale) -> String {
    let Ok(ts) = Timestamp::from_microsecond(micros) else {
        return String::new();
    };
    let z = ts.to_zoned_datetime(zone.tz());
    match z.date().yesterday() {
        Ok(day) if z.time() == jiff::civil::Time::midnight() => format!(
            "{} 24:00 {}",
            format_date(day, locale),
            zone_city(zone, locale)
        ),
        _ => format_instant_with_zone(micros, zone, locale),
    }
}

/// A zone as people name it: its city ("New York", not "America/New_York"), in Chinese for the
/// cities of the corridor and its neighbours.
pub fn zone_city(zone: &TimeZoneName, locale: Locale) -> String {
    const ZH: [(&str, &str); 16] = [
        ("Europe/Berlin", "柏林"),
        ("Asia/Shanghai", "上海"),
        ("Asia/Chongqing", "重庆"),
        ("Asia/Hong_Kong", "香港"),
        ("Asia/Taipei", "台北"),
        ("Asia/Tokyo", "东京"),
        ("Asia/Seoul", "首尔"),
        ("Asia/Singapore", "新加坡"),
        ("Europe/London", "伦敦"),
        ("Europe/Paris", "巴黎"),
        ("Europe/Vienna", "维也纳"),
        ("Europe/Zurich", "苏黎世"),
        ("Europe/Amsterdam", "阿姆斯特丹"),
        ("Europe/Moscow", "莫斯科"),
        ("America/New_York", "纽约"),
        ("UTC", "UTC"),
    ];
    if locale == Locale::Zh
        && let Some((_, name)) = ZH.iter().find(|(z, _)| *z == zone.as_str())
    {
        return (*name).to_string();
    }
    zone.city().replace('_', " ")
}

/// The day an instant falls on in `zone`.
pub fn format_day(micros: i64, zone: &TimeZoneName, locale: Locale) -> String {
    let d = Timestamp::from_microsecond(micros)
        .unwrap_or_default()
        .to_zoned_datetime(zone.tz())
        .date();
    format_date(d, locale)
}

pub fn format_date(d: Date, locale: Locale) -> String {
    match locale {
        Locale::De => d.strftime("%d.%m.%Y").to_string(),
        Locale::Zh => d.strftime("%Y年%-m月%-d日").to_string(),
        Locale::En => d.strftime("%-d %B %Y").to_string(),
    }
}

/// Whether the event's last day is over in its own time zone.
fn has_ended(e: &Event) -> bool {
    e.ends_on < Timestamp::now().to_zoned_datetime(e.time_zone.tz()).date()
}

/// What templates show of an event, in the reader's language.
pub fn event_json(e: &Event, locale: Locale) -> serde_json::Value {
    let dates = if e.starts_on == e.ends_on {
        format_date(e.starts_on, locale)
    } else {
        format!(
            "{} – {}",
            format_date(e.starts_on, locale),
            format_date(e.ends_on, locale)
        )
    };
    serde_json::json!({
        "id": e.id,
        "slug": e.slug.as_str(),
        "title": e.title.show(locale),
        "description": e.description.show(locale),
        "paragraphs": crate::page::paragraphs(e.description.show(locale)),
        "kind": label(locale, "event-kind", e.kind),
        "kind_key": e.kind.key(),
        "format": label(locale, "event-format", e.format),
        "venue": e.venue,
        "time_zone": e.time_zone.as_str(),
        "zone_city": zone_city(&e.time_zone, locale),
        "dates": dates,
        "needs_approval": e.needs_approval,
        "registration_open": e.registration_open(now_micros()),
        // Not open yet: when it will be (a day in the event's zone, as the organiser set it).
        "registration_opens": (now_micros() < e.registration_opens_at)
            .then(|| format_instant_with_zone(e.registration_opens_at, &e.time_zone, locale)),
        "ended": has_ended(e),
        "registration_closes": format_deadline(e.registration_closes_at, &e.time_zone, locale),
        "roles": e.roles.iter().map(|r| serde_json::json!({ "key": r.key(), "label": label(locale, "role", *r) })).collect::<Vec<_>>(),
    })
}

async fn home(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let events = state.store.events_not_ended(Timestamp::now()).await?;
    let events: Vec<_> = events.iter().map(|e| event_json(e, ctx.locale)).collect();
    let articles = crate::magazine::home_teasers(&state, ctx.locale).await?;
    Ok(render(
        &state,
        &ctx.reader(),
        "home.html",
        serde_json::json!({ "events": events, "articles": articles }),
    ))
}

/// Every event: those to come, then the archive of those that ended.
async fn events_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let now = Timestamp::now();
    let json = |list: Vec<Event>| -> Vec<serde_json::Value> {
        list.iter().map(|e| event_json(e, ctx.locale)).collect()
    };
    let upcoming = json(state.store.events_not_ended(now).await?);
    let past = json(state.store.past_events(now, 100).await?);
    Ok(render(
        &state,
        &ctx.reader(),
        "events.html",
        serde_json::json!({ "events": upcoming, "past": past }),
    ))
}

async fn load(state: &AppState, slug: &str) -> Result<Event, AppError> {
    let event = state.store.event_by_slug(slug).await?;
    if !event.published {
        return Err(AppError::NotFound);
    }
    Ok(event)
}

pub async fn can_organise(state: &AppState, event: &Event, user: &User) -> Result<bool, AppError> {
    Ok(user.is_admin || state.store.is_organiser(event.id, user.id).await?)
}

/// The event at `slug` for one of its organisers or an administrator; `Forbidden` for anyone
/// else, `Unauthorized` without a session.
pub async fn organiser_event(
    state: &AppState,
    ctx: &PageCtx,
    slug: &str,
) -> Result<Event, AppError> {
    let user = ctx.require_user()?;
    let event = state.store.event_by_slug(slug).await?;
    if !can_organise(state, &event, user).await? {
        return Err(AppError::Forbidden);
    }
    Ok(event)
}

/// Refuses an event the form (and the API's body) cannot show in full: saving it would lose
/// what they cannot show ([`form_holds`]).
pub async fn require_editable(state: &AppState, event: &Event) -> Result<(), AppError> {
    if form_holds(event, &state.store.event_sessions(event.id).await?) {
        Ok(())
    } else {
        Err(AppError::Rejected("error-event-not-editable"))
    }
}

async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let event = load(&state, &slug).await?;
    let mut r = event_page(
        &state,
        &ctx,
        &event,
        serde_json::json!({}),
        serde_json::json!({ "registered": q.contains_key("registered") }),
    )
    .await?;
    // A reload of the address with `?registered` must not be cached as the plain page.
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

async fn event_page(
    state: &AppState,
    ctx: &PageCtx,
    event: &Event,
    errors: serde_json::Value,
    values: serde_json::Value,
) -> Result<Response, AppError> {
    let viewer_zone = ctx.user.as_ref().map(|u| u.time_zone.clone());
    let sessions: Vec<_> = state
        .store
        .event_sessions(event.id)
        .await?
        .iter()
        .map(|s| session_json(s, &event.time_zone, viewer_zone.as_ref(), ctx.locale))
        .collect();
    let (registration, organiser) = match &ctx.user {
        Some(u) => (
            state.store.registration(event.id, u.id).await?,
            can_organise(state, event, u).await?,
        ),
        None => (None, false),
    };
    let registration = registration.map(|r| {
        serde_json::json!({
            "status": r.status.key(),
            "status_label": label(ctx.locale, "registration-status", r.status),
            "role": label(ctx.locale, "role", r.role),
        })
    });
    let mut event_view = event_json(event, ctx.locale);
    // A job fair leads to its open postings (as the marketplace counts them).
    if event.kind == kontor_domain::EventKind::JobFair {
        let query = kontor_search::Query {
            kind: Some(kontor_search::DocKind::Opportunity),
            filters: kontor_search::Filters {
                types: vec![kontor_domain::OpportunityKind::JobPosting.key().to_string()],
                hide_closed: true,
                ..Default::default()
            },
            event: Some(event.id.to_string()),
            ..Default::default()
        };
        let found = state
            .search
            .count(&query)
            .map_err(|e| AppError::Internal(e.into()))?;
        event_view["job_postings"] = found.into();
    }
    // The deadline in the reader's own time too, when it differs from the event's.
    if let Some(zone) = viewer_zone
        .as_ref()
        .filter(|z| z.tz() != event.time_zone.tz())
    {
        event_view["registration_closes"] = format!(
            "{} · {}",
            format_deadline(event.registration_closes_at, zone, ctx.locale),
            format_deadline(event.registration_closes_at, &event.time_zone, ctx.locale)
        )
        .into();
        if !event_view["registration_opens"].is_null() {
            event_view["registration_opens"] = format!(
                "{} · {}",
                format_instant_with_zone(event.registration_opens_at, zone, ctx.locale),
                format_instant_with_zone(event.registration_opens_at, &event.time_zone, ctx.locale)
            )
            .into();
        }
    }
    Ok(render(
        state,
        &ctx.reader(),
        "event.html",
        serde_json::json!({
            "event": event_view,
            "sessions": sessions,
            "registration": registration,
            "organiser": organiser,
            "errors": errors,
            "values": values,
        }),
    ))
}

/// A session's slots in the event's zone and, where different, the reader's.
fn session_json(
    s: &MatchmakingSession,
    event_zone: &TimeZoneName,
    viewer: Option<&TimeZoneName>,
    locale: Locale,
) -> serde_json::Value {
    let slots = s.slots(event_zone);
    let (first, last) = (slots.first().map(|s| s.start), slots.last().map(|s| s.end));
    let viewer_range = match (viewer, first, last) {
        (Some(v), Some(a), Some(b)) if v != event_zone => {
            // The reader's own date wherever it is not the one before it: an evening in Berlin
            // is the next morning in Shanghai.
            let at = |ts: Timestamp, before: Date| {
                let z = ts.to_zoned_datetime(v.tz());
                let time = z.strftime("%H:%M").to_string();
                let day = z.date();
                let text = if day == before {
                    time
                } else {
                    format!("{} {time}", format_date(day, locale))
                };
                (text, day)
            };
            let (start, day) = at(a, s.day);
            let (end, _) = at(b, day);
            Some(format!("{start}–{end} {}", zone_city(v, locale)))
        }
        _ => None,
    };
    serde_json::json!({
        "day": format_date(s.day, locale),
        "start": s.start.strftime("%H:%M").to_string(),
        "end": s.end.strftime("%H:%M").to_string(),
        "slot_minutes": s.slot_minutes,
        "slots": slots.len(),
        "zone_city": zone_city(event_zone, locale),
        "viewer_range": viewer_range,
    })
}

async fn register(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    let mut errors = Errors::default();
    let role = errors.take(
        "role",
        ParticipantRole::from_key(form.get("role"))
            .filter(|r| event.roles.contains(r))
            .ok_or(kontor_domain::Invalid::new("invalid-role")),
    );
    let message = errors.take("message", Text::optional_block(form.get("message"), 1000));
    let (Some(role), Some(message)) = (role, message) else {
        let r = event_page(
            &state,
            &ctx,
            &event,
            field_errors(ctx.locale, &errors.0),
            form.values(),
        )
        .await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, r).into_response());
    };
    register_user(
        &state,
        &event,
        user,
        role,
        message.as_ref().map(Text::as_str),
    )
    .await?;
    Ok(Redirect::to(&format!("/events/{slug}?registered=1#reg-h")).into_response())
}

/// Registers a person for an event, with the confirmation mail, in one transaction.
pub async fn register_user(
    state: &AppState,
    event: &Event,
    user: &User,
    role: ParticipantRole,
    message: Option<&str>,
) -> Result<RegistrationStatus, AppError> {
    let now = now_micros();
    if !event.registration_open(now) {
        return Err(AppError::Rejected("error-registration-closed"));
    }
    if let Some(existing) = state.store.registration(event.id, user.id).await?
        && existing.status != RegistrationStatus::Cancelled
    {
        return Err(AppError::Rejected("error-already-registered"));
    }
    let status = if event.needs_approval {
        RegistrationStatus::Pending
    } else {
        RegistrationStatus::Approved
    };
    let mail = state.composer.registration_received(
        user.email.as_str(),
        user.locale,
        &user.name,
        event.title.show(user.locale),
        event.needs_approval,
    );
    let mut tx = state.store.begin().await?;
    tx.register(event.id, user.id, role, status, message, now)
        .await?;
    tx.enqueue_mail(&mail, now).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(status)
}

async fn participants(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let event = organiser_event(&state, &ctx, &slug).await?;
    // `?status=pending` (or another status): only those; anything else is the whole list.
    let status = q
        .get("status")
        .and_then(|s| RegistrationStatus::from_key(s));
    // After approving several at once: how many.
    let notice = q
        .get("approved")
        .and_then(|n| n.parse::<i64>().ok())
        .map(|n| {
            kontor_i18n::catalog().message(
                ctx.locale,
                "participants-approved-n",
                &[("n", n.into())],
            )
        });
    participants_page(&state, &ctx, &event, status, serde_json::json!({}), notice).await
}

/// The organiser's list of registrations (those waiting for a decision first; with `status`,
/// only those), the organisers, and `errors` of the form to add one.
async fn participants_page(
    state: &AppState,
    ctx: &PageCtx,
    event: &Event,
    status: Option<RegistrationStatus>,
    errors: serde_json::Value,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let mut list = state.store.participants(event.id, status).await?;
    // Organisers read their participants' CVs (`Store::may_see_cv`); administrators who do not
    // organise the event do not.
    let with_cv = if state.store.is_organiser(event.id, user.id).await? {
        state.store.cv_owners_at(event.id).await?
    } else {
        Default::default()
    };
    // Those waiting for a decision first (a stable sort keeps the store's order otherwise).
    list.sort_by_key(|p| p.registration.status != RegistrationStatus::Pending);
    let rows: Vec<_> = list
        .iter()
        .map(|p| {
            serde_json::json!({
                "id": p.registration.id,
                "name": p.name,
                "email": p.email,
                "organisation": p.organisation,
                "country": p.country,
                "role": label(ctx.locale, "role", p.registration.role),
                "status": p.registration.status.key(),
                "status_label": label(ctx.locale, "registration-status", p.registration.status),
                "message": p.registration.message,
                "user_id": p.registration.user_id,
                "cv": with_cv.contains(&p.registration.user_id),
                "at": format_instant(p.registration.created_at, Some(&user.time_zone), ctx.locale),
            })
        })
        .collect();
    let counts: Vec<_> = state
        .store
        .registration_counts(event.id)
        .await?
        .into_iter()
        .map(|(s, n)| {
            serde_json::json!({
                "key": s.key(), "label": label(ctx.locale, "registration-status", s), "n": n,
                "current": status == Some(s),
            })
        })
        .collect();
    let organisers: Vec<_> = state
        .store
        .organisers(event.id)
        .await?
        .into_iter()
        .map(|(id, name, email)| serde_json::json!({ "id": id, "name": name, "email": email }))
        .collect();
    Ok(render(
        state,
        &ctx.reader(),
        "participants.html",
        serde_json::json!({
            "event": event_json(event, ctx.locale), "participants": rows, "counts": counts,
            "organisers": organisers, "errors": errors, "filtered": status.map(|s| s.key()),
            "notice": notice,
            "any_waiting": list.iter().any(|p| p.registration.status == RegistrationStatus::Pending),
            "video": crate::rooms::provider_choice(state, event).await?,
        }),
    ))
}

/// An administrator makes another person an organiser of the event.
async fn add_organiser(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let event = load(&state, &slug).await?;
    let found = match kontor_domain::Email::parse(form.get("email")) {
        Ok(email) => state
            .store
            .user_by_email(&email)
            .await?
            .ok_or(kontor_domain::Invalid::new("invalid-unknown-user")),
        Err(e) => Err(e),
    };
    match found {
        Ok(organiser) => {
            let mut tx = state.store.begin().await?;
            tx.add_organiser(event.id, organiser.id).await?;
            tx.commit().await?;
            Ok(Redirect::to(&format!("/events/{slug}/participants")).into_response())
        }
        Err(invalid) => {
            let errors = field_errors(ctx.locale, &[("email".into(), invalid)]);
            let r = participants_page(&state, &ctx, &event, None, errors, None).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, r).into_response())
        }
    }
}

/// An administrator takes a person off the organisers of the event (never its last one).
async fn remove_organiser(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, organiser)): Path<(String, Uuid)>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let event = load(&state, &slug).await?;
    let mut tx = state.store.begin().await?;
    match tx.remove_organiser(event.id, organiser).await {
        Ok(()) => {}
        Err(kontor_store::StoreError::Conflict(_)) => {
            return Err(AppError::Rejected("error-last-organiser"));
        }
        // Removed a moment ago (a second click): nothing to do.
        Err(kontor_store::StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/events/{slug}/participants#org-h")).into_response())
}

async fn decide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    let status = match form.get("decision") {
        "approve" => RegistrationStatus::Approved,
        "reject" => RegistrationStatus::Rejected,
        _ => {
            return Err(AppError::field(
                "decision",
                kontor_domain::Invalid::new("invalid-decision"),
            ));
        }
    };
    decide_registration(&state, &event, user, id, status).await?;
    // Back to the list as it was filtered. There, on to the next registration waiting for a
    // decision (the list puts them first), not to where the decided one moved in a long list;
    // back to the decided one when none waits or the list shows only another status.
    let filter = q
        .get("status")
        .and_then(|s| RegistrationStatus::from_key(s));
    let next = match filter {
        None | Some(RegistrationStatus::Pending) => state
            .store
            .participants(event.id, Some(RegistrationStatus::Pending))
            .await?
            .first()
            .map_or(id, |p| p.registration.id),
        Some(_) => id,
    };
    let query = filter.map_or(String::new(), |s| format!("?status={}", s.key()));
    Ok(Redirect::to(&format!("/events/{slug}/participants{query}#r-{next}")).into_response())
}

/// Approves every registration ticked on the list (`ids`), each as its own decision with its
/// own mail; those decided meanwhile are left as they are.
async fn approve_selected(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = organiser_event(&state, &ctx, &slug).await?;
    let ids: Vec<Uuid> = form
        .all("ids")
        .iter()
        .map(|id| id.parse())
        .collect::<Result<_, _>>()
        .map_err(|_| AppError::field("ids", kontor_domain::Invalid::new("invalid-choice")))?;
    let waiting: std::collections::HashSet<Uuid> = state
        .store
        .participants(event.id, Some(RegistrationStatus::Pending))
        .await?
        .into_iter()
        .map(|p| p.registration.id)
        .collect();
    let mut approved = 0;
    for id in ids.iter().filter(|id| waiting.contains(id)) {
        decide_registration(&state, &event, user, *id, RegistrationStatus::Approved).await?;
        approved += 1;
    }
    let back = format!("/events/{slug}/participants?status=pending&approved={approved}");
    Ok(Redirect::to(&back).into_response())
}

/// An organiser's decision on a registration, with the mail to the participant, in one
/// transaction.
pub async fn decide_registration(
    state: &AppState,
    event: &Event,
    organiser: &User,
    registration: Uuid,
    status: RegistrationStatus,
) -> Result<(), AppError> {
    if !can_organise(state, event, organiser).await? {
        return Err(AppError::Forbidden);
    }
    // Read before writing: on SQLite the transaction holds the only writer connection.
    let participant = state
        .store
        .user(
            state
                .store
                .registration_by_id(event.id, registration)
                .await?
                .user_id,
        )
        .await?;
    let mail = state.composer.registration_decided(
        participant.email.as_str(),
        participant.locale,
        &participant.name,
        event.title.show(participant.locale),
        status == RegistrationStatus::Approved,
    );
    let ending = match status {
        RegistrationStatus::Rejected => Some(Ending::prepare(state, event, &participant).await?),
        _ => None,
    };
    let now = now_micros();
    let mut tx = state.store.begin().await?;
    tx.lock_event(event.id, EventLock::Share).await?;
    match tx
        .decide_registration(event.id, registration, status, organiser.id, now)
        .await
    {
        Ok(_) => {}
        // Decided this way already (a second click, a retried API call): no second mail.
        Err(kontor_store::StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    tx.enqueue_mail(&mail, now).await?;
    if let Some(ending) = ending {
        ending.apply(&mut tx, event, &participant, now).await?;
    }
    tx.commit().await?;
    state.outbox_wake.notify_one();
    // The participant's events changed: the marketplace filters by them.
    crate::marketplace::index_person(state, participant.id).await;
    Ok(())
}

/// A participation that ends (rejected after approval, withdrawn) takes its open requests and
/// meetings with it; each partner is told that the participant no longer takes part (not why:
/// an organiser's rejection is not the partner's business).
/// The mails are written before the transaction (on SQLite it holds the only connection).
struct Ending {
    mails: std::collections::HashMap<Uuid, kontor_store::outbox::NewMail>,
}

impl Ending {
    async fn prepare(
        state: &AppState,
        event: &Event,
        participant: &User,
    ) -> Result<Ending, AppError> {
        let mut mails = std::collections::HashMap::new();
        for request in state
            .store
            .meeting_requests_of(event.id, participant.id)
            .await?
        {
            if !request.status.is_open() {
                continue;
            }
            let partner = state.store.user(request.partner_of(participant.id)).await?;
            let mail = state.composer.meeting_request(
                &partner,
                &participant.name,
                &event.title,
                event.slug.as_str(),
                "participant-left",
            );
            mails.insert(request.id, mail);
        }
        Ok(Ending { mails })
    }

    async fn apply(
        mut self,
        tx: &mut kontor_store::Tx,
        event: &Event,
        participant: &User,
        now: i64,
    ) -> Result<(), AppError> {
        let cancelled = tx
            .cancel_requests_of_participant(event.id, participant.id, now)
            .await?;
        for request in cancelled {
            // A request sent between the reading and this transaction is cancelled all the
            // same; its partner sees it on the meetings page.
            if let Some(mail) = self.mails.remove(&request.id) {
                tx.enqueue_mail(&mail, now).await?;
            }
        }
        Ok(())
    }
}

async fn withdraw(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    withdraw_registration(&state, &event, user).await?;
    Ok(Redirect::to(&format!("/events/{slug}#reg-h")).into_response())
}

/// The participant's own withdrawal, with what it takes with it, in one transaction. Repeating
/// it (a second click, a retried API call) changes nothing.
pub async fn withdraw_registration(
    state: &AppState,
    event: &Event,
    user: &User,
) -> Result<(), AppError> {
    // After the event, a withdrawal would cancel meetings that took place.
    if has_ended(event) {
        return Err(AppError::Rejected("error-event-ended"));
    }
    let ending = Ending::prepare(state, event, user).await?;
    let now = now_micros();
    let mut tx = state.store.begin().await?;
    tx.lock_event(event.id, EventLock::Share).await?;
    if !tx.withdraw_registration(event.id, user.id, now).await? {
        return Ok(());
    }
    ending.apply(&mut tx, event, user, now).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    crate::marketplace::index_person(state, user.id).await;
    Ok(())
}

async fn my_registrations(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let list = state.store.registrations_of_user(user.id).await?;
    let mut waiting: std::collections::HashMap<Uuid, usize> = Default::default();
    for r in state.store.pending_requests_to(user.id).await? {
        *waiting.entry(r.event_id).or_default() += 1;
    }
    let rows: Vec<_> = list
        .iter()
        .map(|(r, e)| {
            serde_json::json!({
                "event": event_json(e, ctx.locale),
                "meetings": r.status == kontor_domain::RegistrationStatus::Approved,
                "waiting": waiting.get(&e.id).copied().unwrap_or(0),
                "status": r.status.key(),
                "status_label": label(ctx.locale, "registration-status", r.status),
                "role": label(ctx.locale, "role", r.role),
                "at": format_instant(r.created_at, Some(&user.time_zone), ctx.locale),
            })
        })
        .collect();
    Ok(render(
        &state,
        &ctx.reader(),
        "registrations.html",
        serde_json::json!({ "registrations": rows }),
    ))
}

// ----- the organiser's event form -----

fn form_ctx(
    locale: Locale,
    values: serde_json::Value,
    errors: serde_json::Value,
) -> serde_json::Value {
    let labels = event_form_labels(locale);
    // The summary lists the errors in the order of the form, each with its field's label.
    let mut errors = match errors {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let mut ordered = serde_json::Map::new();
    for name in labels.keys() {
        if let Some(message) = errors.remove(name) {
            ordered.insert(name.clone(), message);
        }
    }
    ordered.extend(errors);
    serde_json::json!({
        "values": values,
        "errors": ordered,
        "labels": labels,
        "kinds": options::<EventKind>(locale, "event-kind"),
        "formats": options::<EventFormat>(locale, "event-format"),
        "roles": options::<ParticipantRole>(locale, "role"),
        "schedulings": options::<SchedulingMode>(locale, "scheduling"),
        "zones": crate::auth::common_zones(),
        "session_rows": [0, 1, 2, 3],
    })
}

/// What the organiser typed, to show again with the errors; the roles are a list.
fn event_form_values(form: &FormData) -> serde_json::Value {
    let mut values = form.values();
    values["roles"] = serde_json::json!(form.all("roles"));
    values
}

async fn new_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let values = serde_json::json!({
        "time_zone": "Europe/Berlin", "kind": "trade-fair", "format": "hybrid", "session_slot_0": "30",
    });
    Ok(render(
        &state,
        &ctx.reader(),
        "event_new.html",
        form_ctx(ctx.locale, values, serde_json::json!({})),
    ))
}

/// The event as the form shows it, for editing.
fn event_form_values_of(e: &Event, sessions: &[MatchmakingSession]) -> serde_json::Value {
    let mut v = serde_json::json!({
        "kind": e.kind.key(), "format": e.format.key(), "slug": e.slug.as_str(),
        "venue": e.venue, "time_zone": e.time_zone.as_str(),
        "starts_on": e.starts_on.to_string(), "ends_on": e.ends_on.to_string(),
        "needs_approval": e.needs_approval,
        "roles": e.roles.iter().map(|r| r.key()).collect::<Vec<_>>(),
        "scheduling": e.rules.scheduling.key(),
        "max_requests": e.rules.max_requests.map(|n| n.to_string()),
        "max_meetings": e.rules.max_meetings.map(|n| n.to_string()),
        "different_roles_only": e.rules.allowed_pairs.is_some(),
    });
    let (opens, closes) = registration_days(e);
    v["registration_opens"] = opens.to_string().into();
    v["registration_closes"] = closes.to_string().into();
    for l in Locale::ALL {
        v[format!("title_{}", l.key())] = e.title.exact(*l).unwrap_or_default().into();
        v[format!("description_{}", l.key())] = e.description.exact(*l).unwrap_or_default().into();
    }
    for (i, s) in sessions.iter().enumerate() {
        let hm = |t: jiff::civil::Time| t.strftime("%H:%M").to_string();
        v[format!("session_day_{i}")] = s.day.to_string().into();
        v[format!("session_start_{i}")] = hm(s.start).into();
        v[format!("session_end_{i}")] = hm(s.end).into();
        v[format!("session_slot_{i}")] = s.slot_minutes.to_string().into();
        if let Some((a, b)) = s.breaks.first() {
            v[format!("session_break_start_{i}")] = hm(*a).into();
            v[format!("session_break_end_{i}")] = hm(*b).into();
        }
    }
    v
}

/// The form (and the API) give registration days; a day left as shown keeps its stored time
/// (the demo closes registration when the event starts, not at midnight).
fn keep_registration_times(event: &Event, mut changed: NewEvent) -> NewEvent {
    if changed.time_zone != event.time_zone {
        return changed;
    }
    let (opens, closes) = registration_days(event);
    let tz = &event.time_zone;
    if changed.registration_opens_at == midnight(tz, opens) {
        changed.registration_opens_at = event.registration_opens_at;
    }
    if changed.registration_closes_at == midnight(tz, closes.tomorrow().unwrap_or(closes)) {
        changed.registration_closes_at = event.registration_closes_at;
    }
    changed
}

/// The start of `day` in `tz`, in microseconds.
fn midnight(tz: &TimeZoneName, day: Date) -> i64 {
    tz.tz()
        .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
        .map(|t| t.as_microsecond())
        .unwrap_or(0)
}

/// The first and the last day of registration, as the form (and the API) take them.
pub fn registration_days(e: &Event) -> (Date, Date) {
    let at = |micros: i64| {
        Timestamp::from_microsecond(micros)
            .unwrap_or_default()
            .to_zoned_datetime(e.time_zone.tz())
    };
    // The closing day ends at the following midnight; a deadline at another time (the demo's,
    // or one set through the store) shows as its own day.
    let closes = at(e.registration_closes_at);
    let last_day = match closes.date().yesterday() {
        Ok(d) if closes.time() == jiff::civil::Time::midnight() => d,
        _ => closes.date(),
    };
    (at(e.registration_opens_at).date(), last_day)
}

/// Whether the form can show everything of the event; saving it would otherwise lose what it
/// cannot show (a fifth session, a second break, one-way pairs of roles).
pub fn form_holds(e: &Event, sessions: &[MatchmakingSession]) -> bool {
    let pairs_ok = e.rules.allowed_pairs.as_ref().is_none_or(|pairs| {
        let mut all: Vec<_> = e
            .roles
            .iter()
            .flat_map(|a| {
                e.roles
                    .iter()
                    .filter(move |b| *b != a)
                    .map(move |b| (*a, *b))
            })
            .collect();
        let mut given = pairs.clone();
        all.sort();
        given.sort();
        all == given
    });
    sessions.len() <= 4 && sessions.iter().all(|s| s.breaks.len() <= 1) && pairs_ok
}

async fn edit_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let event = organiser_event(&state, &ctx, &slug).await?;
    require_editable(&state, &event).await?;
    let sessions = state.store.event_sessions(event.id).await?;
    let mut c = form_ctx(
        ctx.locale,
        event_form_values_of(&event, &sessions),
        serde_json::json!({}),
    );
    c["editing"] = event.slug.as_str().into();
    Ok(render(&state, &ctx.reader(), "event_new.html", c))
}

/// Saves the organiser's changes. The address stays; sessions may change only as long as every
/// booked meeting keeps its slot (move or cancel those first).
async fn save_edit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let event = organiser_event(&state, &ctx, &slug).await?;
    require_editable(&state, &event).await?;
    let mut pairs: Vec<(String, String)> = form
        .0
        .iter()
        .filter(|(k, _)| k != "slug")
        .cloned()
        .collect();
    pairs.push(("slug".into(), event.slug.as_str().into()));
    let form = FormData(pairs);
    let invalid = |errors: serde_json::Value| {
        let mut c = form_ctx(ctx.locale, event_form_values(&form), errors);
        c["editing"] = event.slug.as_str().into();
        render_invalid(&state, &ctx.reader(), "event_new.html", c)
    };
    let changed = match parse_event_form(&form) {
        Ok(n) => n,
        Err(errors) => return Ok(invalid(field_errors(ctx.locale, &errors.0))),
    };
    let in_use = save_changes(&state, &event, &changed).await?;
    if let Some(&first) = in_use.first() {
        // Next to the row of the form on the day of the first of them (the rows as submitted),
        // with how many and when.
        let day = jiff::Timestamp::from_microsecond(first)
            .map(|t| t.to_zoned_datetime(event.time_zone.tz()).date().to_string())
            .unwrap_or_default();
        let row = (0..4)
            .find(|i| form.get(&format!("session_day_{i}")).trim() == day)
            .unwrap_or(0);
        let when = format_instant_with_zone(first, &event.time_zone, ctx.locale);
        let message = kontor_i18n::catalog().message(
            ctx.locale,
            "invalid-sessions-in-use-at",
            &[("n", in_use.len().into()), ("when", when.into())],
        );
        return Ok(invalid(
            serde_json::json!({ format!("session_day_{row}"): message }),
        ));
    }
    Ok(Redirect::to(&format!("/events/{slug}")).into_response())
}

/// Saves an organiser's changes to `event`, unless a booked meeting would lose its slot: then
/// nothing is saved and the answer is the starts of those meetings, earliest first (empty when
/// saved). The page and the API both save through here.
pub async fn save_changes(
    state: &AppState,
    event: &Event,
    changed: &NewEvent,
) -> Result<Vec<i64>, AppError> {
    let changed = &keep_registration_times(event, changed.clone());
    let slots: std::collections::HashSet<(i64, i64)> = changed
        .sessions
        .iter()
        .flat_map(|s| s.slots(&changed.time_zone))
        .map(|s| (s.start.as_microsecond(), s.end.as_microsecond()))
        .collect();
    // Checked after the write, under its lock: a meeting booked a moment ago counts too.
    let mut tx = state.store.begin().await?;
    tx.update_event(event.id, changed).await?;
    let booked = tx.lock_scheduled_meetings(event.id).await?;
    let mut in_use: Vec<i64> = booked
        .iter()
        .filter(|&&(_, _, start, end)| !slots.contains(&(start, end)))
        .map(|&(_, _, start, _)| start)
        .collect();
    if !in_use.is_empty() {
        in_use.sort_unstable();
        return Ok(in_use);
    }
    tx.commit().await?;
    state.jobs.forget(event.id);
    Ok(in_use)
}

/// The event form's fields in their order on the page, with the labels the error summary names
/// them by (a session's fields with its number: "Session 2 · End").
fn event_form_labels(locale: Locale) -> serde_json::Map<String, serde_json::Value> {
    let t = |id: &str| kontor_i18n::t(locale, id);
    let lang =
        |id: &str, l: &str| kontor_i18n::catalog().message(locale, id, &[("lang", l.into())]);
    let mut labels = serde_json::Map::new();
    let mut add = |name: String, label: String| {
        labels.insert(name, label.into());
    };
    add("kind".into(), t("event-kind"));
    add("format".into(), t("event-format"));
    for (prefix, id) in [
        ("title", "event-title-in"),
        ("description", "event-description-in"),
    ] {
        for (l, name) in [("de", "Deutsch"), ("en", "English"), ("zh", "中文")] {
            add(format!("{prefix}_{l}"), lang(id, name));
        }
    }
    for (name, id) in [
        ("slug", "event-slug"),
        ("venue", "event-venue"),
        ("time_zone", "event-time-zone-label"),
        ("starts_on", "event-starts-on"),
        ("ends_on", "event-ends-on"),
        ("registration_opens", "event-registration-opens"),
        ("registration_closes", "event-registration-closes"),
        ("roles", "event-roles"),
        ("scheduling", "event-scheduling"),
        ("max_requests", "event-max-requests"),
        ("max_meetings", "event-max-meetings"),
    ] {
        add(name.into(), t(id));
    }
    for i in 0..4usize {
        let n = (i + 1).into();
        let session = kontor_i18n::catalog().message(locale, "event-session-n", &[("n", n)]);
        for (field, id) in [
            ("day", "event-session-day"),
            ("start", "event-session-start"),
            ("end", "event-session-end"),
            ("slot", "event-session-slot-minutes"),
            ("break_start", "event-session-break-start"),
            ("break_end", "event-session-break-end"),
        ] {
            add(
                format!("session_{field}_{i}"),
                format!("{session} · {}", t(id)),
            );
        }
    }
    labels
}

/// The field of session row `i` that an error with `key` is about, so that the message stands
/// next to what to correct.
fn session_field(form: &FormData, i: usize, key: &str) -> &'static str {
    let unreadable = |field: &str| {
        let v = form.get(&format!("session_{field}_{i}")).trim();
        !v.is_empty() && v.parse::<jiff::civil::Time>().is_err()
    };
    match key {
        "invalid-time" if form.get(&format!("session_start_{i}")).trim().is_empty() => "start",
        "invalid-time" if form.get(&format!("session_end_{i}")).trim().is_empty() => "end",
        "invalid-time" => ["start", "end", "break_start", "break_end"]
            .into_iter()
            .find(|f| unreadable(f))
            .unwrap_or("start"),
        "invalid-slot-length" | "invalid-session-no-slot" => "slot",
        "invalid-session-order" => "end",
        "invalid-break" => "break_start",
        "invalid-session-overlap" => "start",
        _ => "day",
    }
}

/// Parses the event form into a [`NewEvent`], or every field error at once.
pub fn parse_event_form(form: &FormData) -> Result<NewEvent, Errors> {
    let mut errors = Errors::default();
    let localized = |prefix: &str, max: usize, multiline: bool| {
        let entries: Vec<(Locale, &str)> = Locale::ALL
            .iter()
            .map(|l| (*l, form.get(&format!("{prefix}_{}", l.key()))))
            .collect();
        LocalizedText::parse(&entries, max, multiline)
    };
    let title = errors.take(
        "title_en",
        localized("title", 160, false).and_then(|t| {
            if t.is_empty() {
                Err(kontor_domain::Invalid::new("invalid-title-required"))
            } else {
                Ok(t)
            }
        }),
    );
    let description = errors.take("description_en", localized("description", 10_000, true));
    let kind = errors.take(
        "kind",
        EventKind::from_key(form.get("kind")).ok_or(kontor_domain::Invalid::new("invalid-choice")),
    );
    let format = errors.take(
        "format",
        EventFormat::from_key(form.get("format"))
            .ok_or(kontor_domain::Invalid::new("invalid-choice")),
    );
    let venue = errors.take("venue", Text::optional_line(form.get("venue"), 200));
    let time_zone = errors.take("time_zone", TimeZoneName::parse(form.get("time_zone")));
    let date = |field: &str| {
        form.get(field)
            .trim()
            .parse::<Date>()
            .map_err(|_| kontor_domain::Invalid::new("invalid-date"))
    };
    let starts_on = errors.take("starts_on", date("starts_on"));
    let ends_on = errors.take(
        "ends_on",
        date("ends_on").and_then(|end| match date("starts_on") {
            Ok(start) if end < start => Err(kontor_domain::Invalid::new("invalid-date-order")),
            _ => Ok(end),
        }),
    );
    let opens = errors.take("registration_opens", date("registration_opens"));
    let closes = errors.take(
        "registration_closes",
        date("registration_closes").and_then(|c| {
            match (date("registration_opens"), date("ends_on")) {
                (Ok(o), _) if c <= o => {
                    Err(kontor_domain::Invalid::new("invalid-registration-order"))
                }
                (_, Ok(end)) if c > end => Err(kontor_domain::Invalid::new(
                    "invalid-registration-after-event",
                )),
                _ => Ok(c),
            }
        }),
    );
    let roles: Vec<ParticipantRole> = form
        .all("roles")
        .iter()
        .filter_map(|r| ParticipantRole::from_key(r))
        .collect();
    let scheduling = errors.take(
        "scheduling",
        match form.get("scheduling") {
            "" => Ok(SchedulingMode::SelfBooking),
            k => SchedulingMode::from_key(k).ok_or(kontor_domain::Invalid::new("invalid-choice")),
        },
    );
    let limit = |field: &str| match form.get(field).trim() {
        "" => Ok(None),
        n => n
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .map(Some)
            .ok_or(kontor_domain::Invalid::new("invalid-limit")),
    };
    let max_requests = errors.take("max_requests", limit("max_requests"));
    let max_meetings = errors.take("max_meetings", limit("max_meetings"));
    let mut sessions = Vec::new();
    for i in 0..4 {
        let day = form.get(&format!("session_day_{i}"));
        if day.trim().is_empty() {
            continue;
        }
        let slot = form
            .get(&format!("session_slot_{i}"))
            .trim()
            .parse::<i32>()
            .unwrap_or(0);
        let (bs, be) = (
            form.get(&format!("session_break_start_{i}")),
            form.get(&format!("session_break_end_{i}")),
        );
        let breaks = if bs.trim().is_empty() {
            vec![]
        } else {
            vec![(bs.to_string(), be.to_string())]
        };
        let session = MatchmakingSession::parse(
            day,
            form.get(&format!("session_start_{i}")),
            form.get(&format!("session_end_{i}")),
            slot,
            &breaks,
        )
        .and_then(|s| match (date("starts_on"), date("ends_on")) {
            (Ok(a), Ok(b)) if s.day < a || s.day > b => {
                Err(kontor_domain::Invalid::new("invalid-session-day"))
            }
            _ => Ok(s),
        })
        .and_then(|s| {
            // Slots are told apart by their start: overlapping sessions would let one person
            // be booked twice at the same time.
            let overlaps = sessions
                .iter()
                .any(|o: &MatchmakingSession| o.day == s.day && s.start < o.end && o.start < s.end);
            if overlaps {
                Err(kontor_domain::Invalid::new("invalid-session-overlap"))
            } else {
                Ok(s)
            }
        })
        .and_then(|s| {
            // Local times: the zone matters only on a day the clocks change.
            let zone = time_zone.clone().unwrap_or_else(TimeZoneName::berlin);
            if s.slots(&zone).is_empty() {
                Err(kontor_domain::Invalid::new("invalid-session-no-slot"))
            } else {
                Ok(s)
            }
        });
        let field = session
            .as_ref()
            .err()
            .map_or("day", |e| session_field(form, i, e.key));
        if let Some(s) = errors.take(&format!("session_{field}_{i}"), session) {
            sessions.push(s);
        }
    }
    let slug_raw = form.get("slug");
    let slug = if slug_raw.trim().is_empty() {
        let from_title = title.as_ref().and_then(|t: &LocalizedText| {
            [Locale::En, Locale::De]
                .iter()
                .find_map(|l| t.exact(*l).and_then(Slug::from_title))
        });
        errors.take(
            "slug",
            from_title.ok_or(kontor_domain::Invalid::new("invalid-slug")),
        )
    } else {
        errors.take("slug", Slug::parse(slug_raw))
    };
    let (
        Some(title),
        Some(description),
        Some(kind),
        Some(format),
        Some(venue),
        Some(time_zone),
        Some(starts_on),
        Some(ends_on),
        Some(opens),
        Some(closes),
        Some(slug),
    ) = (
        title,
        description,
        kind,
        format,
        venue,
        time_zone,
        starts_on,
        ends_on,
        opens,
        closes,
        slug,
    )
    else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let at_midnight = |d: Date| midnight(&time_zone, d);
    let roles = if roles.is_empty() {
        kind.default_roles().to_vec()
    } else {
        roles
    };
    // "Only between different roles": every ordered pair of two different roles may meet.
    let allowed_pairs = form.checked("different_roles_only").then(|| {
        roles
            .iter()
            .flat_map(|a| roles.iter().filter(move |b| *b != a).map(move |b| (*a, *b)))
            .collect()
    });
    let rules = MatchmakingRules {
        scheduling: scheduling.unwrap_or(SchedulingMode::SelfBooking),
        max_requests: max_requests.flatten(),
        max_meetings: max_meetings.flatten(),
        allowed_pairs,
    };
    Ok(NewEvent {
        roles,
        slug,
        kind,
        format,
        title,
        description,
        venue: venue.map(Text::into_string),
        registration_opens_at: at_midnight(opens),
        // Registration closes at the end of the chosen day.
        registration_closes_at: at_midnight(closes.tomorrow().unwrap_or(closes)),
        time_zone,
        starts_on,
        ends_on,
        needs_approval: form.checked("needs_approval"),
        sessions,
        rules,
    })
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let new = match parse_event_form(&form) {
        Ok(n) => n,
        Err(errors) => {
            let r = render_invalid(
                &state,
                &ctx.reader(),
                "event_new.html",
                form_ctx(
                    ctx.locale,
                    event_form_values(&form),
                    field_errors(ctx.locale, &errors.0),
                ),
            );
            return Ok(r);
        }
    };
    let mut tx = state.store.begin().await?;
    match tx.create_event(&new, user.id, now_micros()).await {
        Ok(_) => {}
        Err(kontor_store::StoreError::Conflict(_)) => {
            let errors = field_errors(
                ctx.locale,
                &[(
                    "slug".into(),
                    kontor_domain::Invalid::new("invalid-slug-taken"),
                )],
            );
            let r = render_invalid(
                &state,
                &ctx.reader(),
                "event_new.html",
                form_ctx(ctx.locale, event_form_values(&form), errors),
            );
            return Ok(r);
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/events/{}", new.slug)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_range_carries_its_own_date_when_the_day_differs() {
        let berlin = TimeZoneName::berlin();
        let shanghai = TimeZoneName::parse("Asia/Shanghai").unwrap();
        let range = |from: &str, to: &str| {
            let s = MatchmakingSession::parse("2026-11-26", from, to, 30, &[]).unwrap();
            session_json(&s, &berlin, Some(&shanghai), Locale::En)["viewer_range"].clone()
        };
        // Morning in Berlin, afternoon the same day in Shanghai: no date needed.
        assert_eq!(range("09:00", "10:00"), "16:00–17:00 Shanghai");
        // Evening in Berlin: the next day in Shanghai.
        assert_eq!(
            range("18:30", "19:00"),
            "27 November 2026 01:30–02:00 Shanghai"
        );
        // Across midnight in Shanghai: the end has its date too.
        assert_eq!(
            range("16:30", "17:30"),
            "23:30–27 November 2026 00:30 Shanghai"
        );
        assert!(
            session_json(
                &MatchmakingSession::parse("2026-11-26", "09:00", "10:00", 30, &[]).unwrap(),
                &berlin,
                Some(&berlin),
                Locale::En
            )["viewer_range"]
                .is_null()
        );
    }

    #[test]
    fn zones_are_named_by_their_city_and_deadlines_carry_it() {
        let zone = |z: &str| TimeZoneName::parse(z).unwrap();
        assert_eq!(zone_city(&zone("America/New_York"), Locale::En), "New York");
        assert_eq!(zone_city(&zone("America/New_York"), Locale::Zh), "纽约");
        assert_eq!(zone_city(&zone("Asia/Shanghai"), Locale::De), "Shanghai");
        assert_eq!(zone_city(&zone("Asia/Shanghai"), Locale::Zh), "上海");
        // 2030-03-10 17:00 UTC: 18:00 in Berlin, 01:00 the next day in Shanghai.
        let at = 1_899_392_400_000_000;
        assert_eq!(
            format_instant_with_zone(at, &TimeZoneName::berlin(), Locale::De),
            "10.03.2030 18:00 Berlin"
        );
        assert_eq!(
            format_instant_with_zone(at, &zone("Asia/Shanghai"), Locale::Zh),
            "2030年3月11日 01:00 上海"
        );
        // Midnight ends the day before; other times stay as they are.
        let midnight = at + 6 * 3_600_000_000;
        assert_eq!(
            format_deadline(midnight, &TimeZoneName::berlin(), Locale::De),
            "10.03.2030 24:00 Berlin"
        );
        assert_eq!(
            format_deadline(at, &TimeZoneName::berlin(), Locale::En),
            "10 March 2030 18:00 Berlin"
        );
    }
}
