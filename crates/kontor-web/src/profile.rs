//! A person's own profile, their organisation's profile, and their API tokens.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kontor_domain::{
    Country, Keyed, Locale, LocalizedText, OrgKind, OrgSize, Sector, Text, TimeZoneName, WebUrl,
    now_micros,
};
use kontor_store::accounts::{ProfileUpdate, User};
use kontor_store::organisations::OrganisationFields;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{PageCtx, common_zones, create_token};
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{field_errors, options, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/profile", get(page).post(save_person))
        .route("/profile/organisation", post(save_organisation))
        .route("/profile/tokens", post(new_token))
        .route("/profile/tokens/{id}/revoke", post(revoke_token))
}

/// Languages a person can meet in (ISO 639-1), offered as checkboxes.
pub const MEETING_LANGUAGES: [&str; 8] = ["de", "en", "zh", "fr", "es", "it", "ja", "ru"];

#[derive(serde::Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    profile_page(
        &state,
        &ctx,
        user,
        Notice {
            saved: q.saved.as_deref().is_some_and(|s| !s.starts_with("cv")),
            saved_cv: q.saved.as_deref().is_some_and(|s| s.starts_with("cv")),
            ..Notice::default()
        },
    )
    .await
}

#[derive(Default)]
pub(crate) struct Notice {
    person_errors: Option<(serde_json::Value, serde_json::Value)>,
    org_errors: Option<(serde_json::Value, serde_json::Value)>,
    new_token: Option<String>,
    saved: bool,
    /// The CV was just saved or removed: said in its own section, where the page lands.
    saved_cv: bool,
    /// Why the CV was not kept (a message key).
    cv_error: Option<&'static str>,
}

impl Notice {
    /// The page after an upload that was not kept, with why.
    pub(crate) fn cv_refused(key: &'static str) -> Notice {
        Notice {
            cv_error: Some(key),
            ..Notice::default()
        }
    }
}

