//! The verifier names every kind of hard-constraint violation (the solver's output, the CLI and
//! every test rely on it).

use kontor_schedule::{Instance, Schedule, Violation, verify};

/// a is away in the afternoon, d meets at most once, ab only in the morning, cd fixed at s2,
/// ac online, bd after ab; one table, two at s2.
fn instance() -> Instance {
    Instance::from_json(
        r#"{"tables": 1,
        "slots": [{"id": "s1", "session": "am"}, {"id": "s2", "session": "am", "tables": 2},
                  {"id": "s3", "session": "pm"}],
        "participants": [{"id": "a", "unavailable": ["s3"]}, {"id": "b"}, {"id": "c"},
                         {"id": "d", "max_meetings": 1}, {"id": "e"}, {"id": "f"}],
        "requests": [{"id": "ab", "participants": ["a", "b"], "sessions": ["am"]},
                     {"id": "cd", "participants": ["c", "d"], "fixed_slot": "s2"},
                     {"id": "ac", "participants": ["a", "c"], "mode": "online"},
                     {"id": "bd", "participants": ["b", "d"], "after": ["ab"]},
                     {"id": "ef", "participants": ["e", "f"]}]}"#,
    )
    .expect("valid")
}

fn violations(meetings: &str) -> Vec<Violation> {
    let schedule: Schedule =
        serde_json::from_str(&format!(r#"{{"meetings": [{meetings}]}}"#)).expect("a schedule");
    verify(&instance(), &schedule).expect_err("a violation")
}

#[test]
fn the_verifier_names_every_kind_of_violation() {
    // Each schedule breaks one rule (sometimes another on the way): the kind it must name.
    let cases = [
        ("UnknownRequest", r#"{"request": "zz", "slot": "s1"}"#),
        (
            "UnknownSlot",
            r#"{"request": "ab", "slot": "s9", "table": 1}"#,
        ),
        (
            "ScheduledTwice",
            r#"{"request": "ab", "slot": "s1", "table": 1}, {"request": "ab", "slot": "s2", "table": 1}"#,
        ),
        ("Unavailable", r#"{"request": "ac", "slot": "s3"}"#),
        (
            "SessionNotAllowed",
            r#"{"request": "ef", "slot": "s3", "table": 1}, {"request": "ab", "slot": "s3", "table": 1}"#,
        ),
        (
            "NotAtFixedSlot",
            r#"{"request": "cd", "slot": "s1", "table": 1}"#,
        ),
        (
            "DoubleBooked",
            r#"{"request": "ab", "slot": "s1", "table": 1}, {"request": "ac", "slot": "s1"}"#,
        ),
        (
            "TooManyMeetings",
            r#"{"request": "cd", "slot": "s2", "table": 1}, {"request": "bd", "slot": "s3", "table": 1}"#,
        ),
        (
            "OverCapacity",
            r#"{"request": "ab", "slot": "s1", "table": 1}, {"request": "ef", "slot": "s1", "table": 2}"#,
        ),
        ("BadTable", r#"{"request": "ab", "slot": "s1"}"#),
        (
            "OnlineWithTable",
            r#"{"request": "ac", "slot": "s1", "table": 1}"#,
        ),
        (
            "TableTaken",
            r#"{"request": "ab", "slot": "s2", "table": 1}, {"request": "cd", "slot": "s2", "table": 1}"#,
        ),
        (
            "Precedence",
            r#"{"request": "ab", "slot": "s2", "table": 1}, {"request": "bd", "slot": "s1", "table": 1}"#,
        ),
    ];
    for (kind, meetings) in cases {
        let found = violations(meetings);
        let named = |v: &Violation| format!("{v:?}").starts_with(&format!("{kind} "));
        assert!(found.iter().any(named), "{kind}: {meetings}: {found:?}");
        // Each is told in words (the CLI prints them).
        assert!(found.iter().all(|v| !v.to_string().is_empty()));
    }
    // And a schedule without any passes, with its objective.
    let fine: Schedule = serde_json::from_str(
        r#"{"meetings": [{"request": "ab", "slot": "s1", "table": 1},
                         {"request": "cd", "slot": "s2", "table": 1},
                         {"request": "ef", "slot": "s2", "table": 2}]}"#,
    )
    .unwrap();
    assert_eq!(verify(&instance(), &fine).expect("valid").held, 3);
}
