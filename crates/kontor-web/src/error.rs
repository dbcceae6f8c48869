//! One error type for every handler. A handler returns [`AppError`]; the response is rendered in
//! one place ([`render`]) as an HTML page in the reader's language, or as
//! `application/problem+json` (RFC 9457) under `/api/`.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use kontor_domain::{Invalid, Locale};
use kontor_i18n::{Arg, catalog};
use kontor_store::StoreError;

use crate::AppState;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    /// Input that does not parse: each entry names the field and why.
    #[error("invalid input")]
    Validation(Vec<(String, Invalid)>),
    /// A request that cannot be read (not a form, not JSON where JSON is due); the key names
    /// the message.
    #[error("{0}")]
    BadRequest(&'static str),
    /// A request that is well-formed but not allowed now; the key names the message.
    #[error("{0}")]
    Rejected(&'static str),
    /// Refused with a specific status (an upload too large or not an image); the key names
    /// the message.
    #[error("{1}")]
    Refused(StatusCode, &'static str),
    #[error("too many requests")]
    RateLimited,
    #[error("cross-site request")]
    CrossSite,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(_) => AppError::Rejected("error-conflict"),
            other => AppError::Internal(other.into()),
        }
    }
}

impl AppError {
    pub fn field(field: &str, invalid: Invalid) -> AppError {
        AppError::Validation(vec![(field.to_string(), invalid)])
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CrossSite => StatusCode::FORBIDDEN,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Rejected(_) => StatusCode::CONFLICT,
            AppError::Refused(status, _) => *status,
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn key(&self) -> &'static str {
        match self {
            AppError::NotFound => "error-not-found",
            AppError::Unauthorized => "error-unauthorized",
            AppError::Forbidden => "error-forbidden",
            AppError::Validation(_) => "error-validation",
            AppError::BadRequest(key) | AppError::Rejected(key) | AppError::Refused(_, key) => key,
            AppError::RateLimited => "error-rate-limited",
            AppError::CrossSite => "error-cross-site",
            AppError::Internal(_) => "error-internal",
        }
    }
}

/// What [`render`] needs to turn an error into a page or a problem document.
#[derive(Clone, Debug)]
struct ErrorInfo {
    status: StatusCode,
    key: &'static str,
    fields: Vec<(String, Invalid)>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "request failed");
        }
        let info = ErrorInfo {
            status: self.status(),
            key: self.key(),
            fields: match self {
                AppError::Validation(f) => f,
                _ => vec![],
            },
        };
        let mut response = info.status.into_response();
        response.extensions_mut().insert(info);
        response
    }
}

/// Translates one invalid value into a sentence.
pub fn message(locale: Locale, invalid: &Invalid) -> String {
    let args: Vec<(&str, Arg)> = invalid
        .max
        .map(|m| ("max", Arg::from(m)))
        .into_iter()
        .collect();
    catalog().message(locale, invalid.key, &args)
}

/// Middleware: renders every [`AppError`] response for the reader.
pub async fn render(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    // Only what finds the reader and their language, kept for the error path (not a copy of
    // every header of every request).
    let mut headers = axum::http::HeaderMap::new();
    for name in [
        header::AUTHORIZATION,
        header::COOKIE,
        header::ACCEPT_LANGUAGE,
    ] {
        // All of them: HTTP/2 clients send each cookie in a header of its own.
        for v in request.headers().get_all(&name) {
            headers.append(name.clone(), v.clone());
        }
    }
    let query = request.uri().query().map(str::to_string);
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let is_get = request.method() == axum::http::Method::GET;
    let response = next.run(request).await;
    let info = match response.extensions().get::<ErrorInfo>().cloned() {
        Some(info) => info,
        // Axum's own refusals (a path segment or query that does not parse, a method the route
        // lacks) come as English plain text or empty: the reader gets the usual page instead.
        None if is_framework_refusal(&response) => ErrorInfo {
            status: response.status(),
            key: "error-bad-request",
            fields: vec![],
        },
        None => return response,
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    // The reader as the page would have seen them: signed in (the header shows their own menu)
    // and in their language (`?lang=`, the account, the cookie, `Accept-Language`).
    let user = crate::auth::lookup_user(&state, &headers)
        .await
        .ok()
        .flatten();
    let locale = crate::lang::resolve(&headers, query.as_deref(), user.as_ref());
    if api {
        let mut r = problem(locale, &info);
        if let Some(allow) = allow {
            r.headers_mut().insert(header::ALLOW, allow);
        }
        return r;
    }
    if info.status == StatusCode::UNAUTHORIZED && is_get {
        let next = serde_urlencoded::to_string([("next", path)]).unwrap_or_default();
        return Redirect::to(&format!("/signin?{next}")).into_response();
    }
    let fields: Vec<serde_json::Value> = info
        .fields
        .iter()
        .map(|(f, i)| serde_json::json!({ "field": f, "message": message(locale, i) }))
        .collect();
    let mut page = crate::page::render_with(
        &state,
        locale,
        user.as_ref(),
        "error.html",
        serde_json::json!({
            "status": info.status.as_u16(),
            "title": catalog().message(locale, info.key, &[]),
            "fields": fields,
        }),
    );
    *page.status_mut() = info.status;
    if let Some(allow) = allow {
        page.headers_mut().insert(header::ALLOW, allow);
    }
    page
}

/// A client error that no handler of ours wrote: handlers return [`AppError`], which carries
/// [`ErrorInfo`]; what is left is the framework's plain text (or empty body).
fn is_framework_refusal(response: &Response) -> bool {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    response.status().is_client_error() && plain
}

fn problem(locale: Locale, info: &ErrorInfo) -> Response {
    let errors: Vec<serde_json::Value> = info
        .fields
        .iter()
        .map(|(f, i)| serde_json::json!({ "field": f, "code": i.key, "message": message(locale, i) }))
        .collect();
    let mut body = serde_json::json!({
        "type": format!("https://kontor.dev/problems/{}", info.key),
        "title": catalog().message(locale, info.key, &[]),
        "status": info.status.as_u16(),
        "code": info.key,
    });
    if !errors.is_empty() {
        body["errors"] = serde_json::Value::Array(errors);
    }
    let mut response = (info.status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(locale.bcp47()),
    );
    response
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    AppError::Internal(anyhow::anyhow!("panic")).into_response()
}
