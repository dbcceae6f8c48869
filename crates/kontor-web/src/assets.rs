//! Styles and scripts, compiled into the binary: no page loads anything from another origin.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

const CSS: &str = include_str!("../assets/kontor.css");
const JS: &str = include_str!("../assets/kontor.js");
const ROOM_JS: &str = include_str!("../assets/room.js");
const FAVICON: &str = include_str!("../assets/favicon.svg");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/kontor.css", get(css))
        .route("/assets/kontor.js", get(js))
        .route("/assets/room.js", get(room_js))
        // Browsers ask for /favicon.ico whatever the page says; both get the same SVG.
        .route("/assets/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, CACHE),
        ],
        FAVICON,
    )
}

const CACHE: &str = "public, max-age=3600";

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        CSS,
    )
}

async fn js() -> impl IntoResponse {
    script(JS)
}

async fn room_js() -> impl IntoResponse {
    script(ROOM_JS)
}

fn script(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        body,
    )
}
