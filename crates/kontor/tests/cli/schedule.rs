//! `kontor schedule solve|verify` as an organiser runs them: files in, JSON out, violations and
//! bad files named with a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kontor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kontor"))
        .args(args)
        .output()
        .expect("kontor runs")
}

fn folder() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kontor-cli-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// Four exhibitors who all want to meet, in three slots at two tables.
const INSTANCE: &str = r#"{"tables": 2,
    "slots": [{"id": "s1"}, {"id": "s2"}, {"id": "s3"}],
    "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}],
    "requests": [
        {"id": "ab", "participants": ["a", "b"]}, {"id": "cd", "participants": ["c", "d"]},
        {"id": "ac", "participants": ["a", "c"]}, {"id": "bd", "participants": ["b", "d"]},
        {"id": "ad", "participants": ["a", "d"]}, {"id": "bc", "participants": ["b", "c"]}]}"#;

#[test]
fn solve_writes_a_schedule_that_verify_accepts() {
    let dir = folder();
    let (instance, solution) = (dir.join("fair.json"), dir.join("solution.json"));
    std::fs::write(&instance, INSTANCE).unwrap();
    let out = kontor(&[
        "schedule",
        "solve",
        &text(&instance),
        "--time-limit",
        "1s",
        "--seed",
        "3",
        "-o",
        &text(&solution),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&solution).unwrap()).unwrap();
    // K4 in three slots at two tables: a perfect 1-factorisation holds all six.
    assert_eq!(written["schedule"]["meetings"].as_array().unwrap().len(), 6);
    assert_eq!(written["objective"]["held"], 6);
    assert_eq!(written["upper_bound"], written["objective"]["weight"]);

    // With a work budget, the same seed gives the same schedule (on an event large enough for
    // the search's choices to matter: 80 people, 500 requests).
    let event = dir.join("event.json");
    let config = kontor_schedule::generate::Config {
        participants: 80,
        requests: 500,
        slots: 10,
        days: 2,
        tables: 20,
        group_share: 0.05,
        seed: 4,
    };
    std::fs::write(
        &event,
        kontor_schedule::generate::generate(&config).to_json(),
    )
    .unwrap();
    let again = |seed: &str| {
        let args = [
            "schedule",
            "solve",
            &text(&event),
            "--seed",
            seed,
            "--iterations",
            "30000",
            "--time-limit",
            "60s",
        ];
        let out = kontor(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let solution: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        solution["schedule"].clone()
    };
    assert_eq!(again("5"), again("5"));

    let out = kontor(&["schedule", "verify", &text(&instance), &text(&solution)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objective: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(objective, written["objective"]);

    // A schedule with a participant twice in one slot and a table used twice: each named.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"meetings": [{"request": "ab", "slot": "s1", "table": 1},
                        {"request": "ac", "slot": "s1", "table": 1}]}"#,
    )
    .unwrap();
    let out = kontor(&["schedule", "verify", &text(&instance), &text(&bad)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.matches("violation: ").count() >= 2 && err.contains("violation(s) of hard constraints"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_instance_files_are_named_with_the_reason() {
    let dir = folder();
    let unknown = dir.join("unknown.json");
    std::fs::write(
        &unknown,
        r#"{"tables": 1, "slots": [{"id": "s1"}], "participants": [{"id": "a"}],
            "requests": [{"id": "ab", "participants": ["a", "b"]}]}"#,
    )
    .unwrap();
    let out = kontor(&["schedule", "solve", &text(&unknown)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown.json") && err.contains("\"b\""),
        "{err}"
    );
    let missing = dir.join("nowhere.json");
    let out = kontor(&["schedule", "solve", &text(&missing)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let out = kontor(&["schedule", "solve", &text(&unknown), "--time-limit", "5h"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown unit"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The JAIR 2022 files are read as they are published (MiniZinc `.dzn`).
#[test]
fn solve_reads_the_jair_files() {
    let dir = std::env::var_os("KONTOR_JAIR_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/benchmarks/b2b-jair2022")
        });
    let file = dir.join("forum-13.original.dzn");
    assert!(
        file.is_file(),
        "the JAIR 2022 benchmark folder is missing: {}",
        dir.display()
    );
    let out = kontor(&["schedule", "solve", &text(&file), "--time-limit", "2s"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let solution: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every meeting of forum-13 is mandatory and held; its published optimum is 0 breaks.
    assert_eq!(solution["feasibility"]["status"], "feasible");
    assert_eq!(solution["objective"]["held"], 154);
    assert_eq!(solution["objective"]["breaks"], 0);
}
