//! Image upload and serving. An upload is read with a byte limit, its size is read from the
//! header alone and refused above [`MAX_PIXELS`] before any pixel is decoded (decompression
//! bombs), then decoded with `image`'s allocation limits, scaled to [`WIDTHS`] and re-encoded
//! as JPEG, and as (lossless) WebP where that is smaller. Re-encoding drops every piece of
//! metadata of the upload (EXIF with GPS position, camera serials, XMP). The variants are
//! stored in the database, so every instance of a multi-instance deployment serves them; they
//! never change, so they are cached for a year.

use std::io::Cursor;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use kontor_domain::now_micros;
use kontor_store::magazine::ImageVariant;
use uuid::Uuid;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;

/// The largest upload accepted, in bytes.
pub const MAX_BYTES: usize = 15 * 1024 * 1024;
/// The most pixels an upload may have (about 8000 × 5000).
pub const MAX_PIXELS: u64 = 40_000_000;
/// The widths generated (those below the original's width, and the original's width up to the
/// largest of these).
pub const WIDTHS: [u32; 3] = [480, 960, 1600];
const JPEG_QUALITY: u8 = 82;

/// Why an upload was refused; each has a message key.
#[derive(Debug, PartialEq, Eq)]
pub enum ImageError {
    NotImage,
    TooManyPixels,
    Broken,
}

impl ImageError {
    fn into_app(self) -> AppError {
        match self {
            ImageError::NotImage => AppError::Refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "magazine-image-not-image",
            ),
            ImageError::TooManyPixels => AppError::Refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "magazine-image-too-many-pixels",
            ),
            ImageError::Broken => {
                AppError::Refused(StatusCode::UNPROCESSABLE_ENTITY, "magazine-image-broken")
            }
        }
    }
}

/// A decoded and re-encoded image, ready to store.
pub struct Processed {
    pub width: u32,
    pub height: u32,
    pub variants: Vec<ImageVariant>,
}

/// Decodes an upload (JPEG, PNG or WebP) and encodes its variants. CPU-bound: call it from a
/// blocking thread.
pub fn process(bytes: &[u8]) -> Result<Processed, ImageError> {
    let (w, h) = reader(bytes)?
        .into_dimensions()
        .map_err(|_| ImageError::Broken)?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(ImageError::TooManyPixels);
    }
    let mut reader = reader(bytes)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ImageError::TooManyPixels,
        _ => ImageError::Broken,
    })?;
    Ok(encode(&img))
}

/// A reader for a JPEG, PNG or WebP, known by its first bytes (not by a name or a declared type).
fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, ImageError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| ImageError::NotImage)?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => Ok(reader),
        _ => Err(ImageError::NotImage),
    }
}

/// The variants of a decoded image.
pub fn encode(img: &DynamicImage) -> Processed {
    let (w, h) = (img.width(), img.height());
    let largest = *WIDTHS.last().expect("widths");
    let mut widths: Vec<u32> = WIDTHS.iter().copied().filter(|x| *x < w).collect();
    if w <= largest {
        widths.push(w);
    }
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    let mut variants = Vec::new();
    for width in widths {
        let height = ((u64::from(h) * u64::from(width)) / u64::from(w)).max(1) as u32;
        let scaled = if width == w {
            rgb.clone()
        } else {
            rgb.resize_exact(width, height, image::imageops::FilterType::Triangle)
        };
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
            .encode_image(&scaled)
            .expect("encoding to memory does not fail");
        let mut webp = Vec::new();
        scaled
            .write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut webp))
            .expect("encoding to memory does not fail");
        let width = width as i32;
        // `image` writes lossless WebP only: smaller than the JPEG for drawings and
        // screenshots, several times larger for photographs. Browsers take the WebP whenever
        // there is one, so it is kept only where it saves bytes.
        if webp.len() < jpeg.len() {
            variants.push(ImageVariant {
                width,
                format: "webp",
                bytes: webp,
            });
        }
        variants.push(ImageVariant {
            width,
            format: "jpeg",
            bytes: jpeg,
        });
    }
    Processed {
        width: w,
        height: h,
        variants,
    }
}

