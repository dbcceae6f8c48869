//! The marketplace: opportunities (offers, requests, partner searches, job postings) and a
//! full-text search with facets over organisations, people and opportunities.
//!
//! Each instance keeps its own in-memory index ([`kontor_search::SearchIndex`]): built from the
//! database at start, updated on this instance's writes, and rebuilt every few minutes so that
//! writes on other instances show up (see `kontor::run`).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kontor_domain::{
    Country, Employment, Invalid, JobDetails, Keyed, KeyedParse, Locale, LocalizedText,
    OpportunityKind, Sector, Text, TimeZoneName, Workplace, now_micros, parse_optional_day,
};
use kontor_search::{Doc, DocKind, Filters, Query, SearchIndex};
use kontor_store::Store;
use kontor_store::accounts::User;
use kontor_store::matchmaking::{Opportunity, OpportunityFields};
use uuid::Uuid;

use crate::AppState;
use crate::auth::PageCtx;
use crate::error::AppError;
use crate::form::{Errors, FormData};
use crate::page::{field_errors, label, options, render, render_invalid};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/marketplace", get(search))
        .route("/opportunities", post(create))
        .route("/opportunities/new", get(new_page))
        .route("/opportunities/{id}", get(show))
        .route("/opportunities/{id}/edit", get(edit_page).post(update))
        .route("/opportunities/{id}/delete", post(delete))
}

// ----- the index -----

/// The labels of the sectors in every language: the taxonomy bridges the languages.
fn sector_labels(sectors: &[Sector]) -> Vec<(String, String)> {
    let mut out = vec![];
    for l in <Locale as kontor_domain::Keyed>::ALL {
        for s in sectors {
            out.push((l.key().to_string(), label(*l, "sector", *s)));
        }
    }
    out
}

