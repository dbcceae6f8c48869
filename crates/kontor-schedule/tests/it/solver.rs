//! Solver behaviour: verifier, bound, determinism, limits, cancellation,
//! infeasibility reasons, tables and the previous schedule.

use std::time::{Duration, Instant};

use kontor_schedule::generate::{Config, generate};
use kontor_schedule::{
    Control, Feasibility, Instance, Phase, Reason, Schedule, SolveOptions, dzn, solve, solve_quiet,
    verify,
};

fn medium(seed: u64) -> Instance {
    generate(&Config {
        participants: 80,
        requests: 500,
        slots: 10,
        days: 2,
        tables: 20,
        group_share: 0.05,
        seed,
    })
}

#[test]
fn generated_event_solution_is_valid_and_bounded() {
    const ITERATIONS: u64 = 300_000;
    let inst = medium(1);
    // A fixed amount of search, not of time: on a loaded machine (CI runs tests in parallel)
    // 700 ms once left too little search for the gap asserted below.
    let opts = SolveOptions {
        time_limit: Duration::from_secs(60),
        iteration_limit: Some(ITERATIONS),
        ..SolveOptions::default()
    };
    let sol = solve_quiet(&inst, &opts).expect("valid instance");
    let obj = verify(&inst, &sol.schedule).expect("verifier accepts");
    assert_eq!(obj, sol.objective);
    assert!(obj.weight <= sol.upper_bound);
    assert!(sol.gap >= 0.0 && sol.gap < 0.1, "gap {}", sol.gap);
    assert_eq!(
        sol.schedule.meetings.len() + sol.unscheduled.len(),
        inst.requests.len()
    );
    assert!(
        sol.unscheduled
            .iter()
            .any(|(_, r)| *r == Reason::NoCommonAvailability || *r == Reason::Conflicts)
    );
    // The optimiser beats the first-fit greedy.
    let greedy =
        verify(&inst, &kontor_schedule::greedy::first_fit(&inst)).expect("greedy verifies");
    assert!(
        obj.weight > greedy.weight,
        "{} vs greedy {}",
        obj.weight,
        greedy.weight
    );
    // Schedules round-trip through JSON.
    assert_eq!(
        Schedule::from_json(&sol.schedule.to_json()).expect("parses"),
        sol.schedule
    );
}

#[test]
fn same_seed_same_schedule() {
    let inst = medium(2);
    let opts = SolveOptions {
        time_limit: Duration::from_secs(30),
        seed: 9,
        iteration_limit: Some(30_000),
        ..SolveOptions::default()
    };
    let a = solve_quiet(&inst, &opts).expect("solves");
    let b = solve_quiet(&inst, &opts).expect("solves");
    assert_eq!(a.schedule, b.schedule);
    assert_eq!(a.objective, b.objective);
}

#[test]
fn time_limit_is_honoured() {
    let inst = generate(&Config::small(3));
    let limit = Duration::from_millis(400);
    let t = Instant::now();
    let sol = solve_quiet(
        &inst,
        &SolveOptions {
            time_limit: limit,
            ..SolveOptions::default()
        },
    )
    .expect("solves");
    let elapsed = t.elapsed();
    assert!(
        elapsed < limit + Duration::from_millis(600),
        "took {elapsed:?}"
    );
    verify(&inst, &sol.schedule).expect("valid");
}

#[test]
fn progress_is_reported_and_cancel_stops() {
    let inst = medium(4);
    let mut phases = Vec::new();
    let opts = SolveOptions {
        time_limit: Duration::from_secs(20),
        ..SolveOptions::default()
    };
    let t = Instant::now();
    let sol = solve(&inst, &opts, &mut |p| {
        assert!((0.0..=1.0).contains(&p.fraction));
        phases.push(p.phase);
        if p.phase == Phase::Weight && phases.len() > 3 {
            Control::Stop
        } else {
            Control::Continue
        }
    })
    .expect("solves");
    assert!(t.elapsed() < Duration::from_secs(5), "cancel ignored");
    assert!(sol.stats.cancelled);
    assert!(phases.contains(&Phase::Bound) && phases.contains(&Phase::Weight));
    verify(&inst, &sol.schedule).expect("a cancelled run still returns a valid schedule");
}

