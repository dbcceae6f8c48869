use jiff::civil::{Date, Time};
use jiff::{Timestamp, ToSpan};

use crate::{Invalid, TimeZoneName, keyed_enum};

keyed_enum! {
    EventKind { TradeFair => "trade-fair", JobFair => "job-fair", Conference => "conference" }
}

keyed_enum! {
    EventFormat { Online => "online", OnSite => "on-site", Hybrid => "hybrid" }
}

keyed_enum! {
    /// A registration's life: `Pending` only when the event needs approval.
    RegistrationStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Cancelled => "cancelled",
    }
}

keyed_enum! {
    /// The roles an event can offer; each event picks the ones that fit its kind.
    ParticipantRole {
        Exhibitor => "exhibitor",
        Visitor => "visitor",
        Employer => "employer",
        Candidate => "candidate",
        Speaker => "speaker",
        Delegate => "delegate",
        Participant => "participant",
    }
}

impl EventKind {
    /// Roles offered when the organiser does not choose.
    pub fn default_roles(self) -> &'static [ParticipantRole] {
        match self {
            EventKind::TradeFair => &[ParticipantRole::Exhibitor, ParticipantRole::Visitor],
            EventKind::JobFair => &[ParticipantRole::Employer, ParticipantRole::Candidate],
            EventKind::Conference => &[ParticipantRole::Participant, ParticipantRole::Speaker],
        }
    }
}

/// One matchmaking session of one event day, in the event's local time: meetings of
/// `slot_minutes` from `start` to `end`, except during `breaks`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MatchmakingSession {
    pub day: Date,
    pub start: Time,
    pub end: Time,
    pub slot_minutes: i32,
    #[serde(default)]
    pub breaks: Vec<(Time, Time)>,
}

/// A meeting slot as a global interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl MatchmakingSession {
    pub fn parse(
        day: &str,
        start: &str,
        end: &str,
        slot_minutes: i32,
        breaks: &[(String, String)],
    ) -> Result<Self, Invalid> {
        let date = |s: &str| {
            s.trim()
                .parse::<Date>()
                .map_err(|_| Invalid::new("invalid-date"))
        };
        let time = |s: &str| {
            s.trim()
                .parse::<Time>()
                .map_err(|_| Invalid::new("invalid-time"))
        };
        let session = MatchmakingSession {
            day: date(day)?,
            start: time(start)?,
            end: time(end)?,
            slot_minutes,
            breaks: breaks
                .iter()
                .map(|(a, b)| Ok((time(a)?, time(b)?)))
                .collect::<Result<_, Invalid>>()?,
        };
        session.check()?;
        Ok(session)
    }

    fn check(&self) -> Result<(), Invalid> {
        if !(5..=240).contains(&self.slot_minutes) {
            return Err(Invalid::new("invalid-slot-length"));
        }
        if self.end <= self.start {
            return Err(Invalid::new("invalid-session-order"));
        }
        if self
            .breaks
            .iter()
            .any(|(a, b)| b <= a || *a < self.start || *b > self.end)
        {
            return Err(Invalid::new("invalid-break"));
        }
        Ok(())
    }

    /// The slots of this session: consecutive, each `slot_minutes` long, none overlapping a break,
    /// none running past the end. Computed in the event's zone, so a DST switch is honoured.
    pub fn slots(&self, zone: &TimeZoneName) -> Vec<Slot> {
        let tz = zone.tz();
        let mut out = Vec::new();
        let mut t = self.start;
        let len = (self.slot_minutes as i64).minutes();
        loop {
            let Ok(end) = t.checked_add(len) else { break };
            if end > self.end || end < t {
                break;
            }
            if let Some((_, b_end)) = self.breaks.iter().find(|(a, b)| t < *b && end > *a) {
                t = *b_end;
                continue;
            }
            let to_ts = |time: Time| tz.to_timestamp(self.day.to_datetime(time));
            if let (Ok(start), Ok(end_ts)) = (to_ts(t), to_ts(end)) {
                out.push(Slot { start, end: end_ts });
            }
            t = end;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_skip_breaks_and_know_the_zone() {
        let s = MatchmakingSession::parse(
            "2027-03-10",
            "09:00",
            "12:00",
            30,
            &[("10:00".into(), "10:20".into())],
        )
        .unwrap();
        let slots = s.slots(&TimeZoneName::berlin());
        // 09:00, 09:30, then the break pushes to 10:20, 10:50, 11:20; 11:50 would end after 12:00.
        assert_eq!(slots.len(), 5);
        assert_eq!(slots[0].start.to_string(), "2027-03-10T08:00:00Z");
        assert_eq!(slots[2].start.to_string(), "2027-03-10T09:20:00Z");
    }

    #[test]
    fn bad_sessions_are_rejected() {
        assert_eq!(
            MatchmakingSession::parse("2027-03-10", "12:00", "09:00", 30, &[])
                .unwrap_err()
                .key,
            "invalid-session-order"
        );
        assert_eq!(
            MatchmakingSession::parse("2027-03-10", "09:00", "12:00", 0, &[])
                .unwrap_err()
                .key,
            "invalid-slot-length"
        );
        assert_eq!(
            MatchmakingSession::parse("2027-13-10", "09:00", "12:00", 30, &[])
                .unwrap_err()
                .key,
            "invalid-date"
        );
    }
}
