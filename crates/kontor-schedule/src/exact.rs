//! Exact phase for the breaks (levels 3a/3b) on a fixed held set: a SAT
//! encoding of "every held meeting in one slot of its domain, nobody twice in
//! a slot, tables, precedences, every participant ≤ d breaks, total breaks
//! ≤ k", solved by batsat (a pure-Rust port of MiniSat) after the annealing.
//! Bottom-up: k starts at the lower bound; each refutation at the bound
//! raises it by one, the first model is optimal; the annealing's schedule is kept
//! when the budget runs out first. The attempts get doubling decision limits
//! per round and keep the learnt clauses.
//!
//! Base = the sum of the participants' own bounds. At k = base nobody else
//! can have a break (assumed, which the solver propagates far better than the
//! counter). Once k = base + 1, the search is split by who has the one extra
//! break: one focused attempt per participant, the others without a break by
//! assumptions (those with breaks in the incumbent first). A model of the
//! right one comes 2-3 times sooner than from the open question (JAIR
//! forum-13crafc: 0.5 instead of 1.5 s), and refuting all of them proves
//! base + 2. A search that makes no progress for [`STALL`] hands the rest of
//! its time back to the annealing.
//!
//! Variables (a literal's *hint* is its value in the annealing's schedule:
//! each variable is created so that the solver's default decision gives the
//! hint, and phase saving keeps the latest model afterwards):
//! - `x[r][t]`: held meeting r in slot t of its domain; exactly one per meeting.
//! - `b[q][t]`: participant q busy in t, `b ↔ OR x` over its meetings, with
//!   at most one of them (sequential AMO beyond five).
//! - `after[q][t]` ≥ OR of `b[q][u]`, u ≥ t in the day; `z[q][t]` ≥
//!   `b[q][t-1] ∧ ¬b[q][t] ∧ after[q][t+1]`: a break (an idle run between two
//!   meetings of the day, as [`Problem::breaks`] counts) ends its first meeting
//!   at t-1. Only the lower direction is encoded: a spurious `z` overcounts,
//!   which the upper bounds below only punish, so the real breaks of a model
//!   are at most the counted ones.
//! - Tables: `Σ x[r][t] ≤ tables(t)` over on-site meetings, by a totalizer
//!   (every counter here is one: a sequential counter over the 1,500 break
//!   indicators of a JAIR instance made each decision propagate hundreds of
//!   literals; the totalizer tripled the conflicts per second).
//! - Fairness: when k < number of participants some participant has no break,
//!   so "spread ≤ d" is "every participant ≤ d breaks" (a counter each).
//! - Implied (they make refutations cheap): each participant is busy in
//!   exactly as many slots as it has meetings (two counters), and a
//!   participant without a break has no two busy slots of a day at least that
//!   many slots apart, nor (one-day instances) both ends of a window its
//!   meetings cannot be matched into; each participant's own breaks bound
//!   ([`participant_lower_bounds`]) as unit clauses.
//! - Total: one counter over all `z` with outputs "≥ j", j ≤ the incumbent;
//!   "≤ k" is the assumption ¬"≥ k+1".

use std::cell::Cell;
use std::time::Instant;

use batsat::{Callbacks, Lit, Solver, SolverInterface, SolverOpts, lbool};

use crate::control::{Budget, Ctl, Phase};
use crate::problem::{NONE, Problem, State, bit, bits, match_slots};

/// Largest encoding tried: Σ |domain| over the held meetings. Far above the
/// JAIR instances (at most about 6,000) and below generated events (30,000 and
/// more), where the annealing alone meets the targets.
pub(crate) const MAX_CELLS: usize = 12_000;

/// True when the exact phase may run on `st`: only breaks and fairness count
/// (no preferences, no previous schedule) and the encoding is small enough.
pub(crate) fn applicable(p: &Problem, st: &State) -> bool {
    let cells: usize = (0..p.reqs.len())
        .filter(|&r| st.slot[r] != NONE)
        .map(|r| p.reqs[r].domain.count_ones() as usize)
        .sum();
    if cells == 0
        || cells > MAX_CELLS
        || p.parts.iter().any(|q| q.pref != 0)
        || p.reqs.iter().any(|r| r.prev != NONE)
    {
        return false;
    }
    // A totalizer over n inputs cut at width w has about 1.5 n w clauses:
    // few slots with many tables would make the table counters huge.
    let mut candidates = vec![0usize; p.n_slots];
    for r in (0..p.reqs.len()).filter(|&r| st.slot[r] != NONE && p.reqs[r].onsite) {
        for t in bits(p.reqs[r].domain) {
            candidates[t] += 1;
        }
    }
    let table_clauses: usize = candidates
        .iter()
        .zip(&p.cap)
        .filter(|&(&n, &cap)| n > cap as usize)
        .map(|(&n, &cap)| n * (cap as usize + 1))
        .sum();
    table_clauses <= MAX_COUNTER_CLAUSES
}

