//! An iCalendar (RFC 5545) writer for agendas: UTC times, escaped text, lines folded at 75
//! octets, stable UIDs with SEQUENCE and STATUS so that calendar clients update and cancel
//! meetings in place.

use std::fmt::Write;

use jiff::Timestamp;

/// One meeting as a calendar event.
#[derive(Debug, Clone)]
pub struct CalendarEvent {
    /// Stable across changes: the meeting's id at our domain.
    pub uid: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub summary: String,
    pub description: String,
    pub location: String,
    pub url: Option<String>,
    pub sequence: i32,
    pub cancelled: bool,
    /// When the meeting last changed.
    pub stamp: Timestamp,
}

/// A whole calendar: a name and its events.
pub fn calendar(name: &str, events: &[CalendarEvent]) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//Kontor//Agenda//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        format!("X-WR-CALNAME:{}", escape(name)),
    ];
    for e in events {
        lines.push("BEGIN:VEVENT".into());
        lines.push(format!("UID:{}", escape(&e.uid)));
        lines.push(format!("DTSTAMP:{}", utc(e.stamp)));
        lines.push(format!("DTSTART:{}", utc(e.start)));
        lines.push(format!("DTEND:{}", utc(e.end)));
        lines.push(format!("SEQUENCE:{}", e.sequence));
        lines.push(format!(
            "STATUS:{}",
            if e.cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            }
        ));
        lines.push(format!("SUMMARY:{}", escape(&e.summary)));
        if !e.description.is_empty() {
            lines.push(format!("DESCRIPTION:{}", escape(&e.description)));
        }
        if !e.location.is_empty() {
            lines.push(format!("LOCATION:{}", escape(&e.location)));
        }
        if let Some(url) = &e.url {
            lines.push(format!("URL:{url}"));
        }
        lines.push("END:VEVENT".into());
    }
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for line in lines {
        out.push_str(&fold(&line));
    }
    out
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes TEXT values (RFC 5545 §3.3.11).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets without splitting a UTF-8 character; ends it with CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    let _ = write!(out, "\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(cancelled: bool) -> CalendarEvent {
        CalendarEvent {
            uid: "0195-abc@kontor.example".into(),
            start: "2027-03-10T08:00:00Z".parse().unwrap(),
            end: "2027-03-10T08:30:00Z".parse().unwrap(),
            summary: "Meeting: 王芳, 贵阳氢能科技有限公司; Hydrogen".into(),
            description: "Line one\nLine two".into(),
            location: "Table 12".into(),
            url: Some("https://exchange.example/events/h2/meetings".into()),
            sequence: 2,
            cancelled,
            stamp: "2027-03-01T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn writes_valid_lines() {
        let ics = calendar("Kontor – Wasserstofftage", &[event(false)]);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.contains("DTSTART:20270310T080000Z\r\n"));
        assert!(ics.contains("SEQUENCE:2\r\nSTATUS:CONFIRMED\r\n"));
        assert!(ics.contains("SUMMARY:Meeting: 王芳\\, 贵阳氢能科技有限公司\\; Hydrogen"));
        assert!(ics.contains("DESCRIPTION:Line one\\nLine two\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(calendar("x", &[event(true)]).contains("STATUS:CANCELLED"));
    }

    #[test]
    fn folding_keeps_characters_whole() {
        let long = format!("SUMMARY:{}", "氢".repeat(40));
        let folded = fold(&long);
        let unfolded = folded.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{long}\r\n"));
        assert!(folded.split("\r\n").all(|l| l.len() <= 75));
    }
}
