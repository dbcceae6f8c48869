//! The plain first-fit greedy baseline: requests by weight (descending), each in
//! the earliest slot where it fits. Used by the benchmarks to show the gain.

use crate::model::Instance;
use crate::problem::{Problem, State};
use crate::schedule::Schedule;

/// First-fit greedy schedule of a validated instance (ignores precedences'
/// optimisation but respects every hard constraint).
pub fn first_fit(inst: &Instance) -> Schedule {
    let p = Problem::new(inst);
    let mut st = State::new(&p);
    let mut order: Vec<usize> = (0..p.reqs.len()).collect();
    order.sort_by_key(|&r| (std::cmp::Reverse(p.reqs[r].weight), r));
    for r in order {
        let free = st.free_slots(&p, r);
        if free != 0 {
            st.place(&p, r, free.trailing_zeros() as usize);
        }
    }
    crate::tables::to_schedule(inst, &p, &st)
}
