//! Operations: liveness, readiness, Prometheus metrics, and the request counter behind them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
pub struct Metrics {
    /// Responses by status class 1xx..5xx.
    by_class: [AtomicU64; 5],
    /// Cumulative histogram counts, one per bucket, plus +Inf.
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_micros: AtomicU64,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    use std::fmt::Write;
    let m = &state.metrics;
    let mut out = String::new();
    out.push_str("# HELP kontor_http_responses_total HTTP responses by status class.\n");
    out.push_str("# TYPE kontor_http_responses_total counter\n");
    for (i, c) in m.by_class.iter().enumerate() {
        let _ = writeln!(
            out,
            "kontor_http_responses_total{{class=\"{}xx\"}} {}",
            i + 1,
            c.load(Ordering::Relaxed)
        );
    }
    out.push_str("# HELP kontor_http_request_duration_seconds Time to the response head.\n");
    out.push_str("# TYPE kontor_http_request_duration_seconds histogram\n");
    let mut cumulative = 0;
    for (i, le) in BUCKETS
        .iter()
        .map(|b| b.to_string())
        .chain(["+Inf".to_string()])
        .enumerate()
    {
        cumulative += m.latency[i].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "kontor_http_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
        );
    }
    let _ = writeln!(
        out,
        "kontor_http_request_duration_seconds_sum {}",
        m.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "kontor_http_request_duration_seconds_count {cumulative}"
    );
    if let Ok(c) = state.store.outbox_counts().await {
        out.push_str("# HELP kontor_outbox_mails Mails in the outbox by status.\n# TYPE kontor_outbox_mails gauge\n");
        let _ = writeln!(
            out,
            "kontor_outbox_mails{{status=\"pending\"}} {}",
            c.pending
        );
        let _ = writeln!(out, "kontor_outbox_mails{{status=\"sent\"}} {}", c.sent);
        let _ = writeln!(out, "kontor_outbox_mails{{status=\"failed\"}} {}", c.failed);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// Middleware: counts every response and its latency.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    let m = &state.metrics;
    let class = (response.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    m.by_class[class].fetch_add(1, Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    let bucket = BUCKETS
        .iter()
        .position(|b| secs <= *b)
        .unwrap_or(BUCKETS.len());
    m.latency[bucket].fetch_add(1, Ordering::Relaxed);
    m.latency_sum_micros
        .fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
    response
}
