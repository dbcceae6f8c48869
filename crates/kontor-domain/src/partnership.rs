//! Partnerships: partner cities, the agreements signed with them and what happened since.
//!
//! An agreement's life: a draft is written and may change; sending it for signature freezes its
//! text (a digest of it is kept) and mails every signatory a link; it is signed when the last
//! signatory has signed. A signature here is a simple electronic signature: the signatory
//! types their name under the frozen text, and the instant is recorded.

use crate::{Invalid, keyed_enum};

keyed_enum!(
    /// What an agreement is called.
    AgreementKind {
        Memorandum => "memorandum",
        LetterOfIntent => "letter-of-intent",
        Partnership => "partnership",
        Cooperation => "cooperation",
    }
);

keyed_enum!(
    /// Where an agreement is in its life; only `Draft` may be edited.
    AgreementStatus {
        Draft => "draft",
        Signing => "signing",
        Signed => "signed",
    }
);

keyed_enum!(
    /// What two cities agree to work on together.
    CooperationField {
        Economy => "economy",
        Science => "science",
        Education => "education",
        Culture => "culture",
        Environment => "environment",
        Health => "health",
        UrbanDevelopment => "urban-development",
        Mobility => "mobility",
        Youth => "youth",
        Tourism => "tourism",
    }
);

keyed_enum!(
    /// An entry on a partnership's timeline.
    MilestoneKind {
        Delegation => "delegation",
        Project => "project",
        Aid => "aid",
        Event => "event",
        Other => "other",
    }
);

/// The most people who sign one agreement (two cities, each with a witness).
pub const MAX_SIGNATORIES: usize = 4;

/// The year a partnership began: a plain year between 1900 and 2200.
pub fn parse_year(raw: &str) -> Result<Option<i16>, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i16>()
        .ok()
        .filter(|y| (1900..=2200).contains(y))
        .map(Some)
        .ok_or(Invalid::new("invalid-year"))
}

/// Whether the name a signatory typed is the name they sign as: the same characters, ignoring
/// case and spaces (Chinese names are written with or without a space between the parts).
pub fn name_matches(typed: &str, expected: &str) -> bool {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    !fold(typed).is_empty() && fold(typed) == fold(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_name_matches_without_case_or_extra_spaces() {
        assert!(name_matches("  katrin   ALBERS ", "Katrin Albers"));
        assert!(name_matches("王 芳", "王芳"));
        assert!(!name_matches("Katrin", "Katrin Albers"));
        assert!(!name_matches("", ""));
    }

    #[test]
    fn years_and_days_are_checked() {
        assert_eq!(parse_year(" 1987 "), Ok(Some(1987)));
        assert_eq!(parse_year(""), Ok(None));
        assert_eq!(parse_year("87x"), Err(Invalid::new("invalid-year")));
        assert_eq!(parse_year("1850"), Err(Invalid::new("invalid-year")));
    }
}
