//! The newsletter's subscription side: the sign-up block on every page and `/newsletter`, double
//! opt-in (the mailed link opens a page whose button confirms), the proof of consent, unsubscribe
//! (a page with a button, and RFC 8058 one-click POST), preferences by token, and the
//! administrators' list with CSV import/export and GDPR export/erasure ([`admin`]).
//!
//! Invariants:
//! - A sign-up answers the same whether or not the address is on the list (no enumeration).
//! - Confirmation tokens are stored as SHA-256 and expire after [`CONFIRM_HOURS`]; only a POST
//!   uses one, so link scanners do not confirm.
//! - Every step is appended to `consent_events` in the transaction of the change it proves.
//! - The consent text a person saw is kept per version ([`CONSENT_VERSION`]); the text of a
//!   version never changes: a new wording is a new message `newsletter-consent-<n>`.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kontor_domain::{
    Email, Keyed, KeyedParse, Locale, SubscriberStatus, Topic, UnsubscribeChannel, now_micros,
};
use kontor_mail::compose::CONFIRM_TEMPLATE;
use kontor_store::subscribers::{ConsentEvent, ConsentText, NewSubscriber, Subscriber};

use crate::AppState;
use crate::auth::{PageCtx, client_ip, random_hex, rate_limit, sha256_hex};
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{field_errors, options, render, render_invalid};

mod admin;
pub mod api;

/// The consent text shown now. Raise it together with a new message `newsletter-consent-<n>`.
pub const CONSENT_VERSION: i32 = 1;
/// How long a confirmation link works.
pub const CONFIRM_HOURS: i64 = 48;
/// Confirmation mails per address and hour (re-sent sign-ups beyond this are dropped silently).
const CONFIRMATIONS_PER_HOUR: i64 = 3;
/// Whether a request body is an RFC 8058 one-click unsubscribe: the single field
/// `List-Unsubscribe=One-Click`, form-encoded or as `multipart/form-data` (which the RFC prefers).
pub fn is_one_click(content_type: &str, body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let content_type = content_type.trim().to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return text.trim_end() == "List-Unsubscribe=One-Click";
    }
    let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| {
            rest.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        })
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
    else {
        return false;
    };
    // The boundary's case matters in the body; take it from the original header text.
    let Some(at) = text.to_ascii_lowercase().find(&format!("--{boundary}")) else {
        return false;
    };
    let delimiter = &text[at..at + 2 + boundary.len()];
    let parts: Vec<&str> = text
        .split(delimiter)
        .map(|p| p.trim_matches(['\r', '\n']))
        .filter(|p| !p.is_empty() && *p != "--")
        .collect();
    let [part] = parts.as_slice() else {
        return false;
    };
    let Some((head, value)) = part
        .split_once("\r\n\r\n")
        .or_else(|| part.split_once("\n\n"))
    else {
        return false;
    };
    head.to_ascii_lowercase()
        .contains("name=\"list-unsubscribe\"")
        && value.trim() == "One-Click"
}

pub fn routes() -> Router<AppState> {
    // Pages whose URL holds a token: the token must not leak through a Referer header (e.g.
    // the privacy-notice link) or stay in a shared cache.
    let token_pages = Router::new()
        .route(
            "/newsletter/confirm/{token}",
            get(confirm_page).post(confirm),
        )
        .route(
            "/newsletter/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route(
            "/newsletter/preferences/{token}",
            get(preferences_page).post(preferences),
        )
        .layer(axum::middleware::map_response(keep_token_private));
    Router::new()
        .route("/newsletter", get(newsletter_page).post(subscribe))
        .route("/newsletter/thanks", get(thanks))
        .merge(token_pages)
        .merge(admin::routes())
}

