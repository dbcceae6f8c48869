//! The JSON API under `/api/v1`: the same operations as the pages, for scripts and integrations.
//! Authentication by `Authorization: Bearer <token>` (tokens are made on the profile page).
//! Errors are `application/problem+json`. The OpenAPI document is generated from this module and
//! served at `/api/v1/openapi.json`; `docs/openapi.json` is its snapshot.

use axum::Router;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use kontor_domain::{Keyed, ParticipantRole, RegistrationStatus, TimeZoneName};
use kontor_store::events::Event;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{CurrentUser, MaybeUser};
use crate::error::AppError;
use crate::form::FormData;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/events", get(list_events))
        .route("/events/{slug}", get(get_event))
        .route("/events/{slug}/registrations", post(register))
        .route("/events/{slug}/participants", get(participants))
        .route("/events/{slug}/registrations/{id}/decision", post(decide))
        .route("/me", get(me).put(update_me))
        .route("/me/registrations", get(my_registrations))
        .route("/organisations", get(list_organisations))
        .route("/organisations/{id}", get(get_organisation))
        .route("/people/{id}", get(get_person))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Kontor API", version = "1", description = "Events, registrations, organisations and people of a Kontor deployment. Authenticate with `Authorization: Bearer <token>`; tokens are created on the profile page. Errors are RFC 9457 problem documents."),
    paths(list_events, get_event, register, participants, decide, me, update_me, my_registrations, list_organisations, get_organisation, get_person),
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
struct Problem {
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
        serde_json::from_slice(&bytes)
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

#[derive(Serialize, ToSchema)]
struct EventDetail {
    #[serde(flatten)]
    summary: EventSummary,
    description: std::collections::BTreeMap<String, String>,
    venue: Option<String>,
    sessions: Vec<SessionOut>,
}

#[derive(Serialize, ToSchema)]
struct SessionOut {
    day: String,
    start: String,
    end: String,
    slot_minutes: i32,
    /// Slot start instants in UTC (RFC 3339).
    slots: Vec<String>,
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
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(TimeZoneName::berlin().tz())
        .date();
    Ok(Json(
        state
            .store
            .upcoming_events(today)
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
    let sessions = state
        .store
        .event_sessions(e.id)
        .await?
        .iter()
        .map(|s| SessionOut {
            day: s.day.to_string(),
            start: s.start.strftime("%H:%M").to_string(),
            end: s.end.strftime("%H:%M").to_string(),
            slot_minutes: s.slot_minutes,
            slots: s
                .slots(&e.time_zone)
                .iter()
                .map(|slot| slot.start.to_string())
                .collect(),
        })
        .collect();
    Ok(Json(EventDetail {
        summary: summary(&e),
        description: texts(&e.description),
        venue: e.venue.clone(),
        sessions,
    }))
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
}

fn me_out(u: &kontor_store::accounts::User) -> MeOut {
    MeOut {
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
    }
}

#[utoipa::path(get, path = "/api/v1/me", tag = "people", security(("token" = [])),
    responses((status = 200, body = MeOut), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn me(CurrentUser(user): CurrentUser) -> Json<MeOut> {
    Json(me_out(&user))
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
    let update = crate::profile::parse_person(&FormData(pairs), user.organisation_id)
        .map_err(|e| e.into_error())?;
    let mut tx = state.store.begin().await?;
    tx.update_profile(user.id, &update).await?;
    tx.commit().await?;
    Ok(Json(me_out(&state.store.user(user.id).await?)))
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
    let page = q.page.unwrap_or(0).max(0);
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
    Ok(Json(PersonOut {
        id: p.id,
        name: p.name.clone(),
        job_title: p.job_title.clone(),
        organisation: p.organisation_id,
        languages: p.languages.clone(),
        time_zone: p.time_zone.to_string(),
        email: contact.then(|| p.email.to_string()),
        phone: if contact { p.phone.clone() } else { None },
    }))
}
