//! The vocabulary of matchmaking: what participants offer and ask for, and how meetings come
//! about.

use crate::keyed_enum;

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
}
