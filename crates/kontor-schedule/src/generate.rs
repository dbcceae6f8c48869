//! A generator of realistic B2B events (for benchmarks and tests): several days
//! with morning/afternoon sessions, partial attendance, time-zone windows that
//! cut the start or end of days, randomly blocked slots, strongly skewed
//! popularity, priorities 1–3 on both sides, a few online meetings, meeting
//! limits and session preferences.

use std::collections::HashSet;

use crate::model::{Instance, Mode, Participant, Request, Slot};
use crate::rng::Rng;

/// Generator parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Number of participants.
    pub participants: usize,
    /// Number of meeting requests (pairs).
    pub requests: usize,
    /// Number of slots (split evenly over the days).
    pub slots: usize,
    /// Number of days.
    pub days: usize,
    /// Tables per slot.
    pub tables: u32,
    /// Share of group requests (3 participants).
    pub group_share: f64,
    /// Seed.
    pub seed: u64,
}

impl Config {
    /// 300 participants / 2,000 requests / 16 slots / 100 tables over 2 days.
    pub fn small(seed: u64) -> Config {
        Config {
            participants: 300,
            requests: 2_000,
            slots: 16,
            days: 2,
            tables: 100,
            group_share: 0.0,
            seed,
        }
    }

    /// 5,000 participants / 50,000 requests / 24 slots / 1,500 tables over 3 days.
    pub fn large(seed: u64) -> Config {
        Config {
            participants: 5_000,
            requests: 50_000,
            slots: 24,
            days: 3,
            tables: 1_500,
            group_share: 0.0,
            seed,
        }
    }
}

/// Generates an instance.
pub fn generate(c: &Config) -> Instance {
    let mut rng = Rng::new(c.seed.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(17));
    let days = c.days.max(1);
    let per_day = c.slots.div_ceil(days);
    let slots: Vec<Slot> = (0..c.slots)
        .map(|i| {
            let day = i / per_day;
            let k = i % per_day;
            Slot {
                id: format!("d{}-{:02}", day + 1, k + 1),
                day: day as u32,
                session: Some(
                    if k < per_day / 2 {
                        "morning"
                    } else {
                        "afternoon"
                    }
                    .to_string(),
                ),
                tables: None,
            }
        })
        .collect();
    let mut participants = Vec::with_capacity(c.participants);
    for i in 0..c.participants {
        let mut avail: Vec<bool> = vec![true; c.slots];
        // Partial attendance: 30 % miss one or more days.
        if days > 1 && rng.unit() < 0.3 {
            let skip = rng.below(days);
            for (t, a) in avail.iter_mut().enumerate() {
                if t / per_day == skip {
                    *a = false;
                }
            }
        }
        // Time-zone window / arrival-departure: 25 % lose the start or end of each day.
        if rng.unit() < 0.25 {
            let cut = 1 + rng.below(3);
            let at_start = rng.unit() < 0.5;
            for (t, a) in avail.iter_mut().enumerate() {
                let k = t % per_day;
                if (at_start && k < cut) || (!at_start && k + cut >= per_day) {
                    *a = false;
                }
            }
        }
        // Blocked slots (talks, own stand duty): 0–2.
        for _ in 0..rng.below(3) {
            let t = rng.below(c.slots);
            avail[t] = false;
        }
        let unavailable: Vec<String> = avail
            .iter()
            .enumerate()
            .filter(|&(_, &a)| !a)
            .map(|(t, _)| slots[t].id.clone())
            .collect();
        let max_meetings = (rng.unit() < 0.1).then(|| 4 + rng.below(c.slots / 2) as u32);
        let preferred_sessions = if rng.unit() < 0.2 {
            vec![
                if rng.unit() < 0.5 {
                    "morning"
                } else {
                    "afternoon"
                }
                .to_string(),
            ]
        } else {
            Vec::new()
        };
        participants.push(Participant {
            id: format!("p{}", i + 1),
            available: None,
            unavailable,
            max_meetings,
            preferred_sessions,
            table: None,
        });
    }
    // Skewed popularity: Zipf-like weights on a random permutation.
    let mut perm: Vec<usize> = (0..c.participants).collect();
    for i in (1..perm.len()).rev() {
        perm.swap(i, rng.below(i + 1));
    }
    let cumulative: Vec<f64> = (0..c.participants)
        .scan(0.0, |acc, rank| {
            *acc += 1.0 / ((rank + 1) as f64).powf(0.9);
            Some(*acc)
        })
        .collect();
    let total = *cumulative.last().unwrap_or(&1.0);
    let popular = |rng: &mut Rng| -> usize {
        let x = rng.unit() * total;
        let rank = cumulative
            .partition_point(|&c| c < x)
            .min(c.participants - 1);
        perm[rank]
    };
    let priority = |rng: &mut Rng| -> u32 {
        let x = rng.unit();
        if x < 0.5 {
            1
        } else if x < 0.85 {
            2
        } else {
            3
        }
    };
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    let mut requests = Vec::with_capacity(c.requests);
    let mut attempts = 0;
    while requests.len() < c.requests && attempts < c.requests * 50 {
        attempts += 1;
        let a = rng.below(c.participants);
        let b = popular(&mut rng);
        if a == b || !seen.insert((a.min(b), a.max(b))) {
            continue;
        }
        let mut people = vec![a, b];
        if rng.unit() < c.group_share {
            let x = popular(&mut rng);
            if !people.contains(&x) {
                people.push(x);
            }
        }
        let priorities = people.iter().map(|_| priority(&mut rng)).collect();
        requests.push(Request {
            id: format!("r{}", requests.len() + 1),
            participants: people.iter().map(|&x| participants[x].id.clone()).collect(),
            priorities,
            mode: if rng.unit() < 0.05 {
                Mode::Online
            } else {
                Mode::OnSite
            },
            ..Request::default()
        });
    }
    Instance {
        name: Some(format!(
            "gen-{}p-{}r-{}s-{}t-seed{}",
            c.participants, c.requests, c.slots, c.tables, c.seed
        )),
        tables: c.tables,
        fairness: None,
        slots,
        participants,
        requests,
        previous: None,
    }
}
