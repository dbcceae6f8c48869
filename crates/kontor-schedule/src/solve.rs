//! The solver pipeline: bound → mandatory check and placement → weight →
//! breaks/preferences/changes → tables → verification.

use std::time::{Duration, Instant};

use crate::bound::weight_upper_bound;
use crate::breaks::Breaks;
use crate::complete::Complete;
use crate::control::{Control, Ctl, Phase, Progress};
use crate::exact;
use crate::model::{Instance, InstanceError};
use crate::problem::{NONE, Problem, State, bit, bits, match_slots};
use crate::schedule::{Feasibility, Reason, Solution, Stats};
use crate::select::Select;
use crate::verify::verify;

/// Options of [`solve`].
#[derive(Debug, Clone, PartialEq)]
pub struct SolveOptions {
    /// Wall-clock limit for the whole search (default 5 s). The solver returns
    /// earlier when it proves the schedule optimal for levels (1)–(3).
    pub time_limit: Duration,
    /// Seed of the pseudo-random choices (default 0).
    pub seed: u64,
    /// Optional work limit (local-search iterations, shared among the phases).
    /// With it, a run is fully reproducible for a seed as long as the time limit
    /// is not reached first; with only a time limit the amount of search done
    /// depends on the machine.
    pub iteration_limit: Option<u64>,
    /// Weight of idle slots in the annealing of breaks (a guide only: the
    /// returned schedule is the best by the true objective). Default 0.05.
    pub idle_weight: f64,
    /// Share of the breaks phase given to the exact (SAT) search after the
    /// annealing, when it applies: only breaks and fairness to minimise, an
    /// encoding of at most 12,000 meeting-slot pairs, the annealing above the
    /// lower bound, and time left × `exact_share` ≥ 1 s when the breaks
    /// phase begins (under an iteration limit: the time limit; 1-s runs are
    /// annealing only). When it declines after the annealing (fairness not
    /// met) or stalls (no progress for 2 s), its time goes back to the
    /// annealing.
    /// 0 turns it off. Default 0.75.
    pub exact_share: f64,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            time_limit: Duration::from_secs(5),
            seed: 0,
            iteration_limit: None,
            idle_weight: 0.05,
            exact_share: 0.75,
        }
    }
}

/// Re-optimising: every meeting of the previous schedule that still fits goes back to its
/// slot (mandatory ones first, then by weight), so that the search starts from what was
/// published and moves a meeting only for a better objective.
fn keep_previous(p: &Problem, st: &mut State) {
    let mut order: Vec<usize> = (0..p.reqs.len())
        .filter(|&r| p.reqs[r].prev != NONE && st.slot[r] == NONE)
        .collect();
    order.sort_by_key(|&r| (std::cmp::Reverse(p.reqs[r].weight), r));
    for r in order {
        let t = p.reqs[r].prev as usize;
        if st.free_slots(p, r) & bit(t) != 0 {
            st.place(p, r, t);
        }
    }
}

/// Least time left × exact share for the exact phase to run.
const EXACT_AFTER: Duration = Duration::from_secs(1);

/// Solves without progress reports (see [`solve`]).
pub fn solve_quiet(inst: &Instance, opts: &SolveOptions) -> Result<Solution, InstanceError> {
    solve(inst, opts, &mut |_| Control::Continue)
}

