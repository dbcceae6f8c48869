//! Server-rendered pages: minijinja templates compiled into the binary, a `t()` function that
//! translates in the reader's language, and the layout's shared context.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use kontor_domain::{Keyed, Locale};
use kontor_i18n::{Arg, catalog};
use kontor_store::accounts::User;
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, State};

use crate::AppState;

macro_rules! templates {
    ($env:expr, $($name:literal),+ $(,)?) => {
        $( $env.add_template($name, include_str!(concat!("../templates/", $name))).expect($name); )+
    };
}

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    templates!(
        env,
        "base.html",
        "macros.html",
        "error.html",
        "home.html",
        "events.html",
        "event.html",
        "event_new.html",
        "participants.html",
        "signin.html",
        "signup.html",
        "code.html",
        "link.html",
        "profile.html",
        "registrations.html",
        "organisations.html",
        "organisation.html",
        "person.html",
        "room.html",
        "mailbox.html",
        "mail.html",
        "people.html",
        "request.html",
        "meetings.html",
        "marketplace.html",
        "opportunity_new.html",
        "opportunity.html",
        "schedule.html",
        "availability.html",
        "dashboard.html",
        "newsletter_macros.html",
        "newsletter_block.html",
        "newsletter.html",
        "newsletter_message.html",
        "newsletter_confirm.html",
        "newsletter_unsubscribe.html",
        "newsletter_preferences.html",
        "subscribers.html",
        "magazine_list.html",
        "partnerships.html",
        "partner_city.html",
        "partner_city_edit.html",
        "partner_city_delete.html",
        "milestone_edit.html",
        "milestone_delete.html",
        "agreement.html",
        "agreement_edit.html",
        "agreement_sign.html",
        "magazine_article.html",
        "magazine_page.html",
        "magazine_editor.html",
        "magazine_edit.html",
        "magazine_page_edit.html",
        "newsletter_admin.html",
        "newsletter_issue.html",
        "newsletter_archive.html",
    );
    env.add_function("t", translate);
    env.add_filter("country", country);
    env
}

fn page_locale(state: &State) -> Locale {
    state
        .lookup("locale")
        .and_then(|v| v.as_str().and_then(|s| Locale::parse(s).ok()))
        .unwrap_or(Locale::En)
}

/// `{{ code | country }}`: an ISO country code as its name in the page's language (the code
/// itself when it is not one).
fn country(state: &State, code: &str) -> String {
    kontor_i18n::country_name(page_locale(state), code)
        .map_or_else(|| code.to_string(), str::to_string)
}

/// `{{ t("key", name=value) }}` in the page's language.
fn translate(state: &State, key: &str, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let locale = page_locale(state);
    let mut args = Vec::new();
    for name in kwargs.args() {
        let v: Value = kwargs.get(name)?;
        let arg = match v.as_i64() {
            Some(n) => Arg::Num(n as f64),
            None => Arg::Str(v.to_string()),
        };
        args.push((name, arg));
    }
    Ok(catalog().message(locale, key, &args))
}

/// Who is reading and in which language: what every page needs.
pub struct Reader<'a> {
    pub locale: Locale,
    pub user: Option<&'a User>,
    pub path: &'a str,
    /// Where the language switch leads back to: the path with its query (a search, its
    /// filters), without any `lang` in it.
    pub back: &'a str,
    pub editor: bool,
    /// Meeting requests waiting for the reader's answer: the navigation says how many.
    pub waiting: i64,
}

pub fn render(
    state: &AppState,
    reader: &Reader<'_>,
    template: &str,
    ctx: serde_json::Value,
) -> Response {
    render_inner(state, reader, template, ctx)
}

/// A form page shown again because its input was refused: rendered with status 422, so that
/// scripts and tests see the refusal and browsers show the errors in the page.
pub fn render_invalid(
    state: &AppState,
    reader: &Reader<'_>,
    template: &str,
    ctx: serde_json::Value,
) -> Response {
    let mut r = render(state, reader, template, ctx);
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    r
}

