//! Accounts: sign-up and sign-in by e-mail with a one-time code or link (works from China: no
//! third-party login), optional password (argon2id), database sessions, API tokens, rate limits.
//!
//! Secrets never reach the database in clear: codes, links, session ids and tokens are stored as
//! SHA-256, passwords as argon2id.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kontor_domain::{Email, Keyed, Locale, Password, Text, TimeZoneName, now_micros};
use kontor_store::accounts::{CodeCheck, NewUser, User};
use serde::Deserialize;
use sha2::Digest;

use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{Reader, field_errors, render, render_invalid};
use crate::{AppState, lang};

const SESSION_COOKIE: &str = "kontor_session";
const CODE_MINUTES: i64 = 15;
const MAX_CODE_ATTEMPTS: i32 = 5;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(signin_page).post(signin))
        .route("/signup", get(signup_page).post(signup))
        .route("/signin/code", get(code_page).post(code))
        .route("/auth/link", get(link_page).post(link))
        .route("/signout", post(signout))
}

// ----- secrets -----

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS has randomness");
    hex(&buf)
}
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
pub fn sha256_hex(s: &str) -> String {
    hex(&sha2::Sha256::digest(s.as_bytes()))
}
fn six_digits() -> String {
    let mut buf = [0u8; 4];
    getrandom::fill(&mut buf).expect("the OS has randomness");
    format!("{:06}", u32::from_le_bytes(buf) % 1_000_000)
}
/// The stored form of a sign-in code: bound to the user, so equal codes differ in storage.
fn code_hash(user: uuid::Uuid, code: &str) -> String {
    sha256_hex(&format!("{user}:{}", code.trim()))
}

pub fn hash_password(password: &Password) -> anyhow::Result<String> {
    use argon2::PasswordHasher;
    let hash = argon2::Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(hash.to_string())
}
fn verify_password(password: &str, stored: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

// ----- who is asking -----

/// The signed-in person, if any: by session cookie (browsers) or `Authorization: Bearer` (API).
pub struct MaybeUser(pub Option<User>);

/// A signed-in person; anonymous requests are refused (pages redirect to sign-in).
pub struct CurrentUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser
where
    AppState: axum::extract::FromRef<S>,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        if let Some(user) = parts.extensions.get::<CachedUser>() {
            return Ok(MaybeUser(user.0.clone()));
        }
        let state = <AppState as axum::extract::FromRef<S>>::from_ref(state);
        let user = lookup_user(&state, &parts.headers).await?;
        parts.extensions.insert(CachedUser(user.clone()));
        Ok(MaybeUser(user))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser
where
    AppState: axum::extract::FromRef<S>,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        MaybeUser::from_request_parts(parts, state)
            .await?
            .0
            .map(CurrentUser)
            .ok_or(AppError::Unauthorized)
    }
}

#[derive(Clone)]
struct CachedUser(Option<User>);

pub(crate) async fn lookup_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<User>, AppError> {
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        // A wrong token is an error, not anonymity: the client meant to sign in.
        return match state.store.user_by_token(&sha256_hex(token.trim())).await? {
            Some(u) => Ok(Some(u)),
            None => Err(AppError::Unauthorized),
        };
    }
    match lang::cookie_value(headers, SESSION_COOKIE) {
        Some(id) => Ok(state
            .store
            .user_by_session(&sha256_hex(&id), now_micros())
            .await?),
        None => Ok(None),
    }
}

pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    lang::cookie_value(headers, SESSION_COOKIE).is_some()
}

/// The page context of a request: language, reader, path.
pub struct PageCtx {
    pub locale: Locale,
    pub user: Option<User>,
    pub path: String,
    /// See [`Reader::back`](crate::page::Reader).
    pub back: String,
    /// The reader writes for the magazine and the newsletter (an editor or an administrator):
    /// the navigation leads them there.
    pub editor: bool,
    /// See [`Reader::waiting`](crate::page::Reader).
    pub waiting: i64,
}

