//! Property tests: on random tiny instances the verifier accepts the solver's
//! schedule and its objective equals the brute-force optimum.

use std::collections::HashSet;
use std::time::Duration;

use kontor_schedule::{
    Feasibility, Instance, Mode, Objective, Participant, Request, Schedule, ScheduledMeeting, Slot,
    SolveOptions, solve_quiet, verify,
};

use crate::TestRng;

/// Slots a participant is away: each with a chance of one in `one_in`.
fn away(rng: &mut TestRng, n_slots: usize, one_in: u64) -> Vec<String> {
    (0..n_slots)
        .filter(|_| rng.below(one_in) == 0)
        .map(|t| format!("s{t}"))
        .collect()
}

/// Now and then (one in `one_in`), request `k` comes after the one before it.
fn after_previous(rng: &mut TestRng, k: usize, one_in: u64) -> Vec<String> {
    if k > 0 && rng.below(one_in) == 0 {
        vec![format!("r{}", k - 1)]
    } else {
        Vec::new()
    }
}

fn random_instance(rng: &mut TestRng) -> Instance {
    let n_slots = 2 + rng.below(3) as usize;
    let two_days = n_slots >= 4 && rng.below(2) == 0;
    let slots: Vec<Slot> = (0..n_slots)
        .map(|t| Slot {
            id: format!("s{t}"),
            day: u32::from(two_days && t >= n_slots / 2),
            session: Some(if t % 2 == 0 { "am" } else { "pm" }.to_string()),
            tables: None,
        })
        .collect();
    let n_parts = 3 + rng.below(3) as usize;
    let participants: Vec<Participant> = (0..n_parts)
        .map(|i| Participant {
            id: format!("p{i}"),
            unavailable: away(rng, n_slots, 5),
            max_meetings: (rng.below(5) == 0).then(|| 1 + rng.below(2) as u32),
            preferred_sessions: if rng.below(4) == 0 {
                vec!["am".to_string()]
            } else {
                Vec::new()
            },
            ..Participant::default()
        })
        .collect();
    let n_req = 2 + rng.below(4) as usize;
    let mut requests = Vec::new();
    for k in 0..n_req {
        let (a, b) = pair(rng, n_parts);
        let mut people = vec![format!("p{a}"), format!("p{b}")];
        // Now and then a small group: three, or four where there are four.
        if rng.below(6) == 0 {
            let size = if n_parts >= 4 && rng.below(2) == 0 {
                4
            } else {
                3
            };
            let others = (0..n_parts).filter(|&c| c != a && c != b);
            people.extend(others.take(size - 2).map(|c| format!("p{c}")));
        }
        requests.push(Request {
            id: format!("r{k}"),
            participants: people,
            weight: Some(1 + rng.below(3) as u32),
            sessions: if rng.below(6) == 0 {
                vec!["pm".to_string()]
            } else {
                Vec::new()
            },
            mode: if rng.below(5) == 0 {
                Mode::Online
            } else {
                Mode::OnSite
            },
            mandatory: rng.below(6) == 0,
            after: after_previous(rng, k, 6),
            ..Request::default()
        });
    }
    Instance {
        name: None,
        tables: 1 + rng.below(2) as u32,
        fairness: (rng.below(3) == 0).then(|| rng.below(2) as u32),
        slots,
        participants,
        requests,
        previous: None,
    }
}

/// Most preferences met, then fewest changes, over the assignments holding exactly `held` that
/// are as good as `best` on levels (1)–(3).
fn brute_force_below(inst: &Instance, held: &HashSet<&str>, best: &Objective) -> (u32, u32) {
    let mut out: Option<(u32, u32)> = None;
    each_schedule(inst, Some(held), |o| {
        if key(o) == key(best) {
            let candidate = (o.preferences_met, o.changes);
            let better = |(p, c): (u32, u32), (bp, bc): (u32, u32)| p > bp || (p == bp && c < bc);
            if out.is_none_or(|b| better(candidate, b)) {
                out = Some(candidate);
            }
        }
    });
    out.expect("the solver's own schedule is one of them")
}

