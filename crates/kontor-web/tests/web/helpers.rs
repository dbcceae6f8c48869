use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, header};
use http_body_util::BodyExt;
use kontor_domain::{
    Email, EventFormat, EventKind, Locale, LocalizedText, MatchmakingSession, ParticipantRole,
    Password, Slug, TimeZoneName,
};
use kontor_store::Store;
use kontor_store::accounts::NewUser;
use kontor_store::events::NewEvent;
use kontor_web::{AppState, WebConfig};
use tower::ServiceExt;

pub const BASE: &str = "http://kontor.test";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub store: Store,
    pub state: AppState,
    router: Router,
    /// A database file of this test, removed when the app is dropped.
    file: Option<TempFile>,
}

struct TempFile(std::path::PathBuf);
impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent (`body` is its lossy text).
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The session cookie set by a sign-in, as a `Cookie` header value.
    pub fn session_cookie(&self) -> String {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("kontor_session="))
            .map(|c| c.split(';').next().unwrap().to_string())
            .unwrap_or_else(|| panic!("no session cookie in {:?}", self.headers))
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        TestApp::on(store)
    }

    /// The application on a given (migrated) store.
    pub fn on(store: Store) -> TestApp {
        TestApp::configured(store, WebConfig::new(BASE))
    }

    /// One app per backend, each with the URL of its own fresh database: a SQLite file always,
    /// PostgreSQL when `KONTOR_TEST_DATABASE_URL` names a server (required when
    /// `KONTOR_REQUIRE_POSTGRES=1`).
    pub async fn on_every_backend() -> Vec<(TestApp, String)> {
        let name = format!("kontor_test_{}", uuid::Uuid::now_v7().simple());
        let file = std::env::temp_dir().join(format!("{name}.db"));
        let sqlite = format!("sqlite://{}", file.display());
        let mut urls = vec![sqlite.clone()];
        if let Some(server) = kontor_store::testing::postgres_server() {
            urls.push(kontor_store::testing::fresh_postgres_url(&server).await);
        }
        let mut apps = Vec::new();
        for url in urls {
            let store = Store::connect(&url).await.unwrap();
            store.migrate().await.unwrap();
            let mut app = TestApp::on(store);
            if url == sqlite {
                app.file = Some(TempFile(file.clone()));
            }
            apps.push((app, url));
        }
        apps
    }

    pub fn configured(store: Store, config: WebConfig) -> TestApp {
        let state = AppState::new(store.clone(), config, Arc::new(tokio::sync::Notify::new()));
        TestApp {
            store,
            router: kontor_web::router(state.clone()),
            state,
            file: None,
        }
    }

    pub async fn send(&self, mut req: Request<Body>) -> Reply {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let res: Response<Body> = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>, lang: &str) -> Reply {
        let mut b = Request::get(path).header(header::ACCEPT_LANGUAGE, lang);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// A same-origin form post, as a browser sends it.
    /// A `multipart/form-data` POST; each part is (name, file name, bytes).
    pub async fn post_multipart(
        &self,
        path: &str,
        cookie: &str,
        lang: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Reply {
        const BOUNDARY: &str = "----kontor-test-boundary";
        let mut body = vec![];
        for (name, file, bytes) in parts {
            let file = file.map_or(String::new(), |f| format!("; filename=\"{f}\""));
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let req = Request::post(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(header::ACCEPT_LANGUAGE, lang)
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    pub async fn post_form(
        &self,
        path: &str,
        cookie: Option<&str>,
        lang: &str,
        form: &[(&str, &str)],
    ) -> Reply {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT_LANGUAGE, lang)
            .header("sec-fetch-site", "same-origin");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(
            b.body(Body::from(serde_urlencoded::to_string(form).unwrap()))
                .unwrap(),
        )
        .await
    }

    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(
            b.body(body.map_or(Body::empty(), |s| Body::from(s.to_string())))
                .unwrap(),
        )
        .await
    }

    /// An API call with a body that is not JSON (an upload).
    pub async fn api_bytes(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    pub async fn user(&self, email: &str, locale: Locale, admin: bool) -> uuid::Uuid {
        let mut tx = self.store.begin().await.unwrap();
        let id = tx
            .create_user(
                NewUser {
                    email: Email::parse(email).unwrap(),
                    name: format!("User {}", email.split('@').next().unwrap_or_default()),
                    time_zone: TimeZoneName::berlin(),
                    locale,
                    is_admin: admin,
                    password_hash: Some(
                        kontor_web::hash_password(&Password::parse(PASSWORD).unwrap()).unwrap(),
                    ),
                    email_verified: true,
                },
                kontor_domain::now_micros(),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// Signs in with the password and returns the `Cookie` header value.
    pub async fn sign_in(&self, email: &str) -> String {
        let r = self
            .post_form(
                "/signin",
                None,
                "en",
                &[("email", email), ("password", PASSWORD), ("next", "/")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        r.session_cookie()
    }

    /// An event organised by `organiser`, open for registration now.
    pub async fn event(&self, slug: &str, organiser: uuid::Uuid) -> uuid::Uuid {
        self.event_with_rules(slug, organiser, Default::default())
            .await
    }

    pub async fn event_with_rules(
        &self,
        slug: &str,
        organiser: uuid::Uuid,
        rules: kontor_store::events::MatchmakingRules,
    ) -> uuid::Uuid {
        let now = kontor_domain::now_micros();
        let mut tx = self.store.begin().await.unwrap();
        let id = tx
            .create_event(
                &NewEvent {
                    slug: Slug::parse(slug).unwrap(),
                    kind: EventKind::TradeFair,
                    format: EventFormat::Hybrid,
                    title: LocalizedText::one(Locale::De, "Wasserstofftage")
                        .with(Locale::Zh, "氢能日"),
                    description: LocalizedText::one(
                        Locale::En,
                        "Two days of meetings.\n\nOn site and online.",
                    ),
                    venue: None,
                    time_zone: TimeZoneName::berlin(),
                    starts_on: "2030-03-10".parse().unwrap(),
                    ends_on: "2030-03-10".parse().unwrap(),
                    registration_opens_at: now - 1_000_000,
                    registration_closes_at: now + 86_400_000_000,
                    needs_approval: true,
                    roles: vec![ParticipantRole::Exhibitor, ParticipantRole::Visitor],
                    sessions: vec![
                        MatchmakingSession::parse("2030-03-10", "09:00", "12:00", 30, &[]).unwrap(),
                    ],
                    rules,
                },
                organiser,
                now,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// Registers `user` for `event` as approved.
    pub async fn approved(&self, event: uuid::Uuid, user: uuid::Uuid, role: ParticipantRole) {
        let mut tx = self.store.begin().await.unwrap();
        tx.register(
            event,
            user,
            role,
            kontor_domain::RegistrationStatus::Approved,
            None,
            kontor_domain::now_micros(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    /// Start instants of the first session's slots of an event.
    pub async fn slot_starts(&self, event: uuid::Uuid) -> Vec<i64> {
        let e = self.store.event(event).await.unwrap();
        self.store.event_sessions(event).await.unwrap()[0]
            .slots(&e.time_zone)
            .iter()
            .map(|s| s.start.as_microsecond())
            .collect()
    }

    pub async fn token(&self, cookie: &str) -> String {
        let r = self
            .post_form(
                "/profile/tokens",
                Some(cookie),
                "en",
                &[("token_name", "test")],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let start = r.body.find("kontor_").expect("token shown once");
        r.body[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    }
}
