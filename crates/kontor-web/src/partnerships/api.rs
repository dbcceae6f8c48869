//! Partnerships in the JSON API: what the public pages show, for other sites of the city.
//! Drafts and agreements out for signature are not in it.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use kontor_domain::Keyed;
use kontor_domain::partnership::AgreementStatus;
use kontor_store::partnerships::{Agreement, City};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::AppError;

#[derive(Serialize, ToSchema)]
pub struct PartnerCityOut {
    slug: String,
    /// The name by language (`de`, `en`, `zh`); at least one.
    name: BTreeMap<String, String>,
    /// ISO 3166-1 alpha-2.
    country: String,
    since_year: Option<i32>,
    description: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct AgreementOut {
    id: String,
    /// `memorandum`, `letter-of-intent`, `partnership` or `cooperation`.
    kind: String,
    title: BTreeMap<String, String>,
    /// The signed text (Markdown) by language.
    text: BTreeMap<String, String>,
    /// Fields of cooperation: `economy`, `science`, `education`, `culture`, `environment`,
    /// `health`, `urban-development`, `mobility`, `youth`, `tourism`.
    fields: Vec<String>,
    /// The day the last signatory signed (Europe/Berlin), `YYYY-MM-DD`.
    signed_on: String,
    /// SHA-256 of the text as sent for signature.
    digest: String,
    signatories: Vec<SignatoryOut>,
}

#[derive(Serialize, ToSchema)]
pub struct SignatoryOut {
    name: String,
    capacity: String,
    /// The name as the signatory typed it to sign.
    signed_as: String,
    /// The instant of the signature, RFC 3339.
    signed_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct MilestoneOut {
    /// `YYYY-MM-DD`
    date: String,
    /// `delegation`, `project`, `aid`, `event` or `other`.
    kind: String,
    title: BTreeMap<String, String>,
    body: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct PartnershipOut {
    city: PartnerCityOut,
    /// Signed agreements, newest first.
    agreements: Vec<AgreementOut>,
    /// What happened, oldest first (signed agreements are in `agreements`).
    timeline: Vec<MilestoneOut>,
}

fn texts(t: &kontor_domain::LocalizedText) -> BTreeMap<String, String> {
    t.languages()
        .map(|l| (l.key().to_string(), t.exact(l).unwrap_or("").to_string()))
        .collect()
}

fn city_out(c: &City) -> PartnerCityOut {
    PartnerCityOut {
        slug: c.slug.clone(),
        name: texts(&c.name),
        country: c.country.code().to_string(),
        since_year: c.since_year,
        description: texts(&c.description),
    }
}

fn instant(micros: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(micros).unwrap_or_default()
}

fn agreement_out(a: &Agreement) -> AgreementOut {
    AgreementOut {
        id: a.id.to_string(),
        kind: a.kind.key().to_string(),
        title: texts(&a.title),
        text: texts(&a.body),
        fields: a.fields.iter().map(|f| f.key().to_string()).collect(),
        signed_on: a
            .signed_at
            .map(|t| super::berlin_date(t).to_string())
            .unwrap_or_default(),
        digest: a.digest.clone().unwrap_or_default(),
        signatories: a
            .signatories
            .iter()
            .map(|s| SignatoryOut {
                name: s.name.clone(),
                capacity: s.capacity.clone(),
                signed_as: s.signed_name.clone().unwrap_or_default(),
                signed_at: s
                    .signed_at
                    .map(|t| instant(t).to_string())
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

/// The partner cities.
#[utoipa::path(get, path = "/api/v1/partnerships", tag = "partnerships",
    responses((status = 200, body = Vec<PartnerCityOut>)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<PartnerCityOut>>, AppError> {
    Ok(Json(
        state
            .store
            .partner_cities()
            .await?
            .iter()
            .map(city_out)
            .collect(),
    ))
}

/// One partner city with its signed agreements and its timeline.
#[utoipa::path(get, path = "/api/v1/partnerships/{slug}", tag = "partnerships", params(("slug" = String, Path)),
    responses((status = 200, body = PartnershipOut), (status = 404, body = crate::api::Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<PartnershipOut>, AppError> {
    let city = state.store.partner_city(&slug).await?;
    let agreements = state.store.agreements(city.id).await?;
    let milestones = state.store.milestones(city.id).await?;
    Ok(Json(PartnershipOut {
        city: city_out(&city),
        agreements: agreements
            .iter()
            .filter(|a| a.status == AgreementStatus::Signed)
            .map(agreement_out)
            .collect(),
        timeline: milestones
            .iter()
            .map(|m| MilestoneOut {
                date: m.happened_on.to_string(),
                kind: m.kind.key().to_string(),
                title: texts(&m.title),
                body: texts(&m.body),
            })
            .collect(),
    }))
}
