//! Table assignment once the slots are fixed: a participant's pinned booth
//! where there is one, otherwise the table of the previous schedule if the
//! meeting kept its slot (a published table stays), otherwise the table the
//! participant had last (fewest table changes), otherwise the lowest free
//! table not pinned by anyone; then a walk moves meetings between tables of
//! their slot without ever raising the table changes.

use std::collections::HashMap;

use crate::model::Instance;
use crate::problem::{NONE, Problem, State};
use crate::rng::Rng;
use crate::schedule::{Schedule, ScheduledMeeting};

/// Table (from 1) of every held on-site request; `None` for the others.
pub(crate) fn assign(p: &Problem, st: &State) -> Vec<Option<u32>> {
    let mut table = vec![None; p.reqs.len()];
    let mut last: Vec<Option<u32>> = vec![None; p.parts.len()];
    let max_cap = p.cap.iter().copied().max().unwrap_or(0) as usize;
    let mut pinned = vec![false; max_cap + 1];
    for part in &p.parts {
        if let Some(k) = part.table
            && (k as usize) <= max_cap
        {
            pinned[k as usize] = true;
        }
    }
    let mut used = vec![false; max_cap + 1];
    for t in 0..p.n_slots {
        let cap = p.cap[t] as usize;
        used.fill(false);
        let mut list: Vec<usize> = st.in_slot[t]
            .iter()
            .map(|&r| r as usize)
            .filter(|&r| p.reqs[r].onsite)
            .collect();
        list.sort_unstable();
        // Each rule in turn gives the meetings left a free table it names.
        let booth = |r: usize, used: &[bool]| {
            p.reqs[r]
                .members
                .iter()
                .filter_map(|&q| p.parts[q as usize].table)
                .find(|&k| (k as usize) <= cap && !used[k as usize])
        };
        let free =
            |k: u32, used: &[bool]| (k as usize) <= cap && !used[k as usize] && !pinned[k as usize];
        // A published table stays even where it is now someone's booth (booth owners are
        // seated first, so it is free of them in this slot).
        let published = |r: usize, used: &[bool]| {
            let req = &p.reqs[r];
            req.prev_table
                .filter(|&k| req.prev as usize == t && (k as usize) <= cap && !used[k as usize])
        };
        let before = |r: usize, used: &[bool]| {
            p.reqs[r]
                .members
                .iter()
                .filter_map(|&q| last[q as usize])
                .find(|&k| free(k, used))
        };
        let mut rest = list.clone();
        for rule in [
            &booth as &dyn Fn(usize, &[bool]) -> Option<u32>,
            &published,
            &before,
        ] {
            rest.retain(|&r| match rule(r, &used) {
                Some(k) => {
                    used[k as usize] = true;
                    table[r] = Some(k);
                    false
                }
                None => true,
            });
        }
        for &r in &rest {
            let k = (1..=cap)
                .find(|&k| !used[k] && !pinned[k])
                .or_else(|| (1..=cap).find(|&k| !used[k]))
                .expect("slot capacity respected");
            used[k] = true;
            table[r] = Some(k as u32);
        }
        for &r in &list {
            for &q in &p.reqs[r].members {
                last[q as usize] = table[r];
            }
        }
    }
    fewer_changes(p, st, &mut table, &pinned);
    debug_assert!(
        table
            .iter()
            .enumerate()
            .all(|(r, k)| k.is_none() || st.slot[r] != NONE)
    );
    table
}