/// Best objective over every assignment (tables given in order); with `held`,
/// only over the assignments that hold exactly those requests.
fn brute_force(inst: &Instance, held: Option<&HashSet<&str>>) -> Objective {
    let mut best: Option<Objective> = None;
    each_schedule(inst, held, |o| {
        if best.is_none_or(|b| key(o) > key(&b)) {
            best = Some(*o);
        }
    });
    best.expect("the empty schedule is always valid")
}

/// Calls `f` with the objective of every valid assignment (tables given in order); with
/// `held`, only of those that hold exactly those requests.
fn each_schedule(inst: &Instance, held: Option<&HashSet<&str>>, mut f: impl FnMut(&Objective)) {
    let n = inst.requests.len();
    let base = inst.slots.len() + 1;
    let total = base.pow(n as u32);
    'assignment: for code in 0..total {
        let mut c = code;
        let mut meetings = Vec::new();
        let mut used = vec![0u32; inst.slots.len()];
        for r in &inst.requests {
            let choice = c % base;
            c /= base;
            if held.is_some_and(|h| h.contains(r.id.as_str()) != (choice > 0)) {
                continue 'assignment;
            }
            if choice > 0 {
                let t = choice - 1;
                let table = (r.mode == Mode::OnSite).then(|| {
                    used[t] += 1;
                    used[t]
                });
                meetings.push(ScheduledMeeting {
                    request: r.id.clone(),
                    slot: inst.slots[t].id.clone(),
                    table,
                });
            }
        }
        if let Ok(o) = verify(inst, &Schedule { meetings }) {
            f(&o);
        }
    }
}

/// Levels (1)–(3) as a maximisation key.
fn key(o: &Objective) -> (i64, u64, i64, i64) {
    (
        -i64::from(o.mandatory_missed),
        o.weight,
        -i64::from(o.fairness_excess),
        -i64::from(o.breaks),
    )
}

/// A published schedule to re-optimise against: some requests in some slot (not necessarily
/// still possible there).
fn random_previous(inst: &Instance, rng: &mut TestRng) -> Schedule {
    let n_slots = inst.slots.len() as u64;
    let meetings = inst.requests.iter().filter_map(|r| {
        let t = rng.below(2 * n_slots);
        (t < n_slots).then(|| ScheduledMeeting {
            request: r.id.clone(),
            slot: inst.slots[t as usize].id.clone(),
            table: None,
        })
    });
    Schedule {
        meetings: meetings.collect(),
    }
}

