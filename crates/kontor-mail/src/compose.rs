//! Mails as people read them: a subject, a plain-text body and the same as simple HTML, all in the
//! recipient's language.

use kontor_domain::{Keyed, Locale};
use kontor_i18n::{Arg, catalog};
use kontor_store::outbox::NewMail;

/// Composes mails; knows the public URL so that links work from a mail client.
#[derive(Clone, Debug)]
pub struct Composer {
    pub base_url: String,
}

/// The confirmation mail's template and version, recorded with every confirmation sent.
pub const CONFIRM_TEMPLATE: &str = "newsletter-confirm/1";

/// What a meeting request says besides who asks: the opportunity it concerns (its title), the
/// requester's message, and the time it proposes (as the recipient reads it).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestDetails<'a> {
    pub concerning: Option<&'a str>,
    pub message: Option<&'a str>,
    pub proposed: Option<&'a str>,
}

impl Composer {
    pub fn new(base_url: impl Into<String>) -> Self {
        Composer {
            base_url: base_url.into().trim_end_matches('/').to_string(),
        }
    }

    /// The sign-in code, and a link that does the same (the link opens a page with a button, so
    /// that mail scanners which follow links do not use it up).
    pub fn sign_in(
        &self,
        to: &str,
        locale: Locale,
        name: &str,
        code: &str,
        link_token: &str,
    ) -> NewMail {
        let link = format!("{}/auth/link?token={link_token}", self.base_url);
        let args = [
            ("name", Arg::from(name)),
            ("code", Arg::from(code)),
            ("minutes", Arg::from(15usize)),
        ];
        self.mail(
            to,
            locale,
            "sign-in",
            &args,
            &["mail-sign-in-body", "mail-sign-in-expiry"],
            Some((&link, "mail-sign-in-button")),
        )
    }

    pub fn registration_received(
        &self,
        to: &str,
        locale: Locale,
        name: &str,
        event: &str,
        pending: bool,
    ) -> NewMail {
        let args = [("name", Arg::from(name)), ("event", Arg::from(event))];
        let body = if pending {
            "mail-registration-pending-body"
        } else {
            "mail-registration-approved-body"
        };
        let link = format!("{}/me/registrations", self.base_url);
        self.mail(
            to,
            locale,
            "registration-received",
            &args,
            &[body],
            Some((&link, "mail-registration-button")),
        )
    }

    pub fn registration_decided(
        &self,
        to: &str,
        locale: Locale,
        name: &str,
        event: &str,
        approved: bool,
    ) -> NewMail {
        let args = [("name", Arg::from(name)), ("event", Arg::from(event))];
        let (kind, body) = if approved {
            ("registration-approved", "mail-registration-approved-body")
        } else {
            ("registration-rejected", "mail-registration-rejected-body")
        };
        let link = format!("{}/me/registrations", self.base_url);
        self.mail(
            to,
            locale,
            kind,
            &args,
            &[body],
            Some((&link, "mail-registration-button")),
        )
    }

    /// A meeting request changed: `kind` is `request-accepted`, `request-declined`,
    /// `request-cancelled` or `participant-left` (a new one: [`Self::meeting_request_received`]).
    pub fn meeting_request(
        &self,
        to: &kontor_store::accounts::User,
        partner: &str,
        event: &kontor_domain::LocalizedText,
        event_slug: &str,
        kind: &'static str,
    ) -> NewMail {
        self.request_mail(to, partner, event, event_slug, kind, &[])
    }

    /// A new meeting request, with what the sender wrote and the opportunity it concerns (an
    /// employer sees which job posting a candidate answers).
    pub fn meeting_request_received(
        &self,
        to: &kontor_store::accounts::User,
        partner: &str,
        event: &kontor_domain::LocalizedText,
        event_slug: &str,
        about: RequestDetails<'_>,
    ) -> NewMail {
        let locale = to.locale;
        let label = |key: &str| catalog().message(locale, key, &[]) + kontor_i18n::colon(locale);
        let mut lines = vec![];
        if let Some(title) = about.concerning {
            lines.push(format!("{}{title}", label("request-opportunity")));
        }
        if let Some(when) = about.proposed {
            lines.push(format!("{}{when}", label("request-proposed-slot")));
        }
        if let Some(text) = about.message.filter(|m| !m.trim().is_empty()) {
            lines.push(format!("{}{text}", label("request-message")));
        }
        self.request_mail(to, partner, event, event_slug, "request-received", &lines)
    }