/// Optimises the schedule of `inst`.
///
/// `progress` is called about every 50 ms and at each phase change; returning
/// [`Control::Stop`] cancels the search, which then returns the best schedule
/// found so far (always feasible for the hard constraints). Runs on the calling
/// thread; no IO.
pub fn solve(
    inst: &Instance,
    opts: &SolveOptions,
    progress: &mut dyn FnMut(&Progress) -> Control,
) -> Result<Solution, InstanceError> {
    inst.validate()?;
    let mut ctl = Ctl::new(opts.time_limit, opts.iteration_limit, progress);
    let mut p = Problem::new(inst);
    ctl.report(Phase::Bound, 0, 0);
    let upper_bound = weight_upper_bound(&p);
    let mandatory: Vec<usize> = (0..p.reqs.len()).filter(|&r| p.reqs[r].mandatory).collect();
    let mut feasibility = Feasibility::Feasible;
    let mut iterations = 0u64;
    let mut st = State::new(&p);
    if !mandatory.is_empty() {
        // Propagation prunes a copy: on failure the original domains are kept
        // so that as many mandatory meetings as possible are still held.
        let mut pruned = p.clone();
        match propagate_mandatory(&mut pruned, inst) {
            Err(reason) => {
                feasibility = Feasibility::Infeasible {
                    proven: true,
                    reason,
                }
            }
            Ok(()) => {
                p = pruned;
                ctl.report(Phase::Mandatory, 0, 0);
                let budget = ctl.budget(0.6);
                let mut c = Complete::new(&p, mandatory.clone(), opts.seed ^ 0x11);
                let found = c.run(&mut ctl, &budget);
                iterations += c.iterations;
                match found {
                    Some(s) => st = s,
                    None => {
                        feasibility = Feasibility::Infeasible {
                            proven: false,
                            reason: format!(
                                "no schedule holding all {} mandatory meetings was found within the limits \
                                 (infeasibility not proven)",
                                mandatory.len()
                            ),
                        }
                    }
                }
            }
        }
    }
    let p = p;
    keep_previous(&p, &mut st);
    ctl.report(Phase::Weight, st.weight, 0);
    let optional = (0..p.reqs.len()).any(|r| st.slot[r] == NONE && p.reqs[r].domain != 0);
    let mut sel = Select::new(&p, st, opts.seed ^ 0x22);
    // Only a proof lets mandatory meetings compete: when the search merely ran out of time
    // placing them, they keep their protection (as the JAIR runs always had).
    sel.keep_mandatory = !matches!(feasibility, Feasibility::Infeasible { proven: true, .. });
    sel.construct();
    let construction_weight = base_weight(&p, &sel.st);
    if optional {
        let budget = ctl.budget(0.75);
        sel.improve(&mut ctl, &budget);
    }
    iterations += sel.iterations;
    let st = sel.st;
    let weight = st.weight;
    ctl.report(Phase::Breaks, weight, 0);
    let mut br = Breaks::new(&p, st, opts.seed ^ 0x33);
    let initial_breaks = br.key().1;
    // Leave time for the tables and the verification after the search
    // (about 10 µs per held meeting, and 0.7 µs per step of the table walk).
    let left = secs_left(&ctl);
    let held = br.st.held;
    let reserve = 10e-6 * held as f64 + 0.7e-6 * crate::tables::walk_steps(held) as f64;
    // A work budget: shares that do not depend on the clock, so that runs
    // stay reproducible.
    let work = opts.iteration_limit.is_some();
    let share = end_share(&ctl, reserve, work);
    // The exact phase only pays with a few seconds: the annealing keeps at
    // least its first EXACT_AFTER (where it finds its best on the JAIR
    // instances), so short runs are unchanged.
    let exact_share = opts.exact_share.clamp(0.0, 1.0);
    let gate = if work {
        opts.time_limit.as_secs_f64()
    } else {
        left
    };
    let with_exact = exact_share > 0.0
        && gate * exact_share >= EXACT_AFTER.as_secs_f64()
        && exact::applicable(&p, &br.st);
    let anneal_share = if !with_exact {
        share
    } else if work {
        share * (1.0 - exact_share)
    } else {
        (share * (1.0 - exact_share)).max((EXACT_AFTER.as_secs_f64() / left).min(share))
    };
    let budget = ctl.budget(anneal_share);
    let mut proven = br.run(&mut ctl, &budget, weight, opts.idle_weight);
    if with_exact && !proven && !ctl.cancelled {
        // Declined (e.g. the annealing has not met fairness yet) or stalled:
        // the rest of the time goes back to the annealing, from the best found.
        let hand_back = match exact::Exact::new(&p, &br.st, &br.part_lb, br.lower_bound) {
            Some(mut exact) => {
                // Its work count starts at 0: in a work budget it gets the
                // rest of the shared limit.
                let budget = if work {
                    ctl.budget(share - anneal_share)
                } else {
                    ctl.budget(end_share(&ctl, reserve, work))
                };
                let ended = exact.search(&mut br.st, &mut ctl, &budget, weight);
                proven = ended == exact::Ended::Proven;
                br.lower_bound = br.lower_bound.max(exact.lower_bound);
                iterations += exact.decisions();
                br.resync();
                ended == exact::Ended::Stalled
            }
            None => true,
        };
        if hand_back && !ctl.cancelled {
            let budget = ctl.budget(end_share(&ctl, reserve, work));
            proven = br.run(&mut ctl, &budget, weight, opts.idle_weight);
        }
    }
    let breaks_lower_bound = br.lower_bound;
    let fairness_excess_lower_bound = br.excess_lb;
    iterations += br.iterations;
    let st = br.st;
    ctl.report(Phase::Tables, weight, 0);
    let schedule = crate::tables::to_schedule(inst, &p, &st);
    let objective = match verify(inst, &schedule) {
        Ok(o) => o,
        Err(v) => panic!("internal error: the solver produced an invalid schedule: {v:?}"),
    };
    let unscheduled = (0..p.reqs.len())
        .filter(|&r| st.slot[r] == NONE)
        .map(|r| (inst.requests[r].id.clone(), reason(inst, &p, &st, r)))
        .collect();
    let gap = if upper_bound == 0 {
        0.0
    } else {
        (upper_bound - objective.weight.min(upper_bound)) as f64 / upper_bound as f64
    };
    let seconds = (Instant::now() - ctl.start).as_secs_f64();
    Ok(Solution {
        schedule,
        unscheduled,
        feasibility,
        objective,
        upper_bound,
        gap,
        breaks_lower_bound,
        fairness_excess_lower_bound,
        stats: Stats {
            seconds,
            seconds_to_best: ctl.last_improvement.min(seconds),
            iterations,
            construction_weight,
            initial_breaks,
            proven_optimal: proven
                && objective.mandatory_missed == 0
                && objective.weight == upper_bound,
            cancelled: ctl.cancelled,
        },
    })
}