#[test]
fn solver_matches_brute_force_on_tiny_instances() {
    let mut rng = TestRng(7);
    let opts = SolveOptions {
        time_limit: Duration::from_secs(5),
        seed: 3,
        iteration_limit: Some(20_000),
        ..SolveOptions::default()
    };
    let mut differing_sets = 0;
    let mut unfair_proven = 0;
    let (mut with_previous, mut groups_of_four) = (0, 0);
    for case in 0..150 {
        let mut inst = random_instance(&mut rng);
        groups_of_four += inst
            .requests
            .iter()
            .filter(|r| r.participants.len() == 4)
            .count();
        if case % 3 == 0 {
            inst.previous = Some(random_previous(&inst, &mut TestRng(case)));
        }
        inst.validate().expect("generated instance is valid");
        let sol = solve_quiet(&inst, &opts).expect("solves");
        let obj = verify(&inst, &sol.schedule)
            .unwrap_or_else(|v| panic!("case {case}: invalid schedule {v:?}"));
        assert_eq!(
            obj, sol.objective,
            "case {case}: reported objective differs from the verifier's"
        );
        let best = brute_force(&inst, None);
        // Levels (1) and (2): the global optimum.
        assert_eq!(
            (key(&obj).0, key(&obj).1),
            (key(&best).0, key(&best).1),
            "case {case}: {obj:?} vs {best:?}\n{}",
            inst.to_json()
        );
        // Level (3) is optimised on the held set chosen at level (2): the
        // optimum over schedules holding exactly that set.
        let set: HashSet<&str> = sol
            .schedule
            .meetings
            .iter()
            .map(|m| m.request.as_str())
            .collect();
        let same_set = brute_force(&inst, Some(&set));
        assert_eq!(
            key(&obj),
            key(&same_set),
            "case {case}: {obj:?} vs {same_set:?}\n{}",
            inst.to_json()
        );
        // Then levels (4) and (5): the most preferences met, the fewest changes, among the
        // schedules of that set that are best so far.
        let best_below = brute_force_below(&inst, &set, &same_set);
        assert_eq!(
            (obj.preferences_met, obj.changes),
            best_below,
            "case {case}: {obj:?}\n{}",
            inst.to_json()
        );
        if inst.previous.is_some() && obj.changes > 0 {
            with_previous += 1;
        }
        // The lower bound on breaks holds for every schedule of that set.
        assert!(
            sol.breaks_lower_bound <= same_set.breaks,
            "case {case}: breaks bound {} above the optimum {}\n{}",
            sol.breaks_lower_bound,
            same_set.breaks,
            inst.to_json()
        );
        // So does the one on the fairness excess.
        assert!(
            sol.fairness_excess_lower_bound <= same_set.fairness_excess,
            "case {case}: fairness excess bound {} above the optimum {}\n{}",
            sol.fairness_excess_lower_bound,
            same_set.fairness_excess,
            inst.to_json()
        );
        if sol.fairness_excess_lower_bound > 0 {
            unfair_proven += 1;
        }
        if key(&obj) != key(&best) {
            differing_sets += 1;
        }
        assert!(
            sol.upper_bound >= obj.weight,
            "case {case}: bound below the optimum"
        );
        if best.mandatory_missed > 0 {
            assert!(
                matches!(sol.feasibility, Feasibility::Infeasible { .. }),
                "case {case}"
            );
        } else {
            assert_eq!(sol.feasibility, Feasibility::Feasible, "case {case}");
        }
    }
    // The fairness bound is exercised (each proof was checked above).
    assert!(
        unfair_proven > 0,
        "no case proved the fairness bound unreachable"
    );
    // Some previous schedules could not be kept as they were, and groups of four were met.
    assert!(with_previous > 5, "{with_previous}");
    assert!(groups_of_four > 3, "{groups_of_four}");
    // Another set of equal weight with fewer breaks is rare.
    assert!(
        differing_sets <= 10,
        "{differing_sets} cases where another set of equal weight has fewer breaks"
    );
}

/// `n` slots of one day, without sessions.
fn one_day(n: usize) -> Vec<Slot> {
    let slot = |t| Slot {
        id: format!("s{t}"),
        day: 0,
        session: None,
        tables: None,
    };
    (0..n).map(slot).collect()
}

/// Two different participants of `n`.
fn pair(rng: &mut TestRng, n: usize) -> (usize, usize) {
    let a = rng.below(n as u64) as usize;
    let b = rng.below(n as u64 - 1) as usize;
    (a, if b >= a { b + 1 } else { b })
}

/// Tiny one-day instances where the fairness bound is often out of reach:
/// every request mandatory, many fixed slots (which force breaks), and
/// participants with one meeting or none (who never break).
fn unfair_instance(rng: &mut TestRng) -> Instance {
    let n_slots = 5;
    let slots = one_day(n_slots);
    let n_parts = 5 + rng.below(2) as usize;
    let participants: Vec<Participant> = (0..n_parts)
        .map(|i| Participant {
            id: format!("p{i}"),
            unavailable: away(rng, n_slots, 6),
            ..Participant::default()
        })
        .collect();
    let n_req = 4 + rng.below(2) as usize;
    let requests = (0..n_req)
        .map(|k| {
            // The first three participants meet most often.
            let a = rng.below(3) as usize;
            let mut b = rng.below(n_parts as u64 - 1) as usize;
            if b >= a {
                b += 1;
            }
            Request {
                id: format!("r{k}"),
                participants: vec![format!("p{a}"), format!("p{b}")],
                fixed_slot: (rng.below(10) < 3).then(|| format!("s{}", rng.below(n_slots as u64))),
                mandatory: true,
                ..Request::default()
            }
        })
        .collect();
    Instance {
        name: None,
        tables: 2,
        fairness: Some(rng.below(2) as u32),
        slots,
        participants,
        requests,
        previous: None,
    }
}