    fn request_mail(
        &self,
        to: &kontor_store::accounts::User,
        partner: &str,
        event: &kontor_domain::LocalizedText,
        event_slug: &str,
        kind: &'static str,
        lines: &[String],
    ) -> NewMail {
        let (locale, name) = (to.locale, to.name.as_str());
        let event = event.show(locale);
        let args = [
            ("name", Arg::from(name)),
            ("partner", Arg::from(partner)),
            ("event", Arg::from(event)),
        ];
        let link = format!("{}/events/{event_slug}/meetings", self.base_url);
        let body = match kind {
            "request-received" => "mail-request-received-body",
            "request-accepted" => "mail-request-accepted-body",
            "request-declined" => "mail-request-declined-body",
            "participant-left" => "mail-participant-left-body",
            _ => "mail-request-cancelled-body",
        };
        self.mail_with_lines(
            to.email.as_str(),
            locale,
            kind,
            &args,
            &[body],
            lines,
            Some((&link, "mail-meetings-button")),
        )
    }

    /// The organiser published or changed the agenda.
    pub fn agenda_changed(
        &self,
        to: &kontor_store::accounts::User,
        event: &kontor_domain::LocalizedText,
        event_slug: &str,
    ) -> NewMail {
        let locale = to.locale;
        let args = [
            ("name", Arg::from(to.name.as_str())),
            ("event", Arg::from(event.show(locale))),
        ];
        let link = format!("{}/events/{event_slug}/meetings", self.base_url);
        self.mail(
            to.email.as_str(),
            locale,
            "agenda-changed",
            &args,
            &["mail-agenda-changed-body"],
            Some((&link, "mail-meetings-button")),
        )
    }

    /// A reminder shortly before a meeting; `when` is the time as the recipient reads it. The
    /// reminder of an online meeting (`room`: the meeting's id) leads to its video room.
    #[allow(clippy::too_many_arguments)]
    pub fn meeting_reminder(
        &self,
        to: &kontor_store::accounts::User,
        partner: &str,
        event: &kontor_domain::LocalizedText,
        event_slug: &str,
        when: &str,
        room: Option<kontor_store::Uuid>,
    ) -> NewMail {
        self.meeting_at(
            to,
            partner,
            event,
            event_slug,
            when,
            "meeting-reminder",
            room,
        )
    }

    /// The other side moved a self-booked meeting; `when` is the new time as the recipient reads it.
    pub fn meeting_moved(
        &self,
        to: &kontor_store::accounts::User,
        partner: &str,
        event: &kontor_domain::LocalizedText,
        event_slug: &str,
        when: &str,
    ) -> NewMail {
        self.meeting_at(to, partner, event, event_slug, when, "meeting-moved", None)
    }

    /// The requester hears that their request was accepted at the time they proposed.
    pub fn meeting_booked(
        &self,
        to: &kontor_store::accounts::User,
        partner: &str,
        event: &kontor_domain::LocalizedText,
        event_slug: &str,
        when: &str,
    ) -> NewMail {
        self.meeting_at(to, partner, event, event_slug, when, "meeting-booked", None)
    }

    /// A mail about one meeting at a time: `mail-<kind>-subject` and `mail-<kind>-body`, with a
    /// button to the agenda, or to the meeting's video room.
    #[allow(clippy::too_many_arguments)]
    fn meeting_at(
        &self,
        to: &kontor_store::accounts::User,
        partner: &str,
        event: &kontor_domain::LocalizedText,
        event_slug: &str,
        when: &str,
        kind: &'static str,
        room: Option<kontor_store::Uuid>,
    ) -> NewMail {
        let locale = to.locale;
        let args = [
            ("name", Arg::from(to.name.as_str())),
            ("partner", Arg::from(partner)),
            ("event", Arg::from(event.show(locale))),
            ("when", Arg::from(when)),
        ];
        let (link, button) = match room {
            Some(meeting) => (
                format!("{}/meetings/{meeting}/room", self.base_url),
                "mail-room-button",
            ),
            None => (
                format!("{}/events/{event_slug}/meetings", self.base_url),
                "mail-meetings-button",
            ),
        };
        let body = format!("mail-{kind}-body");
        self.mail(
            to.email.as_str(),
            locale,
            kind,
            &args,
            &[body.as_str()],
            Some((&link, button)),
        )
    }

    /// The morning digest: how many requests wait for an answer, and the day's meetings.
    pub fn daily_digest(
        &self,
        to: &kontor_store::accounts::User,
        pending: usize,
        meetings: &[String],
    ) -> NewMail {
        let locale = to.locale;
        let args = [
            ("name", Arg::from(to.name.as_str())),
            ("pending", Arg::from(pending)),
            ("meetings", Arg::from(meetings.len())),
        ];
        let link = format!("{}/me/registrations", self.base_url);
        let body: &[&str] = if meetings.is_empty() {
            &["mail-digest-pending", "mail-digest-no-meetings"]
        } else {
            &["mail-digest-pending", "mail-digest-meetings"]
        };
        self.mail_with_lines(
            to.email.as_str(),
            locale,
            "daily-digest",
            &args,
            body,
            meetings,
            Some((&link, "mail-registration-button")),
        )
    }