impl PageCtx {
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            locale: self.locale,
            user: self.user.as_ref(),
            path: &self.path,
            back: &self.back,
            editor: self.editor,
            waiting: self.waiting,
        }
    }
    pub fn require_user(&self) -> Result<&User, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthorized)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx
where
    AppState: axum::extract::FromRef<S>,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let user = MaybeUser::from_request_parts(parts, state).await?.0;
        let locale = lang::resolve(&parts.headers, parts.uri.query(), user.as_ref());
        let store = &<AppState as axum::extract::FromRef<S>>::from_ref(state).store;
        let editor = match &user {
            Some(u) if u.is_admin => true,
            Some(u) => store.is_editor(u.id).await?,
            None => false,
        };
        let waiting = match &user {
            Some(u) => {
                let today = jiff::Timestamp::now()
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .date();
                store.pending_request_count(u.id, today).await?
            }
            None => 0,
        };
        Ok(PageCtx {
            locale,
            user,
            path: parts.uri.path().to_string(),
            back: back_to(&parts.method, &parts.uri),
            editor,
            waiting,
        })
    }
}

/// The page to return to after switching the language: a GET's path and query without `lang`
/// (which would switch it back); after a POST, its path.
fn back_to(method: &axum::http::Method, uri: &axum::http::Uri) -> String {
    let path = uri.path();
    let query = match (method, uri.query()) {
        (&axum::http::Method::GET, Some(q)) if q.len() <= 2000 => q,
        _ => return path.to_string(),
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("lang"))
        .collect();
    match kept.as_slice() {
        [] => path.to_string(),
        _ => format!("{path}?{}", kept.join("&")),
    }
}

// ----- rate limits -----

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop behind a proxy.
pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    // The rightmost entry is the one our reverse proxy appended (the peer it saw); everything
    // left of it came from the client and can be anything.
    if state.config.trust_forwarded_for
        && let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|ip| !ip.is_empty())
    {
        return ip.to_string();
    }
    peer.map_or_else(|| "unknown".to_string(), |p| p.ip().to_string())
}

/// Counts a hit in a fixed window stored in the database, so that the limit holds across
/// instances; refuses once `max` hits were counted in the window.
pub async fn rate_limit(
    state: &AppState,
    bucket: &str,
    max: i64,
    window_secs: i64,
) -> Result<Hit, AppError> {
    let hit = count_hit(state, bucket, window_secs).await?;
    if hit.hits > max {
        tracing::warn!(bucket, hits = hit.hits, "rate limit reached");
        return Err(AppError::RateLimited);
    }
    Ok(hit)
}

/// One request counted in a rate-limit bucket: where, and how many so far in its window.
pub struct Hit {
    bucket: String,
    window_start: i64,
    pub hits: i64,
}

impl Hit {
    /// Takes this request's hit back (it turned out to be no abuse), in the window it was
    /// counted in.
    async fn refund(self, state: &AppState) -> Result<(), AppError> {
        let mut tx = state.store.begin().await?;
        tx.refund_rate_limit(&self.bucket, self.window_start)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Counts a hit in `bucket`'s current fixed window.
pub async fn count_hit(state: &AppState, bucket: &str, window_secs: i64) -> Result<Hit, AppError> {
    let window = window_secs * 1_000_000;
    let window_start = now_micros() / window * window;
    let mut tx = state.store.begin().await?;
    let hits = tx.hit_rate_limit(bucket, window_start).await?;
    tx.commit().await?;
    Ok(Hit {
        bucket: bucket.to_string(),
        window_start,
        hits,
    })
}

// ----- pages and actions -----

/// A same-site path to continue to after sign-in; anything else becomes `/`. Browsers drop
/// tabs and line breaks from URLs, so "/\t/evil.example" would become "//evil.example": no
/// control characters or spaces at all.
pub fn safe_next(next: &str) -> String {
    let plain = !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if plain && next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".to_string()
    }
}

#[derive(Deserialize, Default)]
struct NextQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    token: String,
}

