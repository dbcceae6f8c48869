//! The instance model (what the organiser gives the optimiser) and its JSON format.
//!
//! The JSON format is documented with an example in `docs/schedule.md`. Every
//! identifier is a string chosen by the caller; slots are listed in
//! chronological order.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::schedule::Schedule;

/// Maximum number of slots in one instance (slot sets are 128-bit masks).
pub const MAX_SLOTS: usize = 128;
/// Maximum number of participants in one meeting request.
pub const MAX_GROUP: usize = 4;

/// A complete optimisation instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// Free-form name, used in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Number of tables available in every slot (a slot may override it).
    #[serde(deserialize_with = "non_negative")]
    pub tables: u32,
    /// Maximum allowed difference in breaks between any two participants
    /// (the JAIR fairness bound `d`); `None` = no fairness requirement.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_non_negative"
    )]
    pub fairness: Option<u32>,
    /// The slots, in chronological order.
    pub slots: Vec<Slot>,
    /// The participants.
    pub participants: Vec<Participant>,
    /// The meeting requests.
    pub requests: Vec<Request>,
    /// A previously published schedule: changes to it are minimised (objective level 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Schedule>,
}

/// One meeting slot (a global instant; all meetings last one slot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// Unique slot id, e.g. `"d1-09:00"`.
    pub id: String,
    /// Day index; breaks are counted within a day. Must not decrease along the list.
    #[serde(default, deserialize_with = "non_negative")]
    pub day: u32,
    /// Session label (e.g. `"morning"`), used by allowed sessions and preferences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Tables available in this slot; defaults to the instance's `tables`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_non_negative"
    )]
    pub tables: Option<u32>,
}

/// A participant (company representative, exhibitor, buyer...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    /// Unique participant id.
    pub id: String,
    /// Slots in which the participant is present; `None` = every slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<Vec<String>>,
    /// Slots in which the participant is not available (removed from `available`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<String>,
    /// Maximum number of meetings for this participant.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_non_negative"
    )]
    pub max_meetings: Option<u32>,
    /// Preferred session labels (soft, objective level 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_sessions: Vec<String>,
    /// Pinned table (an exhibitor's booth), numbered from 1.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_non_negative"
    )]
    pub table: Option<u32>,
}

/// How a meeting is held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// At a table on site (uses one table of the slot).
    #[default]
    OnSite,
    /// Online (uses no table).
    Online,
}

/// A meeting request between 2 to 4 participants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Unique request id.
    pub id: String,
    /// Participant ids (2 to 4, distinct).
    pub participants: Vec<String>,
    /// Weight of holding this meeting. Default: sum of `priorities`, or 1.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_non_negative"
    )]
    pub weight: Option<u32>,
    /// Priorities given by the participants (e.g. 1–3 each); summed into the weight.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priorities: Vec<u32>,
    /// Allowed session labels (hard); empty = any session.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<String>,
    /// The slot this meeting must take if held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_slot: Option<String>,
    /// Requests that must be held in an earlier slot than this one (when both are held).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// On site (needs a table) or online.
    #[serde(default)]
    pub mode: Mode,
    /// The meeting must be held; otherwise the instance is infeasible.
    #[serde(default)]
    pub mandatory: bool,
}

impl Request {
    /// The effective weight: `weight`, else the sum of `priorities`, else 1.
    pub fn effective_weight(&self) -> u32 {
        match self.weight {
            Some(w) => w,
            None if !self.priorities.is_empty() => self.priorities.iter().sum(),
            None => 1,
        }
    }
}

fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = i64::deserialize(d)?;
    u32::try_from(v)
        .map_err(|_| serde::de::Error::custom(format!("expected a non-negative integer, got {v}")))
}

fn opt_non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<i64>::deserialize(d)? {
        None => Ok(None),
        Some(v) => u32::try_from(v).map(Some).map_err(|_| {
            serde::de::Error::custom(format!("expected a non-negative integer, got {v}"))
        }),
    }
}

