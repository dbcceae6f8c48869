//! Candidates' CVs: a PDF on one's profile, and the download for those who may read it
//! (`Store::may_see_cv`: the person, the organisers of their events, the people they exchanged
//! an open meeting request with, and, if the person shares it, their fellow participants).

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use kontor_domain::{Locale, now_micros};
use uuid::Uuid;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::FormData;

/// A CV of a few pages is well below this; scans of many pages are not.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

pub mod api;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/profile/cv/sharing", post(sharing))
        .route("/profile/cv/delete", post(delete))
        .route("/people/{id}/cv", get(download))
}

/// The upload route, with its own body limit: merge it outside the global limit.
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/profile/cv", post(upload))
        .route("/api/v1/me/cv", put(api::put))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BYTES * 2))
        .layer(axum::middleware::from_fn_with_state(
            (MAX_BYTES, "cv-too-large"),
            crate::form::refuse_declared_oversize,
        ))
}

/// Why an upload is not a CV we keep, as a message key.
fn check_pdf(data: &[u8]) -> Result<(), &'static str> {
    if data.is_empty() {
        return Err("cv-missing");
    }
    // PDF readers accept the header anywhere in the first kilobyte.
    let head = &data[..data.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err("cv-not-pdf");
    }
    Ok(())
}

/// The name to offer the download under: the uploaded file's own name without any path, with
/// no control characters or quotes, ending in `.pdf`.
fn file_name(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(100)
        .collect::<String>();
    let base = base.trim();
    match base {
        "" => "cv.pdf".to_string(),
        b if b.to_lowercase().ends_with(".pdf") => b.to_string(),
        b => format!("{b}.pdf"),
    }
}

/// `POST /profile/cv`: a multipart form with the PDF in `cv` and the `shared` box.
async fn upload(
    State(state): State<AppState>,
    ctx: PageCtx,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let (mut data, mut name, mut shared, mut keep_sharing) = (Vec::new(), None, false, false);
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("error-bad-form"))?
    {
        match field.name() {
            Some("shared") => shared = true,
            Some("keep_sharing") => keep_sharing = true,
            Some("cv") => {
                // One file: a second part replaces the first rather than joining it.
                data.clear();
                name = field.file_name().map(str::to_string);
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|_| AppError::BadRequest("error-bad-form"))?
                {
                    if data.len() + chunk.len() > MAX_BYTES {
                        let status = StatusCode::PAYLOAD_TOO_LARGE;
                        return refused(&state, &ctx, user, "cv-too-large", status).await;
                    }
                    data.extend_from_slice(&chunk);
                }
            }
            _ => {}
        }
    }
    if let Err(key) = check_pdf(&data) {
        return refused(&state, &ctx, user, key, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut tx = state.store.begin().await?;
    tx.put_cv(
        user.id,
        &file_name(name.as_deref()),
        &data,
        (!keep_sharing).then_some(shared),
        now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/profile?saved=cv#cv-h").into_response())
}

/// The profile again, with why the upload was not kept at its field.
async fn refused(
    state: &AppState,
    ctx: &PageCtx,
    user: &kontor_store::accounts::User,
    key: &'static str,
    status: StatusCode,
) -> Result<Response, AppError> {
    let notice = crate::profile::Notice::cv_refused(key);
    let mut page = crate::profile::profile_page(state, ctx, user, notice).await?;
    *page.status_mut() = status;
    Ok(page)
}

/// `POST /profile/cv/sharing`: whether fellow participants may read it too.
async fn sharing(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let mut tx = state.store.begin().await?;
    if !tx.share_cv(user.id, form.checked("shared")).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(Redirect::to("/profile?saved=cv#cv-h").into_response())
}

/// `POST /profile/cv/delete`
async fn delete(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let mut tx = state.store.begin().await?;
    tx.delete_cv(user.id).await?;
    tx.commit().await?;
    Ok(Redirect::to("/profile?saved=cv-deleted#cv-h").into_response())
}

/// `GET /people/{id}/cv`: the PDF, as a download, for those who may read it; for everyone
/// else it does not exist.
async fn download(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let viewer = ctx.require_user()?;
    pdf(&state, viewer.id, id).await
}

/// The CV of `id` as a download for `viewer`, or not found.
async fn pdf(state: &AppState, viewer: Uuid, id: Uuid) -> Result<Response, AppError> {
    if !state.store.may_see_cv(viewer, id).await? {
        return Err(AppError::NotFound);
    }
    let (file_name, content) = state.store.cv_file(id).await?.ok_or(AppError::NotFound)?;
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        rfc5987(&file_name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
            (header::CACHE_CONTROL, "private, no-store".into()),
            // Opened in the browser anyway, it runs nothing and reaches nothing of ours.
            (header::CONTENT_SECURITY_POLICY, "sandbox".into()),
        ],
        content,
    )
        .into_response())
}

/// Percent-encodes a file name for `filename*` (RFC 5987): UTF-8, attr-chars kept.
fn rfc5987(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What the profile page shows of one's own CV.
pub async fn profile_view(
    state: &AppState,
    ctx: &PageCtx,
    user: Uuid,
) -> Result<serde_json::Value, AppError> {
    Ok(match state.store.cv(user).await? {
        Some(cv) => serde_json::json!({
            "file_name": cv.file_name,
            "size": size_label(cv.size_bytes, ctx.locale),
            "uploaded": crate::events::format_instant(cv.uploaded_at, ctx.user.as_ref().map(|u| &u.time_zone), ctx.locale),
            "shared": cv.shared,
            "href": format!("/people/{user}/cv"),
        }),
        None => serde_json::Value::Null,
    })
}

/// A CV's size as people read it: "240 KB", "1.2 MB" ("1,2 MB" in German).
pub fn size_label(bytes: i64, locale: Locale) -> String {
    if bytes < 1024 * 1024 {
        return format!("{} KB", (bytes + 1023) / 1024);
    }
    let mb = format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
    let mb = mb.trim_end_matches(".0");
    match locale {
        Locale::De => format!("{} MB", mb.replace('.', ",")),
        Locale::En | Locale::Zh => format!("{mb} MB"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pdfs_are_kept_under_a_safe_name() {
        assert_eq!(check_pdf(b""), Err("cv-missing"));
        assert_eq!(check_pdf(b"GIF89a"), Err("cv-not-pdf"));
        assert_eq!(check_pdf(b"\n%PDF-1.7\n"), Ok(()));
        assert_eq!(
            file_name(Some("C:\\Users\\li\\简历 \"final\".PDF")),
            "简历 final.PDF"
        );
        assert_eq!(file_name(Some("../../etc/passwd")), "passwd.pdf");
        assert_eq!(file_name(None), "cv.pdf");
        assert_eq!(rfc5987("简历 a.pdf"), "%E7%AE%80%E5%8E%86%20a.pdf");
        assert_eq!(size_label(245_000, Locale::En), "240 KB");
        assert_eq!(size_label(1_300_000, Locale::En), "1.2 MB");
        assert_eq!(size_label(1_300_000, Locale::De), "1,2 MB");
        assert_eq!(size_label(MAX_BYTES as i64, Locale::Zh), "5 MB");
    }
}