/// Renders without a signed-in reader (error pages).
pub fn render_with(
    state: &AppState,
    locale: Locale,
    user: Option<&User>,
    template: &str,
    ctx: serde_json::Value,
) -> Response {
    let reader = Reader {
        locale,
        user,
        path: "/",
        back: "/",
        editor: false,
        waiting: 0,
    };
    render_inner(state, &reader, template, ctx)
}

fn render_inner(
    state: &AppState,
    reader: &Reader<'_>,
    template: &str,
    ctx: serde_json::Value,
) -> Response {
    let Reader {
        locale,
        user,
        path,
        back,
        editor,
        waiting,
    } = *reader;
    let locales: Vec<_> = Locale::ALL
        .iter()
        .map(
            |l| serde_json::json!({ "key": l.key(), "name": l.endonym(), "current": *l == locale }),
        )
        .collect();
    // The sign-up block's options are built only where the layout shows it.
    let block = crate::subscribe::shows_block(path);
    let layout = serde_json::json!({
        "locale": locale.key(),
        "lang_tag": locale.bcp47(),
        "colon": kontor_i18n::colon(locale),
        "list_sep": kontor_i18n::list_separator(locale),
        // Between a day and a time: "18.12.2026, 17:00", "2026年12月18日 17:00".
        "day_time_sep": if locale == Locale::Zh { " " } else { ", " },
        "locales": locales,
        "path": path,
        "back": back,
        "waiting": waiting,
        "is_editor": editor,
        "user": user.map(|u| serde_json::json!({
            "id": u.id, "name": u.name, "is_admin": u.is_admin, "email": u.email.as_str(),
        })),
        "mailbox_public": state.config.mailbox_public,
        "newsletter": block.then(|| crate::subscribe::block_context(&state.config, locale)),
        "newsletter_block": block,
    });
    let mut merged = layout.as_object().cloned().unwrap_or_default();
    if let serde_json::Value::Object(extra) = ctx {
        merged.extend(extra);
    }
    let result = state
        .templates
        .get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(&merged)));
    match result {
        Ok(html) => {
            let mut response = Html(html).into_response();
            response.headers_mut().insert(
                header::CONTENT_LANGUAGE,
                HeaderValue::from_static(locale.bcp47()),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, template, "template failed");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "template error",
            )
                .into_response()
        }
    }
}

/// Options for a `<select>` of a keyed enum, labelled from the catalogue as `<prefix>-<key>`.
pub fn options<T: Keyed>(locale: Locale, prefix: &str) -> Vec<serde_json::Value> {
    T::ALL
        .iter()
        .map(|v| {
            let key = v.key();
            serde_json::json!({ "key": key, "label": catalog().message(locale, &format!("{prefix}-{key}"), &[]) })
        })
        .collect()
}

/// The languages as `<select>` options, each in its own name.
pub fn locale_options() -> Vec<serde_json::Value> {
    Locale::ALL
        .iter()
        .map(|l| serde_json::json!({ "key": l.key(), "label": l.endonym() }))
        .collect()
}

/// A label for one keyed value.
pub fn label<T: Keyed>(locale: Locale, prefix: &str, value: T) -> String {
    catalog().message(locale, &format!("{prefix}-{}", value.key()), &[])
}

/// Text split into paragraphs at blank lines, for `<p>` elements.
pub fn paragraphs(text: &str) -> Vec<&str> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Field errors as `{field: message}` for a template.
pub fn field_errors(
    locale: Locale,
    errors: &[(String, kontor_domain::Invalid)],
) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (field, invalid) in errors {
        map.entry(field.clone())
            .or_insert_with(|| serde_json::Value::String(crate::error::message(locale, invalid)));
    }
    serde_json::Value::Object(map)
}

/// The items of a list in running text: "A, B" in German and English, "A、B" in Chinese.
pub fn list(locale: Locale, items: &[String]) -> String {
    items.join(kontor_i18n::list_separator(locale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_use_the_languages_own_separator() {
        let items = ["Wasserstoff".to_string(), "KI".to_string()];
        assert_eq!(list(Locale::De, &items), "Wasserstoff, KI");
        let items = ["氢能".to_string(), "人工智能".to_string()];
        assert_eq!(list(Locale::Zh, &items), "氢能、人工智能");
    }
}
