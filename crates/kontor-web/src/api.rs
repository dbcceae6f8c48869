//! The JSON API under `/api/v1`: the same operations as the pages, for scripts and integrations.
//! Authentication by `Authorization: Bearer <token>` (tokens are made on the profile page).
//! Errors are `application/problem+json`. The OpenAPI document is generated from this module and
//! served at `/api/v1/openapi.json`; `docs/openapi.json` is its snapshot.

use axum::Router;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use kontor_domain::{Keyed, Locale, ParticipantRole, RegistrationStatus};
use kontor_store::events::Event;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{CurrentUser, MaybeUser};
use crate::cvs;
use crate::error::AppError;
use crate::form::FormData;
use crate::partnerships;
use crate::subscribe;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/events", get(list_events).post(create_event))
        .route("/events/{slug}", get(get_event).put(update_event))
        .route(
            "/events/{slug}/registrations",
            post(register).delete(withdraw),
        )
        .route("/events/{slug}/participants", get(participants))
        .route("/events/{slug}/registrations/{id}/decision", post(decide))
        .route(
            "/events/{slug}/requests",
            get(my_requests).post(create_request),
        )
        .route(
            "/events/{slug}/requests/{id}/{action}",
            post(request_action),
        )
        .route("/events/{slug}/agenda", get(agenda))
        .route("/search", get(search))
        .route("/opportunities", post(create_opportunity))
        .route(
            "/opportunities/{id}",
            get(get_opportunity).put(update_opportunity),
        )
        .route(
            "/events/{slug}/availability",
            axum::routing::put(put_availability),
        )
        .route("/me", get(me).put(update_me))
        .route("/me/registrations", get(my_registrations))
        .route("/organisations", get(list_organisations))
        .route("/organisations/{id}", get(get_organisation))
        .route("/people/{id}", get(get_person))
        .route("/people/{id}/cv", get(cvs::api::download))
        .route("/me/cv", axum::routing::delete(cvs::api::delete))
        .route("/me/cv/sharing", axum::routing::put(cvs::api::sharing))
        .route("/newsletter/subscriptions", post(subscribe::api::subscribe))
        .route("/newsletter/subscribers", get(subscribe::api::subscribers))
        .route("/partnerships", get(partnerships::api::list))
        .route("/partnerships/{slug}", get(partnerships::api::get))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Kontor API", version = "1", description = "Events, registrations, organisations, people and partnerships of a Kontor deployment. Authenticate with `Authorization: Bearer <token>`; tokens are created on the profile page. Errors are RFC 9457 problem documents."),
    paths(list_events, get_event, create_event, update_event, register, withdraw, participants, decide, my_requests, create_request, request_action, agenda, search, create_opportunity, get_opportunity, update_opportunity, put_availability, me, update_me, my_registrations, list_organisations, get_organisation, get_person, cvs::api::put, cvs::api::delete, cvs::api::sharing, cvs::api::download, subscribe::api::subscribe, subscribe::api::subscribers, partnerships::api::list, partnerships::api::get),
    components(schemas(Problem, FieldProblem)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;
impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "token",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// The OpenAPI document, pretty-printed (also what `docs/openapi.json` holds).
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the document serialises")
}

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
        .into_response()
}

/// An RFC 9457 problem document.
#[derive(Serialize, ToSchema)]
pub(crate) struct Problem {
    r#type: String,
    title: String,
    status: u16,
    /// A stable, machine-readable code such as `error-not-found`.
    code: String,
    errors: Option<Vec<FieldProblem>>,
}
#[derive(Serialize, ToSchema)]
struct FieldProblem {
    field: String,
    code: String,
    message: String,
}

/// A JSON body whose rejection is a problem document like every other error.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::field("body", kontor_domain::Invalid::new("invalid-json")))?;
        // An empty body reads as `{}`: operations whose fields are all optional need none.
        let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        serde_json::from_slice(bytes)
            .map(ApiJson)
            .map_err(|_| AppError::field("body", kontor_domain::Invalid::new("invalid-json")))
    }
}

// ----- events -----

#[derive(Serialize, ToSchema)]
struct EventSummary {
    slug: String,
    /// The title in every language it was written in.
    title: std::collections::BTreeMap<String, String>,
    kind: String,
    format: String,
    time_zone: String,
    starts_on: String,
    ends_on: String,
    registration_open: bool,
    needs_approval: bool,
    roles: Vec<String>,
}

/// Everything `PUT /api/v1/events/{slug}` takes, and more: a client can read, change and
/// write back.
#[derive(Serialize, ToSchema)]
struct EventDetail {
    #[serde(flatten)]
    summary: EventSummary,
    description: std::collections::BTreeMap<String, String>,
    venue: Option<String>,
    /// First day of registration (from midnight in the event's time zone).
    registration_opens: String,
    /// Last day of registration.
    registration_closes: String,
    /// `self-booking` or `organiser`.
    scheduling: String,
    max_requests: Option<i32>,
    max_meetings: Option<i32>,
    /// Meetings only between participants of different roles.
    different_roles_only: bool,
    sessions: Vec<SessionOut>,
}

#[derive(Serialize, ToSchema)]
struct SessionOut {
    #[serde(flatten)]
    times: SessionIn,
    /// Slot start instants in UTC (RFC 3339).
    slots: Vec<String>,
}