fn tiny(extra_requests: &str, slots: usize) -> Instance {
    let slots: Vec<String> = (1..=slots)
        .map(|s| format!(r#"{{"id": "s{s}"}}"#))
        .collect();
    Instance::from_json(&format!(
        r#"{{"tables": 3, "slots": [{}],
        "participants": [{{"id": "a"}}, {{"id": "b", "unavailable": ["s1"]}}, {{"id": "c", "available": ["s1"]}}],
        "requests": [{extra_requests}]}}"#,
        slots.join(",")
    ))
    .expect("valid")
}

#[test]
fn infeasible_mandatory_sets_are_reported_with_the_reason() {
    // b and c share no slot.
    let inst = tiny(
        r#"{"id": "bc", "participants": ["b", "c"], "mandatory": true}"#,
        2,
    );
    let sol = solve_quiet(&inst, &SolveOptions::default()).expect("solves");
    match &sol.feasibility {
        Feasibility::Infeasible { proven, reason } => {
            assert!(proven);
            assert!(
                reason.contains("\"bc\"") && reason.contains("no common"),
                "{reason}"
            );
        }
        f => panic!("expected infeasible, got {f:?}"),
    }
    assert_eq!(
        sol.unscheduled,
        vec![("bc".to_string(), Reason::NoCommonAvailability)]
    );
    // a has three mandatory meetings but there are two slots.
    let inst = tiny(
        r#"{"id": "ab", "participants": ["a", "b"], "mandatory": true},
           {"id": "ac", "participants": ["a", "c"], "mandatory": true},
           {"id": "abc", "participants": ["a", "b", "c"], "weight": 2, "mandatory": true}"#,
        2,
    );
    let sol = solve_quiet(&inst, &SolveOptions::default()).expect("solves");
    match &sol.feasibility {
        Feasibility::Infeasible {
            proven: true,
            reason,
        } => assert!(reason.contains("participant"), "{reason}"),
        f => panic!("expected proven infeasible, got {f:?}"),
    }
    assert!(
        verify(&inst, &sol.schedule)
            .expect("valid")
            .mandatory_missed
            > 0
    );
}

/// Reads `NAME.original.dzn` of the JAIR benchmark and solves it.
fn solve_jair(name: &str, limit: Duration) -> (Instance, kontor_schedule::Solution) {
    let path = crate::jair_dir().join(format!("{name}.original.dzn"));
    let inst = dzn::parse(&std::fs::read_to_string(path).expect("readable")).expect("parses");
    let opts = SolveOptions {
        time_limit: limit,
        ..SolveOptions::default()
    };
    let sol = solve_quiet(&inst, &opts).expect("solves");
    (inst, sol)
}

#[test]
fn jair_original_is_solved_with_every_meeting() {
    let (inst, sol) = solve_jair("tic-12", Duration::from_secs(3));
    assert_eq!(sol.feasibility, Feasibility::Feasible);
    let obj = verify(&inst, &sol.schedule).expect("valid");
    assert_eq!(obj.held as usize, inst.requests.len());
    assert_eq!(obj.fairness_excess, 0);
    assert_eq!(sol.upper_bound, inst.requests.len() as u64);
    assert!(obj.breaks >= sol.breaks_lower_bound);
}

#[test]
fn breaks_bound_sees_meetings_that_cannot_meet_across_lunch() {
    // "a" meets "b" in the morning only and "c" in the afternoon only, and is
    // away in the two slots next to lunch: one break is unavoidable, and the
    // bound says so, which lets the search stop as soon as it has one.
    let inst = Instance::from_json(
        r#"{"tables": 2, "slots": [
              {"id": "m1", "session": "am"}, {"id": "m2", "session": "am"},
              {"id": "m3", "session": "am"}, {"id": "a1", "session": "pm"},
              {"id": "a2", "session": "pm"}, {"id": "a3", "session": "pm"}],
            "participants": [{"id": "a", "unavailable": ["m3", "a1"]}, {"id": "b"}, {"id": "c"}],
            "requests": [
              {"id": "ab", "participants": ["a", "b"], "sessions": ["am"], "mandatory": true},
              {"id": "ac", "participants": ["a", "c"], "sessions": ["pm"], "mandatory": true}]}"#,
    )
    .expect("valid");
    let opts = SolveOptions {
        time_limit: Duration::from_secs(5),
        ..SolveOptions::default()
    };
    let t = Instant::now();
    let sol = solve_quiet(&inst, &opts).expect("solves");
    assert_eq!(sol.breaks_lower_bound, 1);
    assert_eq!(sol.objective.breaks, 1);
    assert!(sol.stats.proven_optimal);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