#[test]
fn fairness_excess_bound_never_exceeds_the_brute_force_optimum() {
    let mut rng = TestRng(0x0fa1_2e55);
    let opts = SolveOptions {
        time_limit: Duration::from_secs(10),
        iteration_limit: Some(20_000),
        ..SolveOptions::default()
    };
    let (mut checked, mut positive, mut tight) = (0, 0, 0);
    for case in 0..200 {
        let inst = unfair_instance(&mut rng);
        if inst.validate().is_err() {
            continue;
        }
        let sol = solve_quiet(&inst, &opts).expect("solves");
        if sol.objective.held as usize != inst.requests.len() {
            continue;
        }
        checked += 1;
        let best = brute_force(&inst, None);
        assert!(
            sol.fairness_excess_lower_bound <= best.fairness_excess,
            "case {case}: fairness excess bound {} above the optimum {}\n{}",
            sol.fairness_excess_lower_bound,
            best.fairness_excess,
            inst.to_json()
        );
        // The walk must be able to pass through unfair schedules to get here
        // (breaks.rs, FAIR_WALK).
        assert_eq!(
            key(&sol.objective),
            key(&best),
            "case {case}\n{}",
            inst.to_json()
        );
        if sol.fairness_excess_lower_bound > 0 {
            positive += 1;
            tight += usize::from(sol.fairness_excess_lower_bound == best.fairness_excess);
        }
    }
    // The generator must exercise the bound, or the checks above prove nothing.
    assert!(checked >= 80, "only {checked} instances held every meeting");
    assert!(
        positive >= 20,
        "the bound was above 0 in only {positive} of {checked}"
    );
    eprintln!("{checked} checked, bound above 0 in {positive}, equal to the optimum in {tight}");
}

/// Tiny instances with five tables, on-site meetings only and some exhibitors' booths (so that
/// a slot's meetings always fit at tables that are nobody else's booth): the tables are the
/// question.
fn tables_instance(rng: &mut TestRng) -> Instance {
    let n_slots = 3 + rng.below(2) as usize;
    let slots = one_day(n_slots);
    let n_parts = 4 + rng.below(3) as usize;
    let participants: Vec<Participant> = (0..n_parts)
        .map(|i| Participant {
            id: format!("p{i}"),
            table: (i < 2 && rng.below(3) == 0).then(|| i as u32 + 1),
            ..Participant::default()
        })
        .collect();
    let requests = (0..4 + rng.below(3) as usize)
        .map(|k| {
            let (a, b) = pair(rng, n_parts);
            Request {
                id: format!("r{k}"),
                participants: vec![format!("p{a}"), format!("p{b}")],
                ..Request::default()
            }
        })
        .collect();
    Instance {
        name: None,
        tables: 5,
        fairness: None,
        slots,
        participants,
        requests,
        previous: None,
    }
}

/// Fewest table changes of `schedule`'s meetings in their slots, over every way to seat them
/// that leaves each booth to its exhibitor.
fn fewest_table_changes(inst: &Instance, schedule: &Schedule) -> u32 {
    let n = schedule.meetings.len();
    let tables = inst.tables as usize;
    // The booths a meeting may not take: those of participants not in it.
    let foreign: Vec<Vec<u32>> = schedule
        .meetings
        .iter()
        .map(|m| {
            let request = inst.requests.iter().find(|r| r.id == m.request).unwrap();
            let others = inst.participants.iter();
            let others = others.filter(|q| !request.participants.contains(&q.id));
            others.filter_map(|q| q.table).collect()
        })
        .collect();
    let mut best = u32::MAX;
    'seating: for code in 0..tables.pow(n as u32) {
        let mut c = code;
        let mut seated = schedule.clone();
        for (i, m) in seated.meetings.iter_mut().enumerate() {
            let k = (c % tables) as u32 + 1;
            c /= tables;
            if foreign[i].contains(&k) {
                continue 'seating;
            }
            m.table = Some(k);
        }
        if let Ok(o) = verify(inst, &seated) {
            best = best.min(o.table_changes);
        }
    }
    best
}

