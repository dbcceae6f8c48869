//! Objective levels (3)–(5) on a fixed set of held meetings: fairness of breaks,
//! total breaks, preferences met and changes to the previous schedule.
//!
//! Simulated annealing over feasible schedules with four kinds of moves:
//! - Kempe chains: take a meeting in slot t1 and a slot t2 of its domain, and
//!   swap between t1 and t2 every meeting connected to it through shared
//!   participants (a plain relocation is a chain of one). Never double-books;
//!   domains, tables and precedences are checked. A chain that would overfill
//!   a full slot is paired with a chain going the other way (rebalancing).
//! - Column permutations: swap, reverse or rotate a run of slot columns.
//! - Participant compaction: all meetings of a participant with breaks go into
//!   one window of consecutive slots they can reach, each by a Kempe chain.
//!
//! Breaks per participant come from bit tricks on its busy mask; chains and
//! column moves are judged on the masks before anything moves, so a rejected
//! move costs time proportional to its size only.

use crate::control::{Budget, Ctl, Phase};
use crate::problem::{NONE, Problem, State, bit, bits, match_slots};
use crate::rng::Rng;

const FAIR: f64 = 1000.0;

/// The weight of the fairness excess in the walk (the best schedule is still
/// chosen by the true cost, [`FAIR`]). With [`FAIR`] the walk could not take a
/// step that gives a second participant too many breaks on the way to fewer
/// breaks: on tiny instances with d = 0 or 1 (tests/it/brute.rs) it then ended
/// above the optimum in 2 of 786, none with this weight; on the JAIR files
/// (d = 2) it made no measurable difference (bench/schedule/round7.md).
const FAIR_WALK: f64 = 0.5;

/// The best schedule seen, kept lazily: its slots are copied only when the
/// search leaves it for a worse one.
struct Best {
    slots: Vec<u8>,
    cost: f64,
    /// The current schedule is the best one (`slots` may be stale).
    current: bool,
}

impl Best {
    /// Records an accepted move to a schedule of true cost `cost`, now in
    /// `slot`; `before` gives the previous slot of every meeting that moved.
    fn moved(
        &mut self,
        slot: &[u8],
        before: impl Iterator<Item = (usize, usize)>,
        cost: f64,
        ctl: &mut Ctl,
    ) {
        if cost > self.cost + 1e-12 && self.current {
            self.slots.copy_from_slice(slot);
            for (r, t) in before {
                self.slots[r] = t as u8;
            }
            self.current = false;
        }
        if cost < self.cost - 1e-12 || (!self.current && cost <= self.cost + 1e-12) {
            if cost < self.cost - 1e-12 {
                ctl.improved();
            }
            self.cost = cost;
            self.current = true;
        }
    }
}

/// The walk's weight of one change to the previous schedule (a guide only, like `w_idle`): it
/// keeps the walk near what was published. Without a previous schedule there are no changes.
const W_CHANGE: f64 = 0.1;

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
    /// Its part per participant: targeted moves and compaction leave a
    /// participant alone once it is down to its own bound.
    pub part_lb: Vec<u32>,
    /// Lower bound on the fairness excess of the held set
    /// ([`fairness_excess_lower_bound`]).
    pub excess_lb: u32,
    /// Per-participant marks for deduplication (compared with `stamp`).
    mark: Vec<u32>,
    stamp: u32,
    hist_buf: Vec<(u32, u32)>,
    parts_buf: Vec<(u32, u128)>,
    /// Fewest and most breaks of any participant (kept with `hist`).
    ext: (u32, u32),
    /// Per-request marks of the chain being built (compared with `chain_stamp`).
    chain_mark: Vec<u32>,
    chain_stamp: u32,
    /// Some request has a precedence (else precedence checks are skipped).
    has_prec: bool,
}

