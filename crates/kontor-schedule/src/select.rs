//! Objective level (2): choose which requests to hold, maximising total weight.
//!
//! Construction: greedy in order of weight, then scarcity, each request placed
//! in the slot that adds the fewest breaks. Improvement: an iterated ejection
//! search — an unscheduled request is inserted into a slot, the meetings that
//! block it there (same participant, last table, participant limit) are
//! relocated to another free slot when possible and ejected otherwise; the move
//! is kept by a simulated-annealing rule on the weight change. Mandatory
//! requests are never ejected (they may be relocated).

use crate::control::{Budget, Ctl, Phase};
use crate::problem::{NONE, Problem, State, bit, bits};
use crate::rng::Rng;

pub(crate) struct Select<'a> {
    p: &'a Problem,
    pub st: State,
    pool: Vec<u32>,
    pos: Vec<u32>,
    protect: Vec<u64>,
    /// Held requests in their slot of the previous schedule: among states of equal weight the
    /// one keeping most is the best (objective level 5).
    kept: u32,
    /// Mandatory meetings are never ejected (only moved). Off when they cannot all be held:
    /// then they compete like the others, each worth far more than any optional one.
    pub keep_mandatory: bool,
    rng: Rng,
    pub iterations: u64,
}

const ABSENT: u32 = u32::MAX;

/// The walk's weight of keeping a meeting in its slot of the previous schedule.
const KEEP_WALK: f64 = 0.5;

/// Added breaks if the members of `r` take slot `t` (state without `r`).
pub(crate) fn added_breaks(p: &Problem, st: &State, r: usize, t: usize) -> i32 {
    p.reqs[r]
        .members
        .iter()
        .map(|&m| {
            let b = st.busy[m as usize];
            p.breaks(b | bit(t)) as i32 - p.breaks(b) as i32
        })
        .sum()
}

/// The slot of `mask` adding the fewest breaks, then its slot in the previous schedule (random
/// tie-break).
pub(crate) fn best_slot(p: &Problem, st: &State, r: usize, mask: u128, rng: &mut Rng) -> usize {
    let prev = p.reqs[r].prev as usize;
    let mut best = ((i32::MAX, true), 0u64, 0usize);
    for t in bits(mask) {
        let key = ((added_breaks(p, st, r, t), t != prev), rng.next_u64());
        if (key.0, key.1) < (best.0, best.1) {
            best = (key.0, key.1, t);
        }
    }
    best.2
}

