//! Time limits, work budgets, progress reports and cancellation.

use std::time::{Duration, Instant};

use serde::Serialize;

/// The phase the solver is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Computing the upper bound and checking the mandatory requests.
    Bound,
    /// Placing every mandatory request (conflict-minimising tabu search).
    Mandatory,
    /// Maximising the total weight.
    Weight,
    /// Minimising breaks (under fairness), then preferences and changes.
    Breaks,
    /// Assigning tables.
    Tables,
}

/// A progress report given to the callback of [`crate::solve`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// Current phase.
    pub phase: Phase,
    /// Elapsed share of the time limit, in `[0, 1]` (for a progress bar).
    pub fraction: f64,
    /// Elapsed seconds.
    pub seconds: f64,
    /// Search weight of the incumbent (a mandatory request counts its weight plus a
    /// large constant, so that holding it outranks any set of optional ones).
    pub weight: u64,
    /// Breaks of the incumbent (breaks phase only, else 0).
    pub breaks: u32,
}

/// What the progress callback wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep searching.
    Continue,
    /// Stop as soon as possible and return the best schedule found so far.
    Stop,
}

/// A share of the total time limit and of the optional iteration limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub start: Instant,
    pub end: Instant,
    pub iterations: Option<u64>,
}

impl Budget {
    /// Progress through this budget in `[0, 1]`.
    pub fn fraction(&self, _ctl: &Ctl, iterations: u64) -> f64 {
        if let Some(limit) = self.iterations {
            return (iterations as f64 / limit.max(1) as f64).min(1.0);
        }
        let total = (self.end - self.start).as_secs_f64();
        if total <= 0.0 {
            return 1.0;
        }
        ((Instant::now() - self.start).as_secs_f64() / total).min(1.0)
    }
}

pub(crate) struct Ctl<'a> {
    pub start: Instant,
    pub deadline: Instant,
    limit: Duration,
    iteration_limit: Option<u64>,
    progress: &'a mut dyn FnMut(&Progress) -> Control,
    last_report: Instant,
    pub cancelled: bool,
    /// Seconds from the start to the last improvement of the incumbent.
    pub last_improvement: f64,
}

impl<'a> Ctl<'a> {
    pub fn new(
        limit: Duration,
        iteration_limit: Option<u64>,
        progress: &'a mut dyn FnMut(&Progress) -> Control,
    ) -> Ctl<'a> {
        let start = Instant::now();
        Ctl {
            start,
            deadline: start + limit,
            limit,
            iteration_limit,
            progress,
            last_report: start,
            cancelled: false,
            last_improvement: 0.0,
        }
    }

    /// A budget for the next phase: `share` of what remains.
    pub fn budget(&self, share: f64) -> Budget {
        let now = Instant::now();
        let left = self.deadline.saturating_duration_since(now);
        Budget {
            start: now,
            end: now + left.mul_f64(share.clamp(0.0, 1.0)),
            iterations: self
                .iteration_limit
                .map(|n| (n as f64 * share).ceil() as u64),
        }
    }

    /// True when the phase must stop (budget spent, deadline or cancellation).
    /// Reports progress at most every 50 ms.
    pub fn stop(
        &mut self,
        phase: Phase,
        budget: &Budget,
        iterations: u64,
        (weight, breaks): (u64, u32),
    ) -> bool {
        if self.cancelled {
            return true;
        }
        let now = Instant::now();
        if now.duration_since(self.last_report) >= Duration::from_millis(50)
            && !self.report(phase, weight, breaks)
        {
            return true;
        }
        if now >= self.deadline {
            return true;
        }
        match budget.iterations {
            Some(limit) => iterations >= limit,
            None => now >= budget.end,
        }
    }

    /// Records that the incumbent improved now.
    pub fn improved(&mut self) {
        self.last_improvement = (Instant::now() - self.start).as_secs_f64();
    }

    /// Reports progress now; returns false if the callback asked to stop.
    pub fn report(&mut self, phase: Phase, weight: u64, breaks: u32) -> bool {
        let now = Instant::now();
        self.last_report = now;
        let seconds = (now - self.start).as_secs_f64();
        let fraction = (seconds / self.limit.as_secs_f64().max(1e-9)).min(1.0);
        let progress = Progress {
            phase,
            fraction,
            seconds,
            weight,
            breaks,
        };
        if (self.progress)(&progress) == Control::Stop {
            self.cancelled = true;
        }
        !self.cancelled
    }
}
