//! Table assignment once the slots are fixed: a participant's pinned booth
//! where there is one, otherwise the table of the previous schedule if the
//! meeting kept its slot (a published table stays), otherwise the table the
//! participant had last (fewest table changes), otherwise the lowest free
//! table not pinned by anyone.

use crate::model::Instance;
use crate::problem::{NONE, Problem, State};
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
        let published = |r: usize, used: &[bool]| {
            let req = &p.reqs[r];
            req.prev_table
                .filter(|&k| req.prev as usize == t && free(k, used))
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
    debug_assert!(
        table
            .iter()
            .enumerate()
            .all(|(r, k)| k.is_none() || st.slot[r] != NONE)
    );
    table
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
