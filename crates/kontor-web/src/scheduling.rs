//! Organiser scheduling: the organiser runs kontor-schedule on every accepted request of an
//! event, watches its progress, reviews the draft (meetings, total weight, the bound and the
//! gap, every unscheduled request with its reason, table load) and publishes it. A later run
//! keeps the published meetings where they are (by default: only cancelled ones free their
//! slots), or, when the organiser asks, starts from the published agenda and moves a meeting only
//! for a better objective (more weight, fewer breaks).
//!
//! Jobs live in this instance's memory: the organiser's page polls the instance that runs it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kontor_domain::{EventFormat, MeetingMode, RegistrationStatus, now_micros};
use kontor_schedule::{
    Control, Instance, Mode, Participant, Reason, Request, Schedule, ScheduledMeeting, Solution,
    SolveOptions,
};
use kontor_store::events::{Event, EventLock};
use uuid::Uuid;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::FormData;
use crate::page::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{slug}/schedule", get(page))
        .route("/events/{slug}/schedule/run", post(run))
        .route("/events/{slug}/schedule/publish", post(publish))
        .route("/events/{slug}/schedule/pin", post(pin))
}

/// Optimiser runs, by event.
#[derive(Default)]
pub struct Jobs(Mutex<HashMap<Uuid, Job>>);

#[derive(Clone)]
enum Job {
    Running { fraction: f64, phase: String },
    Done(Arc<Draft>),
    Failed(String),
}

/// A finished run, waiting to be published.
pub struct Draft {
    solution: Solution,
    /// Slot id → (start, end) in microseconds.
    slots: HashMap<String, (i64, i64)>,
    tables: u32,
    /// The run's time limit, for the next run's form.
    seconds: u64,
    /// The published meetings as the run saw them (id and sequence, sorted). Publishing a draft
    /// after any of them changed (a participant booked, moved or cancelled one) would undo
    /// that change, so it is refused as stale; after a publish it holds what was published.
    seen: std::sync::Mutex<Vec<(Uuid, i32)>>,
    /// Published: the page shows the agenda, no longer the draft (publishing it again is
    /// harmless, see `seen`).
    published: std::sync::atomic::AtomicBool,
}

/// The version of every published meeting of an event, to tell whether any changed.
async fn meeting_versions(state: &AppState, event: Uuid) -> Result<Vec<(Uuid, i32)>, AppError> {
    let mut v: Vec<(Uuid, i32)> = state
        .store
        .scheduled_meetings(event)
        .await?
        .into_iter()
        .map(|m| (m.id, m.sequence))
        .collect();
    v.sort();
    Ok(v)
}

/// [`meeting_versions`] inside a transaction, under row locks.
async fn versions_in(tx: &mut kontor_store::Tx, event: Uuid) -> Result<Vec<(Uuid, i32)>, AppError> {
    Ok(tx
        .lock_scheduled_meetings(event)
        .await?
        .into_iter()
        .map(|(id, sequence, ..)| (id, sequence))
        .collect())
}

impl Jobs {
    fn get(&self, event: Uuid) -> Option<Job> {
        self.0.lock().expect("not poisoned").get(&event).cloned()
    }
    fn set(&self, event: Uuid, job: Job) {
        self.0.lock().expect("not poisoned").insert(event, job);
    }
    /// Drops an event's run: after its sessions or zone changed, a draft's times are wrong.
    pub fn forget(&self, event: Uuid) {
        self.0.lock().expect("not poisoned").remove(&event);
    }
}