fn texts(t: &LocalizedText) -> Vec<(String, String)> {
    t.languages()
        .map(|l| {
            (
                l.key().to_string(),
                t.exact(l).unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn person_doc(store: &Store, u: &User) -> Result<Doc, kontor_store::StoreError> {
    let mut doc = Doc::new(u.id.to_string(), DocKind::Person, u.name.clone());
    if let Some(job) = &u.job_title {
        doc.texts.push((u.locale.key().to_string(), job.clone()));
    }
    doc.facets.languages = u.languages.clone();
    if let Some(org) = u.organisation_id {
        let o = store.organisation(org).await?;
        doc.texts.push(("en".into(), o.name.clone()));
        doc.facets.country = Some(o.country.code().to_string());
        doc.facets.org_kind = Some(o.kind.key().to_string());
        doc.facets.sectors = o.sectors.iter().map(|s| s.key().to_string()).collect();
        doc.texts.extend(sector_labels(&o.sectors));
    }
    doc.events = store
        .approved_event_ids(u.id)
        .await?
        .iter()
        .map(Uuid::to_string)
        .collect();
    Ok(doc)
}

fn organisation_doc(o: &kontor_store::organisations::Organisation) -> Doc {
    let mut doc = Doc::new(o.id.to_string(), DocKind::Organisation, o.name.clone());
    doc.texts = texts(&o.description);
    if let Some(city) = &o.city {
        doc.texts.push(("en".into(), city.clone()));
    }
    doc.facets.country = Some(o.country.code().to_string());
    doc.facets.org_kind = Some(o.kind.key().to_string());
    doc.facets.sectors = o.sectors.iter().map(|s| s.key().to_string()).collect();
    doc.texts.extend(sector_labels(&o.sectors));
    doc
}

async fn opportunity_doc(store: &Store, o: &Opportunity) -> Result<Doc, kontor_store::StoreError> {
    let title = o.title.show(Locale::En).to_string();
    let mut doc = Doc::new(o.id.to_string(), DocKind::Opportunity, title);
    // The description first: a hit's snippet starts with it when nothing matches inside (its
    // title is the hit's heading already); the titles follow, so that they are found too.
    doc.texts = texts(&o.description);
    doc.texts.extend(texts(&o.title));
    doc.texts.extend(sector_labels(&o.sectors));
    doc.facets.opportunity_type = Some(o.kind.key().to_string());
    doc.facets.sectors = o.sectors.iter().map(|s| s.key().to_string()).collect();
    doc.facets.languages = o.languages.clone();
    if let Some(job) = &o.job {
        doc.facets.employment = Some(job.employment.key().to_string());
        doc.facets.workplace = Some(job.workplace.key().to_string());
        // As of indexing: the index is rebuilt when the Berlin day changes.
        let open = job.open_on(TimeZoneName::berlin().today());
        doc.facets.applications = Some(if open { "open" } else { "closed" }.to_string());
        // Found by its place too ("Köln"), in every language the posting has a title or text
        // in, so that a reader's snippet is in their language where it can be (a language it
        // has nothing in would get a snippet of the place alone); the kind of work is a facet.
        let mut languages: Vec<Locale> = o
            .title
            .languages()
            .chain(o.description.languages())
            .collect();
        languages.sort_by_key(|l| l.key());
        languages.dedup();
        for l in languages {
            doc.texts.push((l.key().to_string(), job.location.clone()));
        }
    }
    let owner = store.user(o.user_id).await?;
    if let Some(org) = owner.organisation_id {
        let org = store.organisation(org).await?;
        doc.facets.country = Some(org.country.code().to_string());
        doc.facets.org_kind = Some(org.kind.key().to_string());
    }
    doc.events = match o.event_id {
        Some(e) => vec![e.to_string()],
        None => store
            .approved_event_ids(o.user_id)
            .await?
            .iter()
            .map(Uuid::to_string)
            .collect(),
    };
    Ok(doc)
}

/// Builds the whole index from the database.
pub async fn reindex(store: &Store, index: &SearchIndex) -> anyhow::Result<usize> {
    index.delete_all()?;
    let mut n = 0;
    for o in store.organisations(None, i64::MAX, 0).await? {
        index.upsert(&organisation_doc(&o))?;
        n += 1;
    }
    for u in store.all_users().await? {
        index.upsert(&person_doc(store, &u).await?)?;
        n += 1;
    }
    for o in store.all_opportunities().await? {
        index.upsert(&opportunity_doc(store, &o).await?)?;
        n += 1;
    }
    index.commit()?;
    Ok(n)
}

/// Updates the index after a person or their organisation changed.
pub async fn index_person(state: &AppState, user: Uuid) {
    let result: anyhow::Result<()> = async {
        let u = state.store.user(user).await?;
        state.search.upsert(&person_doc(&state.store, &u).await?)?;
        if let Some(org) = u.organisation_id {
            state
                .search
                .upsert(&organisation_doc(&state.store.organisation(org).await?))?;
        }
        for o in state.store.opportunities_of_user(user).await? {
            state
                .search
                .upsert(&opportunity_doc(&state.store, &o).await?)?;
        }
        state.search.commit()?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "search index not updated");
    }
}

// ----- search -----

/// The search page's filter parameters.
const FILTERS: [&str; 9] = [
    "kind",
    "type",
    "sector",
    "country",
    "language",
    "org_kind",
    "employment",
    "workplace",
    "closed",
];

async fn search(
    State(state): State<AppState>,
    ctx: PageCtx,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let all = |name: &str| -> Vec<String> {
        params
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    };
    let one = |name: &str| all(name).into_iter().next().unwrap_or_default();
    let text = one("q");
    let page: usize = one("page").parse().unwrap_or(0).min(1000);
    let kind = DocKind::from_key(&one("kind"));
    let event = match one("event").as_str() {
        "" => None,
        slug => Some(state.store.event_by_slug(slug).await?),
    };
    let query = Query {
        text: text.chars().take(200).collect(),
        kind,
        filters: Filters {
            types: all("type"),
            sectors: all("sector"),
            countries: all("country"),
            languages: all("language"),
            org_kinds: all("org_kind"),
            employments: all("employment"),
            workplaces: all("workplace"),
            applications: vec![],
            // A posting past its deadline is no use to most readers: shown only when asked for,
            // and then among everything else found.
            hide_closed: !matches!(one("closed").as_str(), "1" | "true" | "on"),
        },
        event: event.as_ref().map(|e| e.id.to_string()),
        limit: 20,
        offset: page * 20,
        locale: Some(ctx.locale.key().to_string()),
    };
    let results = state
        .search
        .search(&query)
        .map_err(|e| AppError::Internal(e.into()))?;
    let l = ctx.locale;
    // The opportunities among the hits, their authors and organisations: three queries for
    // the page, however many hits it has.
    let opportunity_ids: Vec<Uuid> = results
        .hits
        .iter()
        .filter(|h| h.kind == DocKind::Opportunity)
        .filter_map(|h| h.id.parse().ok())
        .collect();
    let opportunities = state.store.opportunities_by_ids(&opportunity_ids).await?;
    let author_ids: Vec<Uuid> = opportunities.values().map(|o| o.user_id).collect();
    let authors = state.store.users_by_ids(&author_ids).await?;
    let org_ids: Vec<Uuid> = authors.values().filter_map(|u| u.organisation_id).collect();
    let orgs = state.store.organisation_names(&org_ids).await?;
    let mut hits: Vec<serde_json::Value> = vec![];
    for h in &results.hits {
        let mut title = h.title.clone();
        let mut owner = None;
        let mut job = None;
        let mut kind = crate::i18n_kind(l, h.kind);
        let href = match h.kind {
            DocKind::Organisation => format!("/organisations/{}", h.id),
            DocKind::Person => format!("/people/{}", h.id),
            DocKind::Opportunity => {
                // The index holds one title; the reader gets theirs, and whose it is.
                if let Some(o) =
                    h.id.parse::<Uuid>()
                        .ok()
                        .and_then(|id| opportunities.get(&id))
                {
                    title = o.title.show(l).to_string();
                    kind = label(l, "opportunity-kind", o.kind);
                    job = o.job.as_ref().map(|j| job_view(j, l));
                    owner = authors.get(&o.user_id).map(|u| {
                        match u.organisation_id.and_then(|org| orgs.get(&org)) {
                            Some(org) => format!("{} · {org}", u.name),
                            None => u.name.clone(),
                        }
                    });
                }
                format!("/opportunities/{}", h.id)
            }
        };
        hits.push(serde_json::json!({ "href": href, "title": title, "owner": owner, "job": job, "snippet": h.snippet_html, "kind": kind }));
    }
    let chosen = |name: &str, key: &str| params.iter().any(|(k, v)| k == name && v == key);
    let facet = |name: &str,
                 counts: &[(String, u64)],
                 label_of: &dyn Fn(&str) -> String|
     -> Vec<serde_json::Value> {
        let mut values: Vec<_> = counts.iter().map(|(k, n)| serde_json::json!({ "name": name, "key": k, "label": label_of(k), "n": n, "checked": chosen(name, k) })).collect();
        // A chosen value that matches nothing (any more) stays on screen, so that it can be
        // unticked: otherwise a search with no hits hides the filters that cause it.
        for (k, v) in params.iter().filter(|(k, _)| k == name) {
            if !counts.iter().any(|(c, _)| c == v) {
                values.push(serde_json::json!({ "name": k, "key": v, "label": label_of(v), "n": 0, "checked": true }));
            }
        }
        values
    };
    let lbl = |prefix: &'static str| move |k: &str| kontor_i18n::t(l, &format!("{prefix}-{k}"));
    let facets = serde_json::json!([
        { "title": kontor_i18n::t(l, "search-facet-type"), "values": facet("type", &results.facets.types, &lbl("opportunity-kind")) },
        { "title": kontor_i18n::t(l, "field-sectors"), "values": facet("sector", &results.facets.sectors, &lbl("sector")) },
        { "title": kontor_i18n::t(l, "field-country"), "values": facet("country", &results.facets.countries, &|k: &str| k.to_string()) },
        { "title": kontor_i18n::t(l, "meeting-languages"), "values": facet("language", &results.facets.languages, &lbl("language")) },
        { "title": kontor_i18n::t(l, "field-org-kind"), "values": facet("org_kind", &results.facets.org_kinds, &lbl("org-kind")) },
        { "title": kontor_i18n::t(l, "job-employment"), "values": facet("employment", &results.facets.employments, &lbl("job-employment")) },
        { "title": kontor_i18n::t(l, "job-workplace"), "values": facet("workplace", &results.facets.workplaces, &lbl("job-workplace")) },
    ]);
    let kinds: Vec<_> = results.facets.kinds.iter().map(|(k, n)| serde_json::json!({
        "key": k.key(), "label": crate::i18n_kind(l, *k), "n": n, "checked": kind == Some(*k),
    })).collect();
    let base: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "page")
        .cloned()
        .collect();
    let more = results.total > (page + 1) * 20;
    let closed = results
        .facets
        .applications
        .iter()
        .find(|(key, _)| key == "closed")
        .map_or(0, |(_, n)| *n);
    let show_closed =
        serde_urlencoded::to_string([base.clone(), vec![("closed".into(), "1".into())]].concat())
            .unwrap_or_default();
    Ok(render(
        &state,
        &ctx.reader(),
        "marketplace.html",
        serde_json::json!({
            "q": text,
            "event": event.as_ref().map(|e| serde_json::json!({ "slug": e.slug.as_str(), "title": e.title.show(l) })),
            "total": results.total,
            "hits": hits,
            "facets": facets,
            "kinds": kinds,
            "kind_chosen": kind.is_some(),
            // Ticked filters (not the words, the event, the page or the language): the fold
            // says how many.
            "chosen_filters": params.iter().filter(|(k, v)| !v.is_empty() && FILTERS.contains(&k.as_str())).count(),
            "page": page,
            // How many closed postings the search finds; hidden unless `closed` is ticked.
            "closed": { "n": closed, "shown": !query.filters.hide_closed, "href": show_closed },
            "prev": (page > 0).then(|| serde_urlencoded::to_string([base.clone(), vec![("page".into(), (page - 1).to_string())]].concat()).unwrap_or_default()),
            "next": more.then(|| serde_urlencoded::to_string([base, vec![("page".into(), (page + 1).to_string())]].concat()).unwrap_or_default()),
        }),
    ))
}

// ----- opportunities -----

fn form_ctx(
    locale: Locale,
    values: serde_json::Value,
    errors: serde_json::Value,
    events: Vec<serde_json::Value>,
) -> serde_json::Value {
    serde_json::json!({
        "values": values,
        "errors": errors,
        "kinds": options::<OpportunityKind>(locale, "opportunity-kind"),
        "sectors": options::<Sector>(locale, "sector"),
        "meeting_languages": crate::profile::MEETING_LANGUAGES,
        // The summary names each field: "Please choose one of the options" alone says little.
        "labels": {
            "kind": kontor_i18n::t(locale, "opportunity-kind"),
            format!("title_{}", locale.key()): kontor_i18n::catalog().message(locale, "event-title-in", &[("lang", locale.endonym().into())]),
            format!("description_{}", locale.key()): kontor_i18n::catalog().message(locale, "field-description-in", &[("lang", locale.endonym().into())]),
            "sectors": kontor_i18n::t(locale, "field-sectors"),
            "target_countries": kontor_i18n::t(locale, "opportunity-target-countries"),
            "event": kontor_i18n::t(locale, "opportunity-event"),
            "job_employment": kontor_i18n::t(locale, "job-employment"),
            "job_workplace": kontor_i18n::t(locale, "job-workplace"),
            "job_location": kontor_i18n::t(locale, "job-location"),
            "job_starts_on": kontor_i18n::t(locale, "job-starts-on"),
            "job_apply_by": kontor_i18n::t(locale, "job-apply-by"),
        },
        "employments": options::<Employment>(locale, "job-employment"),
        "workplaces": options::<Workplace>(locale, "job-workplace"),
        "events": events,
    })
}

async fn my_events(
    state: &AppState,
    user: &User,
    locale: Locale,
) -> Result<Vec<serde_json::Value>, AppError> {
    let mut out = vec![];
    for id in state.store.approved_event_ids(user.id).await? {
        let e = state.store.event(id).await?;
        out.push(serde_json::json!({ "id": e.id, "title": e.title.show(locale) }));
    }
    Ok(out)
}

async fn new_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let events = my_events(&state, user, ctx.locale).await?;
    let values = serde_json::json!({ "kind": "business-offer", "languages": [], "sectors": [] });
    Ok(render(
        &state,
        &ctx.reader(),
        "opportunity_new.html",
        form_ctx(ctx.locale, values, serde_json::json!({}), events),
    ))
}

/// An opportunity of the signed-in person (for everyone else it does not exist here).
async fn own_opportunity(state: &AppState, user: &User, id: Uuid) -> Result<Opportunity, AppError> {
    let o = state.store.opportunity(id).await?;
    if o.user_id != user.id {
        return Err(AppError::NotFound);
    }
    Ok(o)
}

/// `GET /opportunities/{id}/edit`: the form, filled in.
async fn edit_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let o = own_opportunity(&state, user, id).await?;
    let mut values = serde_json::json!({
        "kind": o.kind.key(),
        "sectors": o.sectors.iter().map(|s| s.key()).collect::<Vec<_>>(),
        "target_countries": o.target_countries.iter().map(|c| c.code()).collect::<Vec<_>>().join(", "),
        "languages": o.languages,
        "interpreter_needed": o.interpreter_needed,
        "event": o.event_id,
    });
    for l in Locale::ALL {
        values[format!("title_{}", l.key())] = serde_json::json!(o.title.exact(*l));
        values[format!("description_{}", l.key())] = serde_json::json!(o.description.exact(*l));
    }
    if let Some(j) = &o.job {
        values["job_employment"] = j.employment.key().into();
        values["job_workplace"] = j.workplace.key().into();
        values["job_location"] = j.location.clone().into();
        values["job_starts_on"] = serde_json::json!(j.starts_on.map(|d| d.to_string()));
        values["job_apply_by"] = serde_json::json!(j.apply_by.map(|d| d.to_string()));
    }
    let events = my_events(&state, user, ctx.locale).await?;
    let mut page = form_ctx(ctx.locale, values, serde_json::json!({}), events);
    with_event(&state, &ctx, &mut page, o.event_id).await?;
    page["editing"] = serde_json::json!(o.id);
    Ok(render(&state, &ctx.reader(), "opportunity_new.html", page))
}

