//! The CV in the JSON API, under the same rules as the profile page and the download.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kontor_domain::{Invalid, now_micros};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::api::{ApiJson, Problem};
use crate::auth::CurrentUser;
use crate::error::AppError;

/// A person's CV, without its bytes.
#[derive(Serialize, ToSchema)]
pub struct CvOut {
    /// The name the download is offered under.
    file_name: String,
    size_bytes: i64,
    /// RFC 3339, UTC.
    uploaded_at: String,
    /// Also readable by the participants of the person's events.
    shared: bool,
    /// Where to download it (the same rules decide who may).
    url: String,
}

pub fn cv_out(cv: &kontor_store::cvs::Cv) -> CvOut {
    CvOut {
        file_name: cv.file_name.clone(),
        size_bytes: cv.size_bytes,
        uploaded_at: crate::api::instant(cv.uploaded_at),
        shared: cv.shared,
        url: format!("/api/v1/people/{}/cv", cv.user_id),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The name to offer the download under (path and quotes are dropped, `.pdf` is added);
    /// default `cv.pdf`.
    file_name: Option<String>,
    /// Also let the participants of one's events read it; absent: as before (not shared for a
    /// first CV).
    shared: Option<bool>,
}

/// A PDF file, as bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
// Only its schema is used: the handlers read and write the bytes themselves.
pub struct Pdf(#[allow(dead_code)] Vec<u8>);

/// Uploads one's CV (one PDF of at most 5 MB), replacing the one before.
#[utoipa::path(put, path = "/api/v1/me/cv", operation_id = "put_cv", tag = "people", params(UploadParams),
    request_body(content = Pdf, content_type = "application/pdf"), security(("token" = [])),
    responses((status = 200, body = CvOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "not a PDF, or empty", body = Problem, content_type = "application/problem+json")))]
pub async fn put(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(params): Query<UploadParams>,
    body: Bytes,
) -> Result<Json<CvOut>, AppError> {
    if body.len() > super::MAX_BYTES {
        return Err(AppError::Refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "cv-too-large",
        ));
    }
    super::check_pdf(&body).map_err(|key| AppError::field("body", Invalid::new(key)))?;
    let mut tx = state.store.begin().await?;
    let name = super::file_name(params.file_name.as_deref());
    tx.put_cv(user.id, &name, &body, params.shared, now_micros())
        .await?;
    tx.commit().await?;
    let cv = state.store.cv(user.id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(cv_out(&cv)))
}

/// Removes one's CV; nothing to remove is no error.
#[utoipa::path(delete, path = "/api/v1/me/cv", operation_id = "delete_cv", tag = "people", security(("token" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<StatusCode, AppError> {
    let mut tx = state.store.begin().await?;
    tx.delete_cv(user.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct SharingIn {
    shared: bool,
}

/// Whether the participants of one's events may read one's CV too.
#[utoipa::path(put, path = "/api/v1/me/cv/sharing", operation_id = "share_cv", tag = "people", request_body = SharingIn,
    security(("token" = [])),
    responses((status = 200, body = CvOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no CV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "not a JSON body with `shared`", body = Problem, content_type = "application/problem+json")))]
pub async fn sharing(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<SharingIn>,
) -> Result<Json<CvOut>, AppError> {
    let mut tx = state.store.begin().await?;
    if !tx.share_cv(user.id, body.shared).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    let cv = state.store.cv(user.id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(cv_out(&cv)))
}

/// A person's CV as a PDF download, for those who may read it: the person, the organisers of
/// their events, the people they asked for a meeting (while the request is open), those whose
/// request they accepted and, if shared, the participants of their events. For anyone else it
/// does not exist.
#[utoipa::path(get, path = "/api/v1/people/{id}/cv", operation_id = "get_cv", tag = "people", params(("id" = Uuid, Path)),
    security(("token" = [])),
    responses((status = 200, content_type = "application/pdf", body = Pdf),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    Ok(super::pdf(&state, viewer.id, id).await?.into_response())
}
