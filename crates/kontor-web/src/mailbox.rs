//! The local mailbox: mails delivered without SMTP (the demo) can be read in the browser.
//! Readable by administrators, or by anyone when the deployment says so (the demo).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::page::render;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mailbox", get(list))
        .route("/mailbox/{id}", get(show))
}

fn allowed(state: &AppState, ctx: &PageCtx) -> Result<(), AppError> {
    if state.config.mailbox_public || ctx.user.as_ref().is_some_and(|u| u.is_admin) {
        Ok(())
    } else if ctx.user.is_none() {
        Err(AppError::Unauthorized)
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Deserialize)]
struct Filter {
    #[serde(default)]
    to: String,
}

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<Filter>,
) -> Result<Response, AppError> {
    allowed(&state, &ctx)?;
    let to = f.to.trim().to_lowercase();
    let mails = state
        .store
        .outbox((!to.is_empty()).then_some(to.as_str()), 100)
        .await?;
    let mails: Vec<_> = mails
        .iter()
        .map(|m| serde_json::json!({
            "id": m.id, "to": m.recipient, "subject": m.subject, "status": kontor_i18n::t(ctx.locale, &format!("mail-status-{}", m.status)),
            "at": crate::events::format_instant(m.created_at, ctx.user.as_ref().map(|u| &u.time_zone), ctx.locale),
        }))
        .collect();
    Ok(render(
        &state,
        &ctx.reader(),
        "mailbox.html",
        serde_json::json!({ "mails": mails, "to": to }),
    ))
}

async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AppError> {
    allowed(&state, &ctx)?;
    let m = state.store.outbox_mail(id).await?;
    let links = links(&m.body_text);
    // A newsletter delivered here instead of by SMTP: its headers as they would have travelled.
    let headers = m.raw_message.as_deref().map(|raw| {
        raw.split_once("\r\n\r\n")
            .map_or(raw, |(head, _)| head)
            .to_string()
    });
    Ok(render(
        &state,
        &ctx.reader(),
        "mail.html",
        serde_json::json!({
            "links": links, "headers": headers,
            "mail": { "id": m.id, "to": m.recipient, "subject": m.subject, "text": m.body_text, "status": kontor_i18n::t(ctx.locale, &format!("mail-status-{}", m.status)),
                      "error": m.last_error, "attempts": m.attempts },
        }),
    ))
}

/// Every link of a mail's text, also one right after a word (Chinese writes "退订：https://…"
/// without a space).
fn links(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter_map(|w| {
            w.find("http://")
                .or_else(|| w.find("https://"))
                .map(|i| &w[i..])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_found_after_a_full_width_colon_too() {
        let text = "退订：https://k.example/u/1\nRead: http://k.example/a b https://k.example/c";
        assert_eq!(
            super::links(text),
            [
                "https://k.example/u/1",
                "http://k.example/a",
                "https://k.example/c"
            ]
        );
    }
}
