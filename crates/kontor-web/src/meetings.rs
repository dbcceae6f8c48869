//! Meetings at an event: the participant directory, meeting requests (send, accept, decline,
//! cancel), self-booking of a common free slot, and each participant's agenda in their own time
//! and their partner's.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use kontor_domain::{
    Invalid, Keyed, Locale, MeetingMode, MeetingPriority, MeetingRequestStatus, ParticipantRole,
    RegistrationStatus, SchedulingMode, Slot, Text, TimeZoneName, now_micros,
};
use kontor_store::StoreError;
use kontor_store::accounts::User;
use kontor_store::events::{Event, EventLock};
use kontor_store::matchmaking::{MeetingRequest, NewMeetingRequest, RequestRefused};
use kontor_store::outbox::NewMail;
use uuid::Uuid;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::events::{event_json, format_day};
use crate::form::FormData;
use crate::page::{field_errors, label, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{slug}/people", get(people))
        .route(
            "/events/{slug}/people/{id}/request",
            get(request_page).post(send_request),
        )
        .route("/events/{slug}/meetings", get(meetings_page))
        .route("/events/{slug}/requests/{id}/{action}", post(act))
}

async fn load(state: &AppState, slug: &str) -> Result<Event, AppError> {
    let e = state.store.event_by_slug(slug).await?;
    if e.published {
        Ok(e)
    } else {
        Err(AppError::NotFound)
    }
}

/// The role of a confirmed participant, or `None`.
async fn approved_role(
    state: &AppState,
    event: &Event,
    user: Uuid,
) -> Result<Option<ParticipantRole>, AppError> {
    Ok(state
        .store
        .registration(event.id, user)
        .await?
        .filter(|r| r.status == RegistrationStatus::Approved)
        .map(|r| r.role))
}

/// Every slot of the event, in time order.
async fn event_slots(state: &AppState, event: &Event) -> Result<Vec<Slot>, AppError> {
    let mut slots: Vec<Slot> = state
        .store
        .event_sessions(event.id)
        .await?
        .iter()
        .flat_map(|s| s.slots(&event.time_zone))
        .collect();
    slots.sort();
    Ok(slots)
}

/// Slot starts in which each of `people` can meet: their availability (all slots when not
/// set) minus the slots where they already have a meeting. Two queries for everyone.
async fn free_slots_of(
    state: &AppState,
    event: &Event,
    people: &[Uuid],
    slots: &[Slot],
) -> Result<HashMap<Uuid, HashSet<i64>>, AppError> {
    let read = state.store.slots_of(event.id, people).await?;
    Ok(people
        .iter()
        .map(|person| {
            let (available, busy) = (read.available.get(person), read.busy.get(person));
            let free = slots
                .iter()
                .map(|s| s.start.as_microsecond())
                .filter(|s| available.is_none_or(|a| a.contains(s)))
                .filter(|s| busy.is_none_or(|b| !b.contains(s)))
                .collect();
            (*person, free)
        })
        .collect())
}

/// The times that the open requests of `a` or `b` propose: held against other proposals to or
/// by either of them until each is answered, for at most three days
/// ([`kontor_domain::PROPOSAL_HOLD_MICROS`]). Only proposals: a meeting booked for a request
/// already accepted comes first (the proposal then shows as gone), the hold ends with the
/// acceptance (its booking follows in the next transaction), and two proposals sent at the same
/// moment may both pass; the database still keeps anyone from being booked twice.
async fn held_slots(
    state: &AppState,
    event: &Event,
    a: Uuid,
    b: Uuid,
) -> Result<HashSet<i64>, AppError> {
    let now = now_micros();
    let mut held = HashSet::new();
    for person in [a, b] {
        held.extend(state.store.held_slots(event.id, person, now).await?);
    }
    Ok(held)
}

/// Slot starts still ahead, in time order, in which both `a` and `b` are available and free,
/// and which no open request of either holds: the times `a` may propose to `b`.
async fn common_free_slots(
    state: &AppState,
    event: &Event,
    a: Uuid,
    b: Uuid,
) -> Result<Vec<i64>, AppError> {
    let slots = event_slots(state, event).await?;
    let free = free_slots_of(state, event, &[a, b], &slots).await?;
    let (mine, theirs) = (&free[&a], &free[&b]);
    let held = held_slots(state, event, a, b).await?;
    let now = now_micros();
    Ok(slots
        .iter()
        .map(|s| s.start.as_microsecond())
        .filter(|s| *s > now && mine.contains(s) && theirs.contains(s) && !held.contains(s))
        .collect())
}

/// The time a request proposes: empty for none, else a slot start both sides have free at a
/// self-booking event.
pub async fn parse_proposal(
    state: &AppState,
    event: &Event,
    from: Uuid,
    to: Uuid,
    raw: &str,
) -> Result<Result<Option<i64>, Invalid>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Ok(None));
    }
    let Ok(start) = raw.parse::<i64>() else {
        return Ok(Err(Invalid::new("invalid-choice")));
    };
    if event.rules.scheduling != SchedulingMode::SelfBooking
        || !common_free_slots(state, event, from, to)
            .await?
            .contains(&start)
    {
        return Ok(Err(Invalid::new("invalid-proposal-taken")));
    }
    Ok(Ok(Some(start)))
}

/// How a self-booked meeting takes place: as the event is, and at a hybrid event on site unless
/// either side said they join that slot online.
async fn slot_mode(
    state: &AppState,
    event: &Event,
    start: i64,
    people: [Uuid; 2],
) -> Result<MeetingMode, AppError> {
    use kontor_domain::EventFormat;
    Ok(match event.format {
        EventFormat::Online => MeetingMode::Online,
        EventFormat::OnSite => MeetingMode::OnSite,
        EventFormat::Hybrid => {
            let mut mode = MeetingMode::OnSite;
            for person in people {
                let chosen = state.store.availability(event.id, person).await?;
                if chosen.contains(&(start, MeetingMode::Online)) {
                    mode = MeetingMode::Online;
                }
            }
            mode
        }
    })
}

