//! Cross-site request forgery protection without tokens: a state-changing request from a browser
//! must come from our own origin. Browsers say where a request comes from in `Sec-Fetch-Site`
//! (all current ones) or `Origin`; a request with neither and no session cookie (curl, an API
//! client with a bearer token) carries no ambient authority and may pass.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::AppError;

pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    if allowed(&state, request.headers()) {
        return next.run(request).await;
    }
    // RFC 8058: a mail client unsubscribes with a cross-site POST whose body is exactly
    // `List-Unsubscribe=One-Click` (form-encoded or multipart). The token in the path is the capability, and this route
    // with this body can do nothing but unsubscribe, so it passes; nothing else does.
    if is_one_click_route(request.uri().path()) {
        let (parts, body) = request.into_parts();
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if let Ok(bytes) = axum::body::to_bytes(body, 1024).await
            && crate::subscribe::is_one_click(content_type, &bytes)
        {
            return next.run(Request::from_parts(parts, bytes.into())).await;
        }
    }
    tracing::warn!("cross-site request refused");
    AppError::CrossSite.into_response()
}

/// `/newsletter/unsubscribe/{token}` and nothing below or beside it.
fn is_one_click_route(path: &str) -> bool {
    path.strip_prefix("/newsletter/unsubscribe/")
        .is_some_and(|token| !token.is_empty() && token.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn allowed(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    if headers.contains_key(header::ORIGIN) {
        return same_origin(state, headers);
    }
    !crate::auth::has_session_cookie(headers)
}

/// The request's `Origin` is ours: the base URL's scheme, and its host and port or the host the
/// request was sent to. False without an `Origin` (WebSocket upgrades from browsers always
/// carry one). An `http://` page on our host is not ours when we are served over https.
pub fn same_origin(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let base = state.config.base_url.as_str();
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let base_host = rest.split('/').next().unwrap_or("");
    match origin
        .strip_prefix(scheme)
        .and_then(|o| o.strip_prefix("://"))
    {
        Some(o) => !o.is_empty() && (o.eq_ignore_ascii_case(base_host) || o == host),
        None => false,
    }
}