#[test]
fn breaks_bound_counts_gaps_between_fixed_meetings() {
    // The run bound sees 0 (every slot is usable) and the window matchings
    // only "at least 2"; the gaps between the fixed meetings give 3.
    let inst = three_forced_breaks(None);
    let sol = solve_quiet(&inst, &SolveOptions::default()).expect("solves");
    assert_eq!(sol.objective.breaks, 3);
    assert_eq!(sol.breaks_lower_bound, 3);
    assert!(sol.stats.proven_optimal);
}

/// "a" cannot have fewer than three breaks (five fixed meetings in every
/// other slot, one free meeting), and each of its partners holds one meeting,
/// so never breaks: the spread is at least 3.
fn three_forced_breaks(fairness: Option<u32>) -> Instance {
    let slots: Vec<String> = (0..9).map(|t| format!(r#"{{"id": "s{t}"}}"#)).collect();
    let mut reqs: Vec<String> = ["b", "c", "d", "e", "g"]
        .iter()
        .enumerate()
        .map(|(i, q)| {
            format!(
                r#"{{"id": "a{q}", "participants": ["a", "{q}"], "fixed_slot": "s{}", "mandatory": true}}"#,
                2 * i
            )
        })
        .collect();
    reqs.push(r#"{"id": "ah", "participants": ["a", "h"], "mandatory": true}"#.to_string());
    let people: Vec<String> = ["a", "b", "c", "d", "e", "g", "h"]
        .iter()
        .map(|q| format!(r#"{{"id": "{q}"}}"#))
        .collect();
    let fairness = fairness.map_or(String::new(), |d| format!(r#""fairness": {d}, "#));
    Instance::from_json(&format!(
        r#"{{"tables": 1, {fairness}"slots": [{}], "participants": [{}], "requests": [{}]}}"#,
        slots.join(", "),
        people.join(", "),
        reqs.join(", ")
    ))
    .expect("valid")
}

#[test]
fn fairness_bound_proven_unreachable_when_someone_never_breaks() {
    // d = 2 is out of reach: excess at least 3 − 0 − 2 = 1, which the
    // schedule meets, so the search stops with a proof.
    let t = Instant::now();
    let sol = solve_quiet(&three_forced_breaks(Some(2)), &SolveOptions::default()).expect("solves");
    assert_eq!(sol.feasibility, Feasibility::Feasible);
    assert_eq!(sol.fairness_excess_lower_bound, 1);
    assert_eq!(sol.objective.fairness_excess, 1);
    assert_eq!(sol.objective.breaks, 3);
    assert!(sol.stats.proven_optimal);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    // With d = 3 the bound is met and nothing is claimed.
    let sol = solve_quiet(&three_forced_breaks(Some(3)), &SolveOptions::default()).expect("solves");
    assert_eq!(sol.fairness_excess_lower_bound, 0);
    assert_eq!(sol.objective.fairness_excess, 0);
    // A ring of five fixed meetings where everybody has exactly one break:
    // own bounds of 1 but nobody is sure to have none, so d = 0 is met and
    // no bound may be claimed.
    let inst = Instance::from_json(
        r#"{"tables": 1, "fairness": 0,
        "slots": [{"id": "s0"}, {"id": "s1"}, {"id": "s2"}, {"id": "s3"}, {"id": "s4"}],
        "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}, {"id": "e"}],
        "requests": [
            {"id": "ab", "participants": ["a", "b"], "fixed_slot": "s0", "mandatory": true},
            {"id": "bc", "participants": ["b", "c"], "fixed_slot": "s2", "mandatory": true},
            {"id": "cd", "participants": ["c", "d"], "fixed_slot": "s4", "mandatory": true},
            {"id": "de", "participants": ["d", "e"], "fixed_slot": "s1", "mandatory": true},
            {"id": "ea", "participants": ["e", "a"], "fixed_slot": "s3", "mandatory": true}]}"#,
    )
    .expect("valid");
    let sol = solve_quiet(&inst, &SolveOptions::default()).expect("solves");
    assert_eq!(sol.objective.breaks, 5);
    assert_eq!(sol.objective.fairness_excess, 0);
    assert_eq!(sol.fairness_excess_lower_bound, 0);
}

#[test]
fn breaks_bound_counts_who_cannot_all_meet_next_to_lunch() {
    // "a", "b" and "c" each have a morning-only and an afternoon-only meeting
    // (with partners of their own), so without a break each is busy in m2
    // and in a1; two tables seat only two of their meetings there. Each alone
    // could avoid a break (per-participant bound 0); together one breaks.
    let inst = Instance::from_json(
        r#"{"tables": 2, "slots": [
              {"id": "m1", "session": "am"}, {"id": "m2", "session": "am"},
              {"id": "a1", "session": "pm"}, {"id": "a2", "session": "pm"}],
            "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"},
              {"id": "x"}, {"id": "y"}, {"id": "z"}, {"id": "u"}, {"id": "v"}, {"id": "w"}],
            "requests": [
              {"id": "ax", "participants": ["a", "x"], "sessions": ["am"], "mandatory": true},
              {"id": "au", "participants": ["a", "u"], "sessions": ["pm"], "mandatory": true},
              {"id": "by", "participants": ["b", "y"], "sessions": ["am"], "mandatory": true},
              {"id": "bv", "participants": ["b", "v"], "sessions": ["pm"], "mandatory": true},
              {"id": "cz", "participants": ["c", "z"], "sessions": ["am"], "mandatory": true},
              {"id": "cw", "participants": ["c", "w"], "sessions": ["pm"], "mandatory": true}]}"#,
    )
    .expect("valid");
    let sol = solve_quiet(&inst, &SolveOptions::default()).expect("solves");
    assert_eq!(sol.objective.held, 6);
    assert_eq!(sol.breaks_lower_bound, 1);
    assert_eq!(sol.objective.breaks, 1);
    assert!(sol.stats.proven_optimal);
}

#[test]
fn breaks_bound_sees_the_lunch_bottleneck_of_ticf_13crafb() {
    // ticf-13crafb (JAIR 2022, published optimum 3): 25 participants have a
    // morning-only and an afternoon-only meeting; the first afternoon slot
    // can hold at most 23 of them (14 tables, at most 9 meetings among them),
    // so two break. The per-participant bound alone gives 0.
    let (inst, sol) = solve_jair("ticf-13crafb", Duration::from_millis(200));
    assert_eq!(sol.objective.held as usize, inst.requests.len());
    assert_eq!(sol.breaks_lower_bound, 2);
    assert!(sol.objective.breaks >= 3);
}

#[test]
fn breaks_bound_reaches_the_published_optimum_of_forum_14() {
    // forum-14 (JAIR 2022): published optimum 2 breaks; the per-participant
    // bound (morning-only and afternoon-only meetings around forbidden slots)
    // already proves 2.
    let (inst, sol) = solve_jair("forum-14", Duration::from_secs(2));
    assert_eq!(sol.objective.held as usize, inst.requests.len());
    assert_eq!(sol.breaks_lower_bound, 2);
    assert!(sol.objective.breaks >= 2);
}

#[test]
fn pinned_tables_and_previous_schedule_are_respected() {
    let inst = Instance::from_json(
        r#"{"tables": 3, "slots": [{"id": "s1"}, {"id": "s2"}, {"id": "s3"}],
        "participants": [{"id": "a", "table": 3}, {"id": "b"}, {"id": "c"}],
        "requests": [{"id": "ab", "participants": ["a", "b"]}, {"id": "ac", "participants": ["a", "c"]},
                     {"id": "bc", "participants": ["b", "c"], "mode": "online"}],
        "previous": {"meetings": [{"request": "ab", "slot": "s3", "table": 3}, {"request": "bc", "slot": "s2"}]}}"#,
    )
    .expect("valid");
    let sol = solve_quiet(&inst, &SolveOptions::default()).expect("solves");
    let obj = verify(&inst, &sol.schedule).expect("valid");
    assert_eq!(obj.held, 3);
    assert_eq!(obj.changes, 0, "{:?}", sol.schedule);
    for m in &sol.schedule.meetings {
        match m.request.as_str() {
            "bc" => assert_eq!(m.table, None),
            _ => assert_eq!(m.table, Some(3)),
        }
    }
}

/// Re-optimising after publishing: the previous schedule is where the search starts, so the
/// result is never worse than keeping it (the objective's order), meetings that keep their slot
/// keep their table, and with nothing to gain nothing moves.
#[test]
fn re_solving_starts_from_the_previous_schedule() {
    let inst = medium(3);
    let opts = |seed| SolveOptions {
        time_limit: Duration::from_secs(60),
        seed,
        iteration_limit: Some(100_000),
        ..SolveOptions::default()
    };
    let first = solve_quiet(&inst, &opts(1)).expect("solves");
    let kept_tables = |prev: &Schedule, now: &Schedule| {
        let slot_table =
            |s: &Schedule| -> std::collections::HashMap<String, (String, Option<u32>)> {
                let m = s.meetings.iter();
                m.map(|m| (m.request.clone(), (m.slot.clone(), m.table)))
                    .collect()
            };
        let (before, after) = (slot_table(prev), slot_table(now));
        before.iter().all(|(r, (slot, table))| match after.get(r) {
            Some((s, t)) if s == slot => t == table,
            _ => true,
        })
    };

    // Re-solved with `published` as the previous schedule: never worse than keeping it.
    let re_solve = |mut inst: Instance, published: &Schedule| {
        inst.previous = Some(published.clone());
        let keep = verify(&inst, published).expect("still valid");
        assert_eq!(keep.changes, 0);
        let again = solve_quiet(&inst, &opts(7)).expect("solves");
        assert_ne!(
            again.objective.cmp_quality(&keep),
            std::cmp::Ordering::Less,
            "{:?} worse than keeping {keep:?}",
            again.objective
        );
        assert!(kept_tables(published, &again.schedule));
    };
    // Unchanged.
    re_solve(inst.clone(), &first.schedule);
    // Three meetings cancelled.
    let cancelled: Vec<String> = first.schedule.meetings[..3]
        .iter()
        .map(|m| m.request.clone())
        .collect();
    let mut after = inst.clone();
    after.requests.retain(|r| !cancelled.contains(&r.id));
    let mut published = first.schedule.clone();
    published
        .meetings
        .retain(|m| !cancelled.contains(&m.request));
    re_solve(after, &published);
}

#[test]
fn time_set_aside_for_the_exact_phase_goes_back_to_the_annealing_when_it_declines() {
    // Fairness 0 cannot be met: "a" has a break between its fixed meetings,
    // everybody else can do without. Everybody holds two meetings, so the
    // solver has no proof of that (see the test above) and searches on. The
    // exact phase declines unfair schedules, so the annealing must get its
    // share of the work back.
    let inst = Instance::from_json(
        r#"{"tables": 2, "fairness": 0,
        "slots": [{"id": "s0"}, {"id": "s1"}, {"id": "s2"}],
        "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}, {"id": "e"}],
        "requests": [
            {"id": "ab", "participants": ["a", "b"], "fixed_slot": "s0", "mandatory": true},
            {"id": "ac", "participants": ["a", "c"], "fixed_slot": "s2", "mandatory": true},
            {"id": "bd", "participants": ["b", "d"], "mandatory": true},
            {"id": "ce", "participants": ["c", "e"], "mandatory": true},
            {"id": "de", "participants": ["d", "e"], "mandatory": true}]}"#,
    )
    .expect("valid");
    const N: u64 = 40_000;
    let opts = SolveOptions {
        time_limit: Duration::from_secs(60),
        iteration_limit: Some(N),
        ..SolveOptions::default()
    };
    assert!(
        opts.exact_share >= 0.5,
        "the default sets half or more aside"
    );
    let sol = solve_quiet(&inst, &opts).expect("solves");
    assert_eq!(sol.objective.breaks, 1);
    assert_eq!(sol.objective.fairness_excess, 1);
    assert_eq!(sol.fairness_excess_lower_bound, 0);
    assert!(!sol.stats.proven_optimal, "fairness is not met");
    assert!(
        sol.stats.iterations >= N * 9 / 10,
        "only {} of {N} iterations used",
        sol.stats.iterations
    );
}