fn local(ts: i64, zone: &TimeZoneName) -> (String, i8) {
    let z = Timestamp::from_microsecond(ts)
        .unwrap_or_default()
        .to_zoned_datetime(zone.tz());
    (z.strftime("%H:%M").to_string(), z.hour())
}

/// "09:00 Berlin · 16:00 Shanghai" (the cities in `locale`), and whether either side is outside
/// 08:00–20:00.
pub fn two_times(
    ts: i64,
    own: &TimeZoneName,
    partner: &TimeZoneName,
    locale: Locale,
) -> (String, bool) {
    let (a, ha) = local(ts, own);
    let (b, hb) = local(ts, partner);
    let odd = |h: i8| !(8..20).contains(&h);
    let city = |z| crate::events::zone_city(z, locale);
    let text = if own.tz() == partner.tz() || a == b {
        format!("{a} {}", city(own))
    } else {
        format!("{a} {} · {b} {}", city(own), city(partner))
    };
    (text, odd(ha) || odd(hb))
}

/// `?q=` (a part of a name or an organisation) and `?role=` narrow the list of people.
#[derive(serde::Deserialize, Default)]
struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
}

async fn people(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    axum::extract::Query(query): axum::extract::Query<PeopleQuery>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    let mine = approved_role(&state, &event, user.id).await?;
    // Who takes part (and where candidates work) is for the event's own participants and
    // organisers, not for every account.
    let organiser = crate::events::can_organise(&state, &event, user).await?;
    if mine.is_none() && !organiser {
        return Err(AppError::Rejected("error-not-approved"));
    }
    let list = state
        .store
        .participants(event.id, Some(RegistrationStatus::Approved))
        .await?;
    let visible: Vec<_> = list
        .iter()
        .filter(|p| p.registration.user_id != user.id)
        // A participant sees whom they may ask (at a job fair, candidates see employers, not
        // each other); organisers see everybody.
        .filter(|p| organiser || mine.is_none_or(|m| event.rules.allows(m, p.registration.role)))
        .collect();
    let mut roles: Vec<ParticipantRole> = visible.iter().map(|p| p.registration.role).collect();
    roles.sort_by_key(|r| r.key());
    roles.dedup();
    // Someone already asked (either way, still open) gets the request's state, not a second
    // form that could only be refused.
    let open: HashMap<Uuid, MeetingRequestStatus> = state
        .store
        .meeting_requests_of(event.id, user.id)
        .await?
        .iter()
        .filter(|r| r.status.is_open())
        .map(|r| (r.partner_of(user.id), r.status))
        .collect();
    let words = query.q.trim().to_lowercase();
    let role = ParticipantRole::from_key(query.role.trim());
    let rows: Vec<_> = visible
        .iter()
        .filter(|p| role.is_none_or(|r| p.registration.role == r))
        .filter(|p| {
            words.is_empty()
                || p.name.to_lowercase().contains(&words)
                || p.organisation
                    .as_deref()
                    .is_some_and(|o| o.to_lowercase().contains(&words))
        })
        .map(|p| {
            serde_json::json!({
                "id": p.registration.user_id,
                "name": p.name,
                "organisation": p.organisation,
                "country": p.country,
                "role": label(ctx.locale, "role", p.registration.role),
                "can_request": mine.is_some_and(|m| event.rules.allows(m, p.registration.role)),
                "open": open.get(&p.registration.user_id).map(|s| label(ctx.locale, "meeting-status", *s)),
            })
        })
        .collect();
    let recommended = match mine {
        Some(role) => recommendations(&state, &event, user, role, &list, ctx.locale).await?,
        None => vec![],
    };
    Ok(render(
        &state,
        &ctx.reader(),
        "people.html",
        serde_json::json!({
            "event": event_json(&event, ctx.locale), "people": rows, "participant": mine.is_some(),
            "recommended": recommended, "total": visible.len(),
            "filter": { "q": query.q.trim(), "role": role.map(|r| r.key()) },
            "roles": roles.iter().map(|r| serde_json::json!({ "key": r.key(), "label": label(ctx.locale, "role", *r) })).collect::<Vec<_>>(),
        }),
    ))
}