pub(crate) async fn keep_token_private(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

/// What the layout's sign-up block needs (see `newsletter_block.html`).
pub fn block_context(config: &crate::WebConfig, locale: Locale) -> serde_json::Value {
    serde_json::json!({
        "consent_version": CONSENT_VERSION,
        "consent_key": format!("newsletter-consent-{CONSENT_VERSION}"),
        "topics": options::<Topic>(locale, "topic"),
        "privacy_url": config.privacy_url.replace("{locale}", locale.key()),
    })
}

/// Whether the layout shows the sign-up block on `path`: public pages only (home, events and
/// their agenda, magazine, marketplace, opportunities, organisations, static pages, search); not
/// sign-in, profiles, organiser and admin pages, the editor or a video room during a call.
/// `/newsletter` has its own form.
pub fn shows_block(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] | ["events"] | ["marketplace"] | ["opportunities"] | ["search"] => true,
        ["events", slug] | ["opportunities", slug] => *slug != "new",
        ["events", _, "agenda"] => true,
        ["magazine", rest @ ..] => rest.first() != Some(&"editor"),
        ["organisations", ..] | ["pages", ..] => true,
        _ => false,
    }
}

/// The words of one consent-text version in every language, from the catalogue.
pub fn consent_text(version: i32, now: i64) -> Option<ConsentText> {
    let key = format!("newsletter-consent-{version}");
    let c = kontor_i18n::catalog();
    if !(1..=CONSENT_VERSION).contains(&version) || !Locale::ALL.iter().all(|l| c.has(*l, &key)) {
        return None;
    }
    Some(ConsentText {
        version,
        text_de: c.message(Locale::De, &key, &[]),
        text_en: c.message(Locale::En, &key, &[]),
        text_zh: c.message(Locale::Zh, &key, &[]),
        created_at: now,
    })
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(400).collect())
}

/// The request's circumstances as a consent event of `kind`: time, address per `consent_ip`,
/// user agent.
fn witnessed(
    state: &AppState,
    kind: &str,
    headers: &HeaderMap,
    peer: SocketAddr,
    now: i64,
) -> ConsentEvent {
    ConsentEvent {
        ip: state
            .config
            .consent_ip
            .apply(&client_ip(state, headers, Some(peer))),
        user_agent: user_agent(headers),
        ..ConsentEvent::new(kind, now)
    }
}

// ----- sign-up -----

struct SignUp {
    email: Email,
    locale: Locale,
    topics: Vec<Topic>,
    consent: ConsentText,
    source: String,
}

fn parse_signup(form: &FormData, now: i64) -> Result<SignUp, Errors> {
    let mut errors = Errors::default();
    let email = errors.take("email", Email::parse(form.get("email")));
    let locale = errors.take("locale", Locale::parse(form.get("locale")));
    let topics = errors.take("topics", Topic::parse_list(form.all("topics")));
    let consent = form
        .get("consent_version")
        .trim()
        .parse()
        .ok()
        .and_then(|v| consent_text(v, now));
    if !form.checked("consent") || consent.is_none() {
        errors.0.push((
            "consent".into(),
            kontor_domain::Invalid::new("invalid-newsletter-consent"),
        ));
    }
    let source = safe_source(form.get("source"));
    match (email, locale, topics, consent) {
        (Some(email), Some(locale), Some(topics), Some(consent)) if errors.is_empty() => {
            Ok(SignUp {
                email,
                locale,
                topics,
                consent,
                source,
            })
        }
        _ => Err(errors),
    }
}

/// The page a sign-up came from, as the form states it (the client controls it): a local path of
/// at most 200 characters from `[A-Za-z0-9/_.-]`, else `/`. Nothing else reaches the proof of
/// consent or the CSV export.
fn safe_source(source: &str) -> String {
    let ok = source.starts_with('/')
        && !source.starts_with("//")
        && source.len() <= 200
        && source
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_.-".contains(&b));
    if ok {
        source.to_string()
    } else {
        "/".to_string()
    }
}

async fn newsletter_page(State(state): State<AppState>, ctx: PageCtx) -> Response {
    // A signed-in reader's address is filled in; they may still change it.
    let email = ctx.user.as_ref().map(|u| u.email.as_str());
    let values = serde_json::json!({ "locale": ctx.locale.key(), "email": email });
    render(
        &state,
        &ctx.reader(),
        "newsletter.html",
        page_context(&state, ctx.locale, values, serde_json::json!({}), &[]),
    )
}

fn page_context(
    state: &AppState,
    locale: Locale,
    values: serde_json::Value,
    errors: serde_json::Value,
    chosen: &[&str],
) -> serde_json::Value {
    serde_json::json!({
        "values": values, "errors": errors, "chosen": chosen,
        "form": block_context(&state.config, locale),
    })
}

