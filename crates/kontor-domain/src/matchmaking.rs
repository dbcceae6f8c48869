//! The vocabulary of matchmaking: what participants offer and ask for, and how meetings come
//! about.

use crate::{Invalid, keyed_enum};

keyed_enum! {
    /// What an opportunity on the marketplace is.
    OpportunityKind {
        BusinessOffer => "business-offer",
        BusinessRequest => "business-request",
        TechnologyOffer => "technology-offer",
        TechnologyRequest => "technology-request",
        ResearchPartner => "research-partner",
        Investment => "investment",
        JobPosting => "job-posting",
    }
}

impl OpportunityKind {
    /// The kind that answers this one: an offer answers a request and the other way round.
    pub fn answered_by(self) -> Option<OpportunityKind> {
        use OpportunityKind::*;
        match self {
            BusinessOffer => Some(BusinessRequest),
            BusinessRequest => Some(BusinessOffer),
            TechnologyOffer => Some(TechnologyRequest),
            TechnologyRequest => Some(TechnologyOffer),
            ResearchPartner => Some(ResearchPartner),
            Investment | JobPosting => None,
        }
    }
}

keyed_enum! {
    /// The kind of work a job posting offers.
    Employment {
        FullTime => "full-time",
        PartTime => "part-time",
        Internship => "internship",
        WorkingStudent => "working-student",
        Apprenticeship => "apprenticeship",
        Thesis => "thesis",
    }
}

keyed_enum! {
    /// Where the work of a job posting is done.
    Workplace { OnSite => "on-site", Hybrid => "hybrid", Remote => "remote" }
}

/// What a job posting says beyond its text: the facts candidates filter and decide by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobDetails {
    pub employment: Employment,
    pub workplace: Workplace,
    /// Where the work is ("Dortmund", "Shanghai"); empty only for remote work.
    pub location: String,
    pub starts_on: Option<jiff::civil::Date>,
    /// The last day on which candidates may ask for an interview about it.
    pub apply_by: Option<jiff::civil::Date>,
}

impl JobDetails {
    /// Checks what the fields alone cannot: a place unless the work is remote, and a deadline
    /// that has not passed on `today` (when the posting is written).
    pub fn check(&self, today: jiff::civil::Date) -> Vec<(&'static str, Invalid)> {
        let mut problems = vec![];
        if self.location.trim().is_empty() && self.workplace != Workplace::Remote {
            problems.push(("location", Invalid::new("invalid-job-location")));
        }
        if self.apply_by.is_some_and(|d| d < today) {
            problems.push(("apply_by", Invalid::new("invalid-job-apply-by-past")));
        }
        if let (Some(start), Some(by)) = (self.starts_on, self.apply_by)
            && start < by
        {
            problems.push((
                "starts_on",
                Invalid::new("invalid-job-starts-before-deadline"),
            ));
        }
        problems
    }

    /// Whether candidates may still ask about it on `today`: up to and including the deadline.
    pub fn open_on(&self, today: jiff::civil::Date) -> bool {
        self.apply_by.is_none_or(|by| today <= by)
    }
}

keyed_enum! {
    /// How much the requester wants the meeting; the optimiser weighs by it.
    MeetingPriority { Must => "must", WouldLike => "would-like" }
}

keyed_enum! {
    MeetingRequestStatus {
        Pending => "pending",
        Accepted => "accepted",
        Declined => "declined",
        Cancelled => "cancelled",
    }
}

/// How long a pending request's proposed time stays held against other proposals to or by
/// either side: long enough for a busy employer to answer, short enough that one who never
/// answers does not block those times for the whole fair.
pub const PROPOSAL_HOLD_MICROS: i64 = 72 * 3_600_000_000;

impl MeetingRequestStatus {
    /// Still in play: waiting for an answer, or accepted (and perhaps booked).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            MeetingRequestStatus::Pending | MeetingRequestStatus::Accepted
        )
    }
}

keyed_enum! {
    /// Where a meeting happens: at a table on site, or by video.
    MeetingMode { OnSite => "on-site", Online => "online" }
}

keyed_enum! {
    /// Who places accepted meetings in slots: the two participants themselves, or the organiser
    /// with the optimiser.
    SchedulingMode { SelfBooking => "self-booking", Organiser => "organiser" }
}

impl MeetingPriority {
    /// The optimiser's weight of one side's priority.
    pub fn weight(self) -> u32 {
        match self {
            MeetingPriority::Must => 3,
            MeetingPriority::WouldLike => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_answer_requests() {
        assert_eq!(
            OpportunityKind::TechnologyOffer.answered_by(),
            Some(OpportunityKind::TechnologyRequest)
        );
        assert_eq!(OpportunityKind::JobPosting.answered_by(), None);
    }

    #[test]
    fn a_job_posting_needs_a_place_and_a_deadline_ahead() {
        let day = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        let mut job = JobDetails {
            employment: Employment::Internship,
            workplace: Workplace::Hybrid,
            location: " ".into(),
            starts_on: Some(day("2027-01-15")),
            apply_by: Some(day("2027-02-01")),
        };
        let keys = |job: &JobDetails, today| {
            job.check(day(today))
                .into_iter()
                .map(|(f, e)| (f, e.key))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(&job, "2027-02-02"),
            [
                ("location", "invalid-job-location"),
                ("apply_by", "invalid-job-apply-by-past"),
                ("starts_on", "invalid-job-starts-before-deadline"),
            ]
        );
        job.workplace = Workplace::Remote;
        job.starts_on = Some(day("2027-02-01"));
        assert!(
            keys(&job, "2027-02-01").is_empty(),
            "the deadline day counts"
        );
        assert!(job.open_on(day("2027-02-01")) && !job.open_on(day("2027-02-02")));
    }
}