/// Largest estimated size (n × width) of the table counters, and of the
/// counter of the total breaks.
const MAX_COUNTER_CLAUSES: usize = 2_000_000;

/// The solver's callbacks: a work limit per call and a clock. batsat asks
/// before each decision (and after each restart), so the count of its
/// questions is the work measure ("decisions" below).
struct Watch {
    decisions: Cell<u64>,
    /// Decision count at which the current call gives up.
    call_limit: Cell<u64>,
    /// The current call gives up at this instant (checked every 64 decisions).
    end: Cell<Instant>,
}

impl Callbacks for Watch {
    fn stop(&self) -> bool {
        let n = self.decisions.get() + 1;
        self.decisions.set(n);
        n >= self.call_limit.get() || (n.is_multiple_of(64) && Instant::now() >= self.end.get())
    }
}

struct Enc {
    s: Solver<Watch>,
    buf: Vec<Lit>,
}

impl Enc {
    /// A new literal whose default decision is `hint`.
    fn var(&mut self, hint: bool) -> Lit {
        // batsat decides a fresh variable false, i.e. makes its negative
        // literal true.
        Lit::new(self.s.new_var_default(), !hint)
    }

    /// The value a literal takes under the default decisions (its hint).
    fn hint(l: Lit) -> bool {
        !l.sign()
    }

    fn clause(&mut self, lits: &[Lit]) {
        self.buf.clear();
        self.buf.extend_from_slice(lits);
        self.s.add_clause_reuse(&mut self.buf);
    }

    fn at_most_one(&mut self, lits: &[Lit]) {
        if lits.len() <= 5 {
            for i in 0..lits.len() {
                for j in i + 1..lits.len() {
                    self.clause(&[!lits[i], !lits[j]]);
                }
            }
            return;
        }
        // Sequential: s_i = "one of the first i+1 is true".
        let mut prev: Option<Lit> = None;
        let mut seen = false;
        for (i, &x) in lits.iter().enumerate() {
            if let Some(s) = prev {
                self.clause(&[!x, !s]);
            }
            if i + 1 == lits.len() {
                break;
            }
            seen |= Self::hint(x);
            let s = self.var(seen);
            self.clause(&[!x, s]);
            if let Some(ps) = prev {
                self.clause(&[!ps, s]);
            }
            prev = Some(s);
        }
    }

    /// Unary counter over `lits` (upward implications only): output j is
    /// true when at least j+1 inputs are, for j < `width`. A totalizer
    /// (a balanced tree of unary adders) with its outputs cut at `width`: a
    /// change of one input propagates through log n levels only.
    fn counter(&mut self, lits: &[Lit], width: usize) -> Vec<Lit> {
        if lits.is_empty() || width == 0 {
            return Vec::new();
        }
        self.totalizer(lits, width).0
    }

    /// The outputs and the number of inputs true under the hints.
    fn totalizer(&mut self, lits: &[Lit], width: usize) -> (Vec<Lit>, usize) {
        if lits.len() == 1 {
            return (vec![lits[0]], usize::from(Self::hint(lits[0])));
        }
        let (l, r) = lits.split_at(lits.len() / 2);
        let (a, ha) = self.totalizer(l, width);
        let (b, hb) = self.totalizer(r, width);
        let count = ha + hb;
        let len = (a.len() + b.len()).min(width);
        let out: Vec<Lit> = (0..len).map(|j| self.var(count > j)).collect();
        for i in 0..=a.len() {
            for j in 0..=b.len() {
                let sum = i + j;
                if sum == 0 || sum > len {
                    continue;
                }
                let mut c = Vec::with_capacity(3);
                if i > 0 {
                    c.push(!a[i - 1]);
                }
                if j > 0 {
                    c.push(!b[j - 1]);
                }
                c.push(out[sum - 1]);
                self.clause(&c);
            }
        }
        (out, count)
    }

    /// At most `k` of `lits`.
    fn at_most(&mut self, lits: &[Lit], k: usize) {
        if lits.len() <= k {
            return;
        }
        if k == 0 {
            for &x in lits {
                self.clause(&[!x]);
            }
            return;
        }
        let out = self.counter(lits, k + 1);
        self.clause(&[!out[k]]);
    }