/// `POST /opportunities/{id}/edit`: the same rules as a new one (a deadline moved must not be
/// in the past); the search index follows.
async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    if let Err(errors) = rewrite_opportunity(&state, user, id, &form, ctx.locale).await? {
        let before = own_opportunity(&state, user, id).await?;
        let mut page = invalid_form(&state, &ctx, user, &form, errors).await?;
        with_event(&state, &ctx, &mut page, before.event_id).await?;
        page["editing"] = serde_json::json!(id);
        return Ok(render_invalid(
            &state,
            &ctx.reader(),
            "opportunity_new.html",
            page,
        ));
    }
    Ok(Redirect::to(&format!("/opportunities/{id}?saved=1")).into_response())
}

/// Rewrites an opportunity of `user` from the form's fields (its page and the API): the same
/// rules as a new one, except that the event it is shown at and a deadline left unchanged may
/// stay; the search index follows. `NotFound` for someone else's.
pub async fn rewrite_opportunity(
    state: &AppState,
    user: &User,
    id: Uuid,
    form: &FormData,
    locale: Locale,
) -> Result<Result<(), Errors>, AppError> {
    let before = own_opportunity(state, user, id).await?;
    // The event it is shown at may stay, even one its author has left since.
    let mut allowed = state.store.approved_event_ids(user.id).await?;
    allowed.extend(before.event_id);
    let kept = before.job.and_then(|j| j.apply_by);
    let fields = match parse_opportunity_edit(form, &allowed, locale, kept) {
        Ok(f) => f,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut tx = state.store.begin().await?;
    tx.update_opportunity(id, user.id, &fields, now_micros())
        .await?;
    tx.commit().await?;
    reindex_opportunity(state, id).await?;
    Ok(Ok(()))
}

/// Offers `event` in the form's choice of events even when its author is no longer approved
/// there, so that saving keeps it.
async fn with_event(
    state: &AppState,
    ctx: &PageCtx,
    page: &mut serde_json::Value,
    event: Option<Uuid>,
) -> Result<(), AppError> {
    let Some(id) = event else { return Ok(()) };
    let Some(events) = page["events"].as_array_mut() else {
        return Ok(());
    };
    if !events.iter().any(|e| e["id"] == serde_json::json!(id)) {
        let e = state.store.event(id).await?;
        events.push(serde_json::json!({ "id": e.id, "title": e.title.show(ctx.locale) }));
    }
    Ok(())
}

/// The form again with what was sent and why it was refused.
async fn invalid_form(
    state: &AppState,
    ctx: &PageCtx,
    user: &User,
    form: &FormData,
    errors: Errors,
) -> Result<serde_json::Value, AppError> {
    let mut values = form.values();
    values["sectors"] = serde_json::json!(form.all("sectors"));
    values["languages"] = serde_json::json!(form.all("languages"));
    let events = my_events(state, user, ctx.locale).await?;
    Ok(form_ctx(
        ctx.locale,
        values,
        field_errors(ctx.locale, &errors.0),
        events,
    ))
}

/// Parses the opportunity form; `events` are the ones the author may attach it to. A missing
/// title or description is reported at the field in `locale` (the writer's language).
pub fn parse_opportunity(
    form: &FormData,
    events: &[Uuid],
    locale: Locale,
) -> Result<OpportunityFields, Errors> {
    parse_opportunity_edit(form, events, locale, None)
}

/// [`parse_opportunity`] for an edit: the deadline it had (`kept_deadline`) may stay, passed or
/// not; only a moved one must lie ahead.
fn parse_opportunity_edit(
    form: &FormData,
    events: &[Uuid],
    locale: Locale,
    kept_deadline: Option<jiff::civil::Date>,
) -> Result<OpportunityFields, Errors> {
    let mut errors = Errors::default();
    let kind = errors.take(
        "kind",
        OpportunityKind::from_key(form.get("kind")).ok_or(Invalid::new("invalid-choice")),
    );
    let localized = |prefix: &str, max: usize, multi: bool| {
        let entries: Vec<(Locale, &str)> = Locale::ALL
            .iter()
            .map(|l| (*l, form.get(&format!("{prefix}_{}", l.key()))))
            .collect();
        LocalizedText::parse(&entries, max, multi)
    };
    let title = errors.take(
        &format!("title_{}", locale.key()),
        localized("title", 160, false).and_then(|t| {
            if t.is_empty() {
                Err(Invalid::new("invalid-title-required"))
            } else {
                Ok(t)
            }
        }),
    );
    // Others find an opportunity by what it says: a title alone matches nothing.
    let description = errors.take(
        &format!("description_{}", locale.key()),
        localized("description", 5000, true).and_then(|t| {
            if t.is_empty() {
                Err(Invalid::new("invalid-description-required"))
            } else {
                Ok(t)
            }
        }),
    );
    let mut sectors = vec![];
    for s in form.all("sectors") {
        if let Some(s) = errors.take(
            "sectors",
            Sector::from_key(s).ok_or(Invalid::new("invalid-choice")),
        ) && !sectors.contains(&s)
        {
            sectors.push(s);
        }
    }
    let mut countries = vec![];
    for c in form
        .get("target_countries")
        .split([',', ' ', ';'])
        .filter(|c| !c.trim().is_empty())
    {
        if let Some(c) = errors.take("target_countries", Country::parse(c))
            && !countries.contains(&c)
        {
            countries.push(c);
        }
    }
    let languages: Vec<String> = form
        .all("languages")
        .into_iter()
        .filter(|l| crate::profile::MEETING_LANGUAGES.contains(l))
        .map(String::from)
        .collect();
    let event_id = match form.get("event") {
        "" => Some(None),
        e => errors.take(
            "event",
            e.parse::<Uuid>()
                .ok()
                .filter(|e| events.contains(e))
                .map(Some)
                .ok_or(Invalid::new("invalid-choice")),
        ),
    };
    let job = match kind {
        Some(OpportunityKind::JobPosting) => parse_job(form, &mut errors, kept_deadline),
        _ => None,
    };
    match (kind, title, description, event_id) {
        (Some(kind), Some(title), Some(description), Some(event_id)) if errors.is_empty() => {
            Ok(OpportunityFields {
                event_id,
                kind,
                title,
                description,
                sectors,
                target_countries: countries,
                languages,
                interpreter_needed: form.checked("interpreter_needed"),
                job,
            })
        }
        _ => Err(errors),
    }
}

/// A job posting's facts from the `job_*` fields; `None` with the problems in `errors`.
fn parse_job(
    form: &FormData,
    errors: &mut Errors,
    kept_deadline: Option<jiff::civil::Date>,
) -> Option<JobDetails> {
    let employment = errors.take(
        "job_employment",
        Employment::parse_key(form.get("job_employment"), "invalid-choice"),
    );
    let workplace = errors.take(
        "job_workplace",
        Workplace::parse_key(form.get("job_workplace"), "invalid-choice"),
    );
    let location = errors.take(
        "job_location",
        Text::optional_line(form.get("job_location"), 120),
    );
    let starts_on = errors.take(
        "job_starts_on",
        parse_optional_day(form.get("job_starts_on")),
    );
    let apply_by = errors.take("job_apply_by", parse_optional_day(form.get("job_apply_by")));
    // The checks across fields run on what parsed, so that every problem shows at once; a
    // workplace that did not parse asks for no place.
    let job = JobDetails {
        employment: employment.unwrap_or(Employment::FullTime),
        workplace: workplace.unwrap_or(Workplace::Remote),
        location: location
            .flatten()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        starts_on: starts_on.flatten(),
        apply_by: apply_by.flatten(),
    };
    let mut problems = job.check(TimeZoneName::berlin().today());
    if job.apply_by.is_some() && job.apply_by == kept_deadline {
        problems.retain(|(field, _)| *field != "apply_by");
    }
    let ok = problems.is_empty()
        && employment.is_some()
        && workplace.is_some()
        && starts_on.is_some()
        && apply_by.is_some();
    errors
        .0
        .extend(problems.into_iter().map(|(f, e)| (format!("job_{f}"), e)));
    ok.then_some(job)
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    form: FormData,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let allowed = state.store.approved_event_ids(user.id).await?;
    let fields = match parse_opportunity(&form, &allowed, ctx.locale) {
        Ok(f) => f,
        Err(errors) => {
            let page = invalid_form(&state, &ctx, user, &form, errors).await?;
            return Ok(render_invalid(
                &state,
                &ctx.reader(),
                "opportunity_new.html",
                page,
            ));
        }
    };
    let id = insert_opportunity(&state, user, &fields).await?;
    Ok(Redirect::to(&format!("/opportunities/{id}")).into_response())
}

/// Publishes an opportunity and adds it to the search; shared by the page and the API.
pub async fn insert_opportunity(
    state: &AppState,
    user: &User,
    fields: &OpportunityFields,
) -> Result<Uuid, AppError> {
    let mut tx = state.store.begin().await?;
    let id = tx.create_opportunity(user.id, fields, now_micros()).await?;
    tx.commit().await?;
    reindex_opportunity(state, id).await?;
    Ok(id)
}

/// Puts an opportunity as it now is into this instance's search index (others catch up at
/// their next rebuild); a failure is logged, not the writer's problem.
async fn reindex_opportunity(state: &AppState, id: Uuid) -> Result<(), AppError> {
    let o = state.store.opportunity(id).await?;
    match opportunity_doc(&state.store, &o).await {
        Ok(doc) => {
            if let Err(e) = state
                .search
                .upsert(&doc)
                .and_then(|_| state.search.commit())
            {
                tracing::warn!(error = %e, "search index not updated");
            }
        }
        Err(e) => tracing::warn!(error = %e, "search index not updated"),
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Response, AppError> {
    let o = state.store.opportunity(id).await?;
    let owner = state.store.user(o.user_id).await?;
    let org = match owner.organisation_id {
        Some(org) => Some(state.store.organisation(org).await?),
        None => None,
    };
    // Events where the reader could ask the owner for a meeting about it: its own event, if
    // it was published for one.
    let mut meet = vec![];
    if let Some(viewer) = &ctx.user {
        let mine = state.store.approved_event_ids(viewer.id).await?;
        let theirs = state.store.approved_event_ids(owner.id).await?;
        for e in theirs
            .into_iter()
            .filter(|e| o.event_id.is_none_or(|own| own == *e))
        {
            if mine.contains(&e) && viewer.id != owner.id {
                let ev = state.store.event(e).await?;
                // Asked already (either way): where that request stands, not a second form.
                let open = state
                    .store
                    .open_request_between(e, viewer.id, owner.id)
                    .await?
                    .map(|r| label(ctx.locale, "meeting-status", r.status));
                meet.push(serde_json::json!({ "slug": ev.slug.as_str(), "title": ev.title.show(ctx.locale), "open": open }));
            }
        }
    }
    // No shared event yet: the posting's own event, where the reader could take part to ask
    // (the author's other events are theirs to tell, not the page's).
    let mine = ctx.user.as_ref().is_some_and(|u| u.id == owner.id);
    let mut join = vec![];
    if let Some(e) = o.event_id.filter(|_| meet.is_empty() && !mine) {
        let ev = state.store.event(e).await?;
        join.push(
            serde_json::json!({ "slug": ev.slug.as_str(), "title": ev.title.show(ctx.locale) }),
        );
    }
    let l = ctx.locale;
    let (lang, description) = o
        .description
        .get(l)
        .map_or((None, ""), |(lang, t)| (Some(lang), t));
    Ok(render(
        &state,
        &ctx.reader(),
        "opportunity.html",
        serde_json::json!({
            "o": {
                "id": o.id,
                "title": o.title.show(l),
                "kind": label(l, "opportunity-kind", o.kind),
                "paragraphs": crate::page::paragraphs(description),
                "description_lang": lang.filter(|x| *x != l).map(|x| x.bcp47()),
                "sectors": o.sectors.iter().map(|s| label(l, "sector", *s)).collect::<Vec<_>>(),
                "countries": o.target_countries.iter().map(|c| c.code().to_string()).collect::<Vec<_>>(),
                "languages": crate::page::list(l, &o.languages.iter().map(|x| kontor_i18n::t(l, &format!("language-{x}"))).collect::<Vec<_>>()),
                "interpreter_needed": o.interpreter_needed,
                "job": o.job.as_ref().map(|j| job_view(j, l)),
            },
            "owner": { "id": owner.id, "name": owner.name },
            "org": org.map(|g| serde_json::json!({ "id": g.id, "name": g.name, "flag": g.country.flag(), "kind": label(l, "org-kind", g.kind) })),
            "meet": meet,
            "join": join,
            "mine": mine,
            "saved": q.saved.is_some() && mine,
        }),
    ))
}

/// A job posting's facts as the reader reads them.
pub fn job_view(j: &JobDetails, l: Locale) -> serde_json::Value {
    serde_json::json!({
        "employment": label(l, "job-employment", j.employment),
        "workplace": label(l, "job-workplace", j.workplace),
        "location": j.location,
        "starts_on": j.starts_on.map(|d| crate::events::format_date(d, l)),
        // A Berlin day: readers elsewhere must not take it for their own.
        "apply_by": j.apply_by.map(|d| format!("{} ({})", crate::events::format_date(d, l), crate::events::zone_city(&TimeZoneName::berlin(), l))),
        "closed": !j.open_on(TimeZoneName::berlin().today()),
    })
}

async fn delete(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let user = ctx.require_user()?;
    let mut tx = state.store.begin().await?;
    tx.delete_opportunity(id, user.id).await?;
    tx.commit().await?;
    state.search.delete(&id.to_string());
    if let Err(e) = state.search.commit() {
        tracing::warn!(error = %e, "search index not updated");
    }
    Ok(Redirect::to("/marketplace").into_response())
}
