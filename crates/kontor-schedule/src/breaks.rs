//! Objective levels (3)–(5) on a fixed set of held meetings: fairness of breaks,
//! total breaks, preferences met and changes to the previous schedule.
//!
//! Simulated annealing over Kempe-chain moves: take a meeting in slot t1 and a
//! slot t2 of its domain, and swap between t1 and t2 every meeting connected to
//! it through shared participants. Such a move never double-books anyone; the
//! domains, table capacities and precedences are checked. A plain relocation
//! is the special case of a chain of one meeting. Occasionally whole slot
//! columns are swapped. Breaks per participant come from bit tricks on its
//! busy mask, so a move is evaluated in time proportional to its chain.

use crate::control::{Budget, Ctl, Phase};
use crate::problem::{NONE, Problem, State, bit};
use crate::rng::Rng;

const FAIR: f64 = 1000.0;

pub(crate) struct Breaks<'a> {
    p: &'a Problem,
    pub st: State,
    pb: Vec<u32>,
    hist: Vec<u32>,
    total: u32,
    /// Idle slots inside the participants' days (guides the search only).
    idle: u32,
    w_idle: f64,
    prefs: u32,
    changes: u32,
    eps_pref: f64,
    eps_change: f64,
    rng: Rng,
    pub iterations: u64,
    /// Lower bound on the total breaks of the held set.
    pub lower_bound: u32,
}