async fn signin_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NextQuery>,
) -> Response {
    render(
        &state,
        &ctx.reader(),
        "signin.html",
        serde_json::json!({ "next": q.next, "values": {} }),
    )
}

/// Step one: an address (and optionally a password). With a password that matches, the person is
/// signed in; otherwise a code goes out. The answer is the same whether or not the address has an
/// account, so the form cannot be used to find out who is registered.
async fn signin(
    State(state): State<AppState>,
    ctx: PageCtx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, AppError> {
    let next = safe_next(form.get("next"));
    let ip = client_ip(&state, &headers, Some(peer));
    let ip_hit = rate_limit(&state, &format!("signin-ip:{ip}"), 30, 900).await?;
    let email = match Email::parse(form.get("email")) {
        Ok(e) => e,
        Err(e) => {
            let errors = field_errors(ctx.locale, &[("email".into(), e)]);
            let r = render_invalid(
                &state,
                &ctx.reader(),
                "signin.html",
                serde_json::json!({ "next": next, "errors": errors, "values": form.values() }),
            );
            return Ok(r);
        }
    };
    let email_hit = rate_limit(&state, &format!("signin-email:{email}"), 10, 900).await?;
    let user = state.store.user_by_email(&email).await?;
    let password = form.get("password");
    if !password.is_empty() {
        let ok = user
            .as_ref()
            .and_then(|u| u.password_hash.as_deref())
            .is_some_and(|h| verify_password(password, h));
        return match (ok, user) {
            (true, Some(user)) => {
                // A right password is no guessing and sends no mail: it does not count, so
                // that people who sign in often (at a stand, on several devices) are not
                // locked out.
                email_hit.refund(&state).await?;
                ip_hit.refund(&state).await?;
                start_session(&state, &user, &next).await
            }
            _ => {
                let errors = serde_json::json!({ "password": kontor_i18n::t(ctx.locale, "signin-wrong-password") });
                let r = render_invalid(
                    &state,
                    &ctx.reader(),
                    "signin.html",
                    serde_json::json!({ "next": next, "errors": errors, "values": form.values() }),
                );
                Ok(r)
            }
        };
    }
    if let Some(user) = user {
        send_code(&state, &user).await?;
    }
    Ok(to_code_page(&email, &next))
}

fn to_code_page(email: &Email, next: &str) -> Response {
    let q = serde_urlencoded::to_string([("email", email.as_str()), ("next", next)])
        .unwrap_or_default();
    Redirect::to(&format!("/signin/code?{q}")).into_response()
}

/// Writes a fresh code and link, and the mail that carries them, in one transaction.
async fn send_code(state: &AppState, user: &User) -> Result<(), AppError> {
    let code = six_digits();
    let link = random_hex(32);
    let now = now_micros();
    let mail = state
        .composer
        .sign_in(user.email.as_str(), user.locale, &user.name, &code, &link);
    let mut tx = state.store.begin().await?;
    tx.create_login_code(
        user.id,
        &code_hash(user.id, &code),
        &sha256_hex(&link),
        now,
        now + CODE_MINUTES * 60_000_000,
    )
    .await?;
    tx.enqueue_mail(&mail, now).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(())
}

async fn signup_page(State(state): State<AppState>, ctx: PageCtx) -> Response {
    let values = serde_json::json!({ "locale": ctx.locale.key(), "time_zone": "" });
    render(
        &state,
        &ctx.reader(),
        "signup.html",
        signup_ctx(&ctx, values, serde_json::json!({})),
    )
}

fn signup_ctx(
    ctx: &PageCtx,
    values: serde_json::Value,
    errors: serde_json::Value,
) -> serde_json::Value {
    let locales: Vec<_> = Locale::ALL
        .iter()
        .map(|l| serde_json::json!({ "key": l.key(), "label": l.endonym() }))
        .collect();
    serde_json::json!({ "values": values, "errors": errors, "ui_locales": locales, "zones": common_zones(), "_l": ctx.locale.key() })
}

/// Zones offered first in pickers; any IANA name is accepted.
pub fn common_zones() -> Vec<&'static str> {
    vec![
        "Europe/Berlin",
        "Asia/Shanghai",
        "Europe/London",
        "Europe/Paris",
        "Europe/Vienna",
        "Europe/Zurich",
        "Asia/Hong_Kong",
        "Asia/Taipei",
        "Asia/Singapore",
        "Asia/Tokyo",
        "Asia/Seoul",
        "America/New_York",
        "America/Los_Angeles",
        "UTC",
    ]
}