fn secs_left(ctl: &Ctl) -> f64 {
    ctl.deadline
        .saturating_duration_since(Instant::now())
        .as_secs_f64()
}

/// Share of the time left that a phase running until the end may use,
/// leaving `reserve` seconds for the tables and the verification (a fixed
/// share under a work budget, which must not depend on the clock).
fn end_share(ctl: &Ctl, reserve: f64, work: bool) -> f64 {
    let left = secs_left(ctl);
    if left > 0.0 && !work {
        (0.98 - reserve / left).clamp(0.5, 0.98)
    } else {
        0.98
    }
}

fn base_weight(p: &Problem, st: &State) -> u64 {
    (0..p.reqs.len())
        .filter(|&r| st.slot[r] != NONE)
        .map(|r| u64::from(p.reqs[r].base))
        .sum()
}

fn reason(inst: &Instance, p: &Problem, st: &State, r: usize) -> Reason {
    let req = &p.reqs[r];
    if req.domain == 0 {
        return Reason::NoCommonAvailability;
    }
    if let Some(&q) = req
        .members
        .iter()
        .find(|&&q| st.load[q as usize] >= p.parts[q as usize].max)
    {
        return Reason::ParticipantLimit {
            participant: inst.participants[q as usize].id.clone(),
        };
    }
    let free = req
        .members
        .iter()
        .fold(req.domain, |m, &q| m & !st.busy[q as usize]);
    if free != 0 && req.onsite && bits(free).all(|t| st.count[t] >= p.cap[t]) {
        return Reason::Capacity;
    }
    Reason::Conflicts
}