/// A matchmaking session: a day's run of meeting slots, in the event's time zone.
#[derive(Deserialize, Serialize, ToSchema)]
struct SessionIn {
    /// `YYYY-MM-DD`, within the event's days.
    day: String,
    /// `HH:MM`.
    start: String,
    end: String,
    slot_minutes: i32,
    /// A pause without meetings (`HH:MM`, both or neither; at most one per session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    break_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    break_end: Option<String>,
}

/// A new event, or an event's new state (`PUT` replaces all of it, apart from the address).
#[derive(Deserialize, ToSchema)]
struct EventIn {
    /// The address (`/events/{slug}`): lowercase letters, digits and hyphens; made from the
    /// English or German title when absent. An existing event keeps its own.
    #[serde(default)]
    slug: Option<String>,
    /// `trade-fair`, `job-fair` or `conference`.
    kind: String,
    /// `on-site`, `online` or `hybrid`.
    format: String,
    /// Title per language (`de`, `en`, `zh`); at least one.
    title: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    description: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    venue: Option<String>,
    /// An IANA time zone, e.g. `Europe/Berlin` or `Asia/Shanghai`.
    time_zone: String,
    /// `YYYY-MM-DD`.
    starts_on: String,
    ends_on: String,
    /// First day of registration (from midnight in the event's time zone).
    registration_opens: String,
    /// Last day of registration (until the following midnight); not after the event.
    registration_closes: String,
    #[serde(default)]
    needs_approval: bool,
    /// Participant roles, e.g. `exhibitor`, `visitor`; absent or empty: the kind's defaults.
    #[serde(default)]
    roles: Vec<String>,
    /// `self-booking` (default) or `organiser`.
    #[serde(default)]
    scheduling: Option<String>,
    /// Requests a participant may send (1–1000); absent: no limit.
    #[serde(default)]
    max_requests: Option<i32>,
    /// Meetings a participant may have (1–1000); absent: no limit.
    #[serde(default)]
    max_meetings: Option<i32>,
    #[serde(default)]
    different_roles_only: bool,
    /// At most four sessions, not overlapping.
    #[serde(default)]
    sessions: Vec<SessionIn>,
}

/// The event as the web form's fields: both paths parse and validate alike (field names in
/// errors are the form's: `session_day_0` is the first session).
fn event_form(body: &EventIn) -> Result<FormData, AppError> {
    let invalid = |field: &str, key: &'static str| {
        Err(AppError::field(field, kontor_domain::Invalid::new(key)))
    };
    for (field, texts) in [("title", &body.title), ("description", &body.description)] {
        if texts
            .keys()
            .any(|l| kontor_domain::Locale::parse(l).is_err())
        {
            return invalid(field, "invalid-locale");
        }
    }
    for (i, s) in body.sessions.iter().enumerate() {
        // The form skips a row without a day, and a break without its start; a client means
        // something by them.
        if s.day.trim().is_empty() {
            return invalid(&format!("session_day_{i}"), "invalid-date");
        }
        if s.break_start.is_some() != s.break_end.is_some() {
            return invalid(&format!("session_break_start_{i}"), "invalid-time");
        }
    }
    if body.sessions.len() > 4 {
        return Err(AppError::field(
            "sessions",
            kontor_domain::Invalid::new("invalid-sessions-too-many"),
        ));
    }
    if body
        .roles
        .iter()
        .any(|r| ParticipantRole::from_key(r).is_none())
    {
        return Err(AppError::field(
            "roles",
            kontor_domain::Invalid::new("invalid-choice"),
        ));
    }
    let mut pairs: Vec<(String, String)> = vec![
        ("slug".into(), body.slug.clone().unwrap_or_default()),
        ("kind".into(), body.kind.clone()),
        ("format".into(), body.format.clone()),
        ("venue".into(), body.venue.clone().unwrap_or_default()),
        ("time_zone".into(), body.time_zone.clone()),
        ("starts_on".into(), body.starts_on.clone()),
        ("ends_on".into(), body.ends_on.clone()),
        ("registration_opens".into(), body.registration_opens.clone()),
        (
            "registration_closes".into(),
            body.registration_closes.clone(),
        ),
        (
            "scheduling".into(),
            body.scheduling.clone().unwrap_or_default(),
        ),
    ];
    for (lang, text) in &body.title {
        pairs.push((format!("title_{lang}"), text.clone()));
    }
    for (lang, text) in &body.description {
        pairs.push((format!("description_{lang}"), text.clone()));
    }
    pairs.extend(body.roles.iter().map(|r| ("roles".to_string(), r.clone())));
    for (name, n) in [
        ("max_requests", body.max_requests),
        ("max_meetings", body.max_meetings),
    ] {
        pairs.push((name.into(), n.map(|n| n.to_string()).unwrap_or_default()));
    }
    for (name, on) in [
        ("needs_approval", body.needs_approval),
        ("different_roles_only", body.different_roles_only),
    ] {
        if on {
            pairs.push((name.into(), "on".into()));
        }
    }
    for (i, s) in body.sessions.iter().enumerate() {
        pairs.extend([
            (format!("session_day_{i}"), s.day.clone()),
            (format!("session_start_{i}"), s.start.clone()),
            (format!("session_end_{i}"), s.end.clone()),
            (format!("session_slot_{i}"), s.slot_minutes.to_string()),
            (
                format!("session_break_start_{i}"),
                s.break_start.clone().unwrap_or_default(),
            ),
            (
                format!("session_break_end_{i}"),
                s.break_end.clone().unwrap_or_default(),
            ),
        ]);
    }
    Ok(FormData(pairs))
}