    /// The double opt-in mail: no advertising, one link to a page whose button confirms.
    /// `CONFIRM_TEMPLATE` names this template and its version in the proof of consent.
    pub fn newsletter_confirm(&self, to: &str, locale: Locale, token: &str) -> NewMail {
        // The page behind the link speaks the subscriber's language, whatever the browser's.
        let link = format!(
            "{}/newsletter/confirm/{token}?lang={}",
            self.base_url,
            locale.key()
        );
        self.mail(
            to,
            locale,
            "newsletter-confirm",
            &[],
            &[
                "mail-newsletter-confirm-body",
                "mail-newsletter-confirm-expiry",
            ],
            Some((&link, "mail-newsletter-confirm-button")),
        )
    }

    /// After confirming: how to change preferences and how to leave.
    pub fn newsletter_welcome(&self, to: &str, locale: Locale, unsubscribe_token: &str) -> NewMail {
        let preferences = format!(
            "{}/newsletter/preferences/{unsubscribe_token}?lang={}",
            self.base_url,
            locale.key()
        );
        let unsubscribe = format!(
            "{}/newsletter/unsubscribe/{unsubscribe_token}?lang={}",
            self.base_url,
            locale.key()
        );
        self.mail(
            to,
            locale,
            "newsletter-welcome",
            &[("url", Arg::from(unsubscribe.as_str()))],
            &[
                "mail-newsletter-welcome-body",
                "mail-newsletter-welcome-unsubscribe",
            ],
            Some((&preferences, "mail-newsletter-welcome-button")),
        )
    }

    /// To a confirmed subscriber who signs up again: they are on the list already; a link to
    /// their preferences. Sent instead of a confirmation, so that a sign-up does the same work
    /// (and its answer takes the same time) whether or not the address is confirmed.
    pub fn newsletter_already(&self, to: &str, locale: Locale, unsubscribe_token: &str) -> NewMail {
        let preferences = format!(
            "{}/newsletter/preferences/{unsubscribe_token}?lang={}",
            self.base_url,
            locale.key()
        );
        self.mail(
            to,
            locale,
            "newsletter-already",
            &[],
            &["mail-newsletter-already-body"],
            Some((&preferences, "mail-newsletter-welcome-button")),
        )
    }

    /// Asks a signatory to sign an agreement: its title and partner city, and the signing link
    /// (a page that shows the text; signing needs a button there, so a mail scanner that
    /// follows links signs nothing).
    pub fn agreement_signature_request(
        &self,
        to: &str,
        locale: Locale,
        name: &str,
        agreement: &str,
        city: &str,
        token: &str,
    ) -> NewMail {
        let who = [("name", name), ("agreement", agreement), ("city", city)];
        self.signing_link(to, locale, &who, token, "agreement-sign")
    }

    /// A week on, unsigned: the request again, with a new link (the first one no longer works).
    pub fn agreement_signature_reminder(
        &self,
        to: &str,
        locale: Locale,
        name: &str,
        agreement: &str,
        city: &str,
        token: &str,
    ) -> NewMail {
        let who = [("name", name), ("agreement", agreement), ("city", city)];
        self.signing_link(to, locale, &who, token, "agreement-reminder")
    }

    /// A mail of `kind` carrying a signing link, with its body and the advice to keep it.
    fn signing_link(
        &self,
        to: &str,
        locale: Locale,
        who: &[(&str, &str)],
        token: &str,
        kind: &'static str,
    ) -> NewMail {
        let link = format!("{}/sign/{token}", self.base_url);
        let args: Vec<(&str, Arg)> = who.iter().map(|(k, v)| (*k, Arg::from(*v))).collect();
        let body = format!("mail-{kind}-body");
        self.mail(
            to,
            locale,
            kind,
            &args,
            &[&body, "mail-agreement-sign-keep"],
            Some((&link, "mail-agreement-sign-button")),
        )
    }

    /// An agreement's request for signature was withdrawn: the link no longer works.
    pub fn agreement_withdrawn(
        &self,
        to: &str,
        locale: Locale,
        name: &str,
        agreement: &str,
        city: &str,
    ) -> NewMail {
        let args = [
            ("name", Arg::from(name)),
            ("agreement", Arg::from(agreement)),
            ("city", Arg::from(city)),
        ];
        self.mail(
            to,
            locale,
            "agreement-withdrawn",
            &args,
            &["mail-agreement-withdrawn-body"],
            None,
        )
    }

