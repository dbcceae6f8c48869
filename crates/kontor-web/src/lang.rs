//! Which language a reader gets: their account setting, else an explicit switch (the `lang`
//! cookie, or `?lang=` on a link), else `Accept-Language`, else English.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use kontor_domain::Locale;

use crate::auth::MaybeUser;
use crate::error::AppError;
use crate::form::FormData;
use crate::{AppState, auth};

pub const COOKIE: &str = "kontor_lang";

pub fn routes() -> Router<AppState> {
    Router::new().route("/lang", post(switch))
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';').find_map(|kv| {
                let (k, val) = kv.trim().split_once('=')?;
                (k == name).then(|| val.to_string())
            })
        })
}

/// The language from the request alone (no account): switch cookie, then `Accept-Language`.
pub fn from_headers(headers: &HeaderMap) -> Locale {
    cookie_value(headers, COOKIE)
        .and_then(|v| Locale::parse(&v).ok())
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::negotiate)
        })
        .unwrap_or(Locale::En)
}

/// The language for a page: `?lang=` wins for this one request (shareable links), then the
/// account's setting, then the request.
pub fn resolve(
    headers: &HeaderMap,
    query: Option<&str>,
    user: Option<&kontor_store::accounts::User>,
) -> Locale {
    let explicit = query.and_then(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Locale::parse(&v).ok())
    });
    explicit
        .or(user.map(|u| u.locale))
        .unwrap_or_else(|| from_headers(headers))
}

pub fn set_cookie(state: &AppState, locale: Locale) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        kontor_domain::Keyed::key(locale)
    )
}

/// The language switch: remembers the choice in a cookie and, for a signed-in person, in the
/// account, then returns to the page it came from.
async fn switch(
    State(state): State<AppState>,
    user: MaybeUser,
    form: FormData,
) -> Result<Response, AppError> {
    let locale = Locale::parse(form.get("to")).map_err(|e| AppError::field("to", e))?;
    if let Some(user) = &user.0 {
        let mut tx = state.store.begin().await?;
        tx.set_locale(user.id, locale).await?;
        tx.commit().await?;
    }
    let mut back = auth::safe_next(form.get("back"));
    // On an article, the reader wants the article in the new language, where there is one.
    if let Some(translation) = crate::magazine::translation_path(&state, &back, locale).await? {
        back = translation;
    }
    Ok((
        [(header::SET_COOKIE, set_cookie(&state, locale))],
        Redirect::to(&back),
    )
        .into_response())
}