/// Each request left out says why: the tables, a participant's limit (naming them), or the
/// other meetings in the common slots.
#[test]
fn unscheduled_requests_name_capacity_limits_and_conflicts() {
    let reason = |json: &str| {
        let inst = Instance::from_json(json).expect("valid");
        let opts = SolveOptions {
            iteration_limit: Some(2_000),
            ..SolveOptions::default()
        };
        let sol = solve_quiet(&inst, &opts).expect("solves");
        assert_eq!(sol.objective.held, 1, "{:?}", sol.schedule);
        assert_eq!(sol.unscheduled.len(), 1);
        sol.unscheduled[0].1.clone()
    };
    let capacity = reason(
        r#"{"tables": 1, "slots": [{"id": "s1"}],
        "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}],
        "requests": [{"id": "ab", "participants": ["a", "b"]}, {"id": "cd", "participants": ["c", "d"]}]}"#,
    );
    assert_eq!(capacity, Reason::Capacity);
    let limit = reason(
        r#"{"tables": 2, "slots": [{"id": "s1"}, {"id": "s2"}],
        "participants": [{"id": "a", "max_meetings": 1}, {"id": "b"}, {"id": "c"}],
        "requests": [{"id": "ab", "participants": ["a", "b"]}, {"id": "ac", "participants": ["a", "c"]}]}"#,
    );
    assert_eq!(
        limit,
        Reason::ParticipantLimit {
            participant: "a".into()
        }
    );
    let conflicts = reason(
        r#"{"tables": 2, "slots": [{"id": "s1"}],
        "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
        "requests": [{"id": "ab", "participants": ["a", "b"]}, {"id": "ac", "participants": ["a", "c"]}]}"#,
    );
    assert_eq!(conflicts, Reason::Conflicts);
}