    /// A literal at least as true as `a ∨ b` (None = false).
    fn or(&mut self, a: Option<Lit>, b: Option<Lit>) -> Option<Lit> {
        match (a, b) {
            (None, x) | (x, None) => x,
            (Some(a), Some(b)) => {
                let c = self.var(Self::hint(a) || Self::hint(b));
                self.clause(&[!a, c]);
                self.clause(&[!b, c]);
                Some(c)
            }
        }
    }
}

/// A search that neither improves, raises the bound nor refutes a focused
/// attempt for this long, with no focused attempts left, gives the rest of
/// its time back to the annealing (see bench/schedule/RESULTS.md round 6).
const STALL: std::time::Duration = std::time::Duration::from_secs(2);

/// Decision limits of the attempts in the first round; they double with each
/// round (rounds of refutations alone count too).
const PROOF_LIMIT: u64 = 2_000;
const FOCUS_LIMIT: u64 = 100_000;

/// One attempt of the search.
#[derive(Clone, Copy, Debug)]
enum Attempt {
    /// "≤ lower bound" (a model there is optimal, a refutation raises it).
    Proof,
    /// "≤ base + 1, and of the participants without a bound of their own
    /// only this one has a break": cheap for the solver, and when the
    /// optimum is base + 1 one of them holds it.
    Focus(usize),
}

/// An upper estimate of the break indicators the encoding creates (it makes
/// at most one per inner slot of a day for each participant with two or more
/// held meetings), known before the encoding is built.
fn break_indicators(p: &Problem, st: &State) -> usize {
    let mut meetings = vec![0usize; p.parts.len()];
    for r in (0..p.reqs.len()).filter(|&r| st.slot[r] != NONE) {
        for &q in &p.reqs[r].members {
            meetings[q as usize] += 1;
        }
    }
    let inner: usize = p
        .day_masks
        .iter()
        .map(|d| (d.count_ones() as usize).saturating_sub(2))
        .sum();
    meetings.iter().filter(|&&n| n >= 2).count() * inner
}

/// Fairness excess and total breaks of the busy masks `busy`.
fn key(p: &Problem, busy: &[u128]) -> (u32, u32) {
    let per: Vec<u32> = busy.iter().map(|&b| p.breaks(b)).collect();
    let total = per.iter().sum();
    let excess = p.fairness.map_or(0, |d| {
        let min = per.iter().copied().min().unwrap_or(0);
        let max = per.iter().copied().max().unwrap_or(0);
        (max - min).saturating_sub(d)
    });
    (excess, total)
}

/// The exact search over the held set of a schedule: the encoding, the
/// solver with what it learnt, and the attempts in progress.
pub(crate) struct Exact<'p> {
    p: &'p Problem,
    enc: Enc,
    held: Vec<usize>,
    /// `x[i]`: the slot literals of held meeting `held[i]`.
    x: Vec<Vec<(usize, Lit)>>,
    /// `total[j]`: at least j+1 breaks.
    total: Vec<Lit>,
    /// Lower bound on the breaks of any schedule of the held set that meets
    /// the fairness bound: the given one, raised by each refutation at the
    /// bound and by refuting every focused attempt.
    pub lower_bound: u32,
    /// Per participant: "has a break" (None: fewer than two meetings).
    has_break: Vec<Option<Lit>>,
    /// Sum of the participants' own bounds.
    base: u32,
    /// Participants without a bound of their own who can have a break.
    unbound: Vec<usize>,
    /// Per participant: "≤ base + 1 with only this one of `unbound` allowed
    /// a break" was refuted.
    focus_refuted: Vec<bool>,
    /// The attempts of the current round, and its number (from 0).
    plan: Vec<Attempt>,
    round: u32,
    /// Refuted proof and focused attempts (progress towards a bound).
    refutations: u32,
    /// Off only in a test that drives the focused attempts alone.
    proofs_above_base: bool,
    /// The attempt in progress (it may span solver calls): its index in
    /// `plan`, the total it asks for, its assumptions and the decisions it
    /// has left.
    step: usize,
    k: usize,
    assume: Vec<Lit>,
    attempt_left: u64,
}

/// Decisions per solver call: the caller's clock, budget and progress
/// callback are consulted between calls (a call restarts the search, which
/// keeps its learnt clauses and saved phases).
const SLICE: u64 = 2_000;