/// The optimiser's view of an event: its slots, confirmed participants with their availability,
/// accepted requests, and the published agenda as the previous schedule (with `keep`, each
/// published meeting fixed in its slot, as if pinned).
async fn build_instance(
    state: &AppState,
    event: &Event,
    tables: u32,
    keep: bool,
) -> Result<(Instance, HashMap<String, (i64, i64)>), AppError> {
    let mut slots = vec![];
    let mut times = HashMap::new();
    let sessions = state.store.event_sessions(event.id).await?;
    let mut days: Vec<jiff::civil::Date> = sessions.iter().map(|s| s.day).collect();
    days.sort();
    days.dedup();
    for (i, session) in sessions.iter().enumerate() {
        let day = days.iter().position(|d| *d == session.day).unwrap_or(0) as u32;
        for s in session.slots(&event.time_zone) {
            let id = s.start.as_microsecond().to_string();
            times.insert(
                id.clone(),
                (s.start.as_microsecond(), s.end.as_microsecond()),
            );
            slots.push((
                s.start,
                kontor_schedule::Slot {
                    id,
                    day,
                    session: Some(format!("s{i}")),
                    tables: None,
                },
            ));
        }
    }
    slots.sort_by_key(|(start, _)| *start);
    let slots: Vec<_> = slots.into_iter().map(|(_, s)| s).collect();
    let mut participants = vec![];
    let mut present = std::collections::HashSet::new();
    // At a hybrid event, someone whose every available slot is online meets online (no table).
    let mut online_only = std::collections::HashSet::new();
    for p in state
        .store
        .participants(event.id, Some(RegistrationStatus::Approved))
        .await?
    {
        let user = p.registration.user_id;
        let available = state.store.availability(event.id, user).await?;
        if !available.is_empty() && available.iter().all(|(_, m)| *m == MeetingMode::Online) {
            online_only.insert(user);
        }
        participants.push(Participant {
            id: user.to_string(),
            available: (!available.is_empty()).then(|| {
                available
                    .iter()
                    .map(|(s, _)| s.to_string())
                    .filter(|s| times.contains_key(s))
                    .collect()
            }),
            unavailable: vec![],
            max_meetings: event.rules.max_meetings.map(|m| m.max(0) as u32),
            preferred_sessions: vec![],
            table: None,
        });
        present.insert(user);
    }
    let mode_for = |a: &Uuid, b: &Uuid| {
        if event.format == EventFormat::Online || online_only.contains(a) || online_only.contains(b)
        {
            Mode::Online
        } else {
            Mode::OnSite
        }
    };
    // One query for the published agenda, not one per request.
    let mut scheduled: HashMap<Uuid, kontor_store::matchmaking::Meeting> = state
        .store
        .scheduled_meetings(event.id)
        .await?
        .into_iter()
        .map(|m| (m.request_id, m))
        .collect();
    let mut requests = vec![];
    let mut previous = vec![];
    for r in state.store.accepted_requests(event.id).await? {
        if !(present.contains(&r.from_user) && present.contains(&r.to_user)) {
            continue;
        }
        let live = scheduled.remove(&r.id);
        // A pinned meeting stays where it is, and so does every published one when the organiser
        // keeps them: fixed in its slot and mandatory, so that no new request can push it out
        // (one that can no longer be held there, say its participant became unavailable, is
        // left out with its reason).
        let fixed_slot = live
            .as_ref()
            .filter(|m| m.pinned || keep)
            .map(|m| m.slot_start.to_string())
            .filter(|s| times.contains_key(s));
        let kept = fixed_slot.is_some();
        requests.push(Request {
            id: r.id.to_string(),
            participants: vec![r.from_user.to_string(), r.to_user.to_string()],
            weight: None,
            priorities: vec![r.priority.weight(), 1],
            sessions: vec![],
            fixed_slot,
            after: vec![],
            mode: mode_for(&r.from_user, &r.to_user),
            mandatory: kept,
        });
        if let Some(m) = live
            && times.contains_key(&m.slot_start.to_string())
        {
            previous.push(ScheduledMeeting {
                request: r.id.to_string(),
                slot: m.slot_start.to_string(),
                table: m.table_no.map(|t| t as u32),
            });
        }
    }
    let instance = Instance {
        name: Some(event.slug.to_string()),
        tables,
        fairness: None,
        slots,
        participants,
        requests,
        previous: (!previous.is_empty()).then_some(Schedule { meetings: previous }),
    };
    Ok((instance, times))
}