/// The five people `user` should meet, with reasons, leaving out those already asked.
async fn recommendations(
    state: &AppState,
    event: &Event,
    user: &User,
    role: ParticipantRole,
    list: &[kontor_store::events::Participant],
    locale: Locale,
) -> Result<Vec<serde_json::Value>, AppError> {
    use crate::recommend::{Profile, Reason, recommend};
    // A handful of queries for the whole directory, however many take part.
    let ids: Vec<Uuid> = list.iter().map(|p| p.registration.user_id).collect();
    let users = state.store.users_by_ids(&ids).await?;
    let org_ids: Vec<Uuid> = users.values().filter_map(|u| u.organisation_id).collect();
    let orgs = state.store.organisations_by_ids(&org_ids).await?;
    let mut offers: HashMap<Uuid, Vec<_>> = HashMap::new();
    for o in state.store.opportunities_for_event(event.id).await? {
        offers.entry(o.user_id).or_default().push((
            o.kind,
            o.sectors.clone(),
            o.target_countries.clone(),
            o.title.show(locale).to_string(),
        ));
    }
    let asked: HashSet<Uuid> = state
        .store
        .meeting_requests_of(event.id, user.id)
        .await?
        .iter()
        .filter(|r| r.status.is_open())
        .map(|r| r.partner_of(user.id))
        .collect();
    let mut profiles = vec![];
    let mut me = None;
    for p in list {
        let id = p.registration.user_id;
        let Some(u) = users.get(&id) else { continue };
        let org = u.organisation_id.and_then(|o| orgs.get(&o));
        let profile = Profile {
            id,
            sectors: org.map(|o| o.sectors.clone()).unwrap_or_default(),
            country: org.map(|o| o.country),
            languages: u.languages.clone(),
            opportunities: offers.remove(&id).unwrap_or_default(),
        };
        if id == user.id {
            me = Some(profile);
        } else if event.rules.allows(role, p.registration.role) && !asked.contains(&id) {
            profiles.push(profile);
        }
    }
    let Some(me) = me else { return Ok(vec![]) };
    let names: std::collections::HashMap<Uuid, &str> = list
        .iter()
        .map(|p| (p.registration.user_id, p.name.as_str()))
        .collect();
    let c = kontor_i18n::catalog();
    let join = |v: Vec<String>| crate::page::list(locale, &v);
    Ok(recommend(&me, &profiles, 5)
        .into_iter()
        .map(|(p, _, reasons)| {
            // A reason names at most one country, by its code: the browser puts in its name
            // (as everywhere else, see kontor.js).
            let reasons: Vec<serde_json::Value> = reasons
                .into_iter()
                .map(|r| match r {
                    Reason::SharedSectors(s) => serde_json::json!({ "text": c.message(locale, "rec-sectors", &[("list", join(s.into_iter().map(|s| label(locale, "sector", s)).collect()).into())]) }),
                    Reason::Answers { theirs, mine } => serde_json::json!({ "text": c.message(locale, "rec-answers", &[("theirs", theirs.into()), ("mine", mine.into())]) }),
                    Reason::TargetCountry(country) => {
                        let name = kontor_i18n::country_name(locale, country.code()).unwrap_or(country.code());
                        serde_json::json!({ "text": c.message(locale, "rec-country", &[("country", name.into())]) })
                    }
                    Reason::CommonLanguages(l) => serde_json::json!({ "text": c.message(locale, "rec-languages", &[("list", join(l.iter().map(|x| c.message(locale, &format!("language-{x}"), &[])).collect()).into())]) }),
                })
                .collect();
            serde_json::json!({ "id": p.id, "name": names.get(&p.id).copied().unwrap_or_default(), "reasons": reasons })
        })
        .collect())
}

#[derive(serde::Deserialize)]
struct RequestQuery {
    /// The opportunity the request is about, when it starts from one (a job posting).
    opportunity: Option<Uuid>,
}

async fn request_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id)): Path<(String, Uuid)>,
    axum::extract::Query(q): axum::extract::Query<RequestQuery>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    if state
        .store
        .open_request_between(event.id, user.id, id)
        .await?
        .is_some()
    {
        return Ok(to_existing_request(&slug));
    }
    request_form(
        &state,
        &ctx,
        &event,
        id,
        serde_json::json!({ "opportunity": q.opportunity }),
        serde_json::json!({}),
    )
    .await
}

/// Asked already (either way): a second form could only be refused, so the meetings page,
/// where that request stands.
fn to_existing_request(slug: &str) -> Response {
    Redirect::to(&format!("/events/{slug}/meetings?done=request-exists")).into_response()
}

async fn request_form(
    state: &AppState,
    ctx: &PageCtx,
    event: &Event,
    to: Uuid,
    values: serde_json::Value,
    errors: serde_json::Value,
) -> Result<Response, AppError> {
    let partner = state.store.user(to).await?;
    let today = TimeZoneName::berlin().today();
    let opportunities: Vec<_> = state
        .store
        .opportunities_of_user(to)
        .await?
        .iter()
        .filter(|o| o.event_id.is_none_or(|e| e == event.id))
        .filter(|o| o.job.as_ref().is_none_or(|j| j.open_on(today)))
        .map(|o| serde_json::json!({ "id": o.id, "title": o.title.show(ctx.locale), "kind": label(ctx.locale, "opportunity-kind", o.kind) }))
        .collect();
    // At a self-booking event the requester may propose a time both of them have free.
    let me = ctx.require_user()?;
    let proposals: Vec<_> = if event.rules.scheduling == SchedulingMode::SelfBooking {
        common_free_slots(state, event, me.id, to)
            .await?
            .into_iter()
            .map(|s| {
                let (time, odd) = two_times(s, &me.time_zone, &partner.time_zone, ctx.locale);
                serde_json::json!({ "start": s.to_string(), "label": format!("{} · {time}", format_day(s, &me.time_zone, ctx.locale)), "odd": odd })
            })
            .collect()
    } else {
        vec![]
    };
    let priorities: Vec<_> = [MeetingPriority::WouldLike, MeetingPriority::Must]
        .iter()
        .map(|p| serde_json::json!({ "key": p.key(), "label": priority_label(ctx.locale, event, *p) }))
        .collect();
    let status = if errors.as_object().is_some_and(|e| !e.is_empty()) {
        422
    } else {
        200
    };
    let mut r = render(
        state,
        &ctx.reader(),
        "request.html",
        serde_json::json!({
            "event": event_json(event, ctx.locale),
            "partner": { "id": partner.id, "name": partner.name },
            "opportunities": opportunities,
            "proposals": proposals,
            // Who asks shows their CV to the one asked (`Store::may_see_cv`); at a job fair,
            // say so, or suggest one.
            "my_cv": state.store.cv(me.id).await?.is_some(),
            "job_fair": event.kind == kontor_domain::EventKind::JobFair,
            "priorities": priorities,
            "values": values,
            "errors": errors,
        }),
    );
    *r.status_mut() = axum::http::StatusCode::from_u16(status).expect("valid");
    Ok(r)
}

/// Whether a meeting request to `to` may be about `opportunity`: one that `to` offers at
/// `event` (or at every event), and, for a job posting, before its deadline has passed.
pub async fn opportunity_offered(
    state: &AppState,
    event: &Event,
    to: Uuid,
    opportunity: Uuid,
) -> Result<Result<(), Invalid>, AppError> {
    let theirs = state.store.opportunities_of_user(to).await?;
    let Some(o) = theirs
        .iter()
        .find(|o| o.id == opportunity && o.event_id.is_none_or(|e| e == event.id))
    else {
        return Ok(Err(Invalid::new("invalid-choice")));
    };
    let today = TimeZoneName::berlin().today();
    if o.job.as_ref().is_some_and(|j| !j.open_on(today)) {
        return Ok(Err(Invalid::new("invalid-job-closed")));
    }
    Ok(Ok(()))
}