/// Lowers the table changes of a first assignment (which looks only backwards) by moves within
/// slots: a run of one participant's consecutive on-site meetings goes to one table, each
/// meeting trading tables with the one sitting there or taking it if free (a single meeting is
/// the shortest run; longer ones let the meetings of two exhibitors who meet repeatedly move
/// together). A walk takes every move that does not raise the changes of the participants
/// involved (so the changes never rise, and moves that change nothing let it cross to a better
/// assignment). Published tables stay, and nobody moves onto another participant's booth.
/// Deterministic.
fn fewer_changes(p: &Problem, st: &State, table: &mut [Option<u32>], pinned: &[bool]) {
    // Each participant's on-site meetings in slot order.
    let mut seq: Vec<Vec<usize>> = vec![Vec::new(); p.parts.len()];
    for t in 0..p.n_slots {
        for &r in &st.in_slot[t] {
            if table[r as usize].is_some() {
                for &q in &p.reqs[r as usize].members {
                    seq[q as usize].push(r as usize);
                }
            }
        }
    }
    let locked = |r: usize, k: u32| {
        let req = &p.reqs[r];
        st.slot[r] == req.prev && req.prev_table == Some(k)
    };
    let may_take = |r: usize, k: u32| {
        !pinned[k as usize]
            || p.reqs[r]
                .members
                .iter()
                .any(|&q| p.parts[q as usize].table == Some(k))
    };
    // A participant's table changes: between consecutive meetings, and away from its booth.
    let changes_of = |table: &[Option<u32>], q: usize| -> i64 {
        let list = &seq[q];
        let apart = list
            .windows(2)
            .filter(|w| table[w[0]] != table[w[1]])
            .count();
        let booth = p.parts[q].table;
        let away = booth.map_or(0, |b| list.iter().filter(|&&r| table[r] != Some(b)).count());
        (apart + away) as i64
    };
    let walkers: Vec<usize> = (0..p.parts.len()).filter(|&q| !seq[q].is_empty()).collect();
    if walkers.is_empty() {
        return;
    }
    // Who sits at which table, per slot.
    let mut at: Vec<HashMap<u32, usize>> = (0..p.n_slots)
        .map(|t| {
            let held = st.in_slot[t].iter().map(|&r| r as usize);
            held.filter_map(|r| table[r].map(|k| (k, r))).collect()
        })
        .collect();
    let mut rng = Rng::new(0x7ab1e5);
    let steps = walk_steps(st.held);
    let (mut moved, mut involved, mut targets) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..steps {
        let q = walkers[rng.below(walkers.len())];
        let list = &seq[q];
        let start = rng.below(list.len());
        let end = (start + 1 + rng.below(3)).min(list.len());
        // Tables that could lower the changes: those just before and after the run, the booths
        // of its meetings' participants; now and then any table, to make room.
        targets.clear();
        targets.extend(start.checked_sub(1).and_then(|i| table[list[i]]));
        targets.extend(list.get(end).and_then(|&r| table[r]));
        targets.extend(p.parts[q].table);
        if rng.below(4) == 0 {
            let t = st.slot[list[start]] as usize;
            targets.push(1 + rng.below(p.cap[t] as usize) as u32);
        }
        if targets.is_empty() {
            continue;
        }
        let k = targets[rng.below(targets.len())];
        // The run's moves: each meeting, its table, and who sits at `k` in its slot.
        moved.clear();
        let mut allowed = true;
        for &r in &list[start..end] {
            let t = st.slot[r] as usize;
            let from = table[r].expect("on site");
            if from == k {
                continue;
            }
            let other = at[t].get(&k).copied();
            if k > p.cap[t]
                || locked(r, from)
                || !may_take(r, k)
                || other.is_some_and(|o| locked(o, k) || !may_take(o, from))
            {
                allowed = false;
                break;
            }
            moved.push((r, from, other));
        }
        if !allowed || moved.is_empty() {
            continue;
        }
        involved.clear();
        for &(r, _, other) in &moved {
            for x in std::iter::once(r).chain(other) {
                involved.extend(p.reqs[x].members.iter().map(|&m| m as usize));
            }
        }
        involved.sort_unstable();
        involved.dedup();
        let before: i64 = involved.iter().map(|&m| changes_of(table, m)).sum();
        // Run meetings are in different slots, so the moves do not touch each other.
        for &(r, from, other) in &moved {
            table[r] = Some(k);
            if let Some(o) = other {
                table[o] = Some(from);
            }
        }
        let after: i64 = involved.iter().map(|&m| changes_of(table, m)).sum();
        if after > before {
            for &(r, from, other) in &moved {
                table[r] = Some(from);
                if let Some(o) = other {
                    table[o] = Some(k);
                }
            }
            continue;
        }
        for &(r, from, other) in &moved {
            let t = st.slot[r] as usize;
            at[t].insert(k, r);
            match other {
                Some(o) => at[t].insert(from, o),
                None => at[t].remove(&from),
            };
        }
    }
}

/// Steps of the table walk for `held` meetings: 40 per meeting, at most 200,000 (about 0.13 s
/// on the benchmark machine, 0.65 µs a step).
pub(crate) fn walk_steps(held: usize) -> usize {
    (40 * held).min(200_000)
}

/// The schedule of a state, with tables assigned.
pub(crate) fn to_schedule(inst: &Instance, p: &Problem, st: &State) -> Schedule {
    let tables = assign(p, st);
    Schedule {
        meetings: (0..p.reqs.len())
            .filter(|&r| st.slot[r] != NONE)
            .map(|r| ScheduledMeeting {
                request: inst.requests[r].id.clone(),
                slot: inst.slots[st.slot[r] as usize].id.clone(),
                table: tables[r],
            })
            .collect(),
    }
}