impl<'p> Exact<'p> {
    /// Encodes the held set of `st` (whose fairness excess must be 0) with
    /// `st` as the hint, or declines: `st` already at `lower_bound`,
    /// fairness not met by `st`, more breaks
    /// than participants (the per-participant fairness encoding would be
    /// inexact), or a counter too large. `part_lb` holds each participant's
    /// own lower bound ([`crate::breaks::participant_lower_bounds`]).
    pub fn new(p: &'p Problem, st: &State, part_lb: &[u32], lower_bound: u32) -> Option<Exact<'p>> {
        let (excess, best) = key(p, &st.busy);
        if excess != 0
            || best <= lower_bound
            || best as usize > p.parts.len()
            || break_indicators(p, st) * best as usize > MAX_COUNTER_CLAUSES
        {
            return None;
        }
        let held: Vec<usize> = (0..p.reqs.len()).filter(|&r| st.slot[r] != NONE).collect();
        let mut enc = Enc {
            s: Solver::new(
                SolverOpts::default(),
                Watch {
                    decisions: Cell::new(0),
                    call_limit: Cell::new(u64::MAX),
                    end: Cell::new(Instant::now()),
                },
            ),
            buf: Vec::new(),
        };
        // x[r][t]
        let n_slots = p.n_slots;
        let mut x: Vec<Vec<(usize, Lit)>> = Vec::with_capacity(held.len());
        for &r in &held {
            let lits: Vec<(usize, Lit)> = bits(p.reqs[r].domain)
                .map(|t| (t, enc.var(st.slot[r] as usize == t)))
                .collect();
            let all: Vec<Lit> = lits.iter().map(|&(_, l)| l).collect();
            enc.clause(&all);
            enc.at_most_one(&all);
            x.push(lits);
        }
        let lit_of = |x: &[Vec<(usize, Lit)>], i: usize, t: usize| -> Option<Lit> {
            x[i].iter().find(|&&(u, _)| u == t).map(|&(_, l)| l)
        };
        // Tables.
        for t in 0..n_slots {
            let lits: Vec<Lit> = held
                .iter()
                .enumerate()
                .filter(|&(_, &r)| p.reqs[r].onsite)
                .filter_map(|(i, _)| lit_of(&x, i, t))
                .collect();
            enc.at_most(&lits, p.cap[t] as usize);
        }
        // Precedences between held meetings.
        let index: Vec<usize> = {
            let mut v = vec![usize::MAX; p.reqs.len()];
            for (i, &r) in held.iter().enumerate() {
                v[r] = i;
            }
            v
        };
        for (i, &r) in held.iter().enumerate() {
            for &a in &p.reqs[r].preds {
                let ia = index[a as usize];
                if ia == usize::MAX {
                    continue;
                }
                for k in 0..x[i].len() {
                    let (t, l) = x[i][k];
                    let mut c = vec![!l];
                    c.extend(x[ia].iter().filter(|&&(u, _)| u < t).map(|&(_, m)| m));
                    enc.clause(&c);
                }
            }
        }
        // Busy, breaks, fairness.
        let mut by_part: Vec<Vec<usize>> = vec![Vec::new(); p.parts.len()];
        for (i, &r) in held.iter().enumerate() {
            for &q in &p.reqs[r].members {
                by_part[q as usize].push(i);
            }
        }
        let mut all_breaks: Vec<Lit> = Vec::new();
        let mut has_break: Vec<Option<Lit>> = vec![None; p.parts.len()];
        for (q, mine) in by_part.iter().enumerate() {
            let mut b: Vec<Option<Lit>> = vec![None; n_slots];
            for (t, slot) in b.iter_mut().enumerate() {
                let lits: Vec<Lit> = mine.iter().filter_map(|&i| lit_of(&x, i, t)).collect();
                *slot = match lits.len() {
                    0 => None,
                    1 => Some(lits[0]),
                    _ => {
                        enc.at_most_one(&lits);
                        let v = enc.var(lits.iter().any(|&l| Enc::hint(l)));
                        for &l in &lits {
                            enc.clause(&[!l, v]);
                        }
                        let mut c = vec![!v];
                        c.extend_from_slice(&lits);
                        enc.clause(&c);
                        Some(v)
                    }
                };
            }
            {
                // Implied (Bofill et al.): busy in exactly as many slots as
                // meetings. Redundant, but it propagates far better.
                let lits: Vec<Lit> = b.iter().flatten().copied().collect();
                let neg: Vec<Lit> = lits.iter().map(|&l| !l).collect();
                enc.at_most(&lits, mine.len());
                enc.at_most(&neg, lits.len() - mine.len());
            }
            if mine.len() < 2 {
                continue;
            }
            let mut mine_breaks: Vec<Lit> = Vec::new();
            for &day in &p.day_masks {
                let ts: Vec<usize> = bits(day).collect();
                // after[k] for ts[k]
                let mut after: Vec<Option<Lit>> = vec![None; ts.len() + 1];
                for k in (0..ts.len()).rev() {
                    after[k] = enc.or(b[ts[k]], after[k + 1]);
                }
                for k in 1..ts.len().saturating_sub(1) {
                    let (Some(before), Some(later)) = (b[ts[k - 1]], after[k + 1]) else {
                        continue;
                    };
                    let now = b[ts[k]];
                    let hint = Enc::hint(before) && !now.is_some_and(Enc::hint) && Enc::hint(later);
                    let z = enc.var(hint);
                    let mut c = vec![!before, !later, z];
                    if let Some(n) = now {
                        c.push(n);
                    }
                    enc.clause(&c);
                    mine_breaks.push(z);
                }
            }
            // Per-participant counter: "≥ 1 break" (for the implied clauses
            // below) and the fairness bound "≤ d".
            let width = p.fairness.map_or(1, |d| d as usize + 1);
            let own = enc.counter(&mine_breaks, width);
            if let Some(d) = p.fairness
                && (d as usize) < own.len()
            {
                enc.clause(&[!own[d as usize]]);
            }
            for &at_least in own.iter().take(part_lb[q] as usize) {
                enc.clause(&[at_least]);
            }
            has_break[q] = own.first().copied();
            // Implied: without a break, a participant's busy slots of a day lie
            // within a window as long as its number of meetings, so two busy slots
            // at least that far apart mean a break.
            if let Some(&some_break) = own.first() {
                let n = mine.len();
                for &day in &p.day_masks {
                    let ts: Vec<usize> = bits(day).filter(|&t| b[t].is_some()).collect();
                    for (i, &s) in ts.iter().enumerate() {
                        for &t in &ts[i + 1..] {
                            if t - s >= n {
                                let (bs, bt) = (b[s].expect("some"), b[t].expect("some"));
                                enc.clause(&[some_break, !bs, !bt]);
                            }
                        }
                    }
                }
                // On one day, busy at both ends of a window of n slots without a
                // break means busy exactly there: excluded where its meetings
                // cannot be matched into the window.
                if p.day_masks.len() == 1 && n >= 2 {
                    let doms: Vec<u128> = mine.iter().map(|&i| p.reqs[held[i]].domain).collect();
                    let mut inside = vec![0u128; n];
                    for s in 0..=n_slots.saturating_sub(n) {
                        let (Some(bs), Some(be)) = (b[s], b[s + n - 1]) else {
                            continue;
                        };
                        let window = if n >= 128 {
                            u128::MAX
                        } else {
                            ((1u128 << n) - 1) << s
                        };
                        for (w, &d) in inside.iter_mut().zip(&doms) {
                            *w = d & window;
                        }
                        if match_slots(&inside).0 < n {
                            enc.clause(&[some_break, !bs, !be]);
                        }
                    }
                }
            }
            all_breaks.extend(mine_breaks);
        }
        let total = enc.counter(&all_breaks, best as usize);
        Some(Exact {
            p,
            enc,
            held,
            x,
            total,
            lower_bound,
            base: part_lb.iter().sum(),
            unbound: (0..p.parts.len())
                .filter(|&q| part_lb[q] == 0 && has_break[q].is_some())
                .collect(),
            focus_refuted: vec![false; p.parts.len()],
            has_break,
            plan: Vec::new(),
            round: 0,
            refutations: 0,
            proofs_above_base: true,
            step: 0,
            k: 0,
            assume: Vec::new(),
            attempt_left: 0,
        })
    }

    /// Work so far (the solver's decisions and restarts).
    pub fn decisions(&self) -> u64 {
        self.enc.s.cb().decisions.get()
    }

    /// Searches until the budget is spent, the deadline, a cancellation, a
    /// stall ([`STALL`]) or a proof, and says which. Every better schedule found
    /// is written to `st`. The attempts come in rounds ([`Exact::plan_round`]).
    pub fn search(&mut self, st: &mut State, ctl: &mut Ctl, budget: &Budget, weight: u64) -> Ended {
        let p = self.p;
        let (excess, mut best) = key(p, &st.busy);
        debug_assert_eq!(excess, 0, "new() declines unfair starts");
        let end = if budget.iterations.is_some() {
            ctl.deadline
        } else {
            budget.end.min(ctl.deadline)
        };
        let mut progress_at = Instant::now();
        let mut seen = (best, self.lower_bound, self.refutations);
        loop {
            if self.lower_bound >= best {
                return Ended::Proven;
            }
            if seen != (best, self.lower_bound, self.refutations) {
                seen = (best, self.lower_bound, self.refutations);
                progress_at = Instant::now();
            } else if budget.iterations.is_none()
                && !self.focusing(best)
                && progress_at.elapsed() > STALL
            {
                return Ended::Stalled;
            }
            if ctl.stop(Phase::Breaks, budget, self.decisions(), (weight, best)) {
                return Ended::Stopped;
            }
            if self.attempt_left == 0 {
                if self.step >= self.plan.len() {
                    self.plan_round(st, best);
                    if self.plan.is_empty() {
                        // Only in the test without refutations above the base.
                        return Ended::Stopped;
                    }
                }
                if matches!(self.plan[self.step], Attempt::Focus(_)) && !self.focusing(best) {
                    // The bound passed base + 1 meanwhile (a refutation at
                    // base + 1): nothing left to learn from this one.
                    self.step += 1;
                    continue;
                }
                self.start(self.plan[self.step], st);
            }
            let slice = self.attempt_left.min(SLICE);
            let before = self.decisions();
            let cb = self.enc.s.cb();
            cb.call_limit.set(before + slice);
            cb.end.set(end);
            let res = self.enc.s.solve_limited(&self.assume);
            let used = self.decisions() - before;
            let attempt_over = res != lbool::UNDEF || used >= self.attempt_left;
            self.attempt_left = if attempt_over {
                0
            } else {
                self.attempt_left - used
            };
            if res == lbool::FALSE {
                match self.plan[self.step] {
                    Attempt::Proof => {
                        self.lower_bound = self.k as u32 + 1;
                        self.refutations += 1;
                    }
                    Attempt::Focus(q) => {
                        self.focus_refuted[q] = true;
                        self.refutations += 1;
                        // No schedule with base + 1 breaks gives the one
                        // break to any of them.
                        if self.lower_bound == self.base + 1
                            && self.unbound.iter().all(|&q| self.focus_refuted[q])
                        {
                            self.lower_bound = self.base + 2;
                        }
                    }
                }
            }
            if res == lbool::TRUE {
                // Every attempt asks for fewer breaks than the incumbent's.
                if !self.adopt(st) {
                    debug_assert!(false, "a model above its bound or unfair");
                    return Ended::Stopped;
                }
                best = key(p, &st.busy).1;
                ctl.improved();
            }
            if attempt_over {
                self.step += 1;
            }
        }
    }

    /// True while focused attempts are left: each may take seconds without
    /// any sign of progress and still be the one that holds the optimum.
    fn focusing(&self, best: u32) -> bool {
        self.lower_bound == self.base + 1
            && best > self.base + 1
            && self.unbound.iter().any(|&q| !self.focus_refuted[q])
    }

    /// The attempts of the next round: the refutation at the lower bound;
    /// once that bound is base + 1 and the best above it, one focused
    /// attempt per participant not yet refuted (those with breaks in `st`
    /// first). Limits double with each round.
    fn plan_round(&mut self, st: &State, best: u32) {
        let p = self.p;
        if !self.plan.is_empty() {
            self.round += 1;
        }
        self.step = 0;
        self.plan.clear();
        // The refutation first: what it learns makes the focused attempts
        // cheaper.
        if self.proofs_above_base || self.lower_bound <= self.base {
            self.plan.push(Attempt::Proof);
        }
        if self.focusing(best) {
            let mut candidates: Vec<usize> = self
                .unbound
                .iter()
                .copied()
                .filter(|&q| !self.focus_refuted[q])
                .collect();
            candidates.sort_by_key(|&q| (std::cmp::Reverse(p.breaks(st.busy[q])), q));
            self.plan.extend(candidates.into_iter().map(Attempt::Focus));
        }
    }

    /// Sets up `attempt`: the total asked for, its assumptions and its limit.
    fn start(&mut self, attempt: Attempt, st: &State) {
        let p = self.p;
        let grow = 1u64 << self.round.min(20);
        self.assume.clear();
        match attempt {
            Attempt::Proof => {
                self.k = self.lower_bound as usize;
                self.attempt_left = PROOF_LIMIT * grow;
                if self.k as u32 == self.base {
                    // Implied: everybody at their own bound, so nobody else
                    // has a break.
                    for &q in &self.unbound {
                        self.assume
                            .push(!self.has_break[q].expect("can have a break"));
                    }
                }
            }
            Attempt::Focus(extra) => {
                self.k = self.base as usize + 1;
                // A participant with breaks in the incumbent is the likely
                // one (the first or third tried on the JAIR instances).
                let limit = if p.breaks(st.busy[extra]) > 0 {
                    FOCUS_LIMIT
                } else {
                    FOCUS_LIMIT / 10
                };
                self.attempt_left = limit * grow;
                for &q in &self.unbound {
                    if q != extra {
                        self.assume
                            .push(!self.has_break[q].expect("can have a break"));
                    }
                }
            }
        }
        self.assume.push(!self.total[self.k]);
    }

    /// Writes the solver's model to `st`; false (and `st` untouched) when the
    /// model is unfair or above the total asked for: a bug in the encoding.
    fn adopt(&mut self, st: &mut State) -> bool {
        let p = self.p;
        let mut busy = vec![0u128; p.parts.len()];
        let mut slot_of = vec![0usize; self.held.len()];
        for (i, &r) in self.held.iter().enumerate() {
            let t = self.x[i]
                .iter()
                .find(|&&(_, l)| self.enc.s.value_lit(l) == lbool::TRUE)
                .map(|&(t, _)| t)
                .expect("exactly one slot per meeting");
            slot_of[i] = t;
            for &q in &p.reqs[r].members {
                busy[q as usize] |= bit(t);
            }
        }
        let (excess, total) = key(p, &busy);
        if excess != 0 || total > self.k as u32 {
            return false;
        }
        for (i, &r) in self.held.iter().enumerate() {
            if st.slot[r] as usize != slot_of[i] {
                st.remove(p, r);
            }
        }
        for (i, &r) in self.held.iter().enumerate() {
            if st.slot[r] == NONE {
                st.place(p, r, slot_of[i]);
            }
        }
        true
    }
}

/// How [`Exact::search`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The schedule is proven optimal for breaks under fairness.
    Proven,
    /// No progress for [`STALL`] with no focused attempt left (time budgets
    /// only, so that work budgets stay reproducible).
    Stalled,
    /// Budget, deadline or cancellation.
    Stopped,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::control::Control;
    use crate::model::{Instance, Participant, Request, Slot};

