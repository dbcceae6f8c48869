//! The independent verifier: checks every hard constraint of a schedule and
//! computes its objective values. It works directly on the [`Instance`] (not on
//! the solver's compiled form), so that it can be trusted to check the solver.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Serialize;

use crate::model::{Instance, Mode};
use crate::schedule::{Objective, Schedule};

/// A broken hard constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Violation {
    /// The schedule names a request that is not in the instance.
    UnknownRequest { request: String },
    /// The schedule names a slot that is not in the instance.
    UnknownSlot { request: String, slot: String },
    /// A request is scheduled more than once.
    ScheduledTwice { request: String },
    /// A participant is not available in the meeting's slot.
    Unavailable {
        request: String,
        participant: String,
        slot: String,
    },
    /// The slot is not in one of the request's allowed sessions.
    SessionNotAllowed { request: String, slot: String },
    /// A fixed request is not in its fixed slot.
    NotAtFixedSlot {
        request: String,
        slot: String,
        fixed: String,
    },
    /// A participant has two meetings in one slot.
    DoubleBooked {
        participant: String,
        slot: String,
        requests: [String; 2],
    },
    /// A participant has more meetings than its maximum.
    TooManyMeetings {
        participant: String,
        meetings: u32,
        max: u32,
    },
    /// More on-site meetings in a slot than tables.
    OverCapacity {
        slot: String,
        meetings: u32,
        tables: u32,
    },
    /// An on-site meeting without a table, or with a table number out of range.
    BadTable {
        request: String,
        table: Option<u32>,
        tables: u32,
    },
    /// An online meeting with a table.
    OnlineWithTable { request: String },
    /// Two meetings at the same table in the same slot.
    TableTaken {
        slot: String,
        table: u32,
        requests: [String; 2],
    },
    /// A precedence "before → after" does not hold although both are held.
    Precedence { before: String, after: String },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownRequest { request } => write!(f, "unknown request \"{request}\""),
            Self::UnknownSlot { request, slot } => {
                write!(f, "request \"{request}\": unknown slot \"{slot}\"")
            }
            Self::ScheduledTwice { request } => {
                write!(f, "request \"{request}\" is scheduled more than once")
            }
            Self::Unavailable {
                request,
                participant,
                slot,
            } => write!(
                f,
                "request \"{request}\": participant \"{participant}\" is not available in slot \"{slot}\""
            ),
            Self::SessionNotAllowed { request, slot } => {
                write!(
                    f,
                    "request \"{request}\": slot \"{slot}\" is not in an allowed session"
                )
            }
            Self::NotAtFixedSlot {
                request,
                slot,
                fixed,
            } => {
                write!(
                    f,
                    "request \"{request}\" is in slot \"{slot}\" but fixed to \"{fixed}\""
                )
            }
            Self::DoubleBooked {
                participant,
                slot,
                requests,
            } => write!(
                f,
                "participant \"{participant}\" has two meetings in slot \"{slot}\": \"{}\" and \"{}\"",
                requests[0], requests[1]
            ),
            Self::TooManyMeetings {
                participant,
                meetings,
                max,
            } => {
                write!(
                    f,
                    "participant \"{participant}\" has {meetings} meetings, maximum {max}"
                )
            }
            Self::OverCapacity {
                slot,
                meetings,
                tables,
            } => {
                write!(
                    f,
                    "slot \"{slot}\" has {meetings} on-site meetings but {tables} tables"
                )
            }
            Self::BadTable {
                request,
                table,
                tables,
            } => match table {
                None => write!(f, "on-site request \"{request}\" has no table"),
                Some(t) => write!(
                    f,
                    "request \"{request}\": table {t} is not between 1 and {tables}"
                ),
            },
            Self::OnlineWithTable { request } => {
                write!(f, "online request \"{request}\" has a table")
            }
            Self::TableTaken {
                slot,
                table,
                requests,
            } => write!(
                f,
                "table {table} in slot \"{slot}\" is used by \"{}\" and \"{}\"",
                requests[0], requests[1]
            ),
            Self::Precedence { before, after } => {
                write!(f, "request \"{before}\" must be held before \"{after}\"")
            }
        }
    }
}

