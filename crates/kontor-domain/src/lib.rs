//! Kontor's vocabulary: the types every other crate speaks, and the rules that make a value valid.
//!
//! Invariant: no IO, no async. Every type that comes from a user is built by a `parse` function
//! that returns [`Invalid`] with a message key; once a value exists it is valid, and the rest of
//! the code trusts it.

mod event;
pub mod ics;
mod invalid;
mod locale;
mod matchmaking;
mod newsletter;
mod organisation;
pub mod partnership;
mod text;
mod zone;

pub use event::{
    EventFormat, EventKind, MatchmakingSession, ParticipantRole, RegistrationStatus, Slot,
};
pub use invalid::Invalid;
pub use locale::Locale;
pub use matchmaking::{
    Employment, JobDetails, MeetingMode, MeetingPriority, MeetingRequestStatus, OpportunityKind,
    PROPOSAL_HOLD_MICROS, SchedulingMode, Workplace,
};
pub use newsletter::{ConsentIp, SubscriberStatus, Topic, UnsubscribeChannel};
pub use organisation::{Country, OrgKind, OrgSize, Sector};
pub use text::{Email, LocalizedText, Password, Slug, Text, WebUrl, parse_day, parse_optional_day};
pub use zone::TimeZoneName;

/// Microseconds since the Unix epoch: the one way instants are stored, in both databases.
pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// Enumerations whose values are stored and sent as stable lowercase keys.
pub trait Keyed: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn key(self) -> &'static str;
    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.key() == key)
    }
}

/// Defines a `Keyed` enum with serde as its key.
macro_rules! keyed_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $key:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }
        impl $crate::Keyed for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn key(self) -> &'static str { match self { $(Self::$variant => $key),+ } }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::Keyed::key(*self))
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <Self as $crate::Keyed>::from_key(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {} `{}`", stringify!($name), s))
                })
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::Keyed::key(*self))
            }
        }
    };
}
pub(crate) use keyed_enum;

impl<T: Keyed> KeyedParse for T {}
/// `parse` for every keyed enum: an unknown key is an [`Invalid`] with the given message key.
pub trait KeyedParse: Keyed {
    fn parse_key(key: &str, message: &'static str) -> Result<Self, Invalid> {
        Self::from_key(key.trim()).ok_or(Invalid::new(message))
    }
}