impl<'a> Breaks<'a> {
    pub fn new(p: &'a Problem, st: State, seed: u64) -> Breaks<'a> {
        let max_prefs = p.reqs.iter().map(|r| r.members.len()).sum::<usize>() as f64;
        let eps_pref = 0.5 / (max_prefs + 1.0);
        let eps_change = eps_pref / (p.reqs.len() as f64 + 1.0);
        let part_lb = participant_lower_bounds(p, &st);
        let lower_bound = part_lb.iter().sum::<u32>() + coverage_bound(p, &st, &part_lb);
        let excess_lb = fairness_excess_lower_bound(p, &st, &part_lb);
        let mut br = Breaks {
            p,
            st,
            pb: Vec::new(),
            hist: vec![0; p.n_slots + 1],
            total: 0,
            idle: 0,
            w_idle: 0.0,
            prefs: 0,
            changes: 0,
            eps_pref,
            eps_change,
            rng: Rng::new(seed),
            iterations: 0,
            lower_bound,
            excess_lb,
            part_lb,
            mark: vec![0; p.parts.len()],
            stamp: 0,
            hist_buf: Vec::new(),
            parts_buf: Vec::new(),
            ext: (0, 0),
            chain_mark: vec![0; p.reqs.len()],
            chain_stamp: 0,
            has_prec: p.reqs.iter().any(|r| !r.preds.is_empty()),
        };
        br.resync();
        br
    }

    /// Computes the bookkeeping from `st`: at the start, and after `st` was
    /// changed from outside (the exact phase).
    pub fn resync(&mut self) {
        let p = self.p;
        let st = &self.st;
        self.pb = st.busy.iter().map(|&b| p.breaks(b)).collect();
        self.hist.iter_mut().for_each(|h| *h = 0);
        for &b in &self.pb {
            self.hist[b as usize] += 1;
        }
        self.total = self.pb.iter().sum();
        self.idle = st.busy.iter().map(|&b| p.idle(b)).sum();
        self.prefs = p
            .parts
            .iter()
            .zip(&st.busy)
            .map(|(q, &b)| (b & q.pref).count_ones())
            .sum();
        self.changes = (0..p.reqs.len())
            .filter(|&r| p.reqs[r].prev != NONE && st.slot[r] != p.reqs[r].prev)
            .count() as u32;
        self.ext = self.extremes();
    }

    fn excess(&self) -> u32 {
        let Some(d) = self.p.fairness else { return 0 };
        let (min, max) = self.extremes();
        (max - min).saturating_sub(d)
    }

    /// Fewest and most breaks of any participant.
    fn extremes(&self) -> (u32, u32) {
        let min = self.hist.iter().position(|&c| c > 0).unwrap_or(0) as u32;
        let max = self.hist.iter().rposition(|&c| c > 0).unwrap_or(0) as u32;
        (min, max)
    }

    /// (fairness excess, breaks).
    pub fn key(&self) -> (u32, u32) {
        (self.excess(), self.total)
    }

    /// The cost guiding the annealing: the walk's weight of the fairness
    /// excess ([`FAIR_WALK`]), plus a small reward for compact days.
    fn search_cost(&self) -> f64 {
        self.cost_with(FAIR_WALK)
            + self.w_idle * f64::from(self.idle)
            + W_CHANGE * f64::from(self.changes)
    }

    /// The true cost, by which the best schedule is chosen.
    fn cost(&self) -> f64 {
        self.cost_with(FAIR)
    }

    fn cost_with(&self, fair: f64) -> f64 {
        fair * f64::from(self.excess()) + f64::from(self.total)
            - self.eps_pref * f64::from(self.prefs)
            + self.eps_change * f64::from(self.changes)
    }

    fn set_busy_stats(&mut self, q: u32, old: u128) {
        let p = self.p;
        let new = self.st.busy[q as usize];
        let (ob, nb) = (self.pb[q as usize], p.breaks(new));
        self.hist[ob as usize] -= 1;
        self.hist[nb as usize] += 1;
        if ob != nb {
            self.ext = self.extremes();
        }
        self.total = self.total - ob + nb;
        self.idle = self.idle + p.idle(new) - p.idle(old);
        self.pb[q as usize] = nb;
        let pref = p.parts[q as usize].pref;
        self.prefs = self.prefs + (new & pref).count_ones() - (old & pref).count_ones();
    }

    /// Moves each request of `moves` to its slot and updates the statistics.
    fn apply(&mut self, moves: &[(usize, usize)]) {
        let p = self.p;
        let mut parts = std::mem::take(&mut self.parts_buf);
        parts.clear();
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
        self.parts_buf = parts;
    }

    /// A meeting to move and the slots to try. Half of the time the move is
    /// targeted: a meeting of a participant with breaks, towards a slot next to
    /// that participant's other meetings (which may close a gap).
    fn pick_move(&mut self, held: &[usize]) -> (usize, u128) {
        let p = self.p;
        if self.rng.below(2) == 0 {
            for _ in 0..4 {
                let q = self.rng.below(p.parts.len());
                if self.pb[q] <= self.part_lb[q] || p.parts[q].reqs.is_empty() {
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
    fn chain(&mut self, r0: usize, t2: usize, out: &mut Vec<(usize, usize)>) -> bool {
        let p = self.p;
        let t1 = self.st.slot[r0] as usize;
        self.chain_stamp = self.chain_stamp.wrapping_add(1);
        if self.chain_stamp == 0 {
            self.chain_mark.iter_mut().for_each(|m| *m = 0);
            self.chain_stamp = 1;
        }
        let stamp = self.chain_stamp;
        out.clear();
        out.push((r0, t2));
        self.chain_mark[r0] = stamp;
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
                    && self.chain_mark[y] != stamp
                {
                    if out.len() >= 48 {
                        return false;
                    }
                    self.chain_mark[y] = stamp;
                    out.push((y, from));
                }
            }
        }
        true
    }

    /// A permutation of a run of slot columns (swap the two ends, reverse the
    /// run, or rotate it), as the list of meetings to move; `None` if it breaks
    /// a domain, a table count or a precedence, or if annealing at `temp`
    /// rejects it. Evaluated on the busy masks before anything moves.
    fn column_candidate(&mut self, temp: f64) -> Option<Vec<(usize, usize)>> {
        let p = self.p;
        let n = p.n_slots;
        let (a, b) = (self.rng.below(n), self.rng.below(n));
        if a == b {
            return None;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let len = hi - lo + 1;
        let mut f: Vec<usize> = (0..n).collect();
        match self.rng.below(3) {
            0 => f.swap(lo, hi),
            1 => {
                for (t, ft) in f.iter_mut().enumerate().take(hi + 1).skip(lo) {
                    *ft = lo + hi - t;
                }
            }
            _ => {
                let k = 1 + self.rng.below(len - 1);
                for (t, ft) in f.iter_mut().enumerate().take(hi + 1).skip(lo) {
                    *ft = lo + (t - lo + k) % len;
                }
            }
        }
        let new_slot = |st: &State, x: usize| -> Option<usize> {
            let s = st.slot[x];
            if s == NONE { None } else { Some(f[s as usize]) }
        };
        let mut moves: Vec<(usize, usize)> = Vec::new();
        for (t, &to) in f.iter().enumerate().take(hi + 1).skip(lo) {
            if to == t {
                continue;
            }
            // Large events: whole columns are too costly to move often.
            if moves.len() + self.st.in_slot[t].len() > 512 || self.st.count[t] > p.cap[to] {
                return None;
            }
            for &r in &self.st.in_slot[t] {
                let r = r as usize;
                let req = &p.reqs[r];
                if req.domain & bit(to) == 0 {
                    return None;
                }
                if req
                    .preds
                    .iter()
                    .any(|&x| new_slot(&self.st, x as usize).is_some_and(|s| s >= to))
                    || req
                        .succs
                        .iter()
                        .any(|&x| new_slot(&self.st, x as usize).is_some_and(|s| s <= to))
                {
                    return None;
                }
                moves.push((r, to));
            }
        }
        if moves.is_empty() {
            return None;
        }
        let range = (lo..=hi).fold(0u128, |m, t| m | bit(t));
        let delta = self.eval_masks(&moves, |old| {
            let mut new = old & !range;
            for t in bits(old & range) {
                new |= bit(f[t]);
            }
            new
        });
        if delta <= 0.0 || self.rng.unit() < (-delta / temp).exp() {
            Some(moves)
        } else {
            None
        }
    }

    /// Change of the search cost if the meetings of `moves` went to their new
    /// slots, where `map` gives the new busy mask of each participant involved
    /// (every meeting of theirs that moves is in `moves`). Nothing is changed.
    fn eval_masks(&mut self, moves: &[(usize, usize)], map: impl Fn(u128) -> u128) -> f64 {
        let p = self.p;
        self.stamp = self.stamp.wrapping_add(1);
        let stamp = self.stamp;
        let (mut d_total, mut d_idle, mut d_prefs, mut d_changes) = (0i64, 0i64, 0i64, 0i64);
        let mut hist_changes = std::mem::take(&mut self.hist_buf);
        hist_changes.clear();
        for &(r, to) in moves {
            let req = &p.reqs[r];
            if req.prev != NONE {
                let from = self.st.slot[r];
                d_changes += i64::from(to as u8 != req.prev) - i64::from(from != req.prev);
            }
            for &q in &req.members {
                let q = q as usize;
                if self.mark[q] == stamp {
                    continue;
                }
                self.mark[q] = stamp;
                let old = self.st.busy[q];
                let new = map(old);
                let (ob, nb) = (self.pb[q], p.breaks(new));
                d_total += i64::from(nb) - i64::from(ob);
                d_idle += i64::from(p.idle(new)) - i64::from(p.idle(old));
                let pref = p.parts[q].pref;
                d_prefs +=
                    i64::from((new & pref).count_ones()) - i64::from((old & pref).count_ones());
                hist_changes.push((ob, nb));
            }
        }
        // The spread can only change when a participant leaves or reaches an
        // extreme of the break histogram.
        let (lo, hi) = self.ext;
        let d_excess = if self.p.fairness.is_none()
            || hist_changes
                .iter()
                .all(|&(ob, nb)| ob > lo && ob < hi && nb >= lo && nb <= hi)
        {
            0.0
        } else {
            let old_excess = self.excess();
            for &(ob, nb) in &hist_changes {
                self.hist[ob as usize] -= 1;
                self.hist[nb as usize] += 1;
            }
            let new_excess = self.excess();
            for &(ob, nb) in &hist_changes {
                self.hist[nb as usize] -= 1;
                self.hist[ob as usize] += 1;
            }
            f64::from(new_excess) - f64::from(old_excess)
        };
        self.hist_buf = hist_changes;
        FAIR_WALK * d_excess + d_total as f64 - self.eps_pref * d_prefs as f64
            + self.eps_change * d_changes as f64
            + self.w_idle * d_idle as f64
            + W_CHANGE * d_changes as f64
    }

    /// Precedences of the meetings of `moves` hold once they are in their new
    /// slots (the others stay where they are).
    fn prec_ok_after(&self, moves: &[(usize, usize)]) -> bool {
        if !self.has_prec {
            return true;
        }
        let p = self.p;
        let slot_after = |x: usize| -> Option<usize> {
            match moves.iter().find(|&&(y, _)| y == x) {
                Some(&(_, t)) => Some(t),
                None => (self.st.slot[x] != NONE).then_some(self.st.slot[x] as usize),
            }
        };
        moves.iter().all(|&(r, t)| {
            let req = &p.reqs[r];
            req.preds
                .iter()
                .all(|&a| slot_after(a as usize).is_none_or(|s| s < t))
                && req
                    .succs
                    .iter()
                    .all(|&b| slot_after(b as usize).is_none_or(|s| s > t))
        })
    }

    /// For a Kempe chain between `t1` and `t2` (precedences checked apart): the change
    /// of the search cost, or `None` if a slot would exceed its tables.
    fn eval_chain(&mut self, moves: &[(usize, usize)], t1: usize, t2: usize) -> Option<f64> {
        let p = self.p;
        let mut into_t1 = 0i64;
        for &(r, to) in moves {
            if p.reqs[r].onsite {
                into_t1 += if to == t1 { 1 } else { -1 };
            }
        }
        if self.st.count[t1] as i64 + into_t1 > i64::from(p.cap[t1])
            || self.st.count[t2] as i64 - into_t1 > i64::from(p.cap[t2])
        {
            return None;
        }
        let (m1, m2) = (bit(t1), bit(t2));
        Some(self.eval_masks(moves, |old| {
            let mut new = old & !(m1 | m2);
            if old & m1 != 0 {
                new |= m2;
            }
            if old & m2 != 0 {
                new |= m1;
            }
            new
        }))
    }

    /// Participant view: a participant with breaks gets all its meetings into
    /// one window of consecutive slots; each meeting outside the window moves to
    /// an idle slot of the window by a Kempe chain (which drags along the
    /// meetings it collides with). Applied to the state; returns the previous
    /// slots of every moved meeting (to undo), or `None` (state unchanged) if a
    /// chain breaks a domain, a table count or a precedence.
    fn compact(&mut self, chain_buf: &mut Vec<(usize, usize)>) -> Option<Vec<(usize, usize)>> {
        let p = self.p;
        let mut q = usize::MAX;
        for _ in 0..8 {
            let c = self.rng.below(p.parts.len());
            if self.pb[c] > self.part_lb[c] {
                q = c;
                break;
            }
        }
        if q == usize::MAX {
            return None;
        }
        let busy = self.st.busy[q];
        let k = busy.count_ones() as usize;
        // Windows of k slots inside one day into which the meetings outside
        // can move, each to a free slot of its domain (a matching).
        let win = if k >= 128 {
            u128::MAX
        } else {
            (1u128 << k) - 1
        };
        let mut windows: Vec<(u128, u32)> = Vec::new();
        let mut doms: Vec<u128> = Vec::with_capacity(k);
        for s in 0..=(p.n_slots - k) {
            let w = win << s;
            if w == busy || !p.day_masks.iter().any(|&d| w & !d == 0) {
                continue;
            }
            let holes = w & !busy;
            doms.clear();
            for t in bits(busy & !w) {
                let r = self.st.at(q as u32, t).expect("busy slot has a meeting");
                doms.push(p.reqs[r].domain & holes);
            }
            if doms.iter().all(|&d| d != 0) && match_slots(&doms).0 == doms.len() {
                windows.push((w, (w & busy).count_ones()));
            }
        }
        if windows.is_empty() {
            return None;
        }
        // Half of the time the window closest to the current slots, else any.
        let w = if self.rng.below(2) == 0 {
            let top = windows.iter().map(|&(_, ov)| ov).max().unwrap_or(0);
            let best: Vec<u128> = windows
                .iter()
                .filter(|&&(_, ov)| ov == top)
                .map(|&(w, _)| w)
                .collect();
            best[self.rng.below(best.len())]
        } else {
            windows[self.rng.below(windows.len())].0
        };
        let outside: Vec<usize> = bits(busy & !w).collect();
        doms.clear();
        for &t in &outside {
            let r = self.st.at(q as u32, t).expect("busy slot has a meeting");
            doms.push(p.reqs[r].domain & w & !busy);
        }
        let owner = match_slots(&doms).1;
        let mut holes = vec![0usize; outside.len()];
        for (h, &i) in owner.iter().enumerate().take(p.n_slots) {
            if i != usize::MAX {
                holes[i] = h;
            }
        }
        let mut before: Vec<(usize, usize)> = Vec::new();
        let mut ok = true;
        for (&t, &h) in outside.iter().zip(&holes) {
            let Some(r) = self.st.at(q as u32, t) else {
                ok = false;
                break;
            };
            if !self.chain(r, h, chain_buf) {
                ok = false;
                break;
            }
            for &(x, _) in chain_buf.iter() {
                if !before.iter().any(|&(y, _)| y == x) {
                    before.push((x, self.st.slot[x] as usize));
                }
            }
            let mut moves = std::mem::take(chain_buf);
            self.apply(&moves);
            if self.st.count[t] > p.cap[t] || self.st.count[h] > p.cap[h] {
                let mut extra = Vec::new();
                if self.rebalance(t, h, &moves, &mut extra) {
                    for &(x, to) in &extra {
                        before.push((x, if to == t { h } else { t }));
                    }
                    moves.extend_from_slice(&extra);
                }
            }
            let good = self.st.count[t] <= p.cap[t]
                && self.st.count[h] <= p.cap[h]
                && moves.iter().all(|&(x, to)| self.st.prec_ok(p, x, to));
            *chain_buf = moves;
            if !good {
                ok = false;
                break;
            }
        }
        if !ok {
            if !before.is_empty() {
                self.apply(&before);
            }
            return None;
        }
        Some(before)
    }

    /// A Kempe chain `moves` between `ta` and `tb` that would overfill one
    /// of the two slots gets a second chain going the other way (another
    /// component of the same two slots, so the busy masks still just swap the
    /// two bits): appended to `moves`, with the change of the search cost; or
    /// `None` (and `moves` as it was) after four tries. Nothing is changed.
    fn rebalanced(
        &mut self,
        ta: usize,
        tb: usize,
        moves: &mut Vec<(usize, usize)>,
        buf: &mut Vec<(usize, usize)>,
    ) -> Option<f64> {
        let p = self.p;
        let into_ta: i64 = moves
            .iter()
            .filter(|&&(r, _)| p.reqs[r].onsite)
            .map(|&(_, to)| if to == ta { 1 } else { -1 })
            .sum();
        let (over, other) = if self.st.count[ta] as i64 + into_ta > i64::from(p.cap[ta]) {
            (ta, tb)
        } else {
            (tb, ta)
        };
        let n = moves.len();
        for _ in 0..4 {
            if !self.counter_chain(over, other, moves, buf) {
                continue;
            }
            moves.extend_from_slice(buf);
            if self.prec_ok_after(moves)
                && let Some(d) = self.eval_chain(moves, ta, tb)
            {
                return Some(d);
            }
            moves.truncate(n);
        }
        None
    }

    /// The Kempe chain (in `buf`) of a random on-site meeting of slot `over`,
    /// not in `moved`, towards `other`; false if there is none this time.
    fn counter_chain(
        &mut self,
        over: usize,
        other: usize,
        moved: &[(usize, usize)],
        buf: &mut Vec<(usize, usize)>,
    ) -> bool {
        let list = &self.st.in_slot[over];
        if list.is_empty() {
            return false;
        }
        let r2 = list[self.rng.below(list.len())] as usize;
        self.p.reqs[r2].onsite && !moved.iter().any(|&(x, _)| x == r2) && self.chain(r2, other, buf)
    }

    /// After a chain between `ta` and `tb` (already applied, its meetings in
    /// `moved`) overfilled one of the two slots, swaps a second chain the other
    /// way so that both slots are within their tables. Applied and returned in
    /// `buf` on success; on failure the state is as before the call.
    fn rebalance(
        &mut self,
        ta: usize,
        tb: usize,
        moved: &[(usize, usize)],
        buf: &mut Vec<(usize, usize)>,
    ) -> bool {
        let p = self.p;
        let (over, other) = if self.st.count[ta] > p.cap[ta] {
            (ta, tb)
        } else {
            (tb, ta)
        };
        for _ in 0..4 {
            if !self.counter_chain(over, other, moved, buf) {
                continue;
            }
            self.apply(buf);
            if self.st.count[ta] <= p.cap[ta] && self.st.count[tb] <= p.cap[tb] {
                return true;
            }
            let back: Vec<(usize, usize)> = buf
                .iter()
                .map(|&(r, t)| (r, if t == ta { tb } else { ta }))
                .collect();
            self.apply(&back);
        }
        false
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
        // An excess above 0 is final only when every request is held: another
        // held set of the same weight might otherwise meet the fairness bound.
        let excess_goal = if held.len() == p.reqs.len() {
            self.excess_lb
        } else {
            0
        };
        let mut best = Best {
            slots: self.st.slot.clone(),
            cost: self.cost(),
            current: true,
        };
        self.w_idle = idle_weight;
        let mut cost = self.search_cost();
        let mut moves: Vec<(usize, usize)> = Vec::new();
        let mut balance_buf: Vec<(usize, usize)> = Vec::new();
        // Only breaks (and fairness) to minimise: a fairly hot, nearly flat
        // schedule explores best (the best schedule is kept anyway); with
        // preferences or a previous schedule the tiny tie-break terms need the
        // classic cooling.
        let (t0, t1) = if can_stop_early {
            (0.3f64, 0.2f64)
        } else {
            (0.6f64, 0.03f64)
        };
        let mut proven = false;
        let mut temp = t0;
        loop {
            if can_stop_early && self.excess() <= excess_goal && self.total <= self.lower_bound {
                proven = true;
                break;
            }
            if self.iterations.is_multiple_of(256)
                && ctl.stop(Phase::Breaks, budget, self.iterations, (weight, self.total))
            {
                break;
            }
            self.iterations += 1;
            if self.iterations % 64 == 1 {
                let frac = budget.fraction(ctl, self.iterations);
                temp = t0 * (t1 / t0).powf(frac);
            }
            // 1 in 8: a permutation of slot columns; 1 in 8: compact a participant.
            let kind = if p.n_slots >= 3 {
                self.rng.below(16)
            } else {
                16
            };
            if kind < 4 {
                let before = if kind < 2 {
                    let Some(moves) = self.column_candidate(temp) else {
                        continue;
                    };
                    let before: Vec<(usize, usize)> = moves
                        .iter()
                        .map(|&(r, _)| (r, self.st.slot[r] as usize))
                        .collect();
                    self.apply(&moves);
                    before
                } else {
                    let Some(before) = self.compact(&mut moves) else {
                        continue;
                    };
                    let delta = self.search_cost() - cost;
                    if !(delta <= 0.0 || self.rng.unit() < (-delta / temp).exp()) {
                        self.apply(&before);
                        continue;
                    }
                    before
                };
                best.moved(&self.st.slot, before.iter().copied(), self.cost(), ctl);
                cost = self.search_cost();
                continue;
            }
            let (ta, tb);
            {
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
            // The move is judged on the busy masks first (with a second chain
            // the other way when a slot would exceed its tables); only
            // accepted moves touch the state.
            if !self.prec_ok_after(&moves) {
                continue;
            }
            let d = match self.eval_chain(&moves, ta, tb) {
                Some(d) => d,
                None => match self.rebalanced(ta, tb, &mut moves, &mut balance_buf) {
                    Some(d) => d,
                    None => continue,
                },
            };
            if !(d <= 0.0 || self.rng.unit() < (-d / temp).exp()) {
                continue;
            }
            self.apply(&moves);
            let before = moves
                .iter()
                .map(|&(r, t)| (r, if t == ta { tb } else { ta }));
            best.moved(&self.st.slot, before, self.cost(), ctl);
            cost = self.search_cost();
        }
        if !best.current {
            let moves: Vec<(usize, usize)> = held
                .iter()
                .filter(|&&r| self.st.slot[r] != best.slots[r])
                .map(|&r| (r, best.slots[r] as usize))
                .collect();
            self.apply(&moves);
        }
        proven
    }
}

/// Lower bound on the fairness excess of every schedule of the held set of
/// `st`: when some participant holds at most one meeting (and so never has a
/// break), the spread is at least the largest own bound (`part_lb`, from
/// [`participant_lower_bounds`]). In the JAIR files with 40 % fixed meetings
/// this proves what the paper reports: forum-14 and ticf-14crafa cannot meet
/// d = 2 (own bounds of 3 from fixed slots, and participants with one meeting).
pub(crate) fn fairness_excess_lower_bound(p: &Problem, st: &State, part_lb: &[u32]) -> u32 {
    let Some(d) = p.fairness else {
        return 0;
    };
    if st.load.iter().all(|&k| k > 1) {
        return 0;
    }
    part_lb
        .iter()
        .map(|&b| b.saturating_sub(d))
        .max()
        .unwrap_or(0)
}

/// Matchings the per-participant bound may try in all (then the remaining
/// participants get the run bound): keeps it to a few milliseconds on large
/// one-day events.
const MATCHING_BUDGET: u64 = 100_000;

/// Lower bound on the breaks of each participant alone, given its held
/// meetings: on one-day instances exactly 0 or 1 when its meetings can be
/// matched into one window of consecutive slots or into two, each meeting to a
/// slot of its own domain (so a morning-only and an afternoon-only meeting with
/// the slots next to lunch forbidden cost a break); otherwise, and on
/// multi-day instances (or past [`MATCHING_BUDGET`]), the run bound
/// ([`run_bound`]); at least 2 when neither one nor two windows fit, and at
/// least the bound from its fixed or forced slots ([`forced_bound`]).
pub(crate) fn participant_lower_bounds(p: &Problem, st: &State) -> Vec<u32> {
    let n = p.n_slots;
    let mut doms: Vec<u128> = Vec::new();
    let mut buf: Vec<u128> = Vec::new();
    let mut work = 0u64;
    let interval = |a: usize, len: usize| -> u128 {
        if len >= 128 {
            u128::MAX
        } else {
            ((1u128 << len) - 1) << a
        }
    };
    (0..p.parts.len())
        .map(|q| {
            let k = st.load[q] as usize;
            if k <= 1 {
                return 0;
            }
            doms.clear();
            doms.extend(
                p.parts[q]
                    .reqs
                    .iter()
                    .filter(|&&r| st.slot[r as usize] != NONE)
                    .map(|&r| p.reqs[r as usize].domain),
            );
            let runs = run_bound(p, &doms, k as u32);
            if p.day_masks.len() != 1 {
                return runs;
            }
            let forced = forced_bound(&doms, k);
            if runs >= 2 || k > n || work > MATCHING_BUDGET {
                return runs.max(forced);
            }
            let mut fits = |b: u128| {
                work += 1;
                buf.clear();
                buf.extend(doms.iter().map(|&d| d & b));
                buf.iter().all(|&d| d != 0) && match_slots(&buf).0 == k
            };
            if (0..=n - k).any(|a| fits(interval(a, k))) {
                return 0;
            }
            for len in 1..k {
                for a in 0..n {
                    for b in a + len + 1..n {
                        if b + (k - len) > n {
                            break;
                        }
                        if fits(interval(a, len) | interval(b, k - len)) {
                            return 1;
                        }
                    }
                }
            }
            forced.max(2)
        })
        .collect()
}

/// Matchings [`coverage_bound`] may try in all before it gives up (returns 0).
const COVERAGE_BUDGET: u64 = 200_000;

/// Breaks beyond the per-participant bounds (`part_lb`), on a one-day
/// instance of pair meetings: a participant whose own bound is 0 and whose
/// every break-free window (one slot per meeting, consecutive, each meeting
/// matched to a slot of its domain) contains slot t must be busy at t or
/// break. At t, a meeting covers two such participants only if both are in
/// it, so the meetings there cover at most ν + tables of them (ν: a maximum
/// matching among them by the meetings allowed at t, bounded by half the
/// bipartite double cover's matching) and at most twice the tables; every
/// one left over has a break of its own. Returns the largest excess over
/// the slots (e.g. the participants with a morning-only and an
/// afternoon-only meeting, who must all meet just before and just after
/// lunch).
pub(crate) fn coverage_bound(p: &Problem, st: &State, part_lb: &[u32]) -> u32 {
    let n = p.n_slots;
    let held = |r: u32| st.slot[r as usize] != NONE;
    if p.day_masks.len() != 1 || p.reqs.iter().any(|r| r.members.len() != 2) {
        return 0;
    }
    let onsite = p.reqs.iter().all(|r| r.onsite);
    let mut work = 0u64;
    let mut doms: Vec<u128> = Vec::new();
    let mut buf: Vec<u128> = Vec::new();
    // Slots every break-free window of the participant contains.
    let mut must = vec![0u128; p.parts.len()];
    for (q, part) in p.parts.iter().enumerate() {
        let k = st.load[q] as usize;
        if k == 0 || k > n || part_lb[q] > 0 {
            continue;
        }
        doms.clear();
        doms.extend(
            part.reqs
                .iter()
                .filter(|&&r| held(r))
                .map(|&r| p.reqs[r as usize].domain),
        );
        let mut all = u128::MAX;
        for a in 0..=n - k {
            let w = if k >= 128 {
                u128::MAX
            } else {
                ((1u128 << k) - 1) << a
            };
            work += 1;
            buf.clear();
            buf.extend(doms.iter().map(|&d| d & w));
            if buf.iter().all(|&d| d != 0) && match_slots(&buf).0 == k {
                all &= w;
            }
        }
        if work > COVERAGE_BUDGET {
            return 0;
        }
        if all != u128::MAX {
            must[q] = all;
        }
    }
    let mut best = 0u32;
    let mut index = vec![usize::MAX; p.parts.len()];
    for t in 0..n {
        let forced: Vec<usize> = (0..p.parts.len())
            .filter(|&q| must[q] & bit(t) != 0)
            .collect();
        if forced.len() < 2 || forced.len() > 128 {
            continue;
        }
        for (i, &q) in forced.iter().enumerate() {
            index[q] = i;
        }
        // Neighbours among the forced by meetings allowed at t, and how many
        // forced participants have any meeting allowed at t.
        let mut nb = vec![0u128; forced.len()];
        let mut reachable = 0u32;
        for (i, &q) in forced.iter().enumerate() {
            let mut any = false;
            for &r in &p.parts[q].reqs {
                let req = &p.reqs[r as usize];
                if !held(r) || req.domain & bit(t) == 0 {
                    continue;
                }
                any = true;
                let other = req.members.iter().find(|&&x| x as usize != q);
                if let Some(&o) = other
                    && must[o as usize] & bit(t) != 0
                {
                    nb[i] |= 1u128 << index[o as usize];
                }
            }
            reachable += u32::from(any);
        }
        let nu = (match_slots(&nb).0 / 2) as u32;
        let mut covered = reachable;
        if onsite {
            covered = covered.min(nu + p.cap[t]).min(2 * p.cap[t]);
        }
        best = best.max(forced.len() as u32 - covered);
        for &q in &forced {
            index[q] = usize::MAX;
        }
    }
    best
}

/// Lower bound on the breaks of a participant with `k` held meetings whose
/// domains are `doms`, on a one-day instance: the slots of its single-slot
/// meetings (fixed, or forced by propagation) are all busy; a gap between two
/// consecutive ones is either filled entirely — with usable slots, out of the
/// `k − |forced|` other meetings, smallest gaps first — or a new run starts.
fn forced_bound(doms: &[u128], k: usize) -> u32 {
    let forced = doms
        .iter()
        .filter(|d| d.count_ones() == 1)
        .fold(0u128, |m, &d| m | d);
    let f = forced.count_ones() as usize;
    if f < 2 {
        return 0;
    }
    let usable = doms.iter().fold(0u128, |m, &d| m | d);
    let slots: Vec<usize> = bits(forced).collect();
    let mut gaps: Vec<usize> = slots
        .windows(2)
        .filter_map(|w| {
            let len = w[1] - w[0] - 1;
            let between = if len == 0 {
                0
            } else {
                ((1u128 << len) - 1) << (w[0] + 1)
            };
            (between & !usable == 0).then_some(len)
        })
        .collect();
    gaps.sort_unstable();
    let mut budget = k.saturating_sub(f);
    let mut bridged = 0;
    for g in gaps {
        if g > budget {
            break;
        }
        budget -= g;
        bridged += 1;
    }
    (f - 1 - bridged) as u32
}

/// Lower bound on the breaks of a participant with `k` held meetings whose
/// domains are `doms`: the longest run of usable slots per day is free, every
/// further run costs a break.
fn run_bound(p: &Problem, doms: &[u128], k: u32) -> u32 {
    let usable = doms.iter().fold(0u128, |m, &d| m | d);
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
    let mut lb = 0;
    for len in extra {
        if covered >= k {
            break;
        }
        covered += len;
        lb += 1;
    }
    lb
}
