//! Reader for the MiniZinc data files (`.dzn`) of the JAIR 2022 B2B benchmark
//! (Bofill et al., JAIR 74, 2022).
//!
//! Mapping: participants `p1..`, meetings `m1..` (all mandatory, weight 1,
//! on site), slots `s1..` on one day; slots `1..=nMorningSlots` have session
//! `"morning"`, the others `"afternoon"`; request session 1 = morning only,
//! 2 = afternoon only, 3 = any; `forbidden` slots become unavailability;
//! `fixed` a fixed slot; `precedences[m]` the meetings that must come before
//! `m`; fairness d = 2.

use std::collections::HashMap;

use crate::model::{Instance, InstanceError, Participant, Request, Slot};

/// Morning session label used for `.dzn` instances.
pub const MORNING: &str = "morning";
/// Afternoon session label used for `.dzn` instances.
pub const AFTERNOON: &str = "afternoon";

fn err(m: impl Into<String>) -> InstanceError {
    InstanceError::Dzn(m.into())
}

/// Parses one JAIR `.dzn` file into an [`Instance`].
pub fn parse(text: &str) -> Result<Instance, InstanceError> {
    let clean: String = text
        .lines()
        .map(|l| l.split('%').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut items: HashMap<&str, &str> = HashMap::new();
    for stmt in clean.split(';') {
        if stmt.trim().is_empty() {
            continue;
        }
        let (name, value) = stmt
            .split_once('=')
            .ok_or_else(|| err(format!("expected `name = value` in `{}`", stmt.trim())))?;
        items.insert(name.trim(), value.trim());
    }
    let get = |name: &str| {
        items
            .get(name)
            .copied()
            .ok_or_else(|| err(format!("missing `{name}`")))
    };
    let int = |name: &str| -> Result<usize, InstanceError> {
        let v = get(name)?;
        v.parse::<usize>().map_err(|_| {
            err(format!(
                "`{name}` must be a non-negative integer, got `{v}`"
            ))
        })
    };
    let n_bus = int("nBusiness")?;
    let n_meet = int("nMeetings")?;
    let n_tables = int("nTables")?;
    let n_slots = int("nTotalSlots")?;
    let n_morning = match items.get("nMorningSlots") {
        Some(_) => int("nMorningSlots")?,
        None => n_slots,
    };
    if n_slots == 0 {
        return Err(err("nTotalSlots must be at least 1"));
    }
    if n_morning > n_slots {
        return Err(err(format!(
            "nMorningSlots = {n_morning} exceeds nTotalSlots = {n_slots}"
        )));
    }
    let requested = ints(get("requested")?)?;
    if requested.len() != 3 * n_meet {
        return Err(err(format!(
            "`requested` has {} numbers, expected 3 × nMeetings = {}",
            requested.len(),
            3 * n_meet
        )));
    }
    let forbidden = sets(get("forbidden")?)?;
    if forbidden.len() != n_bus {
        return Err(err(format!(
            "`forbidden` has {} sets, expected nBusiness = {n_bus}",
            forbidden.len()
        )));
    }
    let fixed = match items.get("fixed") {
        Some(v) => ints(v)?,
        None => vec![0; n_meet],
    };
    if fixed.len() != n_meet {
        return Err(err(format!(
            "`fixed` has {} numbers, expected nMeetings = {n_meet}",
            fixed.len()
        )));
    }
    let precedences = match items.get("precedences") {
        Some(v) => sets(v)?,
        None => vec![Vec::new(); n_meet],
    };
    if precedences.len() != n_meet {
        return Err(err(format!(
            "`precedences` has {} sets, expected nMeetings = {n_meet}",
            precedences.len()
        )));
    }
    if let Some(v) = items.get("nMeetingsBusiness") {
        let counts = ints(v)?;
        let mut derived = vec![0i64; n_bus];
        for row in requested.chunks(3) {
            for &p in &row[..2] {
                if p >= 1 && (p as usize) <= n_bus {
                    derived[p as usize - 1] += 1;
                }
            }
        }
        if counts != derived {
            return Err(err("`nMeetingsBusiness` does not match `requested`"));
        }
    }
    let slot_id = |s: i64| format!("s{s}");
    let slots = (1..=n_slots)
        .map(|s| Slot {
            id: slot_id(s as i64),
            day: 0,
            session: Some(if s <= n_morning { MORNING } else { AFTERNOON }.to_string()),
            tables: None,
        })
        .collect();
    let mut participants = Vec::with_capacity(n_bus);
    for (p, forb) in forbidden.iter().enumerate() {
        let mut unavailable = Vec::new();
        for &s in forb {
            if s == 0 {
                continue; // placeholder
            }
            if s < 0 || s as usize > n_slots {
                return Err(err(format!(
                    "participant {} has forbidden slot {s} outside 1..={n_slots}",
                    p + 1
                )));
            }
            unavailable.push(slot_id(s));
        }
        participants.push(Participant {
            id: format!("p{}", p + 1),
            unavailable,
            ..Participant::default()
        });
    }
    let mut requests = Vec::with_capacity(n_meet);
    for (m, row) in requested.chunks(3).enumerate() {
        let ctx = |what: String| err(format!("meeting {}: {what}", m + 1));
        for &p in &row[..2] {
            if p < 1 || p as usize > n_bus {
                return Err(ctx(format!("participant {p} outside 1..={n_bus}")));
            }
        }
        let sessions = match row[2] {
            1 => vec![MORNING.to_string()],
            2 => vec![AFTERNOON.to_string()],
            3 => Vec::new(),
            s => return Err(ctx(format!("session {s} is not 1, 2 or 3"))),
        };
        let fixed_slot = match fixed[m] {
            0 => None,
            s if s >= 1 && s as usize <= n_slots => Some(slot_id(s)),
            s => return Err(ctx(format!("fixed slot {s} outside 1..={n_slots}"))),
        };
        let mut after = Vec::new();
        for &a in &precedences[m] {
            if a < 1 || a as usize > n_meet {
                return Err(ctx(format!("precedence {a} outside 1..={n_meet}")));
            }
            after.push(format!("m{a}"));
        }
        requests.push(Request {
            id: format!("m{}", m + 1),
            participants: vec![format!("p{}", row[0]), format!("p{}", row[1])],
            weight: Some(1),
            sessions,
            fixed_slot,
            after,
            mandatory: true,
            ..Request::default()
        });
    }
    let inst = Instance {
        name: None,
        tables: n_tables as u32,
        fairness: Some(2),
        slots,
        participants,
        requests,
        previous: None,
    };
    inst.validate()?;
    Ok(inst)
}

fn ints(v: &str) -> Result<Vec<i64>, InstanceError> {
    v.split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| err(format!("bad integer `{s}`")))
        })
        .collect()
}

fn sets(v: &str) -> Result<Vec<Vec<i64>>, InstanceError> {
    let mut out = Vec::new();
    let mut rest = v;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or_else(|| err("unclosed `{`"))? + open;
        out.push(ints(&rest[open + 1..close])?);
        rest = &rest[close + 1..];
    }
    Ok(out)
}
