//! # kontor-schedule — Kontor's meeting optimiser
//!
//! A pure library (no IO, no async, no threads) that schedules B2B meeting
//! requests into slots and tables, with a lexicographic objective:
//!
//! 1. every mandatory meeting is held (or the instance is reported infeasible with the reason);
//! 2. maximum total weight of held meetings;
//! 3. fewest breaks (idle runs between two meetings of a participant within a day),
//!    after keeping the break spread within the fairness bound `d` when one is given;
//! 4. most session preferences met;
//! 5. fewest changes to a previous schedule;
//! 6. tables: pinned booths, then fewest table changes per participant.
//!
//! Entry points: [`Instance::from_json`] / [`dzn::parse`] / [`Instance::load`],
//! [`solve`] (with [`SolveOptions`] and a progress callback), [`verify`].
//! Every solution comes with an upper bound on level (2) and the gap.
//! Formats and algorithms: `docs/schedule.md`.

mod bound;
mod breaks;
mod complete;
mod control;
pub mod dzn;
mod exact;
pub mod generate;
pub mod greedy;
mod model;
mod problem;
mod rng;
mod schedule;
mod select;
mod solve;
mod tables;
mod verify;

pub use control::{Control, Phase, Progress};
pub use model::{
    Instance, InstanceError, InstanceFormat, MAX_GROUP, MAX_SLOTS, Mode, Participant, Request, Slot,
};
pub use schedule::{Feasibility, Objective, Reason, Schedule, ScheduledMeeting, Solution, Stats};
pub use solve::{SolveOptions, solve, solve_quiet};
pub use verify::{Violation, verify};

/// Upper bound on the total weight (objective level 2) of any schedule of `inst`:
/// the fractional b-matching relaxation, solved exactly as a flow.
pub fn weight_upper_bound(inst: &Instance) -> Result<u64, InstanceError> {
    inst.validate()?;
    Ok(bound::weight_upper_bound(&problem::Problem::new(inst)))
}
