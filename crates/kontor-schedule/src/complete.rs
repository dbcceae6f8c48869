//! Objective level (1): place every mandatory request.
//!
//! A complete assignment (every mandatory request in a slot of its domain) is
//! searched with a conflict-minimising tabu search in the style of TabuCol:
//! the cost counts double bookings, tables over capacity and violated
//! precedences; each iteration moves one conflicting request to the best
//! non-tabu slot. This is the "list edge colouring with table caps" core of the
//! JAIR 2022 instances.

use crate::control::{Budget, Ctl, Phase};
use crate::problem::{NONE, Problem, State, bits};
use crate::rng::Rng;

pub(crate) struct Complete<'a> {
    p: &'a Problem,
    reqs: Vec<usize>,
    slot: Vec<u8>,
    /// Participant occupancy n[p * T + t].
    occ: Vec<u8>,
    count: Vec<u32>,
    cost: i64,
    n_slots: usize,
    rng: Rng,
    pub iterations: u64,
}

impl<'a> Complete<'a> {
    pub fn new(p: &'a Problem, reqs: Vec<usize>, seed: u64) -> Complete<'a> {
        let n_slots = p.n_slots;
        Complete {
            p,
            reqs,
            slot: vec![NONE; p.reqs.len()],
            occ: vec![0; p.parts.len() * n_slots],
            count: vec![0; n_slots],
            cost: 0,
            n_slots,
            rng: Rng::new(seed),
            iterations: 0,
        }
    }

    fn delta(&self, r: usize, to: usize) -> i64 {
        let p = self.p;
        let req = &p.reqs[r];
        let from = self.slot[r];
        let mut d = 0i64;
        for &m in &req.members {
            let base = m as usize * self.n_slots;
            if from != NONE && self.occ[base + from as usize] >= 2 {
                d -= 1;
            }
            if self.occ[base + to] >= 1 {
                d += 1;
            }
        }
        if req.onsite {
            if from != NONE && self.count[from as usize] > p.cap[from as usize] {
                d -= 1;
            }
            if self.count[to] >= p.cap[to] {
                d += 1;
            }
        }
        let viol = |s: u8, other: u8, before: bool| -> i64 {
            if s == NONE || other == NONE {
                0
            } else if before {
                i64::from(other >= s)
            } else {
                i64::from(other <= s)
            }
        };
        for &a in &req.preds {
            let sa = self.slot[a as usize];
            d += viol(to as u8, sa, true) - viol(from, sa, true);
        }
        for &b in &req.succs {
            let sb = self.slot[b as usize];
            d += viol(to as u8, sb, false) - viol(from, sb, false);
        }
        d
    }

    fn assign(&mut self, r: usize, to: usize) {
        self.cost += self.delta(r, to);
        let from = self.slot[r];
        let req = &self.p.reqs[r];
        for &m in &req.members {
            let base = m as usize * self.n_slots;
            if from != NONE {
                self.occ[base + from as usize] -= 1;
            }
            self.occ[base + to] += 1;
        }
        if req.onsite {
            if from != NONE {
                self.count[from as usize] -= 1;
            }
            self.count[to] += 1;
        }
        self.slot[r] = to as u8;
    }

    fn conflicting(&self, r: usize) -> bool {
        let p = self.p;
        let req = &p.reqs[r];
        let t = self.slot[r] as usize;
        req.members
            .iter()
            .any(|&m| self.occ[m as usize * self.n_slots + t] >= 2)
            || (req.onsite && self.count[t] > p.cap[t])
            || req
                .preds
                .iter()
                .any(|&a| self.slot[a as usize] != NONE && self.slot[a as usize] as usize >= t)
            || req
                .succs
                .iter()
                .any(|&b| self.slot[b as usize] != NONE && self.slot[b as usize] as usize <= t)
    }

    /// Searches for a conflict-free assignment; returns it as a state (with
    /// only the mandatory requests placed) or `None` if the budget ran out.
    pub fn run(&mut self, ctl: &mut Ctl, budget: &Budget) -> Option<State> {
        let p = self.p;
        // Greedy start: most constrained first, least-cost slot, the previous schedule's slot
        // among equals.
        let mut order = self.reqs.clone();
        order.sort_by_key(|&r| {
            (
                p.reqs[r].domain.count_ones(),
                std::cmp::Reverse(p.reqs[r].members.len()),
                r,
            )
        });
        for &r in &order {
            let prev = p.reqs[r].prev as usize;
            let mut best = ((i64::MAX, true), 0u64, 0usize);
            for t in bits(p.reqs[r].domain) {
                let key = ((self.delta(r, t), t != prev), self.rng.next_u64());
                if (key.0, key.1) < (best.0, best.1) {
                    best = (key.0, key.1, t);
                }
            }
            self.assign(r, best.2);
        }
        let mut tabu = vec![0u64; p.reqs.len() * self.n_slots];
        let mut best_cost = self.cost;
        let mut conflicting: Vec<usize> = Vec::new();
        while self.cost > 0 {
            if self.iterations.is_multiple_of(64)
                && ctl.stop(Phase::Mandatory, budget, self.iterations, (0, 0))
            {
                return None;
            }
            self.iterations += 1;
            conflicting.clear();
            conflicting.extend(self.reqs.iter().copied().filter(|&r| self.conflicting(r)));
            let tenure = 10 + self.rng.below(10) as u64 + (conflicting.len() as u64 * 6) / 10;
            let mut best = (i64::MAX, u64::MAX, usize::MAX, 0usize);
            for &r in &conflicting {
                let from = self.slot[r] as usize;
                for t in bits(p.reqs[r].domain) {
                    if t == from {
                        continue;
                    }
                    let d = self.delta(r, t);
                    let is_tabu = tabu[r * self.n_slots + t] > self.iterations;
                    if is_tabu && self.cost + d >= best_cost {
                        continue;
                    }
                    let key = (d, self.rng.next_u64());
                    if (key.0, key.1) < (best.0, best.1) {
                        best = (key.0, key.1, r, t);
                    }
                }
            }
            if best.2 == usize::MAX {
                // Every move is tabu or no request has another slot: random kick.
                let r = conflicting[self.rng.below(conflicting.len())];
                let t = self.rng.pick_bit(p.reqs[r].domain);
                self.assign(r, t);
                continue;
            }
            let (r, t) = (best.2, best.3);
            tabu[r * self.n_slots + self.slot[r] as usize] = self.iterations + tenure;
            self.assign(r, t);
            best_cost = best_cost.min(self.cost);
        }
        ctl.improved();
        let mut st = State::new(p);
        for &r in &self.reqs {
            st.place(p, r, self.slot[r] as usize);
        }
        Some(st)
    }
}