async fn signup(
    State(state): State<AppState>,
    ctx: PageCtx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, AppError> {
    let ip = client_ip(&state, &headers, Some(peer));
    rate_limit(&state, &format!("signup-ip:{ip}"), 20, 3600).await?;
    let mut errors = Errors::default();
    // In the order of the form, so the error summary reads top to bottom.
    let name = errors.take("name", Text::line(form.get("name"), 120));
    let email = errors.take("email", Email::parse(form.get("email")));
    let time_zone = errors.take("time_zone", TimeZoneName::parse(form.get("time_zone")));
    let locale = errors.take("locale", Locale::parse(form.get("locale")));
    let password = match form.get("password") {
        "" => None,
        p => errors.take("password", Password::parse(p)),
    };
    if !form.checked("privacy") {
        errors.0.push((
            "privacy".into(),
            kontor_domain::Invalid::new("invalid-privacy-consent"),
        ));
    }
    let (Some(email), Some(name), Some(time_zone), Some(locale), true) =
        (email, name, time_zone, locale, errors.is_empty())
    else {
        let r = render_invalid(
            &state,
            &ctx.reader(),
            "signup.html",
            signup_ctx(&ctx, form.values(), field_errors(ctx.locale, &errors.0)),
        );
        return Ok(r);
    };
    rate_limit(&state, &format!("signin-email:{email}"), 10, 900).await?;
    let user = match state.store.user_by_email(&email).await? {
        // Already registered: the same answer as for a new address, and a sign-in code.
        Some(existing) => existing,
        None => {
            let password_hash = password.as_ref().map(hash_password).transpose()?;
            let new = NewUser {
                email: email.clone(),
                name: name.into_string(),
                time_zone,
                locale,
                is_admin: false,
                password_hash,
                email_verified: false,
            };
            let mut tx = state.store.begin().await?;
            let id = match tx.create_user(new, now_micros()).await {
                Ok(id) => id,
                // Two sign-ups with one address at the same moment: the other one won.
                Err(kontor_store::StoreError::Conflict(_)) => {
                    return Ok(to_code_page(&email, "/profile"));
                }
                Err(e) => return Err(e.into()),
            };
            tx.commit().await?;
            state.store.user(id).await?
        }
    };
    send_code(&state, &user).await?;
    Ok(to_code_page(&email, "/profile"))
}

async fn code_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NextQuery>,
) -> Response {
    render(
        &state,
        &ctx.reader(),
        "code.html",
        serde_json::json!({ "email": q.email, "next": q.next }),
    )
}