/// A sign-up from the block on any page or from `/newsletter`. Whatever the address's state,
/// the answer is the same redirect to "check your inbox".
async fn subscribe(
    State(state): State<AppState>,
    ctx: PageCtx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, AppError> {
    let ip = client_ip(&state, &headers, Some(peer));
    rate_limit(&state, &format!("newsletter-ip:{ip}"), 30, 3600).await?;
    let now = now_micros();
    let signup = match parse_signup(&form, now) {
        Ok(s) => s,
        Err(errors) => {
            let r = render_invalid(
                &state,
                &ctx.reader(),
                "newsletter.html",
                page_context(
                    &state,
                    ctx.locale,
                    form.values(),
                    field_errors(ctx.locale, &errors.0),
                    &form.all("topics"),
                ),
            );
            return Ok(r);
        }
    };
    let source = format!("{}{}", state.config.base_url, signup.source);
    let event = witnessed(&state, "signup", &headers, peer, now);
    accept(&state, &signup, source, event, now).await?;
    Ok(Redirect::to("/newsletter/thanks").into_response())
}

/// What every sign-up does, from a form or the API: nothing visible to the caller that depends
/// on whether the address is known.
async fn accept(
    state: &AppState,
    signup: &SignUp,
    source: String,
    event: ConsentEvent,
    now: i64,
) -> Result<(), AppError> {
    let event = ConsentEvent {
        source: Some(source),
        consent_version: Some(signup.consent.version),
        ..event
    };
    let existing = state.store.subscriber_by_email(&signup.email).await?;
    // Counted for every address, known or not (the same work either way); at most a few
    // confirmation mails per hour, so the form cannot be used to flood a mailbox.
    let allowed = confirmation_allowed(state, &signup.email).await?;
    if !allowed {
        return Ok(());
    }
    // Everyone gets a mail written in a transaction, so the answer takes about as long whether
    // or not the address is confirmed: confirmed people a note that they are on the list with a
    // link to their preferences, everyone else a confirmation.
    match existing {
        Some(s) if s.status == SubscriberStatus::Confirmed => send_already(state, &s, now).await,
        _ => send_confirmation(state, signup, existing.as_ref(), event, now).await,
    }
}

/// A confirmed person signed up again: nothing changes but a mail saying so (no consent event:
/// no consent was given or withdrawn).
async fn send_already(state: &AppState, s: &Subscriber, now: i64) -> Result<(), AppError> {
    let mail = state
        .composer
        .newsletter_already(s.email.as_str(), s.locale, &s.unsubscribe_token);
    let mut tx = state.store.begin().await?;
    tx.enqueue_mail(&mail, now).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(())
}

async fn confirmation_allowed(state: &AppState, email: &Email) -> Result<bool, AppError> {
    // Hashed: the bucket outlives an erasure (GDPR Art. 17) until the janitor's sweep.
    let bucket = format!("newsletter-confirm:{}", sha256_hex(email.as_str()));
    Ok(crate::auth::count_hit(state, &bucket, 3600).await?.hits <= CONFIRMATIONS_PER_HOUR)
}

/// One transaction: the subscriber (new, or back to pending), the sign-up event, a fresh token,
/// the mail, and the event that records it was queued.
async fn send_confirmation(
    state: &AppState,
    signup: &SignUp,
    existing: Option<&Subscriber>,
    event: ConsentEvent,
    now: i64,
) -> Result<(), AppError> {
    let token = random_hex(32);
    let token_hash = sha256_hex(&token);
    let mail = state
        .composer
        .newsletter_confirm(signup.email.as_str(), signup.locale, &token);
    let mut tx = state.store.begin().await?;
    tx.keep_consent_text(&signup.consent).await?;
    let id = match existing {
        Some(s) => {
            tx.reopen_subscription(s.id, signup.locale, &signup.topics)
                .await?;
            if s.status == SubscriberStatus::Pending {
                tx.set_subscriber_preferences(s.id, signup.locale, &signup.topics)
                    .await?;
            }
            s.id
        }
        None => {
            let unsubscribe_token = random_hex(24);
            let new = NewSubscriber {
                email: &signup.email,
                locale: signup.locale,
                topics: &signup.topics,
                status: SubscriberStatus::Pending,
                unsubscribe_token: &unsubscribe_token,
            };
            match tx.create_subscriber(&new, now).await {
                Ok(id) => id,
                // The same address at the same moment: the other request sends the mail.
                Err(kontor_store::StoreError::Conflict(_)) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    tx.add_consent_event(id, &event).await?;
    tx.create_confirmation(id, &token_hash, now, now + CONFIRM_HOURS * 3_600_000_000)
        .await?;
    let outbox_id = tx.enqueue_mail(&mail, now).await?;
    // Queued now; the outbox worker appends `confirmation-sent` when it delivers this mail.
    let queued = ConsentEvent {
        template: Some(CONFIRM_TEMPLATE.into()),
        token_hash: Some(token_hash),
        outbox_id: Some(outbox_id),
        ..ConsentEvent::new("confirmation-queued", now)
    };
    tx.add_consent_event(id, &queued).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(())
}

async fn thanks(State(state): State<AppState>, ctx: PageCtx) -> Response {
    message_page(
        &state,
        &ctx,
        StatusCode::OK,
        "newsletter-check-title",
        "newsletter-check-body",
    )
}

/// A page with a heading and one message (`role=status`, or `role=alert` for errors).
fn message_page(
    state: &AppState,
    ctx: &PageCtx,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    let l = ctx.locale;
    let mut r = render(
        state,
        &ctx.reader(),
        "newsletter_message.html",
        serde_json::json!({
            "title": kontor_i18n::t(l, title),
            "message": kontor_i18n::t(l, message),
            "is_error": !status.is_success(),
        }),
    );
    *r.status_mut() = status;
    r
}

// ----- double opt-in -----

fn valid_token(token: &str) -> bool {
    (16..=128).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The mailed link: a page with one button. A GET never confirms.
async fn confirm_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if !valid_token(&token)
        || state
            .store
            .pending_confirmation(&sha256_hex(&token), now_micros())
            .await?
            .is_none()
    {
        return invalid_confirmation(&state, &ctx, &token).await;
    }
    Ok(render(
        &state,
        &ctx.reader(),
        "newsletter_confirm.html",
        serde_json::json!({ "token": token }),
    ))
}

/// A link that confirms nothing (any more): if its subscriber is confirmed, a second click on a
/// used link, which says so; otherwise unknown, spent or expired.
async fn invalid_confirmation(
    state: &AppState,
    ctx: &PageCtx,
    token: &str,
) -> Result<Response, AppError> {
    if valid_token(token) && state.store.confirmed_by(&sha256_hex(token)).await? {
        return Ok(message_page(
            state,
            ctx,
            StatusCode::OK,
            "newsletter-confirmed-title",
            "newsletter-confirmed-already",
        ));
    }
    Ok(message_page(
        state,
        ctx,
        StatusCode::GONE,
        "newsletter-confirm-title",
        "newsletter-confirm-invalid",
    ))
}

async fn confirm(
    State(state): State<AppState>,
    ctx: PageCtx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let now = now_micros();
    let hash = sha256_hex(&token);
    // Read first (SQLite has one writer): whose token, and the welcome mail for them.
    let Some(id) = (if valid_token(&token) {
        state.store.pending_confirmation(&hash, now).await?
    } else {
        None
    }) else {
        return invalid_confirmation(&state, &ctx, &token).await;
    };
    let subscriber = state.store.subscriber(id).await?;
    let welcome = state.composer.newsletter_welcome(
        subscriber.email.as_str(),
        subscriber.locale,
        &subscriber.unsubscribe_token,
    );
    let mut tx = state.store.begin().await?;
    if tx.confirm_subscription(&hash, now).await? != Some(id) {
        // Lost a race with another click: end the transaction before reading (SQLite's one
        // writer may be the one connection there is).
        drop(tx);
        return invalid_confirmation(&state, &ctx, &token).await;
    }
    let event = ConsentEvent {
        detail: Some("POST from the confirmation page".into()),
        ..witnessed(&state, "confirmed", &headers, peer, now)
    };
    tx.add_consent_event(id, &event).await?;
    tx.enqueue_mail(&welcome, now).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(render(
        &state,
        &ctx.reader(),
        "newsletter_message.html",
        serde_json::json!({
            "title": kontor_i18n::t(ctx.locale, "newsletter-confirm-title"),
            "message": kontor_i18n::t(ctx.locale, "newsletter-confirmed"),
            "preferences": subscriber.unsubscribe_token,
        }),
    ))
}

// ----- unsubscribe and preferences (the unsubscribe token is the capability) -----

async fn by_token(state: &AppState, token: &str) -> Result<Option<Subscriber>, AppError> {
    if !valid_token(token) {
        return Ok(None);
    }
    Ok(state.store.subscriber_by_token(token).await?)
}

fn invalid_token(state: &AppState, ctx: &PageCtx) -> Response {
    message_page(
        state,
        ctx,
        StatusCode::NOT_FOUND,
        "newsletter-unsubscribe-title",
        "newsletter-token-invalid",
    )
}

async fn unsubscribe_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(s) = by_token(&state, &token).await? else {
        return Ok(invalid_token(&state, &ctx));
    };
    Ok(render(
        &state,
        &ctx.reader(),
        "newsletter_unsubscribe.html",
        serde_json::json!({
            "token": token, "email": s.email.as_str(),
            "done": s.status == SubscriberStatus::Unsubscribed,
        }),
    ))
}

/// The page's button, or a mail client's RFC 8058 one-click POST (body
/// `List-Unsubscribe=One-Click`, no cookie: let through by [`crate::csrf`] for this route only).
async fn unsubscribe(
    State(state): State<AppState>,
    ctx: PageCtx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let Some(s) = by_token(&state, &token).await? else {
        return Ok(invalid_token(&state, &ctx));
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let channel = if is_one_click(content_type, &body) {
        UnsubscribeChannel::OneClick
    } else {
        UnsubscribeChannel::Link
    };
    let event = witnessed(&state, "unsubscribed", &headers, peer, now_micros());
    let mut tx = state.store.begin().await?;
    tx.unsubscribe(s.id, channel, event).await?;
    tx.commit().await?;
    Ok(render(
        &state,
        &ctx.reader(),
        "newsletter_unsubscribe.html",
        serde_json::json!({ "token": token, "email": s.email.as_str(), "done": true }),
    ))
}

async fn preferences_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(s) = by_token(&state, &token).await? else {
        return Ok(invalid_token(&state, &ctx));
    };
    Ok(preferences_view(
        &state,
        &ctx,
        &s,
        &token,
        false,
        serde_json::json!({}),
    ))
}

fn preferences_view(
    state: &AppState,
    ctx: &PageCtx,
    s: &Subscriber,
    token: &str,
    saved: bool,
    errors: serde_json::Value,
) -> Response {
    let chosen: Vec<&str> = s.topics.iter().map(|t| t.key()).collect();
    let mut c = page_context(
        state,
        ctx.locale,
        serde_json::json!({ "locale": s.locale.key() }),
        errors,
        &chosen,
    );
    c["token"] = token.into();
    c["email"] = s.email.as_str().into();
    c["saved"] = saved.into();
    c["subscribed"] = (s.status != SubscriberStatus::Unsubscribed).into();
    render(state, &ctx.reader(), "newsletter_preferences.html", c)
}

async fn preferences(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    form: FormData,
) -> Result<Response, AppError> {
    let Some(mut s) = by_token(&state, &token).await? else {
        return Ok(invalid_token(&state, &ctx));
    };
    let mut errors = Errors::default();
    let locale = errors.take("locale", Locale::parse(form.get("locale")));
    let topics = errors.take("topics", Topic::parse_list(form.all("topics")));
    let (Some(locale), Some(topics)) = (locale, topics) else {
        let r = preferences_view(
            &state,
            &ctx,
            &s,
            &token,
            false,
            field_errors(ctx.locale, &errors.0),
        );
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, r).into_response());
    };
    let keys: Vec<&str> = topics.iter().map(|t| t.key()).collect();
    let event = ConsentEvent {
        detail: Some(format!("locale={} topics={}", locale.key(), keys.join(" "))),
        ..ConsentEvent::new("preferences", now_micros())
    };
    let mut tx = state.store.begin().await?;
    tx.set_subscriber_preferences(s.id, locale, &topics).await?;
    tx.add_consent_event(s.id, &event).await?;
    tx.commit().await?;
    s.locale = locale;
    s.topics = topics;
    Ok(preferences_view(
        &state,
        &ctx,
        &s,
        &token,
        true,
        serde_json::json!({}),
    ))
}

/// Parses a status key from a file or form.
fn parse_status(key: &str) -> Result<SubscriberStatus, kontor_domain::Invalid> {
    SubscriberStatus::parse_key(key, "invalid-subscriber-status")
}

#[cfg(test)]
mod tests {
    use super::{consent_text, is_one_click};
    use sha2::Digest;

    /// People consented to these exact words. Changing them needs a new message
    /// `newsletter-consent-<n+1>` and `CONSENT_VERSION = n+1`, not an edit of version 1.
    #[test]
    fn a_consent_text_version_never_changes() {
        let t = consent_text(1, 0).expect("version 1 exists in every language");
        let all = format!("{}\n{}\n{}", t.text_de, t.text_en, t.text_zh);
        let digest: String = sha2::Sha256::digest(all.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            digest, "a68eb1a4c29f9ffcc6dbb51016b4b367f94bb1d64ad7f0320f823161129c76ef",
            "the words of consent version 1 changed"
        );
        assert!(consent_text(super::CONSENT_VERSION + 1, 0).is_none());
        assert!(consent_text(0, 0).is_none());
    }

    #[test]
    fn the_sign_up_block_is_on_public_pages_only() {
        use super::shows_block;
        for public in [
            "/",
            "/events",
            "/events/h2-days",
            "/events/h2-days/agenda",
            "/magazine",
            "/magazine/de/wasserstoff",
            "/marketplace",
            "/opportunities/0190",
            "/organisations",
            "/pages/en/privacy",
            "/search",
        ] {
            assert!(shows_block(public), "{public}");
        }
        for private in [
            "/newsletter",
            "/newsletter/preferences/abc",
            "/admin/subscribers",
            "/meetings/0190/room",
            "/events/new",
            "/events/h2-days/dashboard",
            "/events/h2-days/video",
            "/events/h2-days/register",
            "/magazine/editor",
            "/signin",
            "/profile",
            "/me",
            "/mailbox",
            "/opportunities/new",
        ] {
            assert!(!shows_block(private), "{private}");
        }
    }

    #[test]
    fn a_sign_up_source_is_a_plain_local_path() {
        use super::safe_source;
        assert_eq!(safe_source("/events/h2-days"), "/events/h2-days");
        assert_eq!(safe_source("/magazine/de/a_b.c-d"), "/magazine/de/a_b.c-d");
        for bad in [
            "/x;=cmd|' /C calc'!A0",
            "/a,b",
            "/a?b=1",
            "//evil.example",
            "https://evil.example/",
            "",
            "/é",
        ] {
            assert_eq!(safe_source(bad), "/", "{bad}");
        }
        assert_eq!(safe_source(&format!("/{}", "a".repeat(199))).len(), 200);
        assert_eq!(safe_source(&format!("/{}", "a".repeat(200))), "/");
    }

    #[test]
    fn one_click_bodies_are_recognised_exactly() {
        let form = "application/x-www-form-urlencoded";
        assert!(is_one_click(form, b"List-Unsubscribe=One-Click"));
        assert!(!is_one_click(form, b"List-Unsubscribe=One-Click&also=1"));
        assert!(!is_one_click(form, b"confirm=1"));
        assert!(!is_one_click("text/plain", b"List-Unsubscribe=One-Click"));
        // The example of RFC 8058, section 8.
        let multipart = "multipart/form-data; boundary=---FormBoundaryjWmhtjORrn";
        let body = "-----FormBoundaryjWmhtjORrn\r\nContent-Disposition: form-data; \
                    name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n-----FormBoundaryjWmhtjORrn--\r\n";
        assert!(is_one_click(multipart, body.as_bytes()));
        let other = body.replace("One-Click", "Two-Clicks");
        assert!(!is_one_click(multipart, other.as_bytes()));
        let two = body.replace(
            "-----FormBoundaryjWmhtjORrn--",
            "-----FormBoundaryjWmhtjORrn\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n-----FormBoundaryjWmhtjORrn--",
        );
        assert!(!is_one_click(multipart, two.as_bytes()));
    }
}
