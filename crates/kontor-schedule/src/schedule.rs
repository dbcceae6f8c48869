//! Schedules, solutions and objective values.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// A schedule: the meetings that are held, each in a slot (and at a table when on site).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Held meetings; requests not listed are not held.
    pub meetings: Vec<ScheduledMeeting>,
}

/// One held meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledMeeting {
    /// The request id.
    pub request: String,
    /// The slot id.
    pub slot: String,
    /// Table number (from 1) for on-site meetings; absent for online meetings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
}

impl Schedule {
    /// Parses a schedule from JSON.
    pub fn from_json(text: &str) -> Result<Schedule, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid schedule JSON: {e}"))
    }

    /// Serialises the schedule to pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("schedule serialises")
    }
}

/// Objective values of a schedule, compared lexicographically in the order of
/// the fields (see [`Objective::cmp_quality`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    /// (1) Mandatory requests that are not held (0 in a feasible schedule).
    pub mandatory_missed: u32,
    /// (2) Total weight of the held meetings (maximised).
    pub weight: u64,
    /// Number of held meetings (information).
    pub held: u32,
    /// (3a) How far the break spread (max − min breaks over participants) exceeds
    /// the fairness bound; 0 when there is no bound or it holds.
    pub fairness_excess: u32,
    /// (3b) Total breaks: runs of idle slots between two meetings of a participant within a day.
    pub breaks: u32,
    /// Largest minus smallest number of breaks over all participants (information).
    pub break_spread: u32,
    /// (4) Preferences met: (participant, meeting) pairs whose slot is in one of the
    /// participant's preferred sessions.
    pub preferences_met: u32,
    /// (5) Changes to the previous schedule: previously held requests now dropped or moved.
    pub changes: u32,
    /// (6) Table changes: consecutive on-site meetings of a participant at different tables.
    pub table_changes: u32,
}

impl Objective {
    /// Lexicographic comparison: `Ordering::Greater` means `self` is better.
    pub fn cmp_quality(&self, other: &Objective) -> Ordering {
        other
            .mandatory_missed
            .cmp(&self.mandatory_missed)
            .then(self.weight.cmp(&other.weight))
            .then(other.fairness_excess.cmp(&self.fairness_excess))
            .then(other.breaks.cmp(&self.breaks))
            .then(self.preferences_met.cmp(&other.preferences_met))
            .then(other.changes.cmp(&self.changes))
            .then(other.table_changes.cmp(&self.table_changes))
    }
}

/// Why a request is not held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reason {
    /// No slot where all participants are available (and that satisfies the
    /// request's sessions / fixed slot).
    NoCommonAvailability,
    /// A participant already has its maximum number of meetings.
    ParticipantLimit {
        /// The participant at its limit.
        participant: String,
    },
    /// Every common free slot has all its tables taken.
    Capacity,
    /// In every common slot a participant has another meeting that was worth more
    /// (or a precedence would be violated).
    Conflicts,
}

/// Status of the mandatory requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Feasibility {
    /// Every mandatory request is held.
    Feasible,
    /// The mandatory requests cannot all be held; `proven` says whether this was
    /// proven (true) or only not achieved by the search within its limits (false).
    Infeasible {
        /// Proven infeasible (by propagation), or only not found.
        proven: bool,
        /// Human-readable reason.
        reason: String,
    },
}

/// Search statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Wall-clock seconds spent in `solve`.
    pub seconds: f64,
    /// Seconds until the final schedule was first found.
    pub seconds_to_best: f64,
    /// Local-search iterations over all phases.
    pub iterations: u64,
    /// Weight of the schedule after construction (before improvement).
    pub construction_weight: u64,
    /// Breaks of the schedule before break minimisation.
    pub initial_breaks: u32,
    /// True if the search stopped because the result is proven optimal for levels (1)–(3).
    pub proven_optimal: bool,
    /// True if the search was cancelled by the progress callback.
    pub cancelled: bool,
}

/// The result of [`crate::solve`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    /// The schedule (always satisfies every hard constraint, see [`crate::verify`]).
    pub schedule: Schedule,
    /// Requests not held, with the reason.
    pub unscheduled: Vec<(String, Reason)>,
    /// Status of the mandatory requests.
    pub feasibility: Feasibility,
    /// Objective values of `schedule`.
    pub objective: Objective,
    /// Upper bound on objective (2), the total weight (counting mandatory requests too).
    pub upper_bound: u64,
    /// Relative gap `(upper_bound − weight) / upper_bound` (0 when the bound is 0).
    pub gap: f64,
    /// Lower bound on the breaks (level 3b) given the held meetings, for
    /// schedules within the fairness bound (the exact phase raises it by the
    /// totals it refutes).
    pub breaks_lower_bound: u32,
    /// Lower bound on the fairness excess (level 3a) given the held meetings.
    /// Above 0 it proves that no schedule of these meetings meets the fairness
    /// bound: a participant with at most one meeting never has a break, and
    /// another cannot have fewer than `fairness` + this many.
    #[serde(default)]
    pub fairness_excess_lower_bound: u32,
    /// Statistics.
    pub stats: Stats,
}
