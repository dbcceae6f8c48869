//! Partnerships: the partner cities, the agreements signed with them (memoranda of
//! understanding and others, signed remotely by link) and a timeline of what happened.
//!
//! Invariants:
//! - Staff (editors and administrators) write; the public reads partner cities, their timeline
//!   and signed agreements. Drafts and agreements out for signature are staff-only (404 for
//!   everyone else), except to a signatory holding their link.
//! - The text a signatory signs is the text that was sent: only drafts change, and the signing
//!   page refuses to sign when the stored text no longer matches the digest taken at sending.

use axum::Router;
use axum::routing::{get, post};
use kontor_domain::partnership::{AgreementKind, CooperationField, MilestoneKind};
use kontor_domain::{Keyed, Locale, LocalizedText, TimeZoneName};
use kontor_store::partnerships::{Agreement, City, Milestone};

use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::label;

pub mod agreements;
pub mod api;
mod cities;
mod reminders;
mod signing;
mod timeline;

pub use reminders::send_signing_reminders;

pub fn routes() -> Router<crate::AppState> {
    Router::new()
        .route("/partnerships", get(cities::index))
        .route(
            "/partnerships/new",
            get(cities::new_form).post(cities::create),
        )
        .route("/partnerships/{slug}", get(cities::show))
        .route(
            "/partnerships/{slug}/edit",
            get(cities::edit_form).post(cities::update),
        )
        .route(
            "/partnerships/{slug}/delete",
            get(cities::delete_form).post(cities::delete),
        )
        .route(
            "/partnerships/{slug}/timeline/new",
            get(timeline::new_form).post(timeline::create),
        )
        .route(
            "/partnerships/{slug}/timeline/{id}/edit",
            get(timeline::edit_form).post(timeline::update),
        )
        .route(
            "/partnerships/{slug}/timeline/{id}/delete",
            get(timeline::delete_form).post(timeline::delete),
        )
        .route(
            "/partnerships/{slug}/agreements/new",
            get(agreements::new_form).post(agreements::create),
        )
        .route(
            "/partnerships/{slug}/agreements/{id}",
            get(agreements::show),
        )
        .route(
            "/partnerships/{slug}/agreements/{id}/edit",
            get(agreements::edit_form).post(agreements::update),
        )
        .route(
            "/partnerships/{slug}/agreements/{id}/send",
            post(agreements::send),
        )
        .route(
            "/partnerships/{slug}/agreements/{id}/withdraw",
            post(agreements::withdraw),
        )
        .route(
            "/partnerships/{slug}/agreements/{id}/delete",
            post(agreements::delete),
        )
        .route(
            "/partnerships/{slug}/agreements/{id}/signatories/{position}/link",
            post(agreements::renew_link),
        )
        .route(
            "/sign/{token}",
            get(signing::page)
                .post(signing::sign)
                // The link is the capability: not in a Referer, not in a cache.
                .layer(axum::middleware::map_response(
                    crate::subscribe::keep_token_private,
                )),
        )
}