pub(crate) async fn profile_page(
    state: &AppState,
    ctx: &PageCtx,
    user: &User,
    notice: Notice,
) -> Result<Response, AppError> {
    let organisation = match user.organisation_id {
        Some(id) => Some(state.store.organisation(id).await?),
        None => None,
    };
    let person_values = serde_json::json!({
        "name": user.name, "job_title": user.job_title, "time_zone": user.time_zone.as_str(),
        "locale": user.locale.key(), "phone": user.phone, "contact_public": user.contact_public,
        "languages": user.languages,
        "daily_digest": user.daily_digest,
    });
    let org_values = match &organisation {
        Some(o) => {
            let mut v = serde_json::json!({
                "name": o.name, "kind": o.kind.key(), "country": o.country.code(), "city": o.city,
                "website": o.website, "size": o.size.map(Keyed::key),
                "sectors": o.sectors.iter().map(|s| s.key()).collect::<Vec<_>>(),
            });
            for l in Locale::ALL {
                v[format!("description_{}", l.key())] = serde_json::json!(o.description.exact(*l));
            }
            v
        }
        None => serde_json::json!({ "country": "DE", "kind": "company", "sectors": [] }),
    };
    let failed =
        notice.person_errors.is_some() || notice.org_errors.is_some() || notice.cv_error.is_some();
    let (person_values, person_errors) = notice
        .person_errors
        .unwrap_or((person_values, serde_json::json!({})));
    let (org_values, org_errors) = notice
        .org_errors
        .unwrap_or((org_values, serde_json::json!({})));
    let tokens: Vec<_> = state.store.api_tokens(user.id).await?.iter().map(|t| serde_json::json!({
        "id": t.id, "name": t.name,
        "created": crate::events::format_instant(t.created_at, Some(&user.time_zone), ctx.locale),
    })).collect();
    let status = if failed {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let ui_locales = crate::page::locale_options();
    let mut r = render(
        state,
        &ctx.reader(),
        "profile.html",
        serde_json::json!({
            "person": person_values,
            "person_errors": person_errors,
            "org": org_values,
            "org_errors": org_errors,
            "has_org": organisation.is_some(),
            "org_id": organisation.as_ref().map(|o| o.id),
            "kinds": options::<OrgKind>(ctx.locale, "org-kind"),
            "sizes": options::<OrgSize>(ctx.locale, "org-size"),
            "sectors": options::<Sector>(ctx.locale, "sector"),
            "zones": common_zones(),
            "ui_locales": ui_locales,
            "meeting_languages": MEETING_LANGUAGES,
            "tokens": tokens,
            "new_token": notice.new_token,
            "saved": notice.saved,
            "saved_cv": notice.saved_cv,
            "email": user.email.as_str(),
            "cv": crate::cvs::profile_view(state, ctx, user.id).await?,
            "cv_errors": notice.cv_error.map(|k| serde_json::json!({ "cv": kontor_i18n::t(ctx.locale, k) })).unwrap_or_else(|| serde_json::json!({})),
            "cv_max": crate::cvs::size_label(crate::cvs::MAX_BYTES as i64, ctx.locale),
        }),
    );
    *r.status_mut() = status;
    Ok(r)
}

/// Parses the person form.
pub fn parse_person(form: &FormData) -> Result<ProfileUpdate, Errors> {
    let mut errors = Errors::default();
    let name = errors.take("name", Text::line(form.get("name"), 120));
    let job_title = errors.take("job_title", Text::optional_line(form.get("job_title"), 120));
    let time_zone = errors.take("time_zone", TimeZoneName::parse(form.get("time_zone")));
    let locale = errors.take("locale", Locale::parse(form.get("locale")));
    let phone = errors.take(
        "phone",
        Text::optional_line(form.get("phone"), 40).and_then(|p| match p {
            Some(p)
                if !p
                    .as_str()
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-()/".contains(c)) =>
            {
                Err(kontor_domain::Invalid::new("invalid-phone"))
            }
            p => Ok(p),
        }),
    );
    let languages: Vec<String> = form
        .all("languages")
        .into_iter()
        .filter(|l| MEETING_LANGUAGES.contains(l))
        .map(String::from)
        .collect();
    match (name, job_title, time_zone, locale, phone) {
        (Some(name), Some(job_title), Some(time_zone), Some(locale), Some(phone))
            if errors.is_empty() =>
        {
            Ok(ProfileUpdate {
                name: name.into_string(),
                job_title: job_title.map(Text::into_string),
                organisation_id: None,
                languages,
                time_zone,
                locale,
                phone: phone.map(Text::into_string),
                contact_public: form.checked("contact_public"),
            })
        }
        _ => Err(errors),
    }
}

async fn save_person(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    match parse_person(&form) {
        Ok(update) => {
            let mut tx = state.store.begin().await?;
            tx.update_profile(user.id, &update).await?;
            tx.set_daily_digest(user.id, form.checked("daily_digest"))
                .await?;
            tx.commit().await?;
            crate::marketplace::index_person(&state, user.id).await;
            let cookie = crate::lang::set_cookie(&state, update.locale);
            Ok((
                [(axum::http::header::SET_COOKIE, cookie)],
                Redirect::to("/profile?saved=1"),
            )
                .into_response())
        }
        Err(errors) => {
            let mut values = form.values();
            values["languages"] = serde_json::json!(form.all("languages"));
            values["contact_public"] = serde_json::json!(form.checked("contact_public"));
            let notice = Notice {
                person_errors: Some((values, field_errors(ctx.locale, &errors.0))),
                ..Notice::default()
            };
            profile_page(&state, &ctx, user, notice).await
        }
    }
}

/// Parses the organisation form.
pub fn parse_organisation(form: &FormData) -> Result<OrganisationFields, Errors> {
    let mut errors = Errors::default();
    let name = errors.take("org_name", Text::line(form.get("org_name"), 160));
    let kind = errors.take(
        "kind",
        OrgKind::from_key(form.get("kind")).ok_or(kontor_domain::Invalid::new("invalid-choice")),
    );
    let country = errors.take("country", Country::parse(form.get("country")));
    let city = errors.take("city", Text::optional_line(form.get("city"), 100));
    let website = errors.take("website", WebUrl::parse_optional(form.get("website")));
    let size = match form.get("size") {
        "" => Some(None),
        s => errors.take(
            "size",
            OrgSize::from_key(s)
                .map(Some)
                .ok_or(kontor_domain::Invalid::new("invalid-choice")),
        ),
    };
    let mut sectors = Vec::new();
    for s in form.all("sectors") {
        if let Some(s) = errors.take(
            "sectors",
            Sector::from_key(s).ok_or(kontor_domain::Invalid::new("invalid-choice")),
        ) && !sectors.contains(&s)
        {
            sectors.push(s);
        }
    }
    let entries: Vec<(Locale, &str)> = Locale::ALL
        .iter()
        .map(|l| (*l, form.get(&format!("description_{}", l.key()))))
        .collect();
    let description = errors.take("description_en", LocalizedText::parse(&entries, 5000, true));
    match (name, kind, country, city, website, size, description) {
        (
            Some(name),
            Some(kind),
            Some(country),
            Some(city),
            Some(website),
            Some(size),
            Some(description),
        ) if errors.is_empty() => Ok(OrganisationFields {
            name: name.into_string(),
            kind,
            country,
            city: city.map(Text::into_string),
            website: website.map(|w| w.as_str().to_string()),
            sectors,
            size,
            description,
        }),
        _ => Err(errors),
    }
}

async fn save_organisation(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let fields = match parse_organisation(&form) {
        Ok(f) => f,
        Err(errors) => {
            let mut values = form.values();
            values["name"] = serde_json::json!(form.get("org_name"));
            values["sectors"] = serde_json::json!(form.all("sectors"));
            let notice = Notice {
                org_errors: Some((values, field_errors(ctx.locale, &errors.0))),
                ..Notice::default()
            };
            return profile_page(&state, &ctx, user, notice).await;
        }
    };
    let mut tx = state.store.begin().await?;
    // Not `user.organisation_id`: a second click may have created the organisation meanwhile.
    match tx.organisation_of_user_for_update(user.id).await? {
        Some(id) => tx.update_organisation(id, &fields).await?,
        None => {
            let id = tx.create_organisation(&fields, now_micros()).await?;
            tx.link_organisation(user.id, id).await?;
        }
    }
    tx.commit().await?;
    crate::marketplace::index_person(&state, user.id).await;
    Ok(Redirect::to("/profile?saved=1").into_response())
}

async fn new_token(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let name =
        Text::line(form.get("token_name"), 80).map_err(|e| AppError::field("token_name", e))?;
    let token = create_token(&state, user, name.as_str()).await?;
    profile_page(
        &state,
        &ctx,
        user,
        Notice {
            new_token: Some(token),
            ..Notice::default()
        },
    )
    .await
}

async fn revoke_token(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let mut tx = state.store.begin().await?;
    tx.revoke_api_token(user.id, id, now_micros()).await?;
    tx.commit().await?;
    Ok(Redirect::to("/profile").into_response())
}
