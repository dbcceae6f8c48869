//! The Atom feed per language (RFC 4287) and `/sitemap.xml` with hreflang alternates for
//! translated articles and pages.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use kontor_domain::{Keyed, Locale, now_micros};
use kontor_store::Uuid;
use kontor_store::magazine::Article;

use crate::AppState;
use crate::error::AppError;

const FEED_ENTRIES: i64 = 30;

/// Escapes text for XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// RFC 3339 in UTC.
pub fn rfc3339(micros: i64) -> String {
    Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn xml_response(body: String, mime: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

/// `GET /magazine/feed.{lang}.atom`
pub async fn atom(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let locale = file
        .strip_prefix("feed.")
        .and_then(|f| f.strip_suffix(".atom"))
        .and_then(Locale::from_key)
        .ok_or(AppError::NotFound)?;
    let base = &state.config.base_url;
    let articles = state
        .store
        .public_articles(now_micros(), Some(locale), FEED_ENTRIES)
        .await?;
    let self_url = format!("{base}/magazine/feed.{}.atom", locale.key());
    let updated = articles
        .iter()
        .map(|a| a.updated_at.max(a.published_at()))
        .max()
        .unwrap_or(0);
    let title = kontor_i18n::t(locale, "magazine-title");
    let mut x = String::new();
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{lang}\">\n\
         <id>{id}</id>\n<title>{title}</title>\n<updated>{updated}</updated>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{id}\"/>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{base}/magazine?lang={key}\"/>\n",
        lang = locale.bcp47(),
        id = xml_escape(&self_url),
        title = xml_escape(&title),
        updated = rfc3339(updated),
        base = xml_escape(base),
        key = locale.key(),
    );
    for a in &articles {
        let url = xml_escape(&super::article_url(base, a));
        let _ = write!(
            x,
            "<entry>\n<id>{url}</id>\n<title>{title}</title>\n<link rel=\"alternate\" \
             type=\"text/html\" href=\"{url}\"/>\n<published>{published}</published>\n\
             <updated>{updated}</updated>\n<author><name>{author}</name></author>\n\
             <summary>{lead}</summary>\n<content type=\"html\">{content}</content>\n",
            title = xml_escape(&a.title),
            published = rfc3339(a.published_at()),
            updated = rfc3339(a.updated_at.max(a.published_at())),
            author = xml_escape(&a.author_name),
            lead = xml_escape(&a.lead),
            content = xml_escape(&super::similar::body_html(a)),
        );
        for tag in &a.tags {
            let _ = writeln!(x, "<category term=\"{}\"/>", xml_escape(tag));
        }
        x.push_str("</entry>\n");
    }
    x.push_str("</feed>\n");
    Ok(xml_response(x, "application/atom+xml; charset=utf-8"))
}

/// One URL of the sitemap with its language versions.
struct Entry {
    loc: String,
    lastmod: i64,
    alternates: Vec<(Locale, String)>,
}

fn groups<T>(
    items: &[T],
    group: impl Fn(&T) -> Uuid,
    url: impl Fn(&T) -> String,
    locale: impl Fn(&T) -> Locale,
    lastmod: impl Fn(&T) -> i64,
) -> Vec<Entry> {
    let mut by_group: HashMap<Uuid, Vec<(Locale, String)>> = HashMap::new();
    for i in items {
        by_group
            .entry(group(i))
            .or_default()
            .push((locale(i), url(i)));
    }
    items
        .iter()
        .map(|i| Entry {
            loc: url(i),
            lastmod: lastmod(i),
            alternates: by_group
                .get(&group(i))
                .filter(|v| v.len() > 1)
                .cloned()
                .unwrap_or_default(),
        })
        .collect()
}

/// `GET /sitemap.xml`: the start page, the magazine, every public article and page.
pub async fn sitemap(State(state): State<AppState>) -> Result<Response, AppError> {
    let base = state.config.base_url.clone();
    let articles: Vec<Article> = state
        .store
        .public_articles(now_micros(), None, 50_000)
        .await?;
    let pages = state.store.pages().await?;
    let mut entries = vec![
        Entry {
            loc: format!("{base}/"),
            lastmod: 0,
            alternates: vec![],
        },
        Entry {
            loc: format!("{base}/magazine"),
            lastmod: 0,
            alternates: vec![],
        },
    ];
    entries.extend(groups(
        &articles,
        |a| a.translation_group,
        |a| super::article_url(&base, a),
        |a| a.locale,
        |a| a.updated_at.max(a.published_at()),
    ));
    entries.extend(groups(
        &pages,
        |p| p.translation_group,
        |p| format!("{base}/pages/{}/{}", p.locale.key(), p.slug),
        |p| p.locale,
        |p| p.updated_at,
    ));
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for e in entries {
        let _ = write!(x, "<url><loc>{}</loc>", xml_escape(&e.loc));
        if e.lastmod > 0 {
            let _ = write!(x, "<lastmod>{}</lastmod>", rfc3339(e.lastmod));
        }
        for (l, href) in &e.alternates {
            let _ = write!(
                x,
                "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                l.bcp47(),
                xml_escape(href)
            );
        }
        x.push_str("</url>\n");
    }
    x.push_str("</urlset>\n");
    Ok(xml_response(x, "application/xml; charset=utf-8"))
}