/// Two cases the property test found (every seed used to miss them in most runs): a mandatory
/// meeting that must move where an optional one sits, to free the only slot of a third; and,
/// when the mandatory meetings cannot all be held, the one held is the one that leaves room for
/// the most weight.
#[test]
fn mandatory_meetings_make_room_and_compete_when_not_all_fit() {
    let best = |json: &str| -> Vec<u64> {
        let inst = Instance::from_json(json).expect("valid");
        (1..=4)
            .map(|seed| {
                let opts = SolveOptions {
                    seed,
                    iteration_limit: Some(20_000),
                    ..SolveOptions::default()
                };
                solve_quiet(&inst, &opts).expect("solves").objective.weight
            })
            .collect()
    };
    // r3 fits only in s2, where the mandatory r1 starts; r1 must take s1 or s3 from r0 or r2.
    let room = best(
        r#"{"tables": 1, "slots": [{"id": "s0"}, {"id": "s1"}, {"id": "s2", "day": 1}, {"id": "s3", "day": 1}],
        "participants": [{"id": "p0", "unavailable": ["s0"]}, {"id": "p1"}, {"id": "p2"},
                         {"id": "p3", "unavailable": ["s1", "s3"]}],
        "requests": [{"id": "r0", "participants": ["p2", "p0"], "weight": 1},
                     {"id": "r1", "participants": ["p1", "p0"], "weight": 2, "mode": "online", "mandatory": true},
                     {"id": "r2", "participants": ["p2", "p0"], "weight": 2},
                     {"id": "r3", "participants": ["p3", "p0"], "weight": 3, "mode": "online"}]}"#,
    );
    assert_eq!(room, [7, 7, 7, 7]);
    // p0 may meet once but has two mandatory meetings: holding r3 leaves s1 to r1 (1 + 3).
    let compete = best(
        r#"{"tables": 2, "slots": [{"id": "s0", "session": "am"}, {"id": "s1", "session": "pm"}],
        "participants": [{"id": "p0", "max_meetings": 1}, {"id": "p1"},
                         {"id": "p2", "unavailable": ["s0"]}, {"id": "p3"}],
        "requests": [{"id": "r0", "participants": ["p0", "p3", "p1"], "weight": 1, "mode": "online"},
                     {"id": "r1", "participants": ["p1", "p2"], "weight": 3, "sessions": ["pm"]},
                     {"id": "r2", "participants": ["p0", "p1", "p2"], "weight": 3, "sessions": ["pm"], "mandatory": true},
                     {"id": "r3", "participants": ["p3", "p0", "p1"], "weight": 1, "mandatory": true}]}"#,
    );
    assert_eq!(compete, [4, 4, 4, 4]);
}