/// Why an instance was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceError {
    /// Malformed JSON, a missing or unknown field, a value of the wrong type or sign.
    Json(String),
    /// Malformed MiniZinc data (`.dzn`).
    Dzn(String),
    /// The instance has no slot.
    NoSlots,
    /// More slots than supported.
    TooManySlots(usize),
    /// The same id is used twice.
    DuplicateId {
        /// `"slot"`, `"participant"` or `"request"`.
        kind: &'static str,
        /// The duplicated id.
        id: String,
    },
    /// A reference to a slot that does not exist.
    UnknownSlot {
        /// Where the reference is.
        context: String,
        /// The unknown slot id.
        slot: String,
    },
    /// A request names a participant that does not exist.
    UnknownParticipant {
        /// The request id.
        request: String,
        /// The unknown participant id.
        participant: String,
    },
    /// A reference to a request that does not exist.
    UnknownRequest {
        /// Where the reference is.
        context: String,
        /// The unknown request id.
        request: String,
    },
    /// Any other invalid value, with an explanation.
    Invalid {
        /// Where the value is.
        context: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for InstanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(m) => write!(f, "invalid instance JSON: {m}"),
            Self::Dzn(m) => write!(f, "invalid .dzn data: {m}"),
            Self::NoSlots => write!(f, "the instance has no slots"),
            Self::TooManySlots(n) => {
                write!(
                    f,
                    "the instance has {n} slots; at most {MAX_SLOTS} are supported"
                )
            }
            Self::DuplicateId { kind, id } => write!(f, "duplicate {kind} id \"{id}\""),
            Self::UnknownSlot { context, slot } => {
                write!(f, "{context} refers to unknown slot \"{slot}\"")
            }
            Self::UnknownParticipant {
                request,
                participant,
            } => write!(
                f,
                "request \"{request}\" refers to unknown participant \"{participant}\""
            ),
            Self::UnknownRequest { context, request } => {
                write!(f, "{context} refers to unknown request \"{request}\"")
            }
            Self::Invalid { context, message } => write!(f, "{context}: {message}"),
        }
    }
}

impl std::error::Error for InstanceError {}

/// The kind of an instance file, chosen by the caller (e.g. from the extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceFormat {
    /// Kontor's JSON instance format.
    Json,
    /// JAIR 2022 MiniZinc data (`.dzn`).
    Dzn,
}

impl InstanceFormat {
    /// `Dzn` for a path ending in `.dzn` (any case), `Json` otherwise.
    pub fn from_path(path: &str) -> Self {
        if path.to_ascii_lowercase().ends_with(".dzn") {
            Self::Dzn
        } else {
            Self::Json
        }
    }
}

fn invalid(context: impl Into<String>, message: impl Into<String>) -> InstanceError {
    InstanceError::Invalid {
        context: context.into(),
        message: message.into(),
    }
}

impl Instance {
    /// Parses and validates an instance in Kontor's JSON format.
    pub fn from_json(text: &str) -> Result<Instance, InstanceError> {
        let inst: Instance =
            serde_json::from_str(text).map_err(|e| InstanceError::Json(e.to_string()))?;
        inst.validate()?;
        Ok(inst)
    }

    /// Parses an instance of the given format (JSON or JAIR `.dzn`) and validates it.
    pub fn parse(format: InstanceFormat, text: &str) -> Result<Instance, InstanceError> {
        match format {
            InstanceFormat::Json => Self::from_json(text),
            InstanceFormat::Dzn => crate::dzn::parse(text),
        }
    }

    /// Parses `text` read from `path`, choosing the format by the extension.
    pub fn load(path: &str, text: &str) -> Result<Instance, InstanceError> {
        Self::parse(InstanceFormat::from_path(path), text)
    }

