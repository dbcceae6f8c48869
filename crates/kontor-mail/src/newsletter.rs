//! Newsletter editions as readers see them: the editor's subject and intro, then a list of
//! [`Section`]s (the magazine's new articles, upcoming events), then the visible unsubscribe link.

use kontor_domain::{Keyed, Locale};
use kontor_i18n::{Arg, catalog};
use kontor_store::newsletter::{RenderedEdition, UNSUBSCRIBE_PLACEHOLDER};
use kontor_store::{Result, Store, StoreError, Uuid};

use crate::compose::escape;

/// A block of the newsletter: a heading and its items.
#[derive(Clone, Debug)]
pub struct Section {
    pub heading: String,
    pub items: Vec<SectionItem>,
}

#[derive(Clone, Debug)]
pub struct SectionItem {
    pub title: String,
    /// A short line under the title (dates, place).
    pub meta: String,
    pub text: String,
    /// Absolute URL.
    pub url: String,
}

/// Upcoming published events, in `locale`.
pub async fn events_section(
    store: &Store,
    base_url: &str,
    locale: Locale,
    today: jiff::civil::Date,
) -> Result<Option<Section>> {
    let events = store.upcoming_events(today).await?;
    if events.is_empty() {
        return Ok(None);
    }
    let items = events
        .iter()
        .take(10)
        .map(|e| {
            let dates = if e.starts_on == e.ends_on {
                date_text(e.starts_on, locale)
            } else {
                format!(
                    "{} – {}",
                    date_text(e.starts_on, locale),
                    date_text(e.ends_on, locale)
                )
            };
            let meta = match &e.venue {
                Some(v) if !v.trim().is_empty() => format!("{dates} · {v}"),
                _ => dates,
            };
            let text: String = e.description.show(locale).chars().take(280).collect();
            SectionItem {
                title: e.title.show(locale).to_string(),
                meta,
                text,
                url: format!("{}/events/{}", base_url.trim_end_matches('/'), e.slug),
            }
        })
        .collect();
    Ok(Some(Section {
        heading: catalog().message(locale, "newsletter-events-heading", &[]),
        items,
    }))
}

/// How far back a monthly newsletter looks for new magazine articles.
const ARTICLES_SINCE_DAYS: i64 = 31;

/// The magazine's articles in `locale` published in the last month, newest first.
pub async fn articles_section(
    store: &Store,
    base_url: &str,
    locale: Locale,
    now: i64,
) -> Result<Option<Section>> {
    let since = now - ARTICLES_SINCE_DAYS * 86_400_000_000;
    let items: Vec<SectionItem> = store
        .public_articles(now, Some(locale), 6)
        .await?
        .into_iter()
        .filter(|a| a.publish_at.is_some_and(|t| t >= since))
        .map(|a| SectionItem {
            meta: a.publish_at.map(|t| day(t, locale)).unwrap_or_default(),
            text: a.lead.chars().take(280).collect(),
            url: format!("{base_url}/magazine/{}/{}", locale.key(), a.slug),
            title: a.title,
        })
        .collect();
    if items.is_empty() {
        return Ok(None);
    }
    Ok(Some(Section {
        heading: catalog().message(locale, "newsletter-articles-heading", &[]),
        items,
    }))
}

/// The date of an instant as Berlin's agency writes it (the newsletter is dated there).
fn day(micros: i64, locale: Locale) -> String {
    let date = jiff::Timestamp::from_microsecond(micros)
        .unwrap_or_default()
        .to_zoned_datetime(kontor_domain::TimeZoneName::berlin().tz())
        .date();
    date_text(date, locale)
}

/// A date as readers of `locale` write it (articles and events alike).
fn date_text(date: jiff::civil::Date, locale: Locale) -> String {
    match locale {
        Locale::De => date.strftime("%d.%m.%Y").to_string(),
        Locale::Zh => date.strftime("%Y年%-m月%-d日").to_string(),
        Locale::En => date.strftime("%-d %B %Y").to_string(),
    }
}

/// The sections of one edition: the magazine's new articles, then upcoming events.
pub async fn sections(
    store: &Store,
    base_url: &str,
    include_events: bool,
    locale: Locale,
    today: jiff::civil::Date,
) -> Result<Vec<Section>> {
    let mut out = Vec::new();
    let now = kontor_domain::now_micros();
    if let Some(s) = articles_section(store, base_url, locale, now).await? {
        out.push(s);
    }
    if include_events && let Some(s) = events_section(store, base_url, locale, today).await? {
        out.push(s);
    }
    Ok(out)
}

