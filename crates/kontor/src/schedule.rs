//! `kontor schedule solve|verify`: the optimiser on files (Kontor JSON or JAIR 2022 `.dzn`).
//! Formats: docs/schedule.md.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use kontor_schedule::{Control, Instance, Schedule, Solution, SolveOptions, solve, verify};

#[derive(Subcommand)]
pub enum ScheduleCommand {
    /// Optimise an instance and print the solution (schedule, unscheduled requests, bound, gap) as JSON.
    Solve {
        instance: PathBuf,
        /// Time limit, e.g. `5s`, `500ms`, `2m`.
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        time_limit: Duration,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// A work budget (local-search steps) besides the time limit: with it, the same seed
        /// gives the same schedule on any machine, as long as the time limit is not reached
        /// first.
        #[arg(long)]
        iterations: Option<u64>,
        /// Write the solution here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check a schedule against an instance's hard constraints and print its objective values.
    Verify {
        instance: PathBuf,
        schedule: PathBuf,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as 5s or 500ms"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("unknown unit `{unit}` (use ms, s or m)")),
    };
    if !(secs.is_finite() && secs > 0.0) {
        return Err("the time limit must be positive".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

fn load(path: &PathBuf) -> anyhow::Result<Instance> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Instance::load(&path.to_string_lossy(), &text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn run(cmd: ScheduleCommand) -> anyhow::Result<()> {
    match cmd {
        ScheduleCommand::Solve {
            instance,
            time_limit,
            seed,
            iterations,
            output,
        } => {
            let inst = load(&instance)?;
            let opts = SolveOptions {
                time_limit,
                seed,
                iteration_limit: iterations,
                ..SolveOptions::default()
            };
            let mut last = std::time::Instant::now();
            let solution = solve(&inst, &opts, &mut |p| {
                if last.elapsed() >= Duration::from_millis(500) {
                    eprintln!("{p:?}");
                    last = std::time::Instant::now();
                }
                Control::Continue
            })
            .map_err(|e| anyhow::anyhow!("{}: {e}", instance.display()))?;
            let o = &solution.objective;
            eprintln!(
                "held {} meetings, weight {} of at most {} (gap {:.3} %), breaks {}, {:?}",
                o.held,
                o.weight,
                solution.upper_bound,
                solution.gap * 100.0,
                o.breaks,
                solution.feasibility
            );
            let json = serde_json::to_string_pretty(&solution)?;
            match output {
                Some(p) => std::fs::write(&p, json)
                    .with_context(|| format!("cannot write {}", p.display()))?,
                None => println!("{json}"),
            }
            Ok(())
        }
        ScheduleCommand::Verify { instance, schedule } => {
            let inst = load(&instance)?;
            let text = std::fs::read_to_string(&schedule)
                .with_context(|| format!("cannot read {}", schedule.display()))?;
            // Accept a bare schedule or a whole solution as written by `solve`.
            let sched: Schedule = match serde_json::from_str::<Solution>(&text) {
                Ok(s) => s.schedule,
                Err(_) => serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a schedule", schedule.display()))?,
            };
            match verify(&inst, &sched) {
                Ok(objective) => {
                    println!("{}", serde_json::to_string_pretty(&objective)?);
                    Ok(())
                }
                Err(violations) => {
                    for v in &violations {
                        eprintln!("violation: {v}");
                    }
                    anyhow::bail!("{} violation(s) of hard constraints", violations.len())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5h").is_err());
    }
}