/// Domain propagation over the mandatory requests (fixed slots, precedences,
/// one meeting per participant and slot) followed by a Hall check per
/// participant. Removes impossible slots from mandatory domains; returns the
/// reason when the mandatory set is proven infeasible.
fn propagate_mandatory(p: &mut Problem, inst: &Instance) -> Result<(), String> {
    let n = p.reqs.len();
    let name = |_: &Problem, r: usize| format!("mandatory request \"{}\"", inst.requests[r].id);
    let mut total_onsite = 0u64;
    for r in 0..n {
        if p.reqs[r].mandatory {
            if p.reqs[r].domain == 0 {
                return Err(format!(
                    "{}: its participants have no common allowed slot",
                    name(p, r)
                ));
            }
            total_onsite += u64::from(p.reqs[r].onsite);
        }
    }
    let tables: u64 = p.cap.iter().map(|&c| u64::from(c)).sum();
    if total_onsite > tables {
        return Err(format!(
            "{total_onsite} mandatory on-site meetings but only {tables} table-slots"
        ));
    }
    for (q, part) in p.parts.iter().enumerate() {
        let k = part
            .reqs
            .iter()
            .filter(|&&r| p.reqs[r as usize].mandatory)
            .count() as u32;
        if k > part.max {
            return Err(format!(
                "participant \"{}\" has {k} mandatory meetings but a maximum of {}",
                inst.participants[q].id, part.max
            ));
        }
    }
    let mut changed = true;
    let mut rounds = 0;
    while changed && rounds < 50 {
        changed = false;
        rounds += 1;
        // Singletons: a participant's other mandatory meetings cannot use that slot.
        for r in 0..n {
            let req = &p.reqs[r];
            if !req.mandatory || req.domain.count_ones() != 1 {
                continue;
            }
            let d = req.domain;
            let members = req.members.clone();
            for q in members {
                for &o in &p.parts[q as usize].reqs.clone() {
                    let o = o as usize;
                    if o != r && p.reqs[o].mandatory && p.reqs[o].domain & d != 0 {
                        p.reqs[o].domain &= !d;
                        changed = true;
                        if p.reqs[o].domain == 0 {
                            return Err(format!(
                                "{} has no slot left once the fixed or forced meetings of its participants are placed",
                                name(p, o)
                            ));
                        }
                    }
                }
            }
        }
        // Per slot: meetings forced into it must fit the tables.
        for t in 0..p.n_slots {
            let forced = (0..n)
                .filter(|&r| p.reqs[r].mandatory && p.reqs[r].onsite && p.reqs[r].domain == bit(t))
                .count();
            if forced as u32 > p.cap[t] {
                return Err(format!(
                    "{forced} mandatory meetings are forced into slot \"{}\" which has {} tables",
                    inst.slots[t].id, p.cap[t]
                ));
            }
        }
        // Precedence bounds between mandatory requests.
        for r in 0..n {
            if !p.reqs[r].mandatory {
                continue;
            }
            for k in 0..p.reqs[r].preds.len() {
                let a = p.reqs[r].preds[k] as usize;
                if !p.reqs[a].mandatory {
                    continue;
                }
                let earliest_a = p.reqs[a].domain.trailing_zeros();
                let latest_r = 127 - p.reqs[r].domain.leading_zeros();
                // r must be after the earliest slot of a; a before the latest of r.
                let below = |k: u32| 1u128.checked_shl(k).map_or(u128::MAX, |v| v - 1);
                let keep_r = !below(earliest_a + 1);
                let keep_a = below(latest_r);
                for (x, keep) in [(r, keep_r), (a, keep_a)] {
                    if p.reqs[x].domain & !keep != 0 {
                        p.reqs[x].domain &= keep;
                        changed = true;
                        if p.reqs[x].domain == 0 {
                            return Err(format!("{} cannot satisfy its precedences", name(p, x)));
                        }
                    }
                }
            }
        }
    }
    // Hall check per participant: its mandatory meetings need distinct slots.
    for (q, part) in p.parts.iter().enumerate() {
        let doms: Vec<u128> = part
            .reqs
            .iter()
            .filter(|&&r| p.reqs[r as usize].mandatory)
            .map(|&r| p.reqs[r as usize].domain)
            .collect();
        let matched = match_slots(&doms).0;
        if matched < doms.len() {
            let union = doms.iter().fold(0u128, |a, &b| a | b).count_ones();
            return Err(format!(
                "participant \"{}\" has {} mandatory meetings but they fit in at most {matched} distinct slots \
                 ({union} usable slots)",
                inst.participants[q].id,
                doms.len()
            ));
        }
    }
    Ok(())
}
