//! Markdown to HTML with an allow-list: raw HTML in the source is shown as text, never passed
//! through; links keep only `http(s)`, `mailto` and same-site addresses, images only same-site
//! ones (no asset from another origin). Everything else becomes `#`.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// The sanitised HTML of a Markdown text.
pub fn render(md: &str) -> String {
    render_shifted(md, 0)
}

/// [`render`] for a text shown under a heading of its own: its headings move `levels` down
/// (`##` becomes `<h3>` with 1), so the page's outline stays true.
pub fn render_shifted(md: &str, levels: usize) -> String {
    let shift = |l: HeadingLevel| {
        HeadingLevel::try_from((l as usize + levels).min(6)).unwrap_or(HeadingLevel::H6)
    };
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(md, options).map(|event| match event {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: shift(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(shift(level))),
        // Shown as text: `push_html` escapes it.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_link(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: if same_site(&dest_url) {
                dest_url
            } else {
                CowStr::Borrowed("")
            },
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// A path on this site: `/x`, `#x`, `?x` or relative without a scheme. Not `//host` (another
/// origin) and not `\` (browsers read `/\host` as `//host`).
fn same_site(url: &str) -> bool {
    let url = url.trim();
    if url.contains('\\') || url.starts_with("//") {
        return false;
    }
    // No scheme: a colon, if any, comes after the first `/`, `?` or `#`.
    match url.find(':') {
        None => true,
        Some(colon) => url[..colon].contains(['/', '?', '#']),
    }
}

fn safe_link(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    if same_site(&url)
        || lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
    {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

/// Plain text of a Markdown text (for search, similarity and feed summaries).
pub fn plain(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    for event in Parser::new(md) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => out.push(' '),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_javascript_links_are_neutralised() {
        let html = render(
            "Hi <script>alert(1)</script>\n\n[a](javascript:alert(1)) [b](JaVaScRiPt&#58;x) \
             [c](https://example.com) [d](/magazine) ![i](https://evil.example/x.png)",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
        assert!(html.contains("href=\"/magazine\""), "{html}");
        assert!(!html.contains("evil.example"), "{html}");
    }

    #[test]
    fn headings_move_down_under_a_heading_of_their_own() {
        let html = render_shifted("## Article 1\n\ntext\n\n###### deep", 1);
        assert!(html.contains("<h3>Article 1</h3>"), "{html}");
        assert!(html.contains("<h6>deep</h6>"), "{html}");
        assert!(render("## A").contains("<h2>A</h2>"));
    }

    #[test]
    fn same_site_paths() {
        assert!(same_site("/a/b"));
        assert!(same_site("a/b:c"));
        assert!(!same_site("//evil.example"));
        assert!(!same_site("data:text/html,x"));
        assert!(!same_site("/\\evil.example"));
    }
}