async fn run(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let event = crate::events::organiser_event(&state, &ctx, &slug).await?;
    if matches!(state.jobs.get(event.id), Some(Job::Running { .. })) {
        return Ok(Redirect::to(&format!("/events/{slug}/schedule")).into_response());
    }
    // Empty takes the default; anything else must be a whole number in range (a typo must not
    // quietly become 50 tables).
    let number = |field: &'static str, default: u32, max: u32| match form.get(field).trim() {
        "" => Ok(default),
        v => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or(kontor_domain::Invalid {
                key: "invalid-whole-number",
                max: Some(max as usize),
            }),
    };
    let mut errors = crate::form::Errors::default();
    let tables = errors.take("tables", number("tables", 50, 10_000));
    let seconds = errors.take("seconds", number("seconds", 5, 120));
    let (Some(tables), Some(seconds)) = (tables, seconds) else {
        // The form again, with the message at its field (a dead-end error page is no help).
        let form = serde_json::json!({
            "values": {
                "tables": form.get("tables"),
                "seconds": form.get("seconds"),
                "keep": form.get("keep"),
            },
            "errors": crate::page::field_errors(ctx.locale, &errors.0),
        });
        let page = schedule_page(&state, &ctx, &event, None, form).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let seconds = u64::from(seconds);
    let seen = meeting_versions(&state, event.id).await?;
    let keep = !form.get("keep").is_empty();
    let (instance, slots) = build_instance(&state, &event, tables, keep).await?;
    state.jobs.set(
        event.id,
        Job::Running {
            fraction: 0.0,
            phase: phase_key(kontor_schedule::Phase::Bound).into(),
        },
    );
    let (jobs_state, id) = (state.clone(), event.id);
    tokio::task::spawn_blocking(move || {
        let options = SolveOptions {
            time_limit: std::time::Duration::from_secs(seconds),
            ..SolveOptions::default()
        };
        let mut last = std::time::Instant::now();
        let result = kontor_schedule::solve(&instance, &options, &mut |p| {
            if last.elapsed() >= std::time::Duration::from_millis(200) {
                last = std::time::Instant::now();
                jobs_state.jobs.set(
                    id,
                    Job::Running {
                        fraction: p.fraction,
                        phase: phase_key(p.phase).into(),
                    },
                );
            }
            Control::Continue
        });
        let job = match result {
            Ok(solution) => Job::Done(Arc::new(Draft {
                solution,
                slots,
                tables,
                seconds,
                seen: std::sync::Mutex::new(seen),
                published: Default::default(),
            })),
            Err(e) => Job::Failed(e.to_string()),
        };
        jobs_state.jobs.set(id, job);
    });
    Ok(Redirect::to(&format!("/events/{slug}/schedule")).into_response())
}

/// What the organiser reads while the optimiser works.
fn phase_key(phase: kontor_schedule::Phase) -> &'static str {
    use kontor_schedule::Phase;
    match phase {
        Phase::Bound => "schedule-phase-bound",
        Phase::Mandatory | Phase::Weight => "schedule-phase-weight",
        Phase::Breaks => "schedule-phase-breaks",
        Phase::Tables => "schedule-phase-tables",
    }
}

fn reason_key(r: &Reason) -> &'static str {
    match r {
        Reason::NoCommonAvailability => "schedule-reason-availability",
        Reason::ParticipantLimit { .. } => "schedule-reason-limit",
        Reason::Capacity => "schedule-reason-capacity",
        Reason::Conflicts => "schedule-reason-conflicts",
    }
}

async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let published: Option<usize> = q.get("published").and_then(|n| n.parse().ok());
    let event = crate::events::organiser_event(&state, &ctx, &slug).await?;
    let form = serde_json::json!({ "values": {}, "errors": {} });
    schedule_page(&state, &ctx, &event, published, form).await
}