    /// Fewest breaks over every assignment of the held meetings of `st`
    /// (spread within the fairness bound), by enumeration.
    fn brute(p: &Problem, st: &State) -> Option<u32> {
        let held: Vec<usize> = (0..p.reqs.len()).filter(|&r| st.slot[r] != NONE).collect();
        let mut best: Option<u32> = None;
        let mut s = State::new(p);
        fn rec(p: &Problem, held: &[usize], i: usize, s: &mut State, best: &mut Option<u32>) {
            if i == held.len() {
                let (excess, total) = key(p, &s.busy);
                if excess == 0 && best.is_none_or(|b| total < b) {
                    *best = Some(total);
                }
                return;
            }
            let r = held[i];
            for t in bits(s.free_slots(p, r)) {
                s.place(p, r, t);
                rec(p, held, i + 1, s, best);
                s.remove(p, r);
            }
        }
        rec(p, &held, 0, &mut s, &mut best);
        best
    }

    fn instance(seed: u64) -> Instance {
        let mut rng = crate::rng::Rng::new(seed);
        let n_slots = 4 + rng.below(4);
        let slots = (0..n_slots)
            .map(|t| Slot {
                id: format!("s{t}"),
                day: u32::from(rng.below(4) == 0 && t >= n_slots / 2),
                session: None,
                tables: None,
            })
            .collect::<Vec<_>>();
        // Days must be non-decreasing.
        let mut slots = slots;
        let mut day = 0;
        for s in &mut slots {
            day = day.max(s.day);
            s.day = day;
        }
        let n_parts = 4 + rng.below(3);
        let participants = (0..n_parts)
            .map(|i| Participant {
                id: format!("p{i}"),
                unavailable: (0..n_slots)
                    .filter(|_| rng.below(6) == 0)
                    .map(|t| format!("s{t}"))
                    .collect(),
                ..Participant::default()
            })
            .collect();
        let n_req = 4 + rng.below(4);
        let requests = (0..n_req)
            .map(|k| {
                let a = rng.below(n_parts);
                let b = (a + 1 + rng.below(n_parts - 1)) % n_parts;
                Request {
                    id: format!("r{k}"),
                    participants: vec![format!("p{a}"), format!("p{b}")],
                    after: if k > 0 && rng.below(5) == 0 {
                        vec![format!("r{}", k - 1)]
                    } else {
                        Vec::new()
                    },
                    ..Request::default()
                }
            })
            .collect();
        Instance {
            name: None,
            tables: 1 + rng.below(3) as u32,
            fairness: (rng.below(2) == 0).then_some(1),
            slots,
            participants,
            requests,
            previous: None,
        }
    }