/// Checks every hard constraint of `schedule` for `inst` and returns its objective
/// values, or every violation found.
pub fn verify(inst: &Instance, schedule: &Schedule) -> Result<Objective, Vec<Violation>> {
    let slot_ix: HashMap<&str, usize> = inst
        .slots
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let req_ix: HashMap<&str, usize> = inst
        .requests
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let part_ix: HashMap<&str, usize> = inst
        .participants
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut v = Vec::new();
    // placed[r] = (slot, table)
    let mut placed: Vec<Option<(usize, Option<u32>)>> = vec![None; inst.requests.len()];
    for m in &schedule.meetings {
        let Some(&r) = req_ix.get(m.request.as_str()) else {
            v.push(Violation::UnknownRequest {
                request: m.request.clone(),
            });
            continue;
        };
        let Some(&t) = slot_ix.get(m.slot.as_str()) else {
            v.push(Violation::UnknownSlot {
                request: m.request.clone(),
                slot: m.slot.clone(),
            });
            continue;
        };
        if placed[r].is_some() {
            v.push(Violation::ScheduledTwice {
                request: m.request.clone(),
            });
            continue;
        }
        placed[r] = Some((t, m.table));
    }
    let n_parts = inst.participants.len();
    let n_slots = inst.slots.len();
    let mut owner: Vec<Option<usize>> = vec![None; n_parts * n_slots];
    let mut onsite = vec![0u32; n_slots];
    let mut table_user: HashMap<(usize, u32), usize> = HashMap::new();
    let mut weight = 0u64;
    let mut held = 0u32;
    let mut mandatory_missed = 0u32;
    let mut prefs = 0u32;
    for (r, req) in inst.requests.iter().enumerate() {
        let Some((t, table)) = placed[r] else {
            if req.mandatory {
                mandatory_missed += 1;
            }
            continue;
        };
        let slot = &inst.slots[t];
        held += 1;
        weight += u64::from(req.effective_weight());
        if !req.sessions.is_empty()
            && !slot
                .session
                .as_ref()
                .is_some_and(|s| req.sessions.contains(s))
        {
            v.push(Violation::SessionNotAllowed {
                request: req.id.clone(),
                slot: slot.id.clone(),
            });
        }
        if let Some(f) = &req.fixed_slot
            && *f != slot.id
        {
            v.push(Violation::NotAtFixedSlot {
                request: req.id.clone(),
                slot: slot.id.clone(),
                fixed: f.clone(),
            });
        }
        for pid in &req.participants {
            let p = part_ix[pid.as_str()];
            let part = &inst.participants[p];
            let available = part.available.as_ref().is_none_or(|a| a.contains(&slot.id))
                && !part.unavailable.contains(&slot.id);
            if !available {
                v.push(Violation::Unavailable {
                    request: req.id.clone(),
                    participant: pid.clone(),
                    slot: slot.id.clone(),
                });
            }
            if let Some(other) = owner[p * n_slots + t] {
                v.push(Violation::DoubleBooked {
                    participant: pid.clone(),
                    slot: slot.id.clone(),
                    requests: [inst.requests[other].id.clone(), req.id.clone()],
                });
            } else {
                owner[p * n_slots + t] = Some(r);
            }
            if slot
                .session
                .as_ref()
                .is_some_and(|s| part.preferred_sessions.contains(s))
            {
                prefs += 1;
            }
        }
        let tables = inst.tables_in(t);
        match (req.mode, table) {
            (Mode::OnSite, Some(k)) if k >= 1 && k <= tables => {
                if let Some(other) = table_user.insert((t, k), r) {
                    v.push(Violation::TableTaken {
                        slot: slot.id.clone(),
                        table: k,
                        requests: [inst.requests[other].id.clone(), req.id.clone()],
                    });
                }
            }
            (Mode::OnSite, table) => v.push(Violation::BadTable {
                request: req.id.clone(),
                table,
                tables,
            }),
            (Mode::Online, Some(_)) => v.push(Violation::OnlineWithTable {
                request: req.id.clone(),
            }),
            (Mode::Online, None) => {}
        }
        if req.mode == Mode::OnSite {
            onsite[t] += 1;
        }
        for a in &req.after {
            if let Some((ta, _)) = placed[req_ix[a.as_str()]]
                && ta >= t
            {
                v.push(Violation::Precedence {
                    before: a.clone(),
                    after: req.id.clone(),
                });
            }
        }
    }
    for (t, &n) in onsite.iter().enumerate() {
        if n > inst.tables_in(t) {
            v.push(Violation::OverCapacity {
                slot: inst.slots[t].id.clone(),
                meetings: n,
                tables: inst.tables_in(t),
            });
        }
    }
    // Per participant: load, breaks, table changes.
    let mut breaks_of = Vec::with_capacity(n_parts);
    let mut table_changes = 0u32;
    for (p, part) in inst.participants.iter().enumerate() {
        let row = &owner[p * n_slots..(p + 1) * n_slots];
        let load = row.iter().flatten().count() as u32;
        if let Some(max) = part.max_meetings
            && load > max
        {
            v.push(Violation::TooManyMeetings {
                participant: part.id.clone(),
                meetings: load,
                max,
            });
        }
        breaks_of.push(participant_breaks(inst, row));
        let mut last_table = None;
        for &r in row.iter().flatten() {
            if let Some((_, Some(k))) = placed[r] {
                if last_table.is_some_and(|l| l != k) {
                    table_changes += 1;
                }
                if part.table.is_some_and(|b| b != k) {
                    table_changes += 1;
                }
                last_table = Some(k);
            }
        }
    }
    if !v.is_empty() {
        return Err(v);
    }
    let breaks: u32 = breaks_of.iter().sum();
    let spread =
        breaks_of.iter().max().copied().unwrap_or(0) - breaks_of.iter().min().copied().unwrap_or(0);
    let fairness_excess = inst.fairness.map_or(0, |d| spread.saturating_sub(d));
    let mut changes = 0u32;
    if let Some(prev) = &inst.previous {
        let mut seen = HashSet::new();
        for m in &prev.meetings {
            if !seen.insert(m.request.as_str()) {
                continue;
            }
            let now = placed[req_ix[m.request.as_str()]].map(|(t, _)| inst.slots[t].id.as_str());
            if now != Some(m.slot.as_str()) {
                changes += 1;
            }
        }
    }
    Ok(Objective {
        mandatory_missed,
        weight,
        held,
        fairness_excess,
        breaks,
        break_spread: spread,
        preferences_met: prefs,
        changes,
        table_changes,
    })
}

/// Breaks of one participant: runs of idle slots between two of its meetings within one day.
fn participant_breaks(inst: &Instance, row: &[Option<usize>]) -> u32 {
    let mut breaks = 0;
    let mut day = None;
    let mut seen_meeting = false;
    let mut idle_run = false;
    for (t, slot) in inst.slots.iter().enumerate() {
        if day != Some(slot.day) {
            day = Some(slot.day);
            seen_meeting = false;
            idle_run = false;
        }
        if row[t].is_some() {
            if seen_meeting && idle_run {
                breaks += 1;
            }
            seen_meeting = true;
            idle_run = false;
        } else if seen_meeting {
            idle_run = true;
        }
    }
    breaks
}