/// How a request's priority reads: at a job fair as the candidate's interest ("must meet"
/// reads oddly from a candidate to an employer).
pub(crate) fn priority_label(locale: Locale, event: &Event, priority: MeetingPriority) -> String {
    let prefix = match event.kind {
        kontor_domain::EventKind::JobFair => "priority-job",
        _ => "priority",
    };
    label(locale, prefix, priority)
}

/// Why `from` may not ask `to` for a meeting at `event`, if anything stands in the way.
pub async fn request_refusal(
    state: &AppState,
    event: &Event,
    from: Uuid,
    to: Uuid,
) -> Result<Option<&'static str>, AppError> {
    if from == to {
        return Ok(Some("error-request-self"));
    }
    let (Some(mine), Some(theirs)) = (
        approved_role(state, event, from).await?,
        approved_role(state, event, to).await?,
    ) else {
        return Ok(Some("error-request-outside"));
    };
    if !event.rules.allows(mine, theirs) {
        return Ok(Some("error-request-roles"));
    }
    // Asked already comes first: that request is what the asker needs to see.
    if state
        .store
        .open_request_between(event.id, from, to)
        .await?
        .is_some()
    {
        return Ok(Some("error-request-exists"));
    }
    if let Some(max) = event.rules.max_requests
        && state.store.count_requests_sent(event.id, from).await? >= i64::from(max)
    {
        return Ok(Some("error-request-quota"));
    }
    Ok(None)
}

async fn send_request(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, to)): Path<(String, Uuid)>,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    let message = Text::optional_block(form.get("message"), 1000);
    let priority =
        MeetingPriority::from_key(form.get("priority")).ok_or(Invalid::new("invalid-choice"));
    let opportunity = match form.get("opportunity") {
        "" => Ok(None),
        o => o
            .parse::<Uuid>()
            .map(Some)
            .map_err(|_| Invalid::new("invalid-choice")),
    };
    let opportunity = match opportunity {
        Ok(Some(o)) => opportunity_offered(&state, &event, to, o)
            .await?
            .map(|()| Some(o)),
        other => other,
    };
    let proposed = parse_proposal(&state, &event, user.id, to, form.get("proposed_slot")).await?;
    let refusal = match state.store.user(to).await {
        Ok(_) => request_refusal(&state, &event, user.id, to).await?,
        Err(StoreError::NotFound) => Some("error-request-outside"),
        Err(e) => return Err(e.into()),
    };
    if refusal == Some("error-request-exists") {
        return Ok(to_existing_request(&slug));
    }
    let mut errors = vec![];
    if let Some(key) = refusal {
        errors.push(("request".to_string(), Invalid::new(key)));
    }
    for (field, r) in [
        ("message", message.as_ref().err()),
        ("priority", priority.as_ref().err()),
        ("opportunity", opportunity.as_ref().err()),
        ("proposed_slot", proposed.as_ref().err()),
    ] {
        if let Some(e) = r {
            errors.push((field.to_string(), *e));
        }
    }
    if errors.is_empty() {
        let sent = insert_request(
            &state,
            &event,
            user,
            to,
            Ask {
                message: message.expect("checked").as_ref().map(Text::as_str),
                priority: priority.expect("checked"),
                opportunity: opportunity.expect("checked"),
                proposed_slot: proposed.expect("checked"),
            },
        )
        .await?;
        match sent {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/events/{slug}/meetings?sent=1")).into_response());
            }
            // Changed since the checks above (another request sent at the same moment).
            Err("error-request-exists") => return Ok(to_existing_request(&slug)),
            Err(key) => errors.push(("request".to_string(), Invalid::new(key))),
        }
    } else if refusal == Some("error-request-outside") && state.store.user(to).await.is_err() {
        return Err(AppError::NotFound);
    }
    request_form(
        &state,
        &ctx,
        &event,
        to,
        form.values(),
        field_errors(ctx.locale, &errors),
    )
    .await
}

async fn meetings_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let event = load(&state, &slug).await?;
    // Only known notices: the query is not a way to put text on the page.
    let notice = if q.contains_key("sent") {
        Some("meetings-request-sent")
    } else {
        match q.get("done").map(String::as_str) {
            Some("booked-proposed") => Some("meetings-booked-proposed"),
            Some("proposed-taken") => Some("meetings-proposed-taken"),
            Some("request-exists") => Some("meetings-request-exists"),
            _ => None,
        }
    };
    meetings_view(&state, &ctx, &event, None, notice).await
}