/// The optimiser's page: the run form (with `form`'s values and errors), progress, the draft,
/// the published meetings.
async fn schedule_page(
    state: &AppState,
    ctx: &PageCtx,
    event: &Event,
    published: Option<usize>,
    form: serde_json::Value,
) -> Result<Response, AppError> {
    let accepted = state.store.accepted_requests(event.id).await?;
    let names: HashMap<Uuid, String> = state
        .store
        .participants(event.id, None)
        .await?
        .into_iter()
        .map(|p| (p.registration.user_id, p.name))
        .collect();
    let job = state.jobs.get(event.id);
    let (running, draft, failed) = match &job {
        Some(Job::Running { fraction, phase }) => (
            Some(serde_json::json!({
                "percent": (fraction * 100.0).round(),
                "phase": kontor_i18n::t(ctx.locale, phase),
            })),
            None,
            None,
        ),
        Some(Job::Done(d)) => (None, Some(d.clone()), None),
        Some(Job::Failed(e)) => (None, None, Some(e.clone())),
        None => (None, None, None),
    };
    // The form starts from the last run's tables and time (an event has no table count of its
    // own), unless it comes back with what was typed.
    let mut values = form["values"].clone();
    if let (Some(d), Some(v)) = (&draft, values.as_object_mut())
        && v.is_empty()
    {
        v.insert("tables".into(), d.tables.to_string().into());
        v.insert("seconds".into(), d.seconds.to_string().into());
    }
    let draft = draft
        .filter(|d| !d.published.load(std::sync::atomic::Ordering::Relaxed))
        .map(|d| {
        let s = &d.solution;
        let by_request: HashMap<String, &kontor_store::matchmaking::MeetingRequest> = accepted.iter().map(|r| (r.id.to_string(), r)).collect();
        let pair = |id: &str| {
            by_request.get(id).map_or_else(|| id.to_string(), |r| {
                format!("{} – {}", names.get(&r.from_user).cloned().unwrap_or_default(), names.get(&r.to_user).cloned().unwrap_or_default())
            })
        };
        // The first hundred; the count says how many there are in all.
        let unscheduled: Vec<_> = s.unscheduled.iter().take(100).map(|(id, reason)| {
            // The limit names whose it is.
            let reason = match reason {
                Reason::ParticipantLimit { participant } => {
                    let who = participant.parse::<Uuid>().ok().and_then(|u| names.get(&u)).cloned().unwrap_or_default();
                    kontor_i18n::catalog().message(ctx.locale, "schedule-reason-limit-of", &[("name", who.into())])
                }
                other => kontor_i18n::t(ctx.locale, reason_key(other)),
            };
            serde_json::json!({ "pair": pair(id), "reason": reason })
        }).collect();
        let mut load: Vec<(i64, u32)> = vec![];
        for m in &s.schedule.meetings {
            let start = d.slots.get(&m.slot).map_or(0, |t| t.0);
            match load.iter_mut().find(|(s, _)| *s == start) {
                Some((_, n)) => *n += u32::from(m.table.is_some()),
                None => load.push((start, u32::from(m.table.is_some()))),
            }
        }
        load.sort();
        let load: Vec<_> = load.iter().map(|(start, n)| serde_json::json!({
            "slot": crate::events::format_instant(*start, Some(&event.time_zone), ctx.locale), "tables": n, "of": d.tables,
        })).collect();
        serde_json::json!({
            "meetings": s.objective.held,
            "weight": s.objective.weight,
            "bound": s.upper_bound,
            "gap": format!("{:.2}", s.gap * 100.0),
            "breaks": s.objective.breaks,
            "changes": s.objective.changes,
            "seconds": format!("{:.1}", s.stats.seconds),
            "optimal": s.stats.proven_optimal || s.gap == 0.0,
            "unscheduled": unscheduled,
            "unscheduled_total": s.unscheduled.len(),
            "requests": s.schedule.meetings.len() + s.unscheduled.len(),
            // Most of those left out found no free table: more tables would hold more.
            "tables_short": s.unscheduled.iter().filter(|(_, r)| *r == Reason::Capacity).count() * 2
                > s.unscheduled.len(),
            "load": load,
        })
    });
    let scheduled = state.store.count_scheduled_meetings(event.id).await?;
    let published_meetings: Vec<_> = state
        .store
        .event_meetings(event.id)
        .await?
        .into_iter()
        .take(SHOWN)
        .map(|(m, r)| serde_json::json!({
            "id": m.id,
            "when": crate::events::format_instant(m.slot_start, Some(&event.time_zone), ctx.locale),
            "table": m.table_no,
            "pair": format!("{} – {}", names.get(&r.from_user).cloned().unwrap_or_default(), names.get(&r.to_user).cloned().unwrap_or_default()),
            "pinned": m.pinned,
        }))
        .collect();
    let r = render(
        state,
        &ctx.reader(),
        "schedule.html",
        serde_json::json!({
            "event": crate::events::event_json(event, ctx.locale),
            "accepted": accepted.len(),
            "scheduled": scheduled,
            "running": running,
            "draft": draft,
            "failed": failed,
            "published": published,
            "meetings": published_meetings,
            "shown": SHOWN,
            "self_booking": event.rules.scheduling == kontor_domain::SchedulingMode::SelfBooking,
            "values": values,
            "errors": form["errors"],
        }),
    );
    Ok(r)
}

/// Where a meeting of the draft takes place: the optimiser gives every on-site meeting a table
/// and online ones none (a published meeting may change either way at a hybrid fair).
fn mode_of(table: Option<i32>) -> MeetingMode {
    match table {
        Some(_) => MeetingMode::OnSite,
        None => MeetingMode::Online,
    }
}

/// Published meetings listed on the page (for pinning); the meetings export has all of them.
const SHOWN: usize = 1000;