#[test]
fn tables_change_as_little_as_the_slots_allow() {
    let mut rng = TestRng(0x7ab1e5);
    let opts = SolveOptions {
        time_limit: Duration::from_secs(5),
        iteration_limit: Some(5_000),
        ..SolveOptions::default()
    };
    let (mut cases, mut with_changes) = (0, 0);
    for case in 0..150 {
        let inst = tables_instance(&mut rng);
        let sol = solve_quiet(&inst, &opts).expect("solves");
        let fewest = fewest_table_changes(&inst, &sol.schedule);
        assert_eq!(
            sol.objective.table_changes,
            fewest,
            "case {case}: {:?}\n{}",
            sol.schedule,
            inst.to_json()
        );
        cases += 1;
        if fewest > 0 {
            with_changes += 1;
        }
    }
    // Not only trivial cases: some need a change however they are seated.
    assert!(with_changes > 10, "{with_changes} of {cases}");
}

/// Larger random instances with many mandatory meetings, limits, booths, precedences and now and
/// then a previous schedule: the search's moves (ejection chains, room made by mandatory
/// meetings, their undo) must always leave a schedule the verifier accepts.
#[test]
fn every_move_leaves_a_valid_schedule_on_random_instances() {
    let mut rng = TestRng(0x5eed_cafe);
    let opts = SolveOptions {
        time_limit: Duration::from_secs(10),
        iteration_limit: Some(3_000),
        ..SolveOptions::default()
    };
    let mut infeasible = 0;
    for case in 0..400 {
        let n_slots = 3 + rng.below(4) as usize;
        let n_parts = 4 + rng.below(5) as usize;
        let participants: Vec<Participant> = (0..n_parts)
            .map(|i| Participant {
                id: format!("p{i}"),
                unavailable: away(&mut rng, n_slots, 6),
                max_meetings: (rng.below(3) == 0).then(|| 1 + rng.below(3) as u32),
                table: (i < 2 && rng.below(3) == 0).then(|| i as u32 + 1),
                ..Participant::default()
            })
            .collect();
        let requests: Vec<Request> = (0..4 + rng.below(10) as usize)
            .map(|k| {
                let (a, b) = pair(&mut rng, n_parts);
                Request {
                    id: format!("r{k}"),
                    participants: vec![format!("p{a}"), format!("p{b}")],
                    weight: Some(1 + rng.below(3) as u32),
                    mandatory: rng.below(3) == 0,
                    mode: if rng.below(4) == 0 {
                        Mode::Online
                    } else {
                        Mode::OnSite
                    },
                    after: after_previous(&mut rng, k, 8),
                    ..Request::default()
                }
            })
            .collect();
        let mut inst = Instance {
            name: None,
            tables: 2 + rng.below(2) as u32,
            fairness: None,
            slots: one_day(n_slots),
            participants,
            requests,
            previous: None,
        };
        if case % 4 == 0 {
            inst.previous = Some(random_previous(&inst, &mut TestRng(case)));
        }
        let sol = solve_quiet(&inst, &opts).expect("solves");
        verify(&inst, &sol.schedule)
            .unwrap_or_else(|v| panic!("case {case}: {v:?}\n{}", inst.to_json()));
        if sol.objective.mandatory_missed > 0 {
            infeasible += 1;
        }
    }
    // The cases where mandatory meetings compete are among them.
    assert!(infeasible > 20, "{infeasible}");
}