/// The meetings page; `feed_url` is shown once, right after a calendar feed was made, and
/// `notice` (a message key) right after something was done.
pub async fn meetings_view(
    state: &AppState,
    ctx: &PageCtx,
    event: &Event,
    feed_url: Option<String>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let state = state.clone();
    let user = ctx.require_user()?;
    let slots = event_slots(&state, event).await?;
    let requests = state.store.meeting_requests_of(event.id, user.id).await?;
    // A handful of queries for the whole page, however many requests there are.
    let meetings = state.store.meetings_of(event.id, user.id).await?;
    let live: HashMap<Uuid, &kontor_store::matchmaking::Meeting> = meetings
        .iter()
        .filter(|(m, _)| !m.cancelled)
        .map(|(m, _)| (m.request_id, m))
        .collect();
    let partner_ids: Vec<Uuid> = requests.iter().map(|r| r.partner_of(user.id)).collect();
    let partners = state.store.users_by_ids(&partner_ids).await?;
    let org_ids: Vec<Uuid> = partners
        .values()
        .filter_map(|p| p.organisation_id)
        .collect();
    let orgs = state.store.organisation_names(&org_ids).await?;
    // The reader's and each partner's free slots (for the times to choose and whether a
    // proposed one is still free; only self-booking has either) and who has a CV: read once
    // for the page.
    let partner_free = match event.rules.scheduling {
        SchedulingMode::SelfBooking => {
            let people: Vec<Uuid> = partner_ids.iter().copied().chain([user.id]).collect();
            free_slots_of(&state, event, &people, &slots).await?
        }
        SchedulingMode::Organiser => HashMap::new(),
    };
    let none = HashSet::new();
    let my_free = partner_free.get(&user.id).unwrap_or(&none);
    let cv_owners = match requests.is_empty() {
        true => HashSet::new(),
        false => state.store.cv_owners_at(event.id).await?,
    };
    // The opportunities the requests concern (a job posting, an offer), by id.
    let mut subjects = std::collections::HashMap::new();
    for id in requests.iter().filter_map(|r| r.opportunity_id) {
        if let std::collections::hash_map::Entry::Vacant(e) = subjects.entry(id) {
            match state.store.opportunity(id).await {
                Ok(o) => {
                    e.insert(serde_json::json!({ "id": id, "title": o.title.show(ctx.locale) }));
                }
                // Deleted since: the request stands, without its subject.
                Err(StoreError::NotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    let (mut incoming, mut outgoing) = (vec![], vec![]);
    for r in &requests {
        let Some(partner) = partners.get(&r.partner_of(user.id)) else {
            continue;
        };
        let org = partner.organisation_id.and_then(|o| orgs.get(&o).cloned());
        let meeting = live.get(&r.id).copied();
        let choices: Vec<_> = if r.status == MeetingRequestStatus::Accepted
            && event.rules.scheduling == SchedulingMode::SelfBooking
        {
            let theirs = &partner_free[&partner.id];
            slots
                .iter()
                .map(|s| s.start.as_microsecond())
                .filter(|s| my_free.contains(s) && theirs.contains(s))
                .map(|s| {
                    let (text, odd) = two_times(s, &user.time_zone, &partner.time_zone, ctx.locale);
                    serde_json::json!({ "start": s, "day": format_day(s, &user.time_zone, ctx.locale), "time": text, "odd": odd })
                })
                .collect()
        } else {
            vec![]
        };
        let proposed = match r.proposed_slot {
            Some(s) if r.status == MeetingRequestStatus::Pending => {
                let (text, odd) = two_times(s, &user.time_zone, &partner.time_zone, ctx.locale);
                // Held while pending, but a meeting booked meanwhile (by an organiser, or a
                // proposal sent at the same moment) may have taken it: say so (the slots and
                // this reader's free ones are read once for the page).
                let now = now_micros();
                let free = event.rules.scheduling == SchedulingMode::SelfBooking
                    && s > now
                    && my_free.contains(&s)
                    && partner_free[&partner.id].contains(&s);
                // Free but no longer held: say so, and until when it is while it is.
                let held_until = r.held_until().filter(|until| *until > now).map(|until| {
                    crate::events::format_instant(until, Some(&user.time_zone), ctx.locale)
                });
                Some(serde_json::json!({
                    "day": format_day(s, &user.time_zone, ctx.locale), "time": text, "odd": odd,
                    "free": free, "held_until": held_until,
                }))
            }
            _ => None,
        };
        let accepted = r.status == MeetingRequestStatus::Accepted;
        // The rule of `Store::may_see_cv`: the requester's CV while the request is open, the
        // other side's once they accepted.
        let cv = ((r.from_user == partner.id && r.status.is_open()) || accepted)
            && cv_owners.contains(&partner.id);
        let row = serde_json::json!({
            "id": r.id,
            "partner": { "id": partner.id, "name": partner.name, "organisation": org, "cv": cv },
            "status": r.status.key(),
            "status_label": label(ctx.locale, "meeting-status", r.status),
            "priority": priority_label(ctx.locale, event, r.priority),
            "message": r.message,
            "subject": r.opportunity_id.and_then(|id| subjects.get(&id)),
            "proposed": proposed,
            "reason": r.reason,
            "contact": accepted.then(|| serde_json::json!({ "email": partner.email.as_str(), "phone": partner.phone })),
            "booked": meeting.as_ref().map(|m| {
                let (text, odd) = two_times(m.slot_start, &user.time_zone, &partner.time_zone, ctx.locale);
                serde_json::json!({ "day": format_day(m.slot_start, &user.time_zone, ctx.locale), "time": text, "odd": odd })
            }),
            "choices": choices,
            "self_booking": event.rules.scheduling == SchedulingMode::SelfBooking,
            "can_answer": r.status == MeetingRequestStatus::Pending && r.to_user == user.id,
            "can_cancel": matches!(r.status, MeetingRequestStatus::Pending | MeetingRequestStatus::Accepted),
            "pending": r.status == MeetingRequestStatus::Pending,
        });
        if r.to_user == user.id {
            incoming.push(row)
        } else {
            outgoing.push(row)
        }
    }
    let agenda: Vec<_> = {
        let mut rows = vec![];
        for (m, r) in &meetings {
            if m.cancelled {
                continue;
            }
            let Some(partner) = partners.get(&r.partner_of(user.id)) else {
                continue;
            };
            let (text, odd) = two_times(
                m.slot_start,
                &user.time_zone,
                &partner.time_zone,
                ctx.locale,
            );
            // The event's own time, unless the line above shows it already (the reader or the
            // partner is in the event's zone).
            let event_time = (event.time_zone.tz() != user.time_zone.tz()
                && event.time_zone.tz() != partner.time_zone.tz())
            .then(|| local(m.slot_start, &event.time_zone).0);
            rows.push(serde_json::json!({
                "id": m.id,
                "day": format_day(m.slot_start, &user.time_zone, ctx.locale),
                "time": text,
                "event_time": event_time.map(|t| format!("{t} {}", crate::events::zone_city(&event.time_zone, ctx.locale))),
                "odd": odd,
                "partner": {
                    "id": partner.id,
                    "name": partner.name,
                    "organisation": partner.organisation_id.and_then(|o| orgs.get(&o).cloned()),
                },
                "mode": m.mode.key(),
                "table": m.table_no,
                "room_open": crate::rooms::is_open(m, now_micros()),
            }));
        }
        rows
    };
    Ok(render(
        &state,
        &ctx.reader(),
        "meetings.html",
        serde_json::json!({
            "event": event_json(event, ctx.locale),
            "feed_url": feed_url,
            "notice": notice,
            "incoming": incoming,
            "outgoing": outgoing,
            "agenda": agenda,
            "approved": approved_role(&state, event, user.id).await?.is_some(),
            "has_feed": state.store.has_calendar_feed(user.id, event.id).await?,
        }),
    ))
}

/// Accept, decline, cancel or book, each a guarded state change with its mail.
async fn act(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((slug, id, action)): Path<(String, Uuid, String)>,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let event = load(&state, &slug).await?;
    let done = apply_action(
        &state,
        &event,
        user,
        id,
        &action,
        form.get("reason"),
        form.get("slot"),
    )
    .await?;
    let query = match done {
        Some(Proposal::Booked) => "?done=booked-proposed",
        Some(Proposal::Taken) => "?done=proposed-taken",
        None => "",
    };
    Ok(Redirect::to(&format!("/events/{slug}/meetings{query}")).into_response())
}

/// What a requester asks for, checked: their message, how much they want it, the opportunity it
/// concerns and the time it proposes ([`parse_proposal`]).
pub struct Ask<'a> {
    pub message: Option<&'a str>,
    pub priority: MeetingPriority,
    pub opportunity: Option<Uuid>,
    pub proposed_slot: Option<i64>,
}

/// Writes a request that passed [`request_refusal`], with the mail to the other side. The
/// checks that concern other requests and registrations are made again in the transaction (two
/// requests sent at once must not both pass them): the refusal's message key when one fails.
pub async fn insert_request(
    state: &AppState,
    event: &Event,
    user: &User,
    to: Uuid,
    ask: Ask<'_>,
) -> Result<Result<Uuid, &'static str>, AppError> {
    let Ask {
        message,
        priority,
        opportunity,
        proposed_slot,
    } = ask;
    let partner = state.store.user(to).await?;
    let proposed = proposed_slot.map(|s| {
        let (time, _) = two_times(s, &partner.time_zone, &user.time_zone, partner.locale);
        format!(
            "{} · {time}",
            format_day(s, &partner.time_zone, partner.locale)
        )
    });
    let concerning = match opportunity {
        Some(id) => Some(
            state
                .store
                .opportunity(id)
                .await?
                .title
                .show(partner.locale)
                .to_string(),
        ),
        None => None,
    };
    let mail = state.composer.meeting_request_received(
        &partner,
        &user.name,
        &event.title,
        event.slug.as_str(),
        kontor_mail::compose::RequestDetails {
            concerning: concerning.as_deref(),
            message,
            proposed: proposed.as_deref(),
        },
    );
    let now = now_micros();
    let mut tx = state.store.begin().await?;
    tx.lock_event(event.id, EventLock::Share).await?;
    let sent = tx
        .send_meeting_request(
            &NewMeetingRequest {
                event_id: event.id,
                from_user: user.id,
                to_user: to,
                opportunity_id: opportunity,
                message,
                priority,
            },
            event.rules.max_requests,
            now,
        )
        .await?;
    let id = match sent {
        Ok(id) => id,
        Err(refused) => {
            return Ok(Err(match refused {
                RequestRefused::NotApproved => "error-request-outside",
                RequestRefused::Quota => "error-request-quota",
                RequestRefused::AlreadyOpen => "error-request-exists",
            }));
        }
    };
    if let Some(start) = proposed_slot {
        tx.propose_slot(id, start).await?;
    }
    tx.enqueue_mail(&mail, now).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(Ok(id))
}

/// What became of the time a request proposed, once it was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proposal {
    Booked,
    /// No longer free for both (or the event changed): they choose another, as without one.
    Taken,
}

/// Accept, decline, cancel or book a request, as `user`; shared by the pages and the API. An
/// accepted request that proposed a time is then booked there if it still can be.
pub async fn apply_action(
    state: &AppState,
    event: &Event,
    user: &User,
    id: Uuid,
    action: &str,
    reason: &str,
    slot: &str,
) -> Result<Option<Proposal>, AppError> {
    let request = state.store.meeting_request(id).await?;
    if request.event_id != event.id || (request.from_user != user.id && request.to_user != user.id)
    {
        return Err(AppError::NotFound);
    }
    let partner = state.store.user(request.partner_of(user.id)).await?;
    let now = now_micros();
    let mut proposal = None;
    let mail_kind = match action {
        "accept" | "decline" => {
            if request.to_user != user.id {
                return Err(AppError::Forbidden);
            }
            let (to, kind) = if action == "accept" {
                (MeetingRequestStatus::Accepted, "request-accepted")
            } else {
                (MeetingRequestStatus::Declined, "request-declined")
            };
            let reason =
                Text::optional_block(reason, 500).map_err(|e| AppError::field("reason", e))?;
            let mut tx = state.store.begin().await?;
            tx.lock_event(event.id, EventLock::Share).await?;
            match tx
                .change_request_status(
                    id,
                    &[MeetingRequestStatus::Pending],
                    to,
                    reason.as_ref().map(Text::as_str),
                    now,
                )
                .await
            {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(AppError::Rejected("error-request-changed"));
                }
                Err(e) => return Err(e.into()),
            }
            // Accepting a proposed time books it next, and that mail says both: the acceptance's
            // waits a minute as a fallback, taken back once the booking is made.
            let proposed = request.proposed_slot.filter(|_| {
                action == "accept" && event.rules.scheduling == SchedulingMode::SelfBooking
            });
            let due = now + proposed.map_or(0, |_| FALLBACK_DELAY_MICROS);
            let mail = request_mail(state, event, &partner, user, kind);
            let mail = tx.enqueue_mail_due(&mail, now, due).await?;
            tx.commit().await?;
            if let Some(start) = proposed {
                let booked = book_proposal(state, event, id, user, &partner, start, mail).await?;
                proposal = Some(booked);
            }
            kind
        }
        "cancel" => {
            let mut tx = state.store.begin().await?;
            tx.lock_event(event.id, EventLock::Share).await?;
            match tx
                .change_request_status(
                    id,
                    &[
                        MeetingRequestStatus::Pending,
                        MeetingRequestStatus::Accepted,
                    ],
                    MeetingRequestStatus::Cancelled,
                    None,
                    now,
                )
                .await
            {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(AppError::Rejected("error-request-changed"));
                }
                Err(e) => return Err(e.into()),
            }
            tx.cancel_meeting_of_request(id, now).await?;
            let mail = request_mail(state, event, &partner, user, "request-cancelled");
            tx.enqueue_mail(&mail, now).await?;
            tx.commit().await?;
            "request-cancelled"
        }
        "book" => {
            book(
                state,
                event,
                &request,
                user,
                &partner,
                slot,
                Booking::Chosen,
            )
            .await?;
            "booked"
        }
        _ => return Err(AppError::NotFound),
    };
    tracing::info!(request = %id, action = mail_kind, "meeting request changed");
    state.outbox_wake.notify_one();
    Ok(proposal)
}