    /// Every signatory has signed: the digest of the text they signed, then one line each
    /// (`signatures`, in the recipient's language) saying who signed when.
    #[allow(clippy::too_many_arguments)]
    pub fn agreement_signed(
        &self,
        to: &str,
        locale: Locale,
        name: &str,
        agreement: &str,
        signatures: &[String],
        digest: &str,
        path: &str,
    ) -> NewMail {
        let link = format!("{}{path}", self.base_url);
        let args = [
            ("name", Arg::from(name)),
            ("agreement", Arg::from(agreement)),
            ("digest", Arg::from(digest)),
        ];
        self.mail_with_lines(
            to,
            locale,
            "agreement-signed",
            &args,
            &["mail-agreement-signed-body"],
            signatures,
            Some((&link, "mail-agreement-signed-button")),
        )
    }

    /// Builds a mail of kind `kind` from the messages `mail-<kind>-subject`, `mail-greeting` and
    /// the given paragraphs, with an optional call-to-action link.
    fn mail(
        &self,
        to: &str,
        locale: Locale,
        kind: &'static str,
        args: &[(&str, Arg)],
        paragraphs: &[&str],
        action: Option<(&str, &str)>,
    ) -> NewMail {
        self.mail_with_lines(to, locale, kind, args, paragraphs, &[], action)
    }

    /// Like [`Composer::mail`], with lines of data (already in the reader's language and time)
    /// after the paragraphs.
    #[allow(clippy::too_many_arguments)]
    fn mail_with_lines(
        &self,
        to: &str,
        locale: Locale,
        kind: &'static str,
        args: &[(&str, Arg)],
        paragraphs: &[&str],
        lines: &[String],
        action: Option<(&str, &str)>,
    ) -> NewMail {
        let c = catalog();
        let subject = c.message(locale, &format!("mail-{kind}-subject"), args);
        // A mail to someone whose name we do not know has its own greeting.
        let own_greeting = format!("mail-{kind}-greeting");
        let greeting = if c.has(locale, &own_greeting) {
            c.message(locale, &own_greeting, args)
        } else {
            c.message(locale, "mail-greeting", args)
        };
        let paragraphs: Vec<String> = paragraphs
            .iter()
            .map(|p| c.message(locale, p, args))
            .collect();
        let signature = c.message(locale, "mail-signature", args);

        let mut text = format!("{greeting}\n\n");
        let mut html = format!(
            "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
             <body style=\"font-family:sans-serif;line-height:1.5;max-width:36em\"><p>{}</p>",
            locale.bcp47(),
            escape(&subject),
            escape(&greeting)
        );
        for p in &paragraphs {
            text.push_str(p);
            text.push_str("\n\n");
            html.push_str(&format!("<p>{}</p>", escape(p)));
        }
        if !lines.is_empty() {
            html.push_str("<ul>");
            for line in lines {
                text.push_str(&format!("- {line}\n"));
                html.push_str(&format!("<li>{}</li>", escape(line)));
            }
            text.push('\n');
            html.push_str("</ul>");
        }
        if let Some((url, label)) = action {
            let label = c.message(locale, label, args);
            // The address on a line of its own: mail clients link it whatever punctuation
            // precedes it (Chinese has no space after its colon).
            text.push_str(&format!(
                "{label}{}\n{url}\n\n",
                kontor_i18n::colon(locale).trim_end()
            ));
            html.push_str(&format!(
                "<p><a href=\"{}\" style=\"display:inline-block;padding:.6em 1.2em;background:#0b5;color:#fff;\
                 text-decoration:none;border-radius:4px\">{}</a></p>",
                escape(url),
                escape(&label)
            ));
        }
        text.push_str(&format!("-- \n{signature}\n"));
        html.push_str(&format!(
            "<p style=\"color:#666\">{}</p></body></html>",
            escape(&signature)
        ));
        NewMail {
            to: to.to_string(),
            locale,
            kind,
            subject,
            text,
            html,
        }
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_mail_is_translated_and_escaped() {
        let c = Composer::new("http://127.0.0.1:8080/");
        let m = c.sign_in("li@example.cn", Locale::Zh, "李<伟>", "123456", "tok");
        assert!(m.text.contains("123456"));
        assert!(m.text.contains("http://127.0.0.1:8080/auth/link?token=tok"));
        assert!(m.html.contains("李&lt;伟&gt;"));
        assert!(
            !m.subject.starts_with("mail-"),
            "subject not translated: {}",
            m.subject
        );
        let de = c.sign_in("a@b.de", Locale::De, "Anna", "654321", "t");
        assert_ne!(m.subject, de.subject);
    }
}
