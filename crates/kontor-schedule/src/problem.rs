//! The compiled, index-based form of an [`Instance`] used by the algorithms,
//! and the mutable search state shared by the phases.

use std::collections::HashMap;

use crate::model::{Instance, Mode};

/// Marker for "not scheduled" in [`State::slot`].
pub(crate) const NONE: u8 = u8::MAX;

#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub avail: u128,
    pub max: u32,
    /// Slots in a preferred session (0 when the participant states no preference).
    pub pref: u128,
    pub reqs: Vec<u32>,
    pub table: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub members: Vec<u32>,
    /// Search weight: base weight, plus `big` for mandatory requests.
    pub weight: u64,
    pub base: u32,
    pub mandatory: bool,
    pub onsite: bool,
    /// Slots allowed by availability, sessions and the fixed slot.
    pub domain: u128,
    pub preds: Vec<u32>,
    pub succs: Vec<u32>,
    /// Slot in the previous schedule (`NONE` if it held none).
    pub prev: u8,
    /// Table in the previous schedule, kept when the meeting keeps its slot.
    pub prev_table: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub n_slots: usize,
    pub day_masks: Vec<u128>,
    /// Slots that start a day.
    pub day_starts: u128,
    pub cap: Vec<u32>,
    pub parts: Vec<Part>,
    pub reqs: Vec<Req>,
    pub fairness: Option<u32>,
}

pub(crate) fn bit(t: usize) -> u128 {
    1u128 << t
}

/// Iterates the set bits of a mask.
pub(crate) fn bits(mut m: u128) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if m == 0 {
            None
        } else {
            let t = m.trailing_zeros() as usize;
            m &= m - 1;
            Some(t)
        }
    })
}

/// Maximum matching of items (each with a mask of allowed slots) to distinct
/// slots, by Kuhn's augmenting paths: the number matched and, per slot, the
/// item given it (`usize::MAX` if none).
pub(crate) fn match_slots(doms: &[u128]) -> (usize, [usize; 128]) {
    fn augment(i: usize, doms: &[u128], owner: &mut [usize; 128], seen: &mut u128) -> bool {
        for t in bits(doms[i] & !*seen) {
            *seen |= bit(t);
            if owner[t] == usize::MAX || augment(owner[t], doms, owner, seen) {
                owner[t] = i;
                return true;
            }
        }
        false
    }
    let mut owner = [usize::MAX; 128];
    let mut matched = 0;
    for i in 0..doms.len() {
        let mut seen = 0u128;
        if augment(i, doms, &mut owner, &mut seen) {
            matched += 1;
        }
    }
    (matched, owner)
}

impl Problem {
    /// Compiles a validated instance.
    pub fn new(inst: &Instance) -> Problem {
        let n_slots = inst.slots.len();
        let all = if n_slots == 128 {
            u128::MAX
        } else {
            (1u128 << n_slots) - 1
        };
        let slot_index: HashMap<&str, usize> = inst
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut day_masks: Vec<u128> = Vec::new();
        let mut day_starts = 0u128;
        let mut last_day = None;
        for (i, s) in inst.slots.iter().enumerate() {
            if last_day != Some(s.day) {
                day_masks.push(0);
                day_starts |= bit(i);
                last_day = Some(s.day);
            }
            *day_masks.last_mut().expect("pushed") |= bit(i);
        }
        let mut session_mask: HashMap<&str, u128> = HashMap::new();
        for (i, s) in inst.slots.iter().enumerate() {
            if let Some(name) = &s.session {
                *session_mask.entry(name.as_str()).or_default() |= bit(i);
            }
        }
        let mask_of = |names: &[String]| -> u128 {
            names
                .iter()
                .map(|n| session_mask.get(n.as_str()).copied().unwrap_or(0))
                .fold(0, |a, b| a | b)
        };
        let part_index: HashMap<&str, u32> = inst
            .participants
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i as u32))
            .collect();
        let mut parts: Vec<Part> = inst
            .participants
            .iter()
            .map(|p| {
                let mut avail = match &p.available {
                    None => all,
                    Some(list) => list
                        .iter()
                        .map(|s| bit(slot_index[s.as_str()]))
                        .fold(0, |a, b| a | b),
                };
                for s in &p.unavailable {
                    avail &= !bit(slot_index[s.as_str()]);
                }
                Part {
                    avail,
                    max: p.max_meetings.unwrap_or(u32::MAX),
                    pref: mask_of(&p.preferred_sessions),
                    reqs: Vec::new(),
                    table: p.table,
                }
            })
            .collect();
        let req_index: HashMap<&str, usize> = inst
            .requests
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let big: u64 = inst
            .requests
            .iter()
            .map(|r| u64::from(r.effective_weight()))
            .sum::<u64>()
            + 1;
        let mut prev = vec![(NONE, None); inst.requests.len()];
        if let Some(p) = &inst.previous {
            for m in &p.meetings {
                prev[req_index[m.request.as_str()]] = (slot_index[m.slot.as_str()] as u8, m.table);
            }
        }
        let mut reqs: Vec<Req> = inst
            .requests
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let members: Vec<u32> = r
                    .participants
                    .iter()
                    .map(|p| part_index[p.as_str()])
                    .collect();
                let mut domain = members
                    .iter()
                    .fold(all, |d, &p| d & parts[p as usize].avail);
                if !r.sessions.is_empty() {
                    domain &= mask_of(&r.sessions);
                }
                if let Some(f) = &r.fixed_slot {
                    domain &= bit(slot_index[f.as_str()]);
                }
                let base = r.effective_weight();
                Req {
                    members,
                    weight: u64::from(base) + if r.mandatory { big } else { 0 },
                    base,
                    mandatory: r.mandatory,
                    onsite: r.mode == Mode::OnSite,
                    domain,
                    preds: r
                        .after
                        .iter()
                        .map(|a| req_index[a.as_str()] as u32)
                        .collect(),
                    succs: Vec::new(),
                    prev: prev[i].0,
                    prev_table: prev[i].1,
                }
            })
            .collect();
        for i in 0..reqs.len() {
            for k in 0..reqs[i].preds.len() {
                let a = reqs[i].preds[k] as usize;
                reqs[a].succs.push(i as u32);
            }
            for k in 0..reqs[i].members.len() {
                let p = reqs[i].members[k] as usize;
                parts[p].reqs.push(i as u32);
            }
        }
        Problem {
            n_slots,
            day_masks,
            day_starts,
            cap: (0..n_slots).map(|t| inst.tables_in(t)).collect(),
            parts,
            reqs,
            fairness: inst.fairness,
        }
    }

    /// Idle slots between the first and last meeting of each day.
    pub fn idle(&self, busy: u128) -> u32 {
        if self.day_masks.len() == 1 {
            return if busy == 0 {
                0
            } else {
                128 - busy.leading_zeros() - busy.trailing_zeros() - busy.count_ones()
            };
        }
        self.day_masks
            .iter()
            .map(|&d| {
                let x = busy & d;
                if x == 0 {
                    0
                } else {
                    128 - x.leading_zeros() - x.trailing_zeros() - x.count_ones()
                }
            })
            .sum()
    }

    /// Breaks of a participant whose busy slots are `busy`.
    pub fn breaks(&self, busy: u128) -> u32 {
        if busy == 0 {
            return 0;
        }
        let starts = busy & !((busy << 1) & !self.day_starts);
        if self.day_masks.len() == 1 {
            return starts.count_ones() - 1;
        }
        let days = self.day_masks.iter().filter(|&&d| d & busy != 0).count() as u32;
        starts.count_ones() - days
    }
}