/// How long the mail of an acceptance waits for the booking that replaces it.
const FALLBACK_DELAY_MICROS: i64 = 60_000_000;

/// Books a just-accepted request at the time it proposed, as self-booking would, and takes back
/// the acceptance's mail `accepted_mail` for the booking's; a time no longer free is no error
/// (the request stays accepted, its mail goes out, and they choose another time).
async fn book_proposal(
    state: &AppState,
    event: &Event,
    id: Uuid,
    user: &User,
    partner: &User,
    start: i64,
    accepted_mail: Uuid,
) -> Result<Proposal, AppError> {
    let accepted = state.store.meeting_request(id).await?;
    let (when, _) = two_times(start, &partner.time_zone, &user.time_zone, partner.locale);
    let when = format!(
        "{} · {when}",
        format_day(start, &partner.time_zone, partner.locale)
    );
    let mail = state.composer.meeting_booked(
        partner,
        &user.name,
        &event.title,
        event.slug.as_str(),
        &when,
    );
    match book(
        state,
        event,
        &accepted,
        user,
        partner,
        &start.to_string(),
        Booking::Proposed {
            mail: &mail,
            replaces: accepted_mail,
        },
    )
    .await
    {
        Ok(()) => Ok(Proposal::Booked),
        // The acceptance stands (it is committed): whatever kept the booking from happening,
        // they choose a time as they would without a proposal.
        Err(AppError::Internal(e)) => {
            tracing::warn!(request = %id, error = %e, "proposed time not booked");
            Ok(Proposal::Taken)
        }
        Err(why) => {
            tracing::info!(request = %id, reason = %why, "proposed time not booked");
            Ok(Proposal::Taken)
        }
    }
}