/// Staff write partnerships: the agency's editors and administrators.
fn require_staff(ctx: &PageCtx) -> Result<(), AppError> {
    ctx.require_user()?;
    if ctx.editor {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// A text in several languages from the fields `<prefix>_de`, `<prefix>_en`, `<prefix>_zh`;
/// each error is recorded on its own language's field. `required`: the text must exist in some
/// language, and its absence is shown on the field of this one (the reader's).
fn localized(
    form: &FormData,
    e: &mut Errors,
    prefix: &str,
    max: usize,
    multiline: bool,
    required: Option<Locale>,
) -> Option<LocalizedText> {
    let mut text = LocalizedText::new();
    let mut ok = true;
    for l in Locale::ALL {
        let field = format!("{prefix}_{}", l.key());
        match LocalizedText::parse(&[(*l, form.get(&field))], max, multiline) {
            Ok(one) => {
                if let Some(t) = one.exact(*l) {
                    text.set(*l, t);
                }
            }
            Err(invalid) => {
                e.0.push((field, invalid));
                ok = false;
            }
        }
    }
    if let Some(reader) = required
        && ok
        && text.is_empty()
    {
        e.0.push((
            format!("{prefix}_{}", reader.key()),
            kontor_domain::Invalid::new("invalid-one-language"),
        ));
        ok = false;
    }
    ok.then_some(text)
}

/// Error-summary labels of a localized text's fields: "Title (Deutsch)".
fn localized_labels(labels: &mut serde_json::Value, prefix: &str, label: &str) {
    for l in Locale::ALL {
        labels[format!("{prefix}_{}", l.key())] = format!("{label} ({})", l.endonym()).into();
    }
}

/// Form values `<prefix>_de` … of a localized text, for re-filling a form.
fn localized_values(
    values: &mut serde_json::Map<String, serde_json::Value>,
    prefix: &str,
    t: &LocalizedText,
) {
    for l in Locale::ALL {
        values.insert(
            format!("{prefix}_{}", l.key()),
            t.exact(*l).unwrap_or("").into(),
        );
    }
}

/// The text in the reader's language, with the language it is in (for `lang`).
fn shown(t: &LocalizedText, locale: Locale) -> serde_json::Value {
    match t.get(locale) {
        Some((l, text)) => serde_json::json!({ "text": text, "lang": l.bcp47() }),
        None => serde_json::json!({ "text": "", "lang": locale.bcp47() }),
    }
}

/// What the public pages show of a city.
fn city_view(c: &City, locale: Locale) -> serde_json::Value {
    serde_json::json!({
        "slug": c.slug,
        "name": shown(&c.name, locale),
        "country": c.country.code(),
        "flag": c.country.flag(),
        "since": c.since_year,
        "description": shown(&c.description, locale),
    })
}

fn fields_view(fields: &[CooperationField], locale: Locale) -> Vec<String> {
    fields
        .iter()
        .map(|f| label(locale, "cooperation-field", *f))
        .collect()
}

/// The day an instant falls on in Berlin, where the agency signs.
fn day(micros: i64, locale: Locale) -> String {
    crate::events::format_day(micros, &TimeZoneName::berlin(), locale)
}

fn berlin_date(micros: i64) -> jiff::civil::Date {
    jiff::Timestamp::from_microsecond(micros)
        .unwrap_or_default()
        .to_zoned_datetime(TimeZoneName::berlin().tz())
        .date()
}

/// What a list or page shows of an agreement.
fn agreement_view(a: &Agreement, city: &City, locale: Locale) -> serde_json::Value {
    serde_json::json!({
        "id": a.id,
        "url": format!("/partnerships/{}/agreements/{}", city.slug, a.id),
        "kind": label(locale, "agreement-kind", a.kind),
        "title": shown(&a.title, locale),
        "status": a.status.key(),
        "status_label": label(locale, "agreement-status", a.status),
        "fields": fields_view(&a.fields, locale),
        "signed_on": a.signed_at.map(|t| day(t, locale)),
        "sent_on": a.sent_at.map(|t| day(t, locale)),
        "signed_count": a.signatories.iter().filter(|s| s.signed_at.is_some()).count(),
        "signatory_count": a.signatories.len(),
    })
}

/// A timeline entry: a milestone staff wrote, or an agreement that was signed.
fn timeline_view(
    milestones: &[Milestone],
    agreements: &[Agreement],
    city: &City,
    locale: Locale,
) -> Vec<serde_json::Value> {
    // Milestones come oldest first; reversed, one day's entries stay newest first too.
    let mut entries: Vec<(String, serde_json::Value)> = milestones
        .iter()
        .rev()
        .map(|m| {
            (
                m.happened_on.to_string(),
                serde_json::json!({
                    "id": m.id,
                    "date": crate::events::format_date(m.happened_on, locale),
                    "kind": m.kind.key(),
                    "kind_label": label(locale, "milestone-kind", m.kind),
                    "title": shown(&m.title, locale),
                    "body": shown(&m.body, locale),
                }),
            )
        })
        .collect();
    for a in agreements {
        let Some(t) = a.signed_at else { continue };
        let date = berlin_date(t);
        entries.push((
            date.to_string(),
            serde_json::json!({
                "date": crate::events::format_date(date, locale),
                "kind": "agreement",
                "kind_label": label(locale, "agreement-kind", a.kind),
                "title": shown(&a.title, locale),
                "url": format!("/partnerships/{}/agreements/{}", city.slug, a.id),
            }),
        ));
    }
    entries.sort_by(|a, b| b.0.cmp(&a.0));
    entries.into_iter().map(|(_, v)| v).collect()
}

/// A form page: shown with 422 when it comes back with errors.
fn render_form(
    state: &crate::AppState,
    ctx: &PageCtx,
    template: &str,
    body: serde_json::Value,
    invalid: bool,
) -> axum::response::Response {
    if invalid {
        crate::page::render_invalid(state, &ctx.reader(), template, body)
    } else {
        crate::page::render(state, &ctx.reader(), template, body)
    }
}

fn kind_options(locale: Locale) -> Vec<serde_json::Value> {
    crate::page::options::<AgreementKind>(locale, "agreement-kind")
}

fn milestone_options(locale: Locale) -> Vec<serde_json::Value> {
    crate::page::options::<MilestoneKind>(locale, "milestone-kind")
}