    /// Serialises the instance to pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("instance serialises")
    }

    /// Tables available in slot `index`.
    pub fn tables_in(&self, index: usize) -> u32 {
        self.slots[index].tables.unwrap_or(self.tables)
    }

    /// Checks every reference and value. Called by the parsers; call it again
    /// after building or editing an instance in code.
    pub fn validate(&self) -> Result<(), InstanceError> {
        if self.slots.is_empty() {
            return Err(InstanceError::NoSlots);
        }
        if self.slots.len() > MAX_SLOTS {
            return Err(InstanceError::TooManySlots(self.slots.len()));
        }
        let slots = unique_ids("slot", self.slots.iter().map(|s| s.id.as_str()))?;
        let people = unique_ids(
            "participant",
            self.participants.iter().map(|p| p.id.as_str()),
        )?;
        let requests = unique_ids("request", self.requests.iter().map(|r| r.id.as_str()))?;
        for pair in self.slots.windows(2) {
            if pair[1].day < pair[0].day {
                return Err(invalid(
                    format!("slot \"{}\"", pair[1].id),
                    format!(
                        "day {} comes after day {}: list slots in chronological order",
                        pair[1].day, pair[0].day
                    ),
                ));
            }
        }
        let max_table = self
            .slots
            .iter()
            .map(|s| s.tables.unwrap_or(self.tables))
            .max()
            .unwrap_or(0);
        for p in &self.participants {
            let ctx = format!("participant \"{}\"", p.id);
            if p.id.is_empty() {
                return Err(invalid("participant", "empty id"));
            }
            for s in p.available.iter().flatten().chain(&p.unavailable) {
                if !slots.contains_key(s.as_str()) {
                    return Err(InstanceError::UnknownSlot {
                        context: ctx,
                        slot: s.clone(),
                    });
                }
            }
            if let Some(t) = p.table
                && (t == 0 || t > max_table)
            {
                return Err(invalid(
                    ctx,
                    format!("pinned table {t} is not between 1 and {max_table}"),
                ));
            }
        }
        for r in &self.requests {
            let ctx = format!("request \"{}\"", r.id);
            if r.participants.len() < 2 || r.participants.len() > MAX_GROUP {
                return Err(invalid(
                    ctx,
                    format!(
                        "has {} participants; a meeting needs 2 to {MAX_GROUP}",
                        r.participants.len()
                    ),
                ));
            }
            let mut seen = HashSet::new();
            for p in &r.participants {
                if !people.contains_key(p.as_str()) {
                    return Err(InstanceError::UnknownParticipant {
                        request: r.id.clone(),
                        participant: p.clone(),
                    });
                }
                if !seen.insert(p.as_str()) {
                    return Err(invalid(ctx, format!("participant \"{p}\" is listed twice")));
                }
            }
            if r.weight == Some(0) {
                return Err(invalid(ctx, "weight must be at least 1"));
            }
            if !r.priorities.is_empty() && r.priorities.len() != r.participants.len() {
                return Err(invalid(
                    ctx,
                    format!(
                        "{} priorities for {} participants",
                        r.priorities.len(),
                        r.participants.len()
                    ),
                ));
            }
            if r.weight.is_none() && r.priorities.contains(&0) {
                return Err(invalid(ctx, "priorities must be at least 1"));
            }
            if let Some(s) = &r.fixed_slot
                && !slots.contains_key(s.as_str())
            {
                return Err(InstanceError::UnknownSlot {
                    context: ctx,
                    slot: s.clone(),
                });
            }
            for a in &r.after {
                if !requests.contains_key(a.as_str()) {
                    return Err(InstanceError::UnknownRequest {
                        context: ctx,
                        request: a.clone(),
                    });
                }
                if *a == r.id {
                    return Err(invalid(ctx, "cannot come after itself"));
                }
            }
        }
        self.check_precedence_cycles(&requests)?;
        if let Some(prev) = &self.previous {
            for m in &prev.meetings {
                let ctx = format!("previous schedule entry for \"{}\"", m.request);
                if !requests.contains_key(m.request.as_str()) {
                    return Err(InstanceError::UnknownRequest {
                        context: "previous schedule".into(),
                        request: m.request.clone(),
                    });
                }
                if !slots.contains_key(m.slot.as_str()) {
                    return Err(InstanceError::UnknownSlot {
                        context: ctx,
                        slot: m.slot.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn check_precedence_cycles(&self, index: &HashMap<&str, usize>) -> Result<(), InstanceError> {
        // Iterative DFS with colours: 0 = new, 1 = on stack, 2 = done.
        let n = self.requests.len();
        let mut colour = vec![0u8; n];
        for start in 0..n {
            if colour[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            colour[start] = 1;
            while let Some(&mut (v, ref mut next)) = stack.last_mut() {
                if let Some(a) = self.requests[v].after.get(*next) {
                    *next += 1;
                    let u = index[a.as_str()];
                    match colour[u] {
                        0 => {
                            colour[u] = 1;
                            stack.push((u, 0));
                        }
                        1 => {
                            let pos = stack.iter().position(|&(x, _)| x == u).unwrap_or(0);
                            let cycle: Vec<&str> = stack[pos..]
                                .iter()
                                .map(|&(x, _)| self.requests[x].id.as_str())
                                .collect();
                            return Err(invalid(
                                "precedences",
                                format!("cycle between requests {}", cycle.join(" -> ")),
                            ));
                        }
                        _ => {}
                    }
                } else {
                    colour[v] = 2;
                    stack.pop();
                }
            }
        }
        Ok(())
    }
}

fn unique_ids<'a>(
    kind: &'static str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<&'a str, usize>, InstanceError> {
    let mut map = HashMap::new();
    for (i, id) in ids.enumerate() {
        if id.is_empty() {
            return Err(invalid(kind, "empty id"));
        }
        if map.insert(id, i).is_some() {
            return Err(InstanceError::DuplicateId {
                kind,
                id: id.to_string(),
            });
        }
    }
    Ok(map)
}