impl<'a> Select<'a> {
    pub fn new(p: &'a Problem, st: State, seed: u64) -> Select<'a> {
        let n = p.reqs.len();
        let mut s = Select {
            p,
            st,
            pool: Vec::new(),
            pos: vec![ABSENT; n],
            protect: vec![0; n],
            kept: 0,
            keep_mandatory: true,
            rng: Rng::new(seed),
            iterations: 0,
        };
        s.kept = (0..n)
            .filter(|&r| s.st.slot[r] != NONE && s.st.slot[r] == p.reqs[r].prev)
            .count() as u32;
        for r in 0..n {
            if s.st.slot[r] == NONE && s.poolable(r) {
                s.pool_add(r);
            }
        }
        s
    }

    fn poolable(&self, r: usize) -> bool {
        let req = &self.p.reqs[r];
        req.domain != 0
            && req
                .members
                .iter()
                .all(|&m| self.p.parts[m as usize].max > 0)
    }

    fn pool_add(&mut self, r: usize) {
        if self.pos[r] == ABSENT && self.poolable(r) {
            self.pos[r] = self.pool.len() as u32;
            self.pool.push(r as u32);
        }
    }

    fn pool_del(&mut self, r: usize) {
        let i = self.pos[r];
        if i != ABSENT {
            let last = *self.pool.last().expect("non-empty pool");
            self.pool.swap_remove(i as usize);
            if last as usize != r {
                self.pos[last as usize] = i;
            }
            self.pos[r] = ABSENT;
        }
    }

    fn put(&mut self, r: usize, t: usize) {
        self.st.place(self.p, r, t);
        self.kept += u32::from(t as u8 == self.p.reqs[r].prev);
        self.pool_del(r);
    }

    fn take(&mut self, r: usize) {
        self.kept -= u32::from(self.st.slot[r] == self.p.reqs[r].prev);
        self.st.remove(self.p, r);
        self.pool_add(r);
    }

    /// What the best state is chosen by: weight, then meetings kept from the previous schedule.
    fn key(&self) -> (u64, u32) {
        (self.st.weight, self.kept)
    }

    /// Greedy construction over the requests not yet placed.
    pub fn construct(&mut self) {
        let p = self.p;
        let mut order: Vec<usize> = (0..p.reqs.len())
            .filter(|&r| self.st.slot[r] == NONE && self.poolable(r))
            .collect();
        order.sort_by_key(|&r| {
            let q = &p.reqs[r];
            (std::cmp::Reverse(q.weight), q.domain.count_ones(), r)
        });
        for r in order {
            let free = self.st.free_slots(p, r);
            if free != 0 {
                let t = best_slot(p, &self.st, r, free, &mut self.rng);
                self.put(r, t);
            }
        }
    }

    /// Runs the ejection search until the budget is spent; keeps the best state.
    pub fn improve(&mut self, ctl: &mut Ctl, budget: &Budget) {
        let p = self.p;
        let mut best_slots: Vec<u8> = self.st.slot.clone();
        let mut best = self.key();
        let mut current_is_best = true;
        let avg_w = if p.reqs.is_empty() {
            1.0
        } else {
            p.reqs.iter().map(|r| f64::from(r.base)).sum::<f64>() / p.reqs.len() as f64
        };
        let (t0, t1) = (0.3 * avg_w, 0.02 * avg_w);
        let mut ejected: Vec<(usize, usize)> = Vec::new();
        let mut relocated: Vec<(usize, usize)> = Vec::new();
        loop {
            if self.pool.is_empty() {
                break;
            }
            if self.iterations.is_multiple_of(128) {
                let summary = (self.st.weight, 0);
                if ctl.stop(Phase::Weight, budget, self.iterations, summary) {
                    break;
                }
            }
            self.iterations += 1;
            let frac = budget.fraction(ctl, self.iterations);
            let temp = t0 * (t1 / t0).powf(frac);
            let r = self.pool[self.rng.below(self.pool.len())] as usize;
            let free = self.st.free_slots(p, r);
            if free != 0 {
                let t = best_slot(p, &self.st, r, free, &mut self.rng);
                self.put(r, t);
                if self.key() > best {
                    best = self.key();
                    current_is_best = true;
                    ctl.improved();
                }
                continue;
            }
            let t = self.rng.pick_bit(p.reqs[r].domain);
            // Blockers: meetings of the members in slot t and held neighbours
            // whose precedence with r would break.
            ejected.clear();
            relocated.clear();
            let mut ok = true;
            for &m in &p.reqs[r].members {
                if let Some(b) = self.st.at(m, t)
                    && !ejected.iter().any(|&(x, _)| x == b)
                {
                    ejected.push((b, t));
                }
            }
            for &a in &p.reqs[r].preds {
                let s = self.st.slot[a as usize];
                if s != NONE && s as usize >= t && !ejected.iter().any(|&(x, _)| x == a as usize) {
                    ejected.push((a as usize, s as usize));
                }
            }
            for &b in &p.reqs[r].succs {
                let s = self.st.slot[b as usize];
                if s != NONE && s as usize <= t && !ejected.iter().any(|&(x, _)| x == b as usize) {
                    ejected.push((b as usize, s as usize));
                }
            }
            for &(b, _) in &ejected {
                if self.protect[b] > self.iterations {
                    ok = false;
                }
            }
            if !ok {
                continue;
            }
            let before = self.key();
            for &(b, _) in &ejected {
                self.take(b);
            }
            // Table capacity.
            if p.reqs[r].onsite && self.st.count[t] >= p.cap[t] {
                match self.cheapest(
                    self.st.in_slot[t]
                        .iter()
                        .copied()
                        .filter(|&x| p.reqs[x as usize].onsite),
                ) {
                    Some(b) => {
                        ejected.push((b, t));
                        self.take(b);
                    }
                    None => ok = false,
                }
            }
            // Participant limits.
            if ok {
                for k in 0..p.reqs[r].members.len() {
                    let m = p.reqs[r].members[k] as usize;
                    if self.st.load[m] >= p.parts[m].max {
                        let held = p.parts[m]
                            .reqs
                            .iter()
                            .copied()
                            .filter(|&x| self.st.slot[x as usize] != NONE);
                        match self.cheapest(held) {
                            Some(b) => {
                                ejected.push((b, self.st.slot[b] as usize));
                                self.take(b);
                            }
                            None => ok = false,
                        }
                    }
                }
            }
            if !ok || self.st.free_slots(p, r) & bit(t) == 0 {
                for &(b, s) in ejected.iter().rev() {
                    self.put(b, s);
                }
                continue;
            }
            self.put(r, t);
            // Relocate blockers where possible.
            let mut mandatory_lost = false;
            let mut i = 0;
            while i < ejected.len() {
                let b = ejected[i].0;
                i += 1;
                let free = self.st.free_slots(p, b);
                if free != 0 {
                    let s = best_slot(p, &self.st, b, free, &mut self.rng);
                    self.put(b, s);
                    relocated.push((b, s));
                } else if p.reqs[b].mandatory && self.keep_mandatory {
                    // A mandatory meeting makes room elsewhere, one step deep: what it ejects
                    // there is relocated or left out like the others (and undone alike).
                    // Never at the cost of what this move has just placed.
                    let placed: Vec<usize> = std::iter::once(r)
                        .chain(relocated.iter().map(|&(x, _)| x))
                        .collect();
                    match self.room_for(b, &placed) {
                        Some((s, out)) => {
                            ejected.extend(out.into_iter().map(|x| (x, s)));
                            relocated.push((b, s));
                        }
                        None => mandatory_lost = true,
                    }
                }
            }
            // Losing a meeting's previous slot weighs a little in the walk (a guide: the best
            // state is still chosen by weight first).
            let gain = self.st.weight as f64 - before.0 as f64
                + KEEP_WALK * (f64::from(self.kept) - f64::from(before.1));
            let accept = !mandatory_lost && (gain >= 0.0 || self.rng.unit() < (gain / temp).exp());
            if accept {
                if self.key() < before && current_is_best {
                    best_slots.clone_from(&self.st.slot);
                    // The snapshot must be the state before this move: rebuild it.
                    for &(b, _) in &relocated {
                        best_slots[b] = NONE;
                    }
                    best_slots[r] = NONE;
                    for &(b, s) in &ejected {
                        best_slots[b] = s as u8;
                    }
                    current_is_best = false;
                }
                self.protect[r] = self.iterations + 5 + self.rng.below(10) as u64;
                if self.key() > best || (self.key() == best && !current_is_best) {
                    if self.key() > best {
                        ctl.improved();
                    }
                    best = self.key();
                    current_is_best = true;
                }
            } else {
                for &(b, _) in relocated.iter().rev() {
                    self.take(b);
                }
                self.take(r);
                for &(b, s) in ejected.iter().rev() {
                    self.put(b, s);
                }
            }
        }
        if !current_is_best {
            self.restore(&best_slots);
        }
    }

    /// Places mandatory `b`, which has no free slot, in the slot of its domain where the
    /// meetings in its way weigh least, ejecting them; only where they are all optional,
    /// unprotected and not among `placed`, and the slot's tables and its members' limits allow.
    /// The slot and the ejected.
    fn room_for(&mut self, b: usize, placed: &[usize]) -> Option<(usize, Vec<usize>)> {
        let p = self.p;
        let req = &p.reqs[b];
        if req
            .members
            .iter()
            .any(|&m| self.st.load[m as usize] >= p.parts[m as usize].max)
        {
            return None;
        }
        // The meetings of `b`'s members in slot `s` (once each: a group shares one).
        let in_way = |st: &State, s: usize| {
            let mut found: Vec<usize> = Vec::new();
            for x in req.members.iter().filter_map(|&m| st.at(m, s)) {
                if !found.contains(&x) {
                    found.push(x);
                }
            }
            found
        };
        let mut best: Option<(u64, usize)> = None;
        for s in bits(req.domain) {
            if !self.st.prec_ok(p, b, s) {
                continue;
            }
            let blockers = in_way(&self.st, s);
            if blockers.iter().any(|&x| {
                p.reqs[x].mandatory || self.protect[x] > self.iterations || placed.contains(&x)
            }) {
                continue;
            }
            let freed = blockers.iter().filter(|&&x| p.reqs[x].onsite).count() as u32;
            if req.onsite && self.st.count[s] - freed >= p.cap[s] {
                continue;
            }
            let w = blockers.iter().map(|&x| p.reqs[x].weight).sum::<u64>();
            if best.is_none_or(|(bw, _)| w < bw) {
                best = Some((w, s));
            }
        }
        let (_, s) = best?;
        let out = in_way(&self.st, s);
        for &x in &out {
            self.take(x);
        }
        debug_assert_ne!(self.st.free_slots(p, b) & bit(s), 0);
        self.put(b, s);
        Some((s, out))
    }

    /// The lowest-weight non-mandatory, unprotected request of `it`.
    fn cheapest(&self, it: impl Iterator<Item = u32>) -> Option<usize> {
        it.map(|x| x as usize)
            .filter(|&x| {
                !(self.p.reqs[x].mandatory && self.keep_mandatory)
                    && self.protect[x] <= self.iterations
            })
            .min_by_key(|&x| (self.p.reqs[x].weight, x))
    }

    fn restore(&mut self, slots: &[u8]) {
        let p = self.p;
        let held: Vec<usize> = (0..p.reqs.len())
            .filter(|&r| self.st.slot[r] != NONE)
            .collect();
        for r in held {
            self.take(r);
        }
        for (r, &s) in slots.iter().enumerate() {
            if s != NONE {
                self.put(r, s as usize);
            }
        }
    }
}