/// Applies the draft: meetings that moved or disappeared are cancelled (their calendar entries
/// say so), new and moved ones are booked, unchanged ones stay as they are; one transaction.
async fn publish(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let event = crate::events::organiser_event(&state, &ctx, &slug).await?;
    let Some(Job::Done(draft)) = state.jobs.get(event.id) else {
        return Err(AppError::Rejected("error-no-draft"));
    };
    let now_seen = meeting_versions(&state, event.id).await?;
    if *draft.seen.lock().expect("not poisoned") != now_seen {
        return Err(AppError::Rejected("error-schedule-stale"));
    }
    let accepted: HashMap<String, kontor_store::matchmaking::MeetingRequest> = state
        .store
        .accepted_requests(event.id)
        .await?
        .into_iter()
        .map(|r| (r.id.to_string(), r))
        .collect();
    let live: HashMap<String, kontor_store::matchmaking::Meeting> = state
        .store
        .scheduled_meetings(event.id)
        .await?
        .into_iter()
        .filter(|m| accepted.contains_key(&m.request_id.to_string()))
        .map(|m| (m.request_id.to_string(), m))
        .collect();
    let wanted: HashMap<&str, &ScheduledMeeting> = draft
        .solution
        .schedule
        .meetings
        .iter()
        .map(|m| (m.request.as_str(), m))
        .collect();
    // Plan first: reads must not happen while the transaction holds SQLite's writer.
    let mut cancel = vec![];
    let mut moves = vec![];
    let mut book = vec![];
    let mut touched = std::collections::BTreeSet::new();
    for (request, m) in &live {
        if !wanted.contains_key(request.as_str()) {
            cancel.push(m.id);
            if let Some(r) = accepted.get(request) {
                touched.extend([r.from_user, r.to_user]);
            }
        }
    }
    for (request, w) in &wanted {
        // Declined or cancelled since the run: left out.
        let (Some(r), Some(times)) = (accepted.get(*request), draft.slots.get(&w.slot)) else {
            continue;
        };
        let table = w.table.map(|t| t as i32);
        match live.get(*request) {
            Some(m) if m.slot_start == times.0 && m.table_no == table => continue,
            // Moved: the same meeting (and calendar UID) in another slot or at another table.
            Some(m) => moves.push((m.id, r, *times, table)),
            None => book.push((r, *times, table)),
        }
        touched.extend([r.from_user, r.to_user]);
    }
    let mut mails = vec![];
    for user in &touched {
        let u = state.store.user(*user).await?;
        mails.push(
            state
                .composer
                .agenda_changed(&u, &event.title, event.slug.as_str()),
        );
    }
    let now = now_micros();
    let mut tx = state.store.begin().await?;
    // Again, alone under the event's exclusive lock: a booking, cancellation or event edit
    // since the check above must not be undone by an older draft, and none can land before
    // this commits.
    let now_event = tx.lock_event(event.id, EventLock::Exclusive).await?;
    let slots = now_event.slots;
    let versions = versions_in(&mut tx, event.id).await?;
    if *draft.seen.lock().expect("not poisoned") != versions
        || moves
            .iter()
            .map(|(.., times, _)| times)
            .chain(book.iter().map(|(_, times, _)| times))
            .any(|times| !slots.contains(times))
    {
        return Err(AppError::Rejected("error-schedule-stale"));
    }
    let stale = |e: kontor_store::StoreError| match e {
        // A participant booked this slot, or cancelled a request or meeting, since the run:
        // the organiser runs again.
        kontor_store::StoreError::Conflict(_) | kontor_store::StoreError::NotFound => {
            AppError::Rejected("error-schedule-stale")
        }
        e => e.into(),
    };
    for id in cancel {
        tx.cancel_meeting(id, now).await.map_err(stale)?;
    }
    for (id, ..) in &moves {
        tx.release_meeting_slot(*id).await?;
    }
    for (id, r, times, table) in moves {
        tx.move_meeting(
            id,
            event.id,
            &[r.from_user, r.to_user],
            times,
            (table, mode_of(table)),
            now,
        )
        .await
        .map_err(stale)?;
    }
    for (r, times, table) in book {
        tx.book_meeting(
            r,
            &[r.from_user, r.to_user],
            times,
            mode_of(table),
            table,
            now,
        )
        .await
        .map_err(stale)?;
    }
    for mail in &mails {
        tx.enqueue_mail(mail, now).await?;
    }
    // Publishing the same draft again is then a no-op, not "stale": the versions as this
    // transaction leaves them (read after the commit, a booking in between would count).
    let published = versions_in(&mut tx, event.id).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    *draft.seen.lock().expect("not poisoned") = published;
    draft
        .published
        .store(true, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(event = %event.slug, changed = touched.len(), "agenda published");
    Ok(Redirect::to(&format!(
        "/events/{slug}/schedule?published={}",
        touched.len()
    ))
    .into_response())
}

/// Pins a published meeting (the next run keeps it in its slot) or unpins it.
async fn pin(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let event = crate::events::organiser_event(&state, &ctx, &slug).await?;
    let meeting: Uuid = form
        .get("meeting")
        .parse()
        .map_err(|_| AppError::field("meeting", kontor_domain::Invalid::new("invalid-choice")))?;
    let mut tx = state.store.begin().await?;
    tx.set_pinned(event.id, meeting, form.get("pinned") == "true")
        .await?;
    tx.commit().await?;
    // Back to the row, not to the top of a long table.
    Ok(Redirect::to(&format!("/events/{slug}/schedule#m-{meeting}")).into_response())
}