impl<'a> Breaks<'a> {
    pub fn new(p: &'a Problem, st: State, seed: u64) -> Breaks<'a> {
        let pb: Vec<u32> = st.busy.iter().map(|&b| p.breaks(b)).collect();
        let mut hist = vec![0u32; p.n_slots + 1];
        for &b in &pb {
            hist[b as usize] += 1;
        }
        let total = pb.iter().sum();
        let idle = st.busy.iter().map(|&b| p.idle(b)).sum();
        let prefs = p
            .parts
            .iter()
            .zip(&st.busy)
            .map(|(q, &b)| (b & q.pref).count_ones())
            .sum();
        let changes = (0..p.reqs.len())
            .filter(|&r| p.reqs[r].prev != NONE && st.slot[r] != p.reqs[r].prev)
            .count() as u32;
        let max_prefs = p.reqs.iter().map(|r| r.members.len()).sum::<usize>() as f64;
        let eps_pref = 0.5 / (max_prefs + 1.0);
        let eps_change = eps_pref / (p.reqs.len() as f64 + 1.0);
        let lower_bound = lower_bound(p, &st);
        Breaks {
            p,
            st,
            pb,
            hist,
            total,
            idle,
            w_idle: 0.0,
            prefs,
            changes,
            eps_pref,
            eps_change,
            rng: Rng::new(seed),
            iterations: 0,
            lower_bound,
        }
    }

    fn excess(&self) -> u32 {
        let Some(d) = self.p.fairness else { return 0 };
        let min = self.hist.iter().position(|&c| c > 0).unwrap_or(0) as u32;
        let max = self.hist.iter().rposition(|&c| c > 0).unwrap_or(0) as u32;
        (max - min).saturating_sub(d)
    }

    /// (fairness excess, breaks).
    pub fn key(&self) -> (u32, u32) {
        (self.excess(), self.total)
    }

    /// The cost guiding the annealing: the true cost plus a small reward for compact days.
    fn search_cost(&self) -> f64 {
        self.cost() + self.w_idle * f64::from(self.idle)
    }

    fn cost(&self) -> f64 {
        FAIR * f64::from(self.excess()) + f64::from(self.total)
            - self.eps_pref * f64::from(self.prefs)
            + self.eps_change * f64::from(self.changes)
    }

    fn set_busy_stats(&mut self, q: u32, old: u128) {
        let p = self.p;
        let new = self.st.busy[q as usize];
        let (ob, nb) = (self.pb[q as usize], p.breaks(new));
        self.hist[ob as usize] -= 1;
        self.hist[nb as usize] += 1;
        self.total = self.total - ob + nb;
        self.idle = self.idle + p.idle(new) - p.idle(old);
        self.pb[q as usize] = nb;
        let pref = p.parts[q as usize].pref;
        self.prefs = self.prefs + (new & pref).count_ones() - (old & pref).count_ones();
    }

    /// Moves each request of `moves` to its slot and updates the statistics.
    fn apply(&mut self, moves: &[(usize, usize)]) {
        let p = self.p;
        let mut parts: Vec<(u32, u128)> = Vec::new();
        for &(r, _) in moves {
            for &q in &p.reqs[r].members {
                if !parts.iter().any(|&(x, _)| x == q) {
                    parts.push((q, self.st.busy[q as usize]));
                }
            }
            if p.reqs[r].prev != NONE && self.st.slot[r] != p.reqs[r].prev {
                self.changes -= 1;
            }
            self.st.remove(p, r);
        }
        for &(r, t) in moves {
            self.st.place(p, r, t);
            if p.reqs[r].prev != NONE && self.st.slot[r] != p.reqs[r].prev {
                self.changes += 1;
            }
        }
        for &(q, old) in &parts {
            self.set_busy_stats(q, old);
        }
    }

    /// A meeting to move and the slots to try. Half of the time the move is
    /// targeted: a meeting of a participant with breaks, towards a slot next to
    /// that participant's other meetings (which may close a gap).
    fn pick_move(&mut self, held: &[usize]) -> (usize, u128) {
        let p = self.p;
        if self.rng.below(2) == 0 {
            for _ in 0..4 {
                let q = self.rng.below(p.parts.len());
                if self.pb[q] == 0 || p.parts[q].reqs.is_empty() {
                    continue;
                }
                let r = p.parts[q].reqs[self.rng.below(p.parts[q].reqs.len())] as usize;
                let t = self.st.slot[r];
                if t == NONE {
                    continue;
                }
                let busy = self.st.busy[q];
                let near = ((busy << 1) | (busy >> 1)) & !busy;
                let dom = p.reqs[r].domain & near & !bit(t as usize);
                if dom != 0 {
                    return (r, dom);
                }
            }
        }
        let r = held[self.rng.below(held.len())];
        (r, p.reqs[r].domain & !bit(self.st.slot[r] as usize))
    }

    /// The Kempe chain of `r0` between its slot and `t2`, as (request, new slot);
    /// `None` if a member cannot take the other slot or the chain is too long.
    fn chain(&self, r0: usize, t2: usize, out: &mut Vec<(usize, usize)>) -> bool {
        let p = self.p;
        let t1 = self.st.slot[r0] as usize;
        out.clear();
        out.push((r0, t2));
        let mut i = 0;
        while i < out.len() {
            let (x, to) = out[i];
            i += 1;
            if p.reqs[x].domain & bit(to) == 0 {
                return false;
            }
            let from = if to == t2 { t1 } else { t2 };
            debug_assert_eq!(self.st.slot[x] as usize, from);
            for &q in &p.reqs[x].members {
                if let Some(y) = self.st.at(q, to)
                    && !out.iter().any(|&(z, _)| z == y)
                {
                    if out.len() >= 48 {
                        return false;
                    }
                    out.push((y, from));
                }
            }
        }
        true
    }

    fn feasible_after(&self, moves: &[(usize, usize)], t1: usize, t2: usize) -> bool {
        let p = self.p;
        if self.st.count[t1] > p.cap[t1] || self.st.count[t2] > p.cap[t2] {
            return false;
        }
        moves.iter().all(|&(r, t)| self.st.prec_ok(p, r, t))
    }

    /// Runs the annealing until the budget is spent or the lower bound is met.
    pub fn run(&mut self, ctl: &mut Ctl, budget: &Budget, weight: u64, idle_weight: f64) -> bool {
        let p = self.p;
        let held: Vec<usize> = (0..p.reqs.len())
            .filter(|&r| self.st.slot[r] != NONE)
            .collect();
        if held.is_empty() || p.n_slots < 2 {
            return true;
        }
        let can_stop_early =
            p.parts.iter().all(|q| q.pref == 0) && p.reqs.iter().all(|r| r.prev == NONE);
        let mut best_slots = self.st.slot.clone();
        let mut best_cost = self.cost();
        let mut current_is_best = true;
        self.w_idle = idle_weight;
        let mut cost = self.search_cost();
        let (t0, t1) = (0.6f64, 0.03f64);
        let mut moves: Vec<(usize, usize)> = Vec::new();
        let mut proven = false;
        loop {
            if can_stop_early && self.excess() == 0 && self.total <= self.lower_bound {
                proven = true;
                break;
            }
            if self.iterations.is_multiple_of(256)
                && ctl.stop(Phase::Breaks, budget, self.iterations, (weight, self.total))
            {
                break;
            }
            self.iterations += 1;
            let frac = budget.fraction(ctl, self.iterations);
            let temp = t0 * (t1 / t0).powf(frac);
            let (ta, tb);
            if self.rng.below(64) == 0 {
                // Swap two whole slot columns.
                ta = self.rng.below(p.n_slots);
                tb = self.rng.below(p.n_slots);
                if ta == tb {
                    continue;
                }
                moves.clear();
                let mut ok = true;
                for &r in self.st.in_slot[ta].iter().chain(&self.st.in_slot[tb]) {
                    let r = r as usize;
                    let to = if self.st.slot[r] as usize == ta {
                        tb
                    } else {
                        ta
                    };
                    ok &= p.reqs[r].domain & bit(to) != 0;
                    moves.push((r, to));
                }
                if !ok || moves.is_empty() {
                    continue;
                }
            } else {
                let (r, dom) = self.pick_move(&held);
                if dom == 0 {
                    continue;
                }
                ta = self.st.slot[r] as usize;
                tb = self.rng.pick_bit(dom);
                if !self.chain(r, tb, &mut moves) {
                    continue;
                }
            }
            self.apply(&moves);
            let new_cost = self.search_cost();
            let delta = new_cost - cost;
            let true_cost = self.cost();
            let accept = self.feasible_after(&moves, ta, tb)
                && (delta <= 0.0 || self.rng.unit() < (-delta / temp).exp());
            if accept {
                if true_cost > best_cost + 1e-12 && current_is_best {
                    // Snapshot the state before this move.
                    best_slots.clone_from(&self.st.slot);
                    for &(r, t) in &moves {
                        best_slots[r] = if t == ta { tb as u8 } else { ta as u8 };
                    }
                    current_is_best = false;
                }
                cost = new_cost;
                if true_cost < best_cost - 1e-12
                    || (!current_is_best && true_cost <= best_cost + 1e-12)
                {
                    if true_cost < best_cost - 1e-12 {
                        ctl.improved();
                    }
                    best_cost = true_cost;
                    current_is_best = true;
                }
            } else {
                let back: Vec<(usize, usize)> = moves
                    .iter()
                    .map(|&(r, t)| (r, if t == ta { tb } else { ta }))
                    .collect();
                self.apply(&back);
            }
        }
        if !current_is_best {
            let held_now: Vec<usize> = held.clone();
            let moves: Vec<(usize, usize)> = held_now
                .iter()
                .map(|&r| (r, best_slots[r] as usize))
                .collect();
            self.apply(&moves);
        }
        proven
    }
}

/// Lower bound on the total breaks: for each participant alone, the fewest
/// breaks to fit its held meetings into the slots its meetings can use
/// (longest run of usable slots per day free, every further run costs a break).
pub(crate) fn lower_bound(p: &Problem, st: &State) -> u32 {
    let mut lb = 0;
    for (q, part) in p.parts.iter().enumerate() {
        let k = st.load[q];
        if k <= 1 {
            continue;
        }
        let usable = part
            .reqs
            .iter()
            .filter(|&&r| st.slot[r as usize] != NONE)
            .fold(0u128, |m, &r| m | p.reqs[r as usize].domain);
        let mut free_len = 0u32;
        let mut extra: Vec<u32> = Vec::new();
        for &day in &p.day_masks {
            let mut runs: Vec<u32> = Vec::new();
            let mut m = usable & day;
            while m != 0 {
                let start = m.trailing_zeros();
                let len = (!(m >> start)).trailing_zeros();
                runs.push(len);
                let run = if len >= 128 {
                    u128::MAX
                } else {
                    (1u128 << len) - 1
                };
                m &= !(run << start);
            }
            runs.sort_unstable_by(|a, b| b.cmp(a));
            if let Some((&first, rest)) = runs.split_first() {
                free_len += first;
                extra.extend_from_slice(rest);
            }
        }
        extra.sort_unstable_by(|a, b| b.cmp(a));
        let mut covered = free_len;
        for len in extra {
            if covered >= k {
                break;
            }
            covered += len;
            lb += 1;
        }
    }
    lb
}