    /// A feasible start: the requests placed greedily in order.
    fn greedy(p: &Problem) -> State {
        let mut st = State::new(p);
        for r in 0..p.reqs.len() {
            if let Some(t) = bits(st.free_slots(p, r)).next() {
                st.place(p, r, t);
            }
        }
        st
    }

    /// A tiny instance, its greedy schedule (fair, fewer breaks than
    /// participants) with its breaks, and the brute-force optimum; None when
    /// the greedy schedule is not such a start.
    fn tiny_case(seed: u64) -> Option<(Instance, Problem, State, u32, u32)> {
        let inst = instance(seed);
        inst.validate().expect("valid");
        let p = Problem::new(&inst);
        let st = greedy(&p);
        let (excess, before) = key(&p, &st.busy);
        if excess != 0 || before as usize > p.parts.len() {
            return None;
        }
        let opt = brute(&p, &st).expect("the greedy schedule is one");
        Some((inst, p, st, before, opt))
    }

    /// The focused attempts alone (no refutation above the base): a model
    /// at base + 1 is found when the optimum is there, and refuting them
    /// all raises the bound to base + 2 only when the optimum is higher.
    #[test]
    fn focused_attempts_agree_with_brute_force() {
        let (mut found, mut refuted) = (0, 0);
        for seed in 0..600 {
            let Some((_, p, mut st, before, opt)) = tiny_case(seed) else {
                continue;
            };
            let part_lb = crate::breaks::participant_lower_bounds(&p, &st);
            let base: u32 = part_lb.iter().sum();
            let Some(mut exact) = Exact::new(&p, &st, &part_lb, base + 1) else {
                continue;
            };
            if opt < base + 1 || before <= base + 1 {
                continue;
            }
            exact.proofs_above_base = false;
            let mut progress = |_: &crate::control::Progress| Control::Continue;
            let mut ctl = Ctl::new(Duration::from_secs(10), None, &mut progress);
            let budget = ctl.budget(1.0);
            let proven = exact.search(&mut st, &mut ctl, &budget, 0) == Ended::Proven;
            let after = key(&p, &st.busy).1;
            assert!(
                exact.lower_bound <= opt,
                "seed {seed}: bound above the optimum"
            );
            if opt == base + 1 {
                assert!(
                    proven && after == opt,
                    "seed {seed}: focus missed the optimum"
                );
                found += 1;
            } else {
                assert_eq!(exact.lower_bound, base + 2, "seed {seed}: not refuted");
                refuted += 1;
            }
        }
        assert!(
            found >= 10 && refuted >= 5,
            "found {found}, refuted {refuted}"
        );
    }