fn texts(t: &kontor_domain::LocalizedText) -> std::collections::BTreeMap<String, String> {
    t.languages()
        .map(|l| {
            (
                l.key().to_string(),
                t.exact(l).unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn summary(e: &Event) -> EventSummary {
    EventSummary {
        slug: e.slug.to_string(),
        title: texts(&e.title),
        kind: e.kind.key().into(),
        format: e.format.key().into(),
        time_zone: e.time_zone.to_string(),
        starts_on: e.starts_on.to_string(),
        ends_on: e.ends_on.to_string(),
        registration_open: e.registration_open(kontor_domain::now_micros()),
        needs_approval: e.needs_approval,
        roles: e.roles.iter().map(|r| r.key().to_string()).collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", responses((status = 200, body = Vec<EventSummary>)))]
async fn list_events(State(state): State<AppState>) -> Result<Json<Vec<EventSummary>>, AppError> {
    Ok(Json(
        state
            .store
            .events_not_ended(jiff::Timestamp::now())
            .await?
            .iter()
            .map(summary)
            .collect(),
    ))
}

async fn load(state: &AppState, slug: &str) -> Result<Event, AppError> {
    let e = state.store.event_by_slug(slug).await?;
    if e.published {
        Ok(e)
    } else {
        Err(AppError::NotFound)
    }
}

#[utoipa::path(get, path = "/api/v1/events/{slug}", tag = "events", params(("slug" = String, Path)),
    responses((status = 200, body = EventDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_event(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<EventDetail>, AppError> {
    let e = load(&state, &slug).await?;
    Ok(Json(detail(&state, &e).await?))
}

async fn detail(state: &AppState, e: &Event) -> Result<EventDetail, AppError> {
    let hm = |t: jiff::civil::Time| t.strftime("%H:%M").to_string();
    let sessions = state
        .store
        .event_sessions(e.id)
        .await?
        .iter()
        .map(|s| SessionOut {
            times: SessionIn {
                day: s.day.to_string(),
                start: hm(s.start),
                end: hm(s.end),
                slot_minutes: s.slot_minutes,
                break_start: s.breaks.first().map(|b| hm(b.0)),
                break_end: s.breaks.first().map(|b| hm(b.1)),
            },
            slots: s
                .slots(&e.time_zone)
                .iter()
                .map(|slot| slot.start.to_string())
                .collect(),
        })
        .collect();
    let (opens, closes) = crate::events::registration_days(e);
    Ok(EventDetail {
        summary: summary(e),
        description: texts(&e.description),
        venue: e.venue.clone(),
        registration_opens: opens.to_string(),
        registration_closes: closes.to_string(),
        scheduling: e.rules.scheduling.key().into(),
        max_requests: e.rules.max_requests,
        max_meetings: e.rules.max_meetings,
        different_roles_only: e.rules.allowed_pairs.is_some(),
        sessions,
    })
}

/// Fields of [`EventDetail`] that `EventIn` does not take but a client may send back as it got
/// them; any other unknown field is refused (a misspelt `max_meeting` must not reset a limit).
const EVENT_READ_ONLY: [&str; 1] = ["registration_open"];
const EVENT_FIELDS: [&str; 18] = [
    "slug",
    "kind",
    "format",
    "title",
    "description",
    "venue",
    "time_zone",
    "starts_on",
    "ends_on",
    "registration_opens",
    "registration_closes",
    "needs_approval",
    "roles",
    "scheduling",
    "max_requests",
    "max_meetings",
    "different_roles_only",
    "sessions",
];
const SESSION_FIELDS: [&str; 7] = [
    "day",
    "start",
    "end",
    "slot_minutes",
    "break_start",
    "break_end",
    "slots",
];

/// Parses an event body strictly (see [`EVENT_READ_ONLY`]).
fn event_in(body: serde_json::Value) -> Result<EventIn, AppError> {
    let unknown = |field: &str| {
        Err(AppError::field(
            field,
            kontor_domain::Invalid::new("invalid-field"),
        ))
    };
    let Some(fields) = body.as_object() else {
        return unknown("body");
    };
    for key in fields.keys() {
        if !EVENT_FIELDS.contains(&key.as_str()) && !EVENT_READ_ONLY.contains(&key.as_str()) {
            return unknown(key);
        }
    }
    for (i, s) in fields
        .get("sessions")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        for key in s.as_object().into_iter().flat_map(|o| o.keys()) {
            if !SESSION_FIELDS.contains(&key.as_str()) {
                return unknown(&format!("sessions[{i}].{key}"));
            }
        }
    }
    serde_json::from_value(body)
        .map_err(|_| AppError::field("body", kontor_domain::Invalid::new("invalid-json")))
}

#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = EventIn, security(("token" = [])),
    responses((status = 201, body = EventDetail), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
/// Creates an event (administrators); it is public at once, like one made with the form.
async fn create_event(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, AppError> {
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let body = event_in(body)?;
    let new = crate::events::parse_event_form(&event_form(&body)?).map_err(|e| e.into_error())?;
    let mut tx = state.store.begin().await?;
    match tx
        .create_event(&new, user.id, kontor_domain::now_micros())
        .await
    {
        Ok(_) => {}
        Err(kontor_store::StoreError::Conflict(_)) => {
            return Err(AppError::field(
                "slug",
                kontor_domain::Invalid::new("invalid-slug-taken"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    let e = state.store.event_by_slug(new.slug.as_str()).await?;
    Ok((StatusCode::CREATED, Json(detail(&state, &e).await?)).into_response())
}

#[utoipa::path(put, path = "/api/v1/events/{slug}", tag = "events", params(("slug" = String, Path)),
    request_body = EventIn, security(("token" = [])),
    responses((status = 200, body = EventDetail), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid, or a booked meeting would lose its slot (`invalid-sessions-in-use` on `sessions`)",
            body = Problem, content_type = "application/problem+json")))]
/// Replaces an event's details and sessions (its organisers). The address stays; sessions may
/// change only while every booked meeting keeps its slot. A registration day sent back
/// unchanged keeps its stored time. Unknown fields are refused (`invalid-field`), apart from
/// the read-only ones of the event as `GET` returns it. Events with more than the body can
/// express (more than four sessions, several breaks in one) are refused
/// (`error-event-not-editable`).
async fn update_event(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<EventDetail>, AppError> {
    let event = load(&state, &slug).await?;
    if !crate::events::can_organise(&state, &event, &user).await? {
        return Err(AppError::Forbidden);
    }
    // What the body cannot express (a fifth session, a second break, one-way pairs of roles)
    // would be lost by replacing the event with it.
    crate::events::require_editable(&state, &event).await?;
    let body = event_in(body)?;
    let mut form = event_form(&body)?;
    form.0.retain(|(k, _)| k != "slug");
    form.0.push(("slug".into(), event.slug.to_string()));
    let changed = crate::events::parse_event_form(&form).map_err(|e| e.into_error())?;
    if !crate::events::save_changes(&state, &event, &changed)
        .await?
        .is_empty()
    {
        return Err(AppError::field(
            "sessions",
            kontor_domain::Invalid::new("invalid-sessions-in-use"),
        ));
    }
    let e = state.store.event_by_slug(&slug).await?;
    Ok(Json(detail(&state, &e).await?))
}

#[derive(Deserialize, ToSchema)]
struct RegistrationIn {
    /// One of the event's roles, e.g. `exhibitor`.
    role: String,
    message: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct RegistrationOut {
    event: String,
    role: String,
    /// `pending`, `approved`, `rejected` or `cancelled`.
    status: String,
}

#[utoipa::path(post, path = "/api/v1/events/{slug}/registrations", tag = "registrations", params(("slug" = String, Path)),
    request_body = RegistrationIn, security(("token" = [])),
    responses((status = 201, body = RegistrationOut), (status = 401, body = Problem, content_type = "application/problem+json"),
               (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn register(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<RegistrationIn>,
) -> Result<Response, AppError> {
    let e = load(&state, &slug).await?;
    let role = ParticipantRole::from_key(&body.role)
        .filter(|r| e.roles.contains(r))
        .ok_or(AppError::field(
            "role",
            kontor_domain::Invalid::new("invalid-role"),
        ))?;
    let message = kontor_domain::Text::optional_block(body.message.as_deref().unwrap_or(""), 1000)
        .map_err(|i| AppError::field("message", i))?;
    let status = crate::events::register_user(
        &state,
        &e,
        &user,
        role,
        message.as_ref().map(|m| m.as_str()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(RegistrationOut {
            event: slug,
            role: role.key().into(),
            status: status.key().into(),
        }),
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
struct ParticipantOut {
    registration: Uuid,
    user: Uuid,
    name: String,
    email: String,
    organisation: Option<String>,
    country: Option<String>,
    role: String,
    status: String,
}

#[utoipa::path(get, path = "/api/v1/events/{slug}/participants", tag = "registrations", params(("slug" = String, Path)),
    security(("token" = [])), responses((status = 200, body = Vec<ParticipantOut>), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn participants(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Json<Vec<ParticipantOut>>, AppError> {
    let e = load(&state, &slug).await?;
    if !(user.is_admin || state.store.is_organiser(e.id, user.id).await?) {
        return Err(AppError::Forbidden);
    }
    Ok(Json(
        state
            .store
            .participants(e.id, None)
            .await?
            .into_iter()
            .map(|p| ParticipantOut {
                registration: p.registration.id,
                user: p.registration.user_id,
                name: p.name,
                email: p.email,
                organisation: p.organisation,
                country: p.country,
                role: p.registration.role.key().into(),
                status: p.registration.status.key().into(),
            })
            .collect(),
    ))
}

/// The caller withdraws their own registration; their open meeting requests and meetings at
/// the event are cancelled and the partners told. Repeating it changes nothing.
#[utoipa::path(delete, path = "/api/v1/events/{slug}/registrations", tag = "registrations", params(("slug" = String, Path)),
    security(("token" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"),
               (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn withdraw(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<StatusCode, AppError> {
    let e = load(&state, &slug).await?;
    crate::events::withdraw_registration(&state, &e, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
struct DecisionIn {
    /// `approve` or `reject`.
    decision: String,
}

#[utoipa::path(post, path = "/api/v1/events/{slug}/registrations/{id}/decision", tag = "registrations",
    params(("slug" = String, Path), ("id" = Uuid, Path)), request_body = DecisionIn, security(("token" = [])),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn decide(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, id)): Path<(String, Uuid)>,
    ApiJson(body): ApiJson<DecisionIn>,
) -> Result<StatusCode, AppError> {
    let e = load(&state, &slug).await?;
    let status = match body.decision.as_str() {
        "approve" => RegistrationStatus::Approved,
        "reject" => RegistrationStatus::Rejected,
        _ => {
            return Err(AppError::field(
                "decision",
                kontor_domain::Invalid::new("invalid-decision"),
            ));
        }
    };
    crate::events::decide_registration(&state, &e, &user, id, status).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- me -----

#[derive(Serialize, ToSchema)]
struct MeOut {
    id: Uuid,
    email: String,
    name: String,
    job_title: Option<String>,
    organisation: Option<Uuid>,
    languages: Vec<String>,
    time_zone: String,
    locale: String,
    phone: Option<String>,
    contact_public: bool,
    is_admin: bool,
    /// One's CV, if uploaded (`PUT /api/v1/me/cv`).
    cv: Option<cvs::api::CvOut>,
}

async fn me_out(state: &AppState, u: &kontor_store::accounts::User) -> Result<MeOut, AppError> {
    let cv = state.store.cv(u.id).await?;
    Ok(MeOut {
        id: u.id,
        email: u.email.to_string(),
        name: u.name.clone(),
        job_title: u.job_title.clone(),
        organisation: u.organisation_id,
        languages: u.languages.clone(),
        time_zone: u.time_zone.to_string(),
        locale: u.locale.key().into(),
        phone: u.phone.clone(),
        contact_public: u.contact_public,
        is_admin: u.is_admin,
        cv: cv.as_ref().map(cvs::api::cv_out),
    })
}

#[utoipa::path(get, path = "/api/v1/me", tag = "people", security(("token" = [])),
    responses((status = 200, body = MeOut), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<MeOut>, AppError> {
    Ok(Json(me_out(&state, &user).await?))
}

#[derive(Deserialize, ToSchema)]
struct ProfileIn {
    name: String,
    job_title: Option<String>,
    /// IANA time-zone name, e.g. `Asia/Shanghai`.
    time_zone: String,
    /// `de`, `en` or `zh`.
    locale: String,
    phone: Option<String>,
    #[serde(default)]
    contact_public: bool,
    #[serde(default)]
    languages: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/me", tag = "people", request_body = ProfileIn, security(("token" = [])),
    responses((status = 200, body = MeOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ProfileIn>,
) -> Result<Json<MeOut>, AppError> {
    // The same parser as the profile form, so both paths validate alike.
    let mut pairs = vec![
        ("name".to_string(), body.name),
        ("job_title".to_string(), body.job_title.unwrap_or_default()),
        ("time_zone".to_string(), body.time_zone),
        ("locale".to_string(), body.locale),
        ("phone".to_string(), body.phone.unwrap_or_default()),
        (
            "contact_public".to_string(),
            body.contact_public.to_string(),
        ),
    ];
    for l in &body.languages {
        if !crate::profile::MEETING_LANGUAGES.contains(&l.as_str()) {
            return Err(AppError::field(
                "languages",
                kontor_domain::Invalid::new("invalid-locale"),
            ));
        }
        pairs.push(("languages".to_string(), l.clone()));
    }
    let update = crate::profile::parse_person(&FormData(pairs)).map_err(|e| e.into_error())?;
    let mut tx = state.store.begin().await?;
    tx.update_profile(user.id, &update).await?;
    tx.commit().await?;
    Ok(Json(
        me_out(&state, &state.store.user(user.id).await?).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/me/registrations", tag = "registrations", security(("token" = [])),
    responses((status = 200, body = Vec<RegistrationOut>), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn my_registrations(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Vec<RegistrationOut>>, AppError> {
    Ok(Json(
        state
            .store
            .registrations_of_user(user.id)
            .await?
            .into_iter()
            .map(|(r, e)| RegistrationOut {
                event: e.slug.to_string(),
                role: r.role.key().into(),
                status: r.status.key().into(),
            })
            .collect(),
    ))
}

// ----- organisations and people -----

#[derive(Serialize, ToSchema)]
struct OrganisationOut {
    id: Uuid,
    name: String,
    kind: String,
    country: String,
    city: Option<String>,
    website: Option<String>,
    sectors: Vec<String>,
    size: Option<String>,
    description: std::collections::BTreeMap<String, String>,
}

fn org_out(o: &kontor_store::organisations::Organisation) -> OrganisationOut {
    OrganisationOut {
        id: o.id,
        name: o.name.clone(),
        kind: o.kind.key().into(),
        country: o.country.code().into(),
        city: o.city.clone(),
        website: o.website.clone(),
        sectors: o.sectors.iter().map(|s| s.key().to_string()).collect(),
        size: o.size.map(|s| s.key().to_string()),
        description: texts(&o.description),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OrgQuery {
    /// Part of the name.
    q: Option<String>,
    /// Zero-based page of 50.
    page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", params(OrgQuery),
    responses((status = 200, body = Vec<OrganisationOut>)))]
async fn list_organisations(
    State(state): State<AppState>,
    Query(q): Query<OrgQuery>,
) -> Result<Json<Vec<OrganisationOut>>, AppError> {
    let page = q.page.unwrap_or(0).clamp(0, crate::organisations::MAX_PAGE);
    let orgs = state
        .store
        .organisations(
            q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()),
            50,
            page * 50,
        )
        .await?;
    Ok(Json(orgs.iter().map(org_out).collect()))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations", params(("id" = Uuid, Path)),
    responses((status = 200, body = OrganisationOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_organisation(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<OrganisationOut>, AppError> {
    Ok(Json(org_out(&state.store.organisation(id).await?)))
}

#[derive(Serialize, ToSchema)]
struct PersonOut {
    id: Uuid,
    name: String,
    job_title: Option<String>,
    organisation: Option<Uuid>,
    languages: Vec<String>,
    time_zone: String,
    /// Only for the person, administrators, or when the person made it public.
    email: Option<String>,
    phone: Option<String>,
    /// Only for those who may read the CV (see `GET /api/v1/people/{id}/cv`).
    cv: Option<cvs::api::CvOut>,
}

#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", params(("id" = Uuid, Path)),
    responses((status = 200, body = PersonOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_person(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path(id): Path<Uuid>,
) -> Result<Json<PersonOut>, AppError> {
    let p = state.store.user(id).await?;
    let contact = crate::organisations::sees_contact(viewer.0.as_ref(), &p);
    let cv = match &viewer.0 {
        Some(v) if state.store.may_see_cv(v.id, p.id).await? => state.store.cv(p.id).await?,
        _ => None,
    };
    Ok(Json(PersonOut {
        id: p.id,
        name: p.name.clone(),
        job_title: p.job_title.clone(),
        organisation: p.organisation_id,
        languages: p.languages.clone(),
        time_zone: p.time_zone.to_string(),
        email: contact.then(|| p.email.to_string()),
        phone: if contact { p.phone.clone() } else { None },
        cv: cv.as_ref().map(cvs::api::cv_out),
    }))
}

// ----- matchmaking -----

#[derive(Serialize, ToSchema)]
struct MeetingOut {
    id: Uuid,
    /// RFC 3339, UTC.
    start: String,
    end: String,
    /// `on-site` or `online`.
    mode: String,
    table: Option<i32>,
    /// Raised on every change (as in the calendar feed).
    sequence: i32,
    partner: Uuid,
    partner_name: String,
}

#[derive(Serialize, ToSchema)]
struct RequestOut {
    id: Uuid,
    from: Uuid,
    to: Uuid,
    /// `pending`, `accepted`, `declined` or `cancelled`.
    status: String,
    /// `must` or `would-like`.
    priority: String,
    message: Option<String>,
    opportunity: Option<Uuid>,
    /// The time the requester proposed (a slot start, RFC 3339), if any.
    proposed_start: Option<String>,
    /// While the request waits for an answer: until when its proposed time is held against
    /// other proposals to or by either side (RFC 3339; three days after it was sent). In the
    /// past once the hold has ended: the time may then be taken by another request.
    proposed_held_until: Option<String>,
    meeting: Option<MeetingOut>,
}

pub(crate) fn instant(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

async fn meeting_out(
    state: &AppState,
    m: &kontor_store::matchmaking::Meeting,
    partner: Uuid,
) -> Result<MeetingOut, AppError> {
    Ok(MeetingOut {
        id: m.id,
        start: instant(m.slot_start),
        end: instant(m.slot_end),
        mode: m.mode.key().into(),
        table: m.table_no,
        sequence: m.sequence,
        partner,
        partner_name: state.store.user(partner).await?.name,
    })
}

#[utoipa::path(get, path = "/api/v1/events/{slug}/requests", tag = "meetings", params(("slug" = String, Path)),
    security(("token" = [])), responses((status = 200, body = Vec<RequestOut>), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn my_requests(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Json<Vec<RequestOut>>, AppError> {
    let e = load(&state, &slug).await?;
    let mut out = vec![];
    for r in state.store.meeting_requests_of(e.id, user.id).await? {
        let meeting = match state.store.meeting_of_request(r.id).await? {
            Some(m) => Some(meeting_out(&state, &m, r.partner_of(user.id)).await?),
            None => None,
        };
        out.push(RequestOut {
            id: r.id,
            from: r.from_user,
            to: r.to_user,
            status: r.status.key().into(),
            priority: r.priority.key().into(),
            message: r.message.clone(),
            opportunity: r.opportunity_id,
            proposed_start: r.proposed_slot.map(instant),
            proposed_held_until: r.held_until().map(instant),
            meeting,
        });
    }
    Ok(Json(out))
}

#[derive(Deserialize, ToSchema)]
struct RequestIn {
    /// The person to meet (a confirmed participant of the event).
    to: Uuid,
    message: Option<String>,
    /// `must` or `would-like` (default).
    priority: Option<String>,
    opportunity: Option<Uuid>,
    /// At a self-booking event: a time to propose, as a slot start in microseconds since the
    /// epoch (see the event's `slots`) that both sides have free. The meeting is booked there
    /// when the request is accepted, if both are still free then.
    proposed_slot: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct CreatedOut {
    id: Uuid,
}

#[utoipa::path(post, path = "/api/v1/events/{slug}/requests", tag = "meetings", params(("slug" = String, Path)),
    request_body = RequestIn, security(("token" = [])),
    responses((status = 201, body = CreatedOut), (status = 409, body = Problem, content_type = "application/problem+json"),
               (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_request(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<RequestIn>,
) -> Result<Response, AppError> {
    let e = load(&state, &slug).await?;
    let priority = match body.priority.as_deref() {
        None => kontor_domain::MeetingPriority::WouldLike,
        Some(p) => kontor_domain::MeetingPriority::from_key(p).ok_or(AppError::field(
            "priority",
            kontor_domain::Invalid::new("invalid-choice"),
        ))?,
    };
    let message = kontor_domain::Text::optional_block(body.message.as_deref().unwrap_or(""), 1000)
        .map_err(|i| AppError::field("message", i))?;
    if let Some(key) = crate::meetings::request_refusal(&state, &e, user.id, body.to).await? {
        return Err(AppError::Rejected(key));
    }
    if let Some(o) = body.opportunity {
        crate::meetings::opportunity_offered(&state, &e, body.to, o)
            .await?
            .map_err(|i| AppError::field("opportunity", i))?;
    }
    let proposed = crate::meetings::parse_proposal(
        &state,
        &e,
        user.id,
        body.to,
        &body
            .proposed_slot
            .map(|s| s.to_string())
            .unwrap_or_default(),
    )
    .await?
    .map_err(|i| AppError::field("proposed_slot", i))?;
    let id = crate::meetings::insert_request(
        &state,
        &e,
        &user,
        body.to,
        crate::meetings::Ask {
            message: message.as_ref().map(|m| m.as_str()),
            priority,
            opportunity: body.opportunity,
            proposed_slot: proposed,
        },
    )
    .await?
    .map_err(AppError::Rejected)?;
    Ok((StatusCode::CREATED, Json(CreatedOut { id })).into_response())
}

#[derive(Deserialize, ToSchema)]
struct ActionIn {
    /// With `decline`: why, shown to the requester.
    reason: Option<String>,
    /// With `book`: the slot's start in microseconds since the epoch (self-booking events).
    slot: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/events/{slug}/requests/{id}/{action}", tag = "meetings",
    params(("slug" = String, Path), ("id" = Uuid, Path), ("action" = String, Path, description = "accept, decline, cancel or book; accepting a request that proposed a time books it there when both are still free (see the request's `meeting`)")),
    request_body = ActionIn, security(("token" = [])),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
               (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn request_action(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((slug, id, action)): Path<(String, Uuid, String)>,
    ApiJson(body): ApiJson<ActionIn>,
) -> Result<StatusCode, AppError> {
    let e = load(&state, &slug).await?;
    let slot = body.slot.map(|s| s.to_string()).unwrap_or_default();
    crate::meetings::apply_action(
        &state,
        &e,
        &user,
        id,
        &action,
        body.reason.as_deref().unwrap_or(""),
        &slot,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/events/{slug}/agenda", tag = "meetings", params(("slug" = String, Path)),
    security(("token" = [])), responses((status = 200, body = Vec<MeetingOut>), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn agenda(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Json<Vec<MeetingOut>>, AppError> {
    let e = load(&state, &slug).await?;
    let mut out = vec![];
    for (m, r) in state.store.meetings_of(e.id, user.id).await? {
        if !m.cancelled {
            out.push(meeting_out(&state, &m, r.partner_of(user.id)).await?);
        }
    }
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Words to find (German word forms and Chinese without spaces are understood).
    q: Option<String>,
    /// `organisation`, `person` or `opportunity`.
    kind: Option<String>,
    /// Sector key, e.g. `hydrogen`.
    sector: Option<String>,
    /// ISO country code, e.g. `CN`.
    country: Option<String>,
    /// Opportunity type, e.g. `technology-offer`.
    r#type: Option<String>,
    /// A job posting's kind of work, e.g. `internship`.
    employment: Option<String>,
    /// A job posting's way of working: `on-site`, `hybrid` or `remote`.
    workplace: Option<String>,
    /// Also find job postings whose applications have closed (left out by default).
    closed: Option<bool>,
    /// Zero-based page of 20.
    page: Option<usize>,
}

#[derive(Serialize, ToSchema)]
struct HitOut {
    id: String,
    kind: String,
    title: String,
    /// HTML, escaped, with matches in `<mark>`.
    snippet_html: String,
}

#[derive(Serialize, ToSchema)]
struct SearchOut {
    total: usize,
    hits: Vec<HitOut>,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "marketplace", params(SearchQuery), responses((status = 200, body = SearchOut)))]
async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchOut>, AppError> {
    let one = |v: &Option<String>| {
        v.iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
    };
    let query = kontor_search::Query {
        text: q.q.clone().unwrap_or_default().chars().take(200).collect(),
        kind: q.kind.as_deref().and_then(kontor_search::DocKind::from_key),
        filters: kontor_search::Filters {
            types: one(&q.r#type),
            sectors: one(&q.sector),
            countries: one(&q.country),
            employments: one(&q.employment),
            workplaces: one(&q.workplace),
            hide_closed: q.closed != Some(true),
            ..Default::default()
        },
        limit: 20,
        offset: q.page.unwrap_or(0).min(1000) * 20,
        ..Default::default()
    };
    let r = state
        .search
        .search(&query)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Json(SearchOut {
        total: r.total,
        hits: r
            .hits
            .into_iter()
            .map(|h| HitOut {
                id: h.id,
                kind: h.kind.key().into(),
                title: h.title,
                snippet_html: h.snippet_html,
            })
            .collect(),
    }))
}

// ----- opportunities and availability -----

#[derive(Deserialize, Serialize, ToSchema)]
struct OpportunityIo {
    /// `business-offer`, `business-request`, `technology-offer`, `technology-request`,
    /// `research-partner`, `investment` or `job-posting`.
    kind: String,
    /// Title per language (`de`, `en`, `zh`); at least one.
    title: std::collections::BTreeMap<String, String>,
    /// Description per language; at least one (what is offered or sought, and for whom).
    #[serde(default)]
    description: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    sectors: Vec<String>,
    /// ISO country codes.
    #[serde(default)]
    target_countries: Vec<String>,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    interpreter_needed: bool,
    /// Only at this event (one the author is a confirmed participant of); absent: all of theirs.
    #[serde(default)]
    event: Option<Uuid>,
    /// Required for a `job-posting`, ignored for every other kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job: Option<JobIo>,
}

/// A job posting's facts.
#[derive(Deserialize, Serialize, ToSchema)]
struct JobIo {
    /// `full-time`, `part-time`, `internship`, `working-student`, `apprenticeship` or `thesis`.
    employment: String,
    /// `on-site`, `hybrid` or `remote`.
    workplace: String,
    /// Where the work is ("Köln"); may be empty only for `remote`.
    #[serde(default)]
    location: String,
    /// When the work starts, `YYYY-MM-DD`.
    #[serde(default)]
    starts_on: Option<String>,
    /// The last day (Europe/Berlin) on which candidates may ask for an interview about it,
    /// `YYYY-MM-DD`; not in the past, and not after `starts_on`.
    #[serde(default)]
    apply_by: Option<String>,
}

/// The form's fields for an opportunity sent as JSON: the page's parser checks both alike.
fn opportunity_form(body: &OpportunityIo) -> FormData {
    let mut pairs = vec![("kind".to_string(), body.kind.clone())];
    for (lang, text) in &body.title {
        pairs.push((format!("title_{lang}"), text.clone()));
    }
    for (lang, text) in &body.description {
        pairs.push((format!("description_{lang}"), text.clone()));
    }
    pairs.extend(
        body.sectors
            .iter()
            .map(|s| ("sectors".to_string(), s.clone())),
    );
    pairs.push(("target_countries".into(), body.target_countries.join(",")));
    pairs.extend(
        body.languages
            .iter()
            .map(|l| ("languages".to_string(), l.clone())),
    );
    if body.interpreter_needed {
        pairs.push(("interpreter_needed".into(), "on".into()));
    }
    pairs.push((
        "event".into(),
        body.event.map(|e| e.to_string()).unwrap_or_default(),
    ));
    if let Some(j) = &body.job {
        pairs.extend([
            ("job_employment".into(), j.employment.clone()),
            ("job_workplace".into(), j.workplace.clone()),
            ("job_location".into(), j.location.clone()),
            (
                "job_starts_on".into(),
                j.starts_on.clone().unwrap_or_default(),
            ),
            (
                "job_apply_by".into(),
                j.apply_by.clone().unwrap_or_default(),
            ),
        ]);
    }
    FormData(pairs)
}

#[utoipa::path(post, path = "/api/v1/opportunities", tag = "marketplace", request_body = OpportunityIo, security(("token" = [])),
    responses((status = 201, body = CreatedOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_opportunity(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<OpportunityIo>,
) -> Result<Response, AppError> {
    let form = opportunity_form(&body);
    let allowed = state.store.approved_event_ids(user.id).await?;
    // Field names in errors stay those of the JSON (English) form.
    let fields = crate::marketplace::parse_opportunity(&form, &allowed, Locale::En)
        .map_err(|e| e.into_error())?;
    let id = crate::marketplace::insert_opportunity(&state, &user, &fields).await?;
    Ok((StatusCode::CREATED, Json(CreatedOut { id })).into_response())
}

#[utoipa::path(put, path = "/api/v1/opportunities/{id}", tag = "marketplace", params(("id" = Uuid, Path)),
    request_body = OpportunityIo, security(("token" = [])),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"),
               (status = 422, body = Problem, content_type = "application/problem+json")))]
/// Rewrites one of your opportunities (the whole of it, as on its page): the event it is shown
/// at and a deadline left unchanged may stay.
async fn update_opportunity(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<OpportunityIo>,
) -> Result<StatusCode, AppError> {
    crate::marketplace::rewrite_opportunity(
        &state,
        &user,
        id,
        &opportunity_form(&body),
        Locale::En,
    )
    .await?
    .map_err(|e| e.into_error())?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/opportunities/{id}", tag = "marketplace", params(("id" = Uuid, Path)),
    responses((status = 200, body = OpportunityIo), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_opportunity(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<OpportunityIo>, AppError> {
    let o = state.store.opportunity(id).await?;
    Ok(Json(OpportunityIo {
        kind: o.kind.key().into(),
        title: texts(&o.title),
        description: texts(&o.description),
        sectors: o.sectors.iter().map(|s| s.key().to_string()).collect(),
        target_countries: o
            .target_countries
            .iter()
            .map(|c| c.code().to_string())
            .collect(),
        languages: o.languages.clone(),
        interpreter_needed: o.interpreter_needed,
        event: o.event_id,
        job: o.job.map(|j| JobIo {
            employment: j.employment.key().into(),
            workplace: j.workplace.key().into(),
            location: j.location,
            starts_on: j.starts_on.map(|d| d.to_string()),
            apply_by: j.apply_by.map(|d| d.to_string()),
        }),
    }))
}

#[derive(Deserialize, ToSchema)]
struct AvailabilityIn {
    slots: Vec<AvailableSlot>,
}

#[derive(Deserialize, ToSchema)]
struct AvailableSlot {
    /// The slot's start in microseconds since the epoch (see the event's `slots`).
    start: i64,
    /// `on-site` or `online`; absent: the event's usual mode.
    mode: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/events/{slug}/availability", tag = "meetings", params(("slug" = String, Path)),
    request_body = AvailabilityIn, security(("token" = [])),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn put_availability(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<AvailabilityIn>,
) -> Result<StatusCode, AppError> {
    let e = load(&state, &slug).await?;
    let approved = state
        .store
        .registration(e.id, user.id)
        .await?
        .is_some_and(|r| r.status == RegistrationStatus::Approved);
    if !approved {
        return Err(AppError::Rejected("error-not-approved"));
    }
    let mut pairs = vec![];
    for s in &body.slots {
        pairs.push(("slot".to_string(), s.start.to_string()));
        if let Some(m) = &s.mode {
            pairs.push((format!("mode_{}", s.start), m.clone()));
        }
    }
    crate::availability::apply(&state, &e, &user, &FormData(pairs)).await?;
    Ok(StatusCode::NO_CONTENT)
}
