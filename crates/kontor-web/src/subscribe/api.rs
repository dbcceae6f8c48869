//! The newsletter in the JSON API: a public sign-up (double opt-in, like the form) and the
//! administrators' subscriber export.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kontor_domain::{Email, Invalid, Keyed, Locale, Topic, now_micros};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{SignUp, accept, consent_text, witnessed};
use crate::AppState;
use crate::api::ApiJson;
use crate::auth::{CurrentUser, client_ip, rate_limit};
use crate::error::AppError;
use crate::form::Errors;

#[derive(Deserialize, ToSchema)]
pub struct SubscriptionIn {
    email: String,
    /// `de`, `en` or `zh`: the language of the editions.
    locale: String,
    /// Topic keys (`international`, `china`, `hydrogen`, `life-sciences`, `events`, `jobs`);
    /// empty or absent: every topic.
    #[serde(default)]
    topics: Vec<String>,
    /// The person agreed to the consent text of `consent_version`, shown to them.
    consent: bool,
    consent_version: i32,
    /// Where the person signed up (a form id or page), recorded in the proof of consent.
    #[serde(default)]
    source: String,
}

#[derive(Serialize, ToSchema)]
pub struct SubscriptionOut {
    /// Always `confirmation-requested`: the answer does not tell whether the address was known.
    status: &'static str,
}

/// Signs an address up for the newsletter. A confirmation mail goes out unless the address is
/// confirmed already; the answer is the same either way.
#[utoipa::path(post, path = "/api/v1/newsletter/subscriptions", tag = "newsletter",
    request_body = SubscriptionIn,
    responses((status = 202, body = SubscriptionOut), (status = 422, body = crate::api::Problem, content_type = "application/problem+json"),
               (status = 429, body = crate::api::Problem, content_type = "application/problem+json")))]
pub async fn subscribe(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubscriptionIn>,
) -> Result<Response, AppError> {
    let ip = client_ip(&state, &headers, Some(peer));
    rate_limit(&state, &format!("newsletter-ip:{ip}"), 30, 3600).await?;
    let now = now_micros();
    let mut errors = Errors::default();
    let email = errors.take("email", Email::parse(&body.email));
    let locale = errors.take("locale", Locale::parse(&body.locale));
    let topics = errors.take(
        "topics",
        Topic::parse_list(body.topics.iter().map(String::as_str)),
    );
    let consent = consent_text(body.consent_version, now).filter(|_| body.consent);
    if consent.is_none() {
        errors
            .0
            .push(("consent".into(), Invalid::new("invalid-newsletter-consent")));
    }
    let source = match body.source.trim() {
        "" => Some("api".to_string()),
        given => errors
            .take("source", kontor_domain::Text::line(given, 300))
            .map(|t| format!("api:{}", t.as_str())),
    };
    let (Some(email), Some(locale), Some(topics), Some(consent), Some(source)) =
        (email, locale, topics, consent, source)
    else {
        return Err(errors.into_error());
    };
    let signup = SignUp {
        email,
        locale,
        topics,
        consent,
        source: String::new(),
    };
    let event = witnessed(&state, "signup", &headers, peer, now);
    accept(&state, &signup, source, event, now).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SubscriptionOut {
            status: "confirmation-requested",
        }),
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct SubscriberOut {
    email: String,
    locale: String,
    topics: Vec<String>,
    /// `pending`, `confirmed` or `unsubscribed`.
    status: String,
    consent_source: Option<String>,
    /// RFC 3339, UTC.
    consent_date: Option<String>,
}

/// Every subscriber with the source and date of their consent (administrators only).
#[utoipa::path(get, path = "/api/v1/newsletter/subscribers", tag = "newsletter", security(("token" = [])),
    responses((status = 200, body = Vec<SubscriberOut>), (status = 401, body = crate::api::Problem, content_type = "application/problem+json"),
               (status = 403, body = crate::api::Problem, content_type = "application/problem+json")))]
pub async fn subscribers(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Vec<SubscriberOut>>, AppError> {
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let all = state.store.subscribers("", i64::MAX).await?;
    Ok(Json(
        all.into_iter()
            .map(|r| SubscriberOut {
                email: r.subscriber.email.as_str().into(),
                locale: r.subscriber.locale.key().into(),
                topics: r.subscriber.topics.iter().map(|t| t.key().into()).collect(),
                status: r.subscriber.status.key().into(),
                consent_source: r.consent_source,
                consent_date: r.consent_at.map(super::admin::date_time),
            })
            .collect(),
    ))
}