/// A (partial) assignment of requests to slots with incremental bookkeeping.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub slot: Vec<u8>,
    pub busy: Vec<u128>,
    /// `at[p * n_slots + t]` = request + 1 held by participant p in slot t, or 0.
    pub at: Vec<u32>,
    pub load: Vec<u32>,
    /// On-site meetings per slot.
    pub count: Vec<u32>,
    pub weight: u64,
    pub held: usize,
    /// Requests held in each slot.
    pub in_slot: Vec<Vec<u32>>,
    n_slots: usize,
}

impl State {
    pub fn new(p: &Problem) -> State {
        State {
            slot: vec![NONE; p.reqs.len()],
            busy: vec![0; p.parts.len()],
            at: vec![0; p.parts.len() * p.n_slots],
            load: vec![0; p.parts.len()],
            count: vec![0; p.n_slots],
            weight: 0,
            held: 0,
            in_slot: vec![Vec::new(); p.n_slots],
            n_slots: p.n_slots,
        }
    }

    pub fn at(&self, part: u32, t: usize) -> Option<usize> {
        let v = self.at[part as usize * self.n_slots + t];
        if v == 0 { None } else { Some(v as usize - 1) }
    }

    pub fn place(&mut self, p: &Problem, r: usize, t: usize) {
        debug_assert_eq!(self.slot[r], NONE);
        let req = &p.reqs[r];
        self.slot[r] = t as u8;
        for &m in &req.members {
            self.busy[m as usize] |= bit(t);
            self.at[m as usize * self.n_slots + t] = r as u32 + 1;
            self.load[m as usize] += 1;
        }
        if req.onsite {
            self.count[t] += 1;
        }
        self.weight += req.weight;
        self.held += 1;
        self.in_slot[t].push(r as u32);
    }

    pub fn remove(&mut self, p: &Problem, r: usize) {
        let t = self.slot[r] as usize;
        debug_assert!(t < self.n_slots);
        let req = &p.reqs[r];
        self.slot[r] = NONE;
        for &m in &req.members {
            self.busy[m as usize] &= !bit(t);
            self.at[m as usize * self.n_slots + t] = 0;
            self.load[m as usize] -= 1;
        }
        if req.onsite {
            self.count[t] -= 1;
        }
        self.weight -= req.weight;
        self.held -= 1;
        let list = &mut self.in_slot[t];
        let i = list
            .iter()
            .position(|&x| x as usize == r)
            .expect("held request is listed");
        list.swap_remove(i);
    }

    /// Precedences of `r` hold if it is placed in `t` (only held neighbours count).
    pub fn prec_ok(&self, p: &Problem, r: usize, t: usize) -> bool {
        let req = &p.reqs[r];
        req.preds.iter().all(|&a| {
            let s = self.slot[a as usize];
            s == NONE || (s as usize) < t
        }) && req.succs.iter().all(|&b| {
            let s = self.slot[b as usize];
            s == NONE || (s as usize) > t
        })
    }

    /// Slots where unscheduled `r` can be placed without moving anything.
    pub fn free_slots(&self, p: &Problem, r: usize) -> u128 {
        let req = &p.reqs[r];
        let mut m = req.domain;
        for &x in &req.members {
            if self.load[x as usize] >= p.parts[x as usize].max {
                return 0;
            }
            m &= !self.busy[x as usize];
        }
        if req.onsite {
            for t in bits(m) {
                if self.count[t] >= p.cap[t] {
                    m &= !bit(t);
                }
            }
        }
        if !req.preds.is_empty() || !req.succs.is_empty() {
            for t in bits(m) {
                if !self.prec_ok(p, r, t) {
                    m &= !bit(t);
                }
            }
        }
        m
    }
}