/// `POST /magazine/editor/images`: a multipart form with the file in `image`.
pub async fn upload(
    State(state): State<AppState>,
    ctx: PageCtx,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let user = super::require_editor(&state, &ctx).await?;
    let mut data: Option<Vec<u8>> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("error-bad-form"))?
    {
        if field.name() != Some("image") {
            continue;
        }
        let mut buf = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|_| AppError::BadRequest("error-bad-form"))?
        {
            if buf.len() + chunk.len() > MAX_BYTES {
                return Err(AppError::Refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "magazine-image-too-large",
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        data = Some(buf);
    }
    let data = data.filter(|d| !d.is_empty()).ok_or(AppError::Refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "magazine-image-missing",
    ))?;
    let processed = tokio::task::spawn_blocking(move || process(&data))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(ImageError::into_app)?;
    let id = store(&state, &processed, Some(user)).await?;
    Ok(Redirect::to(&format!("/magazine/editor?image={id}")).into_response())
}

/// Stores a processed image; returns its id.
pub async fn store(
    state: &AppState,
    p: &Processed,
    uploaded_by: Option<Uuid>,
) -> Result<Uuid, AppError> {
    let mut tx = state.store.begin().await?;
    let id = tx
        .create_image(
            p.width as i32,
            p.height as i32,
            uploaded_by,
            &p.variants,
            now_micros(),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// `GET /magazine/images/{id}/{width}.{webp|jpeg}`.
pub async fn serve(
    State(state): State<AppState>,
    Path((id, file)): Path<(Uuid, String)>,
) -> Result<Response, AppError> {
    let (width, format) = file.split_once('.').ok_or(AppError::NotFound)?;
    let width: i32 = width.parse().map_err(|_| AppError::NotFound)?;
    let mime = match format {
        "webp" => "image/webp",
        "jpeg" => "image/jpeg",
        _ => return Err(AppError::NotFound),
    };
    // Pages ask for fixed JPEG widths (480 for cards, 960 for social previews); an image
    // narrower than that has only its own width: the nearest JPEG stands in (the next wider
    // one, else the widest), so no such link to an uploaded image is dead. (WebP widths come
    // only from the srcset, which lists those that exist.)
    let bytes = match state.store.image_variant(id, width, format).await {
        Err(kontor_store::StoreError::NotFound) if format == "jpeg" && FIXED.contains(&width) => {
            let widths: Vec<i32> = state
                .store
                .image_variants(id)
                .await?
                .into_iter()
                .filter(|(_, f)| f == format)
                .map(|(w, _)| w)
                .collect();
            let nearest = widths
                .iter()
                .copied()
                .filter(|w| *w >= width)
                .min()
                .or(widths.iter().copied().max())
                .ok_or(AppError::NotFound)?;
            state.store.image_variant(id, nearest, format).await?
        }
        other => other?,
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response)
}

/// The JPEG widths pages link to directly (cards, social previews): always answered.
const FIXED: [i32; 2] = [480, 960];

/// What a template needs for a responsive `<picture>`.
pub async fn picture(state: &AppState, id: Uuid) -> Result<serde_json::Value, AppError> {
    let image = state.store.image(id).await?;
    let variants = state.store.image_variants(id).await?;
    let widths_in = |format: &str| -> Vec<i32> {
        variants
            .iter()
            .filter(|(_, f)| f == format)
            .map(|(w, _)| *w)
            .collect()
    };
    let (widths, webp_widths) = (widths_in("jpeg"), widths_in("webp"));
    let srcset = |widths: &[i32], format: &str| {
        widths
            .iter()
            .map(|w| format!("/magazine/images/{id}/{w}.{format} {w}w"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fallback = widths
        .iter()
        .copied()
        .find(|w| *w >= 960)
        .or(widths.last().copied())
        .unwrap_or(0);
    Ok(serde_json::json!({
        "webp": srcset(&webp_widths, "webp"),
        "jpeg": srcset(&widths, "jpeg"),
        "src": format!("/magazine/images/{id}/{fallback}.jpeg"),
        "width": image.width,
        "height": image.height,
        "sizes": "(max-width: 60rem) 100vw, 60rem",
    }))
}
