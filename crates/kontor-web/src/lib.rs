//! Kontor's web server: server-rendered pages that work without JavaScript, the JSON API under
//! `/api/v1` with its OpenAPI document, and the operational endpoints.
//!
//! Invariants:
//! - This is the only crate that knows HTTP. Handlers parse input into domain types at the edge
//!   and hand the store values it can trust.
//! - Every state-changing request passes the cross-site check in [`csrf`].
//! - Every page and error is rendered in the reader's language ([`lang`]).
//! - No page loads anything from another origin: styles and scripts are served from `/assets`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use kontor_mail::Composer;
use kontor_store::Store;
use tokio::sync::Notify;

mod api;
mod assets;
mod auth;
mod availability;
mod calendar;
mod csrf;
mod cvs;
mod dashboard;
mod error;
mod events;
mod form;
mod lang;
mod magazine;
mod mailbox;
mod marketplace;
mod meetings;
mod newsletter;
mod ops;
mod organisations;
mod page;
mod partnerships;
mod profile;
mod recommend;
mod rooms;
mod scheduling;
mod subscribe;

pub use api::openapi_json;
pub use auth::hash_password;
pub use magazine::images::{Processed, encode as encode_image};
pub use marketplace::reindex;
pub use meetings::{send_digests, send_due_reminders};
pub use partnerships::send_signing_reminders;
pub use rooms::{VideoConfig, turn_credential};

/// What the web server needs to know about its deployment.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// The public URL, without trailing slash: links in mails, the `Origin` check, `Secure` cookies.
    pub base_url: String,
    /// Anyone may read the local mailbox (the demo); otherwise only administrators.
    pub mailbox_public: bool,
    /// Take the client address from `X-Forwarded-For` (behind a reverse proxy).
    pub trust_forwarded_for: bool,
    /// Days a session lasts.
    pub session_days: i64,
    /// STUN/TURN servers for video rooms.
    pub video: VideoConfig,
    /// How much of the client's address the newsletter's proof of consent keeps.
    pub consent_ip: kontor_domain::ConsentIp,
    /// Poked when an editor starts a newsletter, so the sender begins at once.
    pub newsletter_wake: Arc<Notify>,
    /// A newsletter sender runs (an SMTP server is configured).
    pub newsletter_smtp: bool,
    /// The privacy notice the newsletter's consent text refers to; `{locale}` becomes de/en/zh.
    pub privacy_url: String,
}

impl WebConfig {
    pub fn new(base_url: impl Into<String>) -> Self {
        WebConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            mailbox_public: false,
            trust_forwarded_for: false,
            session_days: 30,
            video: VideoConfig::default(),
            consent_ip: kontor_domain::ConsentIp::Truncated,
            newsletter_wake: Arc::new(Notify::new()),
            newsletter_smtp: false,
            privacy_url: "/pages/{locale}/privacy".into(),
        }
    }
    fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub config: WebConfig,
    pub composer: Composer,
    /// Poked after a mail is queued, so the outbox worker delivers it at once.
    pub outbox_wake: Arc<Notify>,
    /// The marketplace's full-text index, in memory (see [`marketplace`]).
    pub search: kontor_search::SearchIndex,
    /// Optimiser runs of this instance (see [`scheduling`]).
    jobs: scheduling::Jobs,
    templates: minijinja::Environment<'static>,
    metrics: ops::Metrics,
    /// Video-room signalling, started on first use (see [`rooms`]).
    rooms: tokio::sync::OnceCell<kontor_store::rooms::SignalHub>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, config: WebConfig, outbox_wake: Arc<Notify>) -> AppState {
        AppState(Arc::new(Inner {
            composer: Composer::new(config.base_url.clone()),
            store,
            config,
            outbox_wake,
            search: kontor_search::SearchIndex::in_memory().expect("an in-memory index opens"),
            jobs: scheduling::Jobs::default(),
            templates: page::environment(),
            metrics: ops::Metrics::default(),
            rooms: tokio::sync::OnceCell::new(),
        }))
    }
}

impl AppState {
    /// The video rooms' signalling hub (on PostgreSQL it starts listening on first use).
    pub async fn rooms(&self) -> Result<kontor_store::rooms::SignalHub, kontor_store::StoreError> {
        self.rooms
            .get_or_try_init(|| kontor_store::rooms::SignalHub::start(&self.store))
            .await
            .cloned()
    }

    /// Rebuilds the search index from the database.
    pub async fn reindex(&self) -> anyhow::Result<usize> {
        marketplace::reindex(&self.store, &self.search).await
    }
}

/// The label of a search hit's kind.
fn i18n_kind(locale: kontor_domain::Locale, kind: kontor_search::DocKind) -> String {
    kontor_i18n::t(locale, &format!("search-kind-{}", kind.key()))
}

/// Every route of the application, with its middleware.
pub fn router(state: AppState) -> Router {
    use axum::middleware::from_fn_with_state;
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

    let pages = Router::new()
        .merge(events::routes())
        .merge(auth::routes())
        .merge(profile::routes())
        .merge(cvs::routes())
        .merge(organisations::routes())
        .merge(mailbox::routes())
        .merge(meetings::routes())
        .merge(calendar::routes())
        .merge(marketplace::routes())
        .merge(scheduling::routes())
        .merge(availability::routes())
        .merge(dashboard::routes())
        .merge(rooms::routes())
        .merge(subscribe::routes())
        .merge(magazine::routes())
        .merge(newsletter::routes())
        .merge(partnerships::routes())
        .merge(lang::routes());
    Router::new()
        .merge(pages)
        .nest("/api/v1", api::routes())
        .merge(ops::routes())
        .merge(assets::routes())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(1024 * 1024))
        // Image uploads bring their own, larger limit.
        .merge(magazine::upload_routes())
        .merge(cvs::upload_routes())
        .fallback(error::not_found)
        .layer(from_fn_with_state(state.clone(), csrf::check))
        .layer(from_fn_with_state(state.clone(), ops::track))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panic_response))
        .layer(from_fn_with_state(state.clone(), error::render))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