async fn code(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let next = safe_next(form.get("next"));
    let email = Email::parse(form.get("email")).map_err(|e| AppError::field("email", e))?;
    rate_limit(&state, &format!("code:{email}"), 20, 900).await?;
    let entered = form.get("code").trim().to_string();
    let wrong = |key: &str| {
        render_invalid(
            &state,
            &ctx.reader(),
            "code.html",
            serde_json::json!({
                "email": email.as_str(), "next": next, "error": kontor_i18n::t(ctx.locale, key),
            }),
        )
    };
    if entered.len() != 6 || !entered.chars().all(|c| c.is_ascii_digit()) {
        return Ok(wrong("signin-code-format"));
    }
    let Some(user) = state.store.user_by_email(&email).await? else {
        return Ok(wrong("signin-code-wrong"));
    };
    let mut tx = state.store.begin().await?;
    let check = tx
        .check_login_code(
            user.id,
            &code_hash(user.id, &entered),
            now_micros(),
            MAX_CODE_ATTEMPTS,
        )
        .await?;
    tx.commit().await?;
    match check {
        CodeCheck::Valid(_) => start_session(&state, &user, &next).await,
        CodeCheck::Wrong => Ok(wrong("signin-code-wrong")),
        CodeCheck::Exhausted => Ok(wrong("signin-code-exhausted")),
    }
}

/// The link in the mail opens this page; only its button (a POST) signs in, so that mail
/// scanners which follow links do not use the link up.
async fn link_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NextQuery>,
) -> Response {
    render(
        &state,
        &ctx.reader(),
        "link.html",
        serde_json::json!({ "token": q.token }),
    )
}

async fn link(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let mut tx = state.store.begin().await?;
    let user = tx
        .use_login_link(&sha256_hex(form.get("token").trim()), now_micros())
        .await?;
    tx.commit().await?;
    match user {
        Some(id) => {
            let user = state.store.user(id).await?;
            start_session(&state, &user, "/profile").await
        }
        None => {
            let mut r = render(
                &state,
                &ctx.reader(),
                "link.html",
                serde_json::json!({ "error": kontor_i18n::t(ctx.locale, "signin-link-invalid") }),
            );
            *r.status_mut() = axum::http::StatusCode::GONE;
            Ok(r)
        }
    }
}

async fn start_session(state: &AppState, user: &User, next: &str) -> Result<Response, AppError> {
    let id = random_hex(32);
    let now = now_micros();
    let days = state.config.session_days;
    let mut tx = state.store.begin().await?;
    tx.create_session(&sha256_hex(&id), user.id, now, now + days * 86_400_000_000)
        .await?;
    tx.commit().await?;
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        days * 86_400
    );
    let mut response = Redirect::to(next).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, cookie.parse().expect("ASCII"));
    headers.append(
        header::SET_COOKIE,
        lang::set_cookie(state, user.locale).parse().expect("ASCII"),
    );
    Ok(response)
}

async fn signout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(id) = lang::cookie_value(&headers, SESSION_COOKIE) {
        let mut tx = state.store.begin().await?;
        tx.delete_session(&sha256_hex(&id)).await?;
        tx.commit().await?;
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// Creates an API token for `user` and returns it in clear, once.
pub async fn create_token(state: &AppState, user: &User, name: &str) -> Result<String, AppError> {
    let token = format!("kontor_{}", random_hex(24));
    let mut tx = state.store.begin().await?;
    tx.create_api_token(user.id, name, &sha256_hex(&token), now_micros())
        .await?;
    tx.commit().await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::{back_to, safe_next};

    #[test]
    fn the_language_switch_returns_to_the_same_search_without_its_lang() {
        let back = |method: axum::http::Method, uri: &str| back_to(&method, &uri.parse().unwrap());
        use axum::http::Method;
        assert_eq!(
            back(
                Method::GET,
                "/marketplace?lang=zh&q=Bonn&employment=internship"
            ),
            "/marketplace?q=Bonn&employment=internship"
        );
        assert_eq!(back(Method::GET, "/events?lang=de"), "/events");
        assert_eq!(
            back(Method::GET, "/events?language=de"),
            "/events?language=de"
        );
        assert_eq!(back(Method::POST, "/profile?x=1"), "/profile");
    }

    #[test]
    fn only_same_site_paths_are_followed_after_sign_in() {
        for ok in ["/", "/events/h2-days?x=1#a", "/magazine/de/%C3%B6ko"] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
