//! Benchmarks of kontor-schedule (not tests): print a Markdown table and write it
//! under `bench/schedule/`.
//!
//! ```text
//! cargo run --release -p kontor-schedule --example bench -- jair [--time-limit 1] [--all] [--seed N] [--filter a,b] [--iterations N] [--exact 0.75]
//! cargo run --release -p kontor-schedule --example bench -- generated [--seeds 3]
//! ```
//!
//! `--exact SHARE` sets `SolveOptions::exact_share` (0 = annealing only; the
//! exact phase runs when the time left for the breaks × share ≥ 1 s).
//!
//! The JAIR folder is `../shared/benchmarks/b2b-jair2022` relative to the
//! workspace root, or `$KONTOR_JAIR_DIR`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kontor_schedule::generate::{Config, generate};
use kontor_schedule::{Feasibility, SolveOptions, dzn, greedy, solve_quiet, verify};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn jair_dir() -> PathBuf {
    std::env::var_os("KONTOR_JAIR_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/benchmarks/b2b-jair2022"))
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Starts a new peak for [`peak_rss_mib`] (Linux: writing 5 to `clear_refs` resets `VmHWM`), so
/// that each row's figure is its own run's, not the largest of the process so far. The
/// instance, built before, is counted in it.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory of this process in MiB since the last [`reset_peak_rss`] (Linux; 0
/// elsewhere).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("jair");
    let command = format!(
        "cargo run --release -p kontor-schedule --example bench -- {}",
        args.join(" ")
    );
    let (name, table) = match what {
        "jair" if args.iter().any(|a| a == "--all") => ("jair-all.md", jair(&args)),
        "jair" => ("jair.md", jair(&args)),
        "generated" => ("generated.md", generated(&args)),
        other => {
            eprintln!("unknown benchmark {other}; use `jair` or `generated`");
            std::process::exit(2);
        }
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let out = format!(
        "<!-- produced by: {command} -->\n\nCommand: `{command}`  \nMachine: {cpu}, {} cores visible; run pinned to one core with `taskset -c 1` where stated.\n\n{table}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("{out}");
    let dir = workspace_root().join("bench/schedule");
    std::fs::create_dir_all(&dir).expect("create bench/schedule");
    std::fs::write(dir.join(name), out).expect("write results");
    eprintln!("written to bench/schedule/{name}");
}

fn jair(args: &[String]) -> String {
    let limit = arg(args, "--time-limit", 1.0f64);
    let seed = arg(args, "--seed", 1u64);
    let all = args.iter().any(|a| a == "--all");
    let filter = arg(args, "--filter", String::new());
    let dir = jair_dir();
    let optima_text = std::fs::read_to_string(dir.join("optima.csv"))
        .unwrap_or_else(|e| panic!("cannot read {}/optima.csv: {e}", dir.display()));
    let mut optima: HashMap<String, (u32, f64)> = HashMap::new();
    for line in optima_text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        optima.insert(
            f[0].to_string(),
            (f[6].parse().unwrap_or(0), f[7].parse().unwrap_or(0.0)),
        );
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read JAIR folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dzn"))
        .filter(|p| all || p.to_string_lossy().ends_with(".original.dzn"))
        .filter(|p| {
            // `--filter a,b`: any of the comma-separated substrings.
            let name = p.to_string_lossy();
            filter.split(',').any(|f| name.contains(f))
        })
        .collect();
    files.sort();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Time limit {limit} s per instance, seed {seed}. `time` = wall time of the run, `to best` = time when the final schedule was first reached.\n"
    );
    let _ = writeln!(
        s,
        "| instance | meetings | status | breaks | LB | published optimum | = opt | fair spread | time s | to best s | published s | first-fit greedy |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut n_opt, mut n_orig, mut worst_best) = (0, 0, 0.0f64);
    let mut infeasible = 0;
    let mut unfair = 0;
    let mut reasons = Vec::new();
    for path in &files {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let inst = dzn::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let opts = SolveOptions {
            time_limit: Duration::from_secs_f64(limit),
            seed,
            // `--iterations N`: a work budget instead of the clock (with a
            // generous time limit), for comparisons on a loaded machine.
            iteration_limit: args
                .iter()
                .any(|a| a == "--iterations")
                .then(|| arg(args, "--iterations", 0u64)),
            idle_weight: arg(args, "--idle", 0.05),
            exact_share: arg(args, "--exact", SolveOptions::default().exact_share),
        };
        let t = Instant::now();
        let sol = solve_quiet(&inst, &opts).expect("valid instance");
        let secs = t.elapsed().as_secs_f64();
        let obj = verify(&inst, &sol.schedule).expect("verifier accepts the solver's schedule");
        // The plain first-fit row: every meeting in its first free slot, in file order.
        let ff = verify(&inst, &greedy::first_fit(&inst)).expect("greedy schedule verifies");
        let greedy = match ff.mandatory_missed {
            0 => format!("{} breaks", ff.breaks),
            n => format!("{n} of {} not placed", inst.requests.len()),
        };
        let base = file.trim_end_matches(".dzn");
        let (stem, variant) = base.split_once('.').unwrap_or((base, ""));
        let published = if variant == "original" {
            optima.get(stem).copied()
        } else {
            None
        };
        let status = match &sol.feasibility {
            // The paper treats fairness as a hard constraint: every meeting
            // held but the bound d unreachable (proven) is infeasible there.
            Feasibility::Feasible if sol.fairness_excess_lower_bound > 0 => {
                unfair += 1;
                reasons.push(format!(
                    "- {base}: every meeting held, but no schedule meets the fairness bound \
                     (excess at least {}: a participant with at most one meeting has no break)",
                    sol.fairness_excess_lower_bound
                ));
                "infeasible: fairness (proven)".to_string()
            }
            Feasibility::Feasible => "feasible".to_string(),
            Feasibility::Infeasible {
                proven: true,
                reason,
            } => {
                infeasible += 1;
                reasons.push(format!("- {base}: {reason}"));
                "infeasible (proven)".to_string()
            }
            Feasibility::Infeasible { proven: false, .. } => "not all placed".to_string(),
        };
        let feasible = obj.mandatory_missed == 0;
        let eq = match published {
            Some((opt, _)) if feasible && obj.fairness_excess == 0 => {
                n_orig += 1;
                if obj.breaks <= opt {
                    n_opt += 1;
                    worst_best = worst_best.max(sol.stats.seconds_to_best);
                    if obj.breaks < opt { "below!" } else { "yes" }
                } else {
                    "no"
                }
            }
            Some(_) => {
                n_orig += 1;
                "no"
            }
            None => "",
        };
        let _ = writeln!(
            s,
            "| {base} | {} | {status} | {} | {} | {} | {eq} | {} | {secs:.3} | {:.3} | {} | {greedy} |",
            inst.requests.len(),
            if feasible {
                obj.breaks.to_string()
            } else {
                format!("({} missing)", obj.mandatory_missed)
            },
            sol.breaks_lower_bound,
            published.map_or(String::new(), |p| p.0.to_string()),
            obj.break_spread,
            sol.stats.seconds_to_best,
            published.map_or(String::new(), |p| p.1.to_string()),
        );
        eprintln!(
            "{base}: {status} breaks {} in {secs:.2}s, {} iterations",
            obj.breaks, sol.stats.iterations
        );
    }
    if !reasons.is_empty() {
        let _ = writeln!(
            s,
            "\nReasons given for the proven infeasible instances:\n\n{}",
            reasons.join("\n")
        );
    }
    let _ = writeln!(
        s,
        "\nOriginals at the published optimum: **{n_opt} / {n_orig}**; slowest time-to-best among those: {worst_best:.3} s. Proven infeasible: {infeasible} (mandatory meetings), {unfair} (fairness)."
    );
    s
}

fn generated(args: &[String]) -> String {
    let seeds = arg(args, "--seeds", 3u64);
    // `--only 300/` runs the small events alone (a substring of the label).
    let only = arg(args, "--only", String::new());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| instance | method | held | weight | bound | % of bound | gap | breaks | table changes | time s | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for (label, limit, make) in [
        ("300/2000/16/100", 1.0, Config::small as fn(u64) -> Config),
        (
            "5000/50000/24/1500",
            10.0,
            Config::large as fn(u64) -> Config,
        ),
    ] {
        if !label.contains(&only) {
            continue;
        }
        for seed in 1..=seeds {
            let inst = generate(&make(seed));
            reset_peak_rss();
            let t = Instant::now();
            let ff = greedy::first_fit(&inst);
            let ff_secs = t.elapsed().as_secs_f64();
            let ff_rss = peak_rss_mib();
            let ff_obj = verify(&inst, &ff).expect("greedy schedule verifies");
            let opts = SolveOptions {
                time_limit: Duration::from_secs_f64(limit),
                seed,
                iteration_limit: None,
                idle_weight: arg(args, "--idle", 0.05),
                exact_share: arg(args, "--exact", SolveOptions::default().exact_share),
            };
            reset_peak_rss();
            let t = Instant::now();
            let sol = solve_quiet(&inst, &opts).expect("valid");
            let secs = t.elapsed().as_secs_f64();
            let rss = peak_rss_mib();
            let obj = verify(&inst, &sol.schedule).expect("solver schedule verifies");
            let ub = sol.upper_bound as f64;
            for (method, o, secs, rss) in [
                ("first-fit greedy", ff_obj, ff_secs, ff_rss),
                ("kontor-schedule", obj, secs, rss),
            ] {
                let _ = writeln!(
                    s,
                    "| {label} seed {seed} | {method} | {} | {} | {} | {:.2} % | {:.2} % | {} | {} | {secs:.3} | {rss:.0} |",
                    o.held,
                    o.weight,
                    sol.upper_bound,
                    100.0 * o.weight as f64 / ub,
                    100.0 * (ub - o.weight as f64) / ub,
                    o.breaks,
                    o.table_changes,
                );
            }
            eprintln!(
                "{label} seed {seed}: {:.2} % of bound in {secs:.2}s",
                100.0 * obj.weight as f64 / ub
            );
        }
    }
    s
}
