//! Property tests: on random tiny instances the verifier accepts the solver's
//! schedule and its objective equals the brute-force optimum.

use std::collections::HashSet;
use std::time::Duration;

use kontor_schedule::{
    Feasibility, Instance, Mode, Objective, Participant, Request, Schedule, ScheduledMeeting, Slot,
    SolveOptions, solve_quiet, verify,
};

use crate::TestRng;

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
            unavailable: (0..n_slots)
                .filter(|_| rng.below(5) == 0)
                .map(|t| format!("s{t}"))
                .collect(),
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
        let a = rng.below(n_parts as u64) as usize;
        let mut b = rng.below(n_parts as u64 - 1) as usize;
        if b >= a {
            b += 1;
        }
        let mut people = vec![format!("p{a}"), format!("p{b}")];
        if rng.below(6) == 0 {
            let c = (0..n_parts)
                .find(|&c| c != a && c != b)
                .expect("3 participants");
            people.push(format!("p{c}"));
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
            after: if k > 0 && rng.below(6) == 0 {
                vec![format!("r{}", k - 1)]
            } else {
                Vec::new()
            },
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

/// Best objective over every assignment (tables given in order); with `held`,
/// only over the assignments that hold exactly those requests.
fn brute_force(inst: &Instance, held: Option<&HashSet<&str>>) -> Objective {
    let n = inst.requests.len();
    let base = inst.slots.len() + 1;
    let mut best: Option<Objective> = None;
    let total = base.pow(n as u32);
    for code in 0..total {
        let mut c = code;
        let mut meetings = Vec::new();
        let mut used = vec![0u32; inst.slots.len()];
        let mut skip = false;
        for r in &inst.requests {
            let choice = c % base;
            c /= base;
            if held.is_some_and(|h| h.contains(r.id.as_str()) != (choice > 0)) {
                skip = true;
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
        if skip {
            continue;
        }
        if let Ok(o) = verify(inst, &Schedule { meetings })
            && best.is_none_or(|b| key(&o) > key(&b))
        {
            best = Some(o);
        }
    }
    best.expect("the empty schedule is always valid")
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
    for case in 0..150 {
        let inst = random_instance(&mut rng);
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
    // Another set of equal weight with fewer breaks is rare.
    assert!(
        differing_sets <= 10,
        "{differing_sets} cases where another set of equal weight has fewer breaks"
    );
}

/// Tiny one-day instances where the fairness bound is often out of reach:
/// every request mandatory, many fixed slots (which force breaks), and
/// participants with one meeting or none (who never break).
fn unfair_instance(rng: &mut TestRng) -> Instance {
    let n_slots = 5;
    let slots: Vec<Slot> = (0..n_slots)
        .map(|t| Slot {
            id: format!("s{t}"),
            day: 0,
            session: None,
            tables: None,
        })
        .collect();
    let n_parts = 5 + rng.below(2) as usize;
    let participants: Vec<Participant> = (0..n_parts)
        .map(|i| Participant {
            id: format!("p{i}"),
            unavailable: (0..n_slots)
                .filter(|_| rng.below(6) == 0)
                .map(|t| format!("s{t}"))
                .collect(),
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