/// The mail telling `to` what `from` did with their request (`kind`: accepted, declined, ...).
fn request_mail(
    state: &AppState,
    event: &Event,
    to: &User,
    from: &User,
    kind: &'static str,
) -> NewMail {
    state
        .composer
        .meeting_request(to, &from.name, &event.title, event.slug.as_str(), kind)
}

/// Why a meeting is booked at a time.
enum Booking<'a> {
    /// Chosen on the meetings page (or by the API) after the request was accepted.
    Chosen,
    /// The time the request proposed, just accepted: `mail` goes out with the new meeting,
    /// instead of the queued mail `replaces`.
    Proposed { mail: &'a NewMail, replaces: Uuid },
}

/// Self-booking: the slot must be one of the event's, free and available for both (a time
/// another open request proposes is no obstacle: see [`held_slots`]); the database refuses it
/// if someone else took it a moment ago. `booking` says why, and so which mail goes out.
async fn book(
    state: &AppState,
    event: &Event,
    request: &MeetingRequest,
    user: &User,
    partner: &User,
    slot: &str,
    booking: Booking<'_>,
) -> Result<(), AppError> {
    if event.rules.scheduling != SchedulingMode::SelfBooking {
        return Err(AppError::Forbidden);
    }
    if request.status != MeetingRequestStatus::Accepted {
        return Err(AppError::Rejected("error-request-changed"));
    }
    // Booked already: this proposes another time, and the meeting moves (same calendar UID).
    let existing = state.store.meeting_of_request(request.id).await?;
    let start: i64 = slot
        .trim()
        .parse()
        .map_err(|_| AppError::field("slot", Invalid::new("invalid-choice")))?;
    let slots = event_slots(state, event).await?;
    let Some(slot) = slots.iter().find(|s| s.start.as_microsecond() == start) else {
        return Err(AppError::field("slot", Invalid::new("invalid-choice")));
    };
    let free = free_slots_of(state, event, &[user.id, partner.id], &slots).await?;
    let (mine, theirs) = (&free[&user.id], &free[&partner.id]);
    if start <= now_micros() || !mine.contains(&start) || !theirs.contains(&start) {
        return Err(AppError::Rejected("error-slot-unavailable"));
    }
    // A new meeting counts against the limit (checked in the transaction); a moved one does not.
    let mode = match &existing {
        Some(m) => m.mode,
        None => slot_mode(state, event, start, [user.id, partner.id]).await?,
    };
    let attendees = [request.from_user, request.to_user];
    let times = (start, slot.end.as_microsecond());
    let now = now_micros();
    let moved = existing.as_ref().map(|_| {
        let (when, _) = two_times(start, &partner.time_zone, &user.time_zone, partner.locale);
        state.composer.meeting_moved(
            partner,
            &user.name,
            &event.title,
            event.slug.as_str(),
            &when,
        )
    });
    let mut tx = state.store.begin().await?;
    // The organiser may have changed the event since the page was read: its slots and rules
    // as they stand now, under the lock that orders this booking against edits and publishing.
    let now_event = tx.lock_event(event.id, EventLock::Share).await?;
    if now_event.event.rules.scheduling != SchedulingMode::SelfBooking {
        return Err(AppError::Forbidden);
    }
    if !now_event.slots.contains(&times) {
        return Err(AppError::Rejected("error-slot-unavailable"));
    }
    let limit = now_event
        .event
        .rules
        .max_meetings
        .filter(|_| existing.is_none());
    if let Some(max) = limit {
        // Under locks: two bookings with one person at the same moment must not both pass.
        if !tx.lock_participants(event.id, &attendees).await? {
            return Err(AppError::Rejected("error-request-changed"));
        }
        for who in attendees {
            if tx.count_meetings(event.id, who).await? >= i64::from(max) {
                return Err(AppError::Rejected("error-meeting-limit"));
            }
        }
    }
    let result = match &existing {
        Some(m) => match tx.release_meeting_slot(m.id).await {
            Ok(()) => tx
                .move_meeting(m.id, event.id, &attendees, times, (None, m.mode), now)
                .await
                .map(|()| m.id),
            Err(e) => Err(e),
        },
        None => {
            tx.book_meeting(request, &attendees, times, mode, None, now)
                .await
        }
    };
    let result = match result {
        Ok(id) if mode == MeetingMode::OnSite => tx.assign_free_table(id).await.map(|_| ()),
        other => other.map(|_| ()),
    };
    match result {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(AppError::Rejected("error-slot-taken")),
        // Cancelled by the partner since the page was read.
        Err(StoreError::NotFound) => return Err(AppError::Rejected("error-request-changed")),
        Err(e) => return Err(e.into()),
    }
    if let Some(mail) = &moved {
        tx.enqueue_mail(mail, now).await?;
    }
    if let Booking::Proposed { mail, replaces } = booking
        && existing.is_none()
    {
        tx.enqueue_mail(mail, now).await?;
        // Claimed by a worker already (only after the fallback's minute): both go out.
        tx.withdraw_mail(replaces, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Queues a reminder to both participants of every meeting that starts within `minutes`, once
/// per meeting even with several instances. Returns how many meetings were reminded.
pub async fn send_due_reminders(state: &AppState, minutes: i64) -> anyhow::Result<usize> {
    let now = now_micros();
    let due = state
        .store
        .due_reminders(now, now + minutes * 60_000_000)
        .await?;
    let mut sent = 0;
    for (meeting, request) in due {
        let event = state.store.event(meeting.event_id).await?;
        let (a, b) = (
            state.store.user(request.from_user).await?,
            state.store.user(request.to_user).await?,
        );
        let mails = [(&a, &b), (&b, &a)].map(|(to, partner)| {
            let (time, _) = two_times(
                meeting.slot_start,
                &to.time_zone,
                &partner.time_zone,
                to.locale,
            );
            state.composer.meeting_reminder(
                to,
                &partner.name,
                &event.title,
                event.slug.as_str(),
                &time,
                (meeting.mode == MeetingMode::Online).then_some(meeting.id),
            )
        });
        let mut tx = state.store.begin().await?;
        if !tx.mark_reminded(meeting.id, now).await? {
            continue;
        }
        for mail in &mails {
            tx.enqueue_mail(mail, now).await?;
        }
        tx.commit().await?;
        sent += 1;
    }
    if sent > 0 {
        state.outbox_wake.notify_one();
    }
    Ok(sent)
}

/// Sends the daily digest to everyone who asked for it and whose local time has passed 07:00
/// today: requests waiting for their answer and the day's meetings in their time. Once per local
/// day, also with several instances. Returns how many digests were queued.
pub async fn send_digests(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let mut sent = 0;
    let at = Timestamp::from_microsecond(now)?;
    for user in state.store.digest_subscribers().await? {
        let local = at.to_zoned_datetime(user.time_zone.tz());
        let day = local.date();
        if local.hour() < 7 || user.digest_sent_on.as_deref() == Some(day.to_string().as_str()) {
            continue;
        }
        let tz = user.time_zone.tz();
        let start = tz
            .to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))?
            .as_microsecond();
        let end = tz
            .to_timestamp(day.tomorrow()?.to_datetime(jiff::civil::Time::midnight()))?
            .as_microsecond();
        let pending = state.store.pending_requests_to(user.id).await?.len();
        let mut lines = vec![];
        for (m, r) in state.store.meetings_between(user.id, start, end).await? {
            let partner = state.store.user(r.partner_of(user.id)).await?;
            let event = state.store.event(m.event_id).await?;
            let (time, _) = two_times(
                m.slot_start,
                &user.time_zone,
                &partner.time_zone,
                user.locale,
            );
            lines.push(format!(
                "{time} – {} ({})",
                partner.name,
                event.title.show(user.locale)
            ));
        }
        let mail = state.composer.daily_digest(&user, pending, &lines);
        let mut tx = state.store.begin().await?;
        if !tx.mark_digest_sent(user.id, &day.to_string()).await? {
            continue;
        }
        tx.enqueue_mail(&mail, now).await?;
        tx.commit().await?;
        sent += 1;
    }
    if sent > 0 {
        state.outbox_wake.notify_one();
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_local_times_and_the_hours_warning() {
        let berlin = TimeZoneName::berlin();
        let shanghai = TimeZoneName::parse("Asia/Shanghai").unwrap();
        // 2027-03-10 09:00 in Berlin (UTC+1) is 16:00 in Shanghai.
        let ts = "2027-03-10T08:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_microsecond();
        assert_eq!(
            two_times(ts, &berlin, &shanghai, Locale::En),
            ("09:00 Berlin · 16:00 Shanghai".to_string(), false)
        );
        // 14:00 in Berlin is 21:00 in Shanghai: outside 08–20 there.
        let late = "2027-03-10T13:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_microsecond();
        assert!(two_times(late, &berlin, &shanghai, Locale::En).1);
        // In summer the corridor is six hours apart.
        let summer = "2027-06-10T07:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_microsecond();
        assert_eq!(
            two_times(summer, &berlin, &shanghai, Locale::Zh).0,
            "09:00 柏林 · 15:00 上海"
        );
    }
}