    /// On tiny instances the exact phase ends at the brute-force optimum of
    /// the held set and proves it, and its schedule is feasible.
    #[test]
    fn exact_phase_equals_brute_force() {
        let mut compared = 0;
        let mut improved = 0;
        for seed in 0..300 {
            let Some((inst, p, mut st, before, opt)) = tiny_case(seed) else {
                continue;
            };
            let mut progress = |_: &crate::control::Progress| Control::Continue;
            let mut ctl = Ctl::new(Duration::from_secs(10), None, &mut progress);
            let budget = ctl.budget(1.0);
            let held_before: Vec<bool> = st.slot.iter().map(|&s| s != NONE).collect();
            let part_lb = crate::breaks::participant_lower_bounds(&p, &st);
            let (proven, bound) = match Exact::new(&p, &st, &part_lb, 0) {
                Some(mut exact) => {
                    let ended = exact.search(&mut st, &mut ctl, &budget, 0);
                    (ended == Ended::Proven, exact.lower_bound)
                }
                None => {
                    assert_eq!(before, 0, "seed {seed}: declined");
                    (true, 0)
                }
            };
            assert!(proven, "seed {seed}: not proven");
            assert_eq!(bound, opt, "seed {seed}: bound");
            let (excess, after) = key(&p, &st.busy);
            assert_eq!((excess, after), (0, opt), "seed {seed}");
            let held_after: Vec<bool> = st.slot.iter().map(|&s| s != NONE).collect();
            assert_eq!(held_before, held_after, "seed {seed}: the held set changed");
            let sched = crate::tables::to_schedule(&inst, &p, &st);
            let obj = crate::verify::verify(&inst, &sched)
                .unwrap_or_else(|v| panic!("seed {seed}: {v:?}"));
            assert_eq!(obj.breaks, opt, "seed {seed}");
            compared += 1;
            improved += usize::from(after < before);
        }
        assert!(compared >= 150, "only {compared} instances compared");
        assert!(improved >= 20, "only {improved} instances improved");
    }
}