/// Renders one edition; the unsubscribe link is the placeholder, filled per recipient.
pub fn render_edition(
    locale: Locale,
    subject: &str,
    intro: &str,
    sections: &[Section],
    archive_url: &str,
) -> RenderedEdition {
    let c = catalog();
    let paragraphs: Vec<&str> = intro
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let mut text = format!(
        "{subject}\n{}\n\n",
        "=".repeat(subject.chars().count().min(70))
    );
    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5;max-width:40em;margin:auto\"><h1>{}</h1>",
        locale.bcp47(),
        escape(subject),
        escape(subject)
    );
    for p in &paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(p).replace('\n', "<br>")));
    }
    for s in sections {
        text.push_str(&format!("## {}\n\n", s.heading));
        html.push_str(&format!("<h2>{}</h2>", escape(&s.heading)));
        for item in &s.items {
            text.push_str(&format!("* {}\n  {}\n", item.title, item.meta));
            if !item.text.is_empty() {
                text.push_str(&format!("  {}\n", item.text.replace('\n', " ")));
            }
            text.push_str(&format!("  {}\n\n", item.url));
            html.push_str(&format!(
                "<h3><a href=\"{}\">{}</a></h3><p style=\"color:#555\">{}</p>",
                escape(&item.url),
                escape(&item.title),
                escape(&item.meta)
            ));
            if !item.text.is_empty() {
                html.push_str(&format!("<p>{}</p>", escape(&item.text)));
            }
        }
    }
    let why = c.message(locale, "newsletter-footer", &[]);
    let unsubscribe = c.message(locale, "newsletter-unsubscribe-link", &[]);
    let archive = c.message(
        locale,
        "newsletter-archive-link",
        &[("url", Arg::from(archive_url))],
    );
    // The unsubscribe page then speaks the edition's language, whatever the reader's browser.
    let lang = locale.key();
    text.push_str(&format!(
        "-- \n{why}\n{unsubscribe}: {UNSUBSCRIBE_PLACEHOLDER}?lang={lang}\n{archive}\n"
    ));
    html.push_str(&format!(
        "<hr><p style=\"color:#666;font-size:90%\">{}<br><a href=\"{UNSUBSCRIBE_PLACEHOLDER}?lang={lang}\">{}</a> · \
         <a href=\"{}\">{}</a></p></body></html>",
        escape(&why),
        escape(&unsubscribe),
        escape(archive_url),
        escape(&c.message(locale, "newsletter-read-online", &[]))
    ));
    // Short lines, so that the body can travel as 8bit (at most 998 octets a line).
    let html = html
        .replace("</p>", "</p>\n")
        .replace("</h1>", "</h1>\n")
        .replace("</h2>", "</h2>\n")
        .replace("</h3>", "</h3>\n")
        .replace("<hr>", "\n<hr>");
    RenderedEdition {
        locale,
        subject: subject.to_string(),
        text,
        html,
    }
}

/// The web copy of a sent issue's edition: where its "read online" link leads.
pub fn archive_url(base_url: &str, id: Uuid, locale: Locale) -> String {
    let base_url = base_url.trim_end_matches('/');
    format!("{base_url}/newsletter/archive/{id}?lang={}", locale.key())
}

/// Renders every edition of an issue as it would be sent today, its "read online" link leading
/// to `read_online(locale)` (the archive for the real send, [`archive_url`]).
pub async fn render_issue(
    store: &Store,
    base_url: &str,
    id: Uuid,
    today: jiff::civil::Date,
    read_online: impl Fn(Locale) -> String,
) -> Result<Vec<RenderedEdition>> {
    let base_url = base_url.trim_end_matches('/');
    let issue = store.newsletter_issue(id).await?;
    let editions = store.newsletter_editions(id).await?;
    let mut out = Vec::new();
    for e in editions {
        let locale = Locale::from_key(&e.locale)
            .ok_or_else(|| StoreError::Corrupt(format!("edition locale {}", e.locale)))?;
        let sections = sections(store, base_url, issue.include_events, locale, today).await?;
        out.push(render_edition(
            locale,
            &e.subject,
            &e.intro,
            &sections,
            &read_online(locale),
        ));
    }
    Ok(out)
}

/// Starts sending an issue now: renders and freezes its editions and queues one row per
/// confirmed subscriber, in one transaction. `NotFound` when it was already started.
pub async fn start_issue(store: &Store, base_url: &str, id: Uuid, now: i64) -> Result<u64> {
    let today = jiff::Timestamp::from_microsecond(now)
        .map(|t| jiff::tz::TimeZone::UTC.to_datetime(t).date())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // Read first, then write: SQLite has one writer.
    let archive = |locale| archive_url(base_url, id, locale);
    let rendered = render_issue(store, base_url, id, today, archive).await?;
    let mut tx = store.begin().await?;
    let n = tx.start_sending(id, &rendered, now).await?;
    tx.commit().await?;
    Ok(n)
}

/// What the senders call to start a scheduled issue that is due: [`start_issue`] now.
pub fn starter(store: &Store, base_url: &str) -> crate::bulk::Starter {
    let (store, base_url) = (store.clone(), base_url.to_string());
    std::sync::Arc::new(move |id| {
        let (store, base_url) = (store.clone(), base_url.clone());
        Box::pin(
            async move { start_issue(&store, &base_url, id, kontor_domain::now_micros()).await },
        ) as crate::bulk::StartFuture
    })
}
