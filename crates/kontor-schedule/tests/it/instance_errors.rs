//! Bad instance files are rejected with a clear, specific message.

use kontor_schedule::{Instance, InstanceError};

const GOOD: &str = r#"{
  "tables": 2,
  "slots": [{"id": "s1"}, {"id": "s2"}],
  "participants": [{"id": "a"}, {"id": "b"}],
  "requests": [{"id": "r1", "participants": ["a", "b"], "priorities": [3, 1]}]
}"#;

fn error_of(text: &str) -> String {
    Instance::from_json(text)
        .expect_err("must be rejected")
        .to_string()
}

#[test]
fn a_valid_instance_parses() {
    let inst = Instance::from_json(GOOD).expect("valid");
    assert_eq!(inst.requests[0].effective_weight(), 4);
    let again = Instance::from_json(&inst.to_json()).expect("round trip");
    assert_eq!(again, inst);
}

#[test]
fn missing_field_is_named() {
    let e = error_of(r#"{"tables": 1, "slots": [{"id": "s1"}], "participants": [{"id": "a"}]}"#);
    assert!(e.contains("missing field `requests`"), "{e}");
    let e = error_of(&GOOD.replace(r#"{"id": "r1", "#, "{"));
    assert!(e.contains("missing field `id`"), "{e}");
}

#[test]
fn unknown_participant_is_named() {
    let e = error_of(&GOOD.replace(r#"["a", "b"]"#, r#"["a", "zed"]"#));
    assert_eq!(e, "request \"r1\" refers to unknown participant \"zed\"");
}

#[test]
fn negative_sizes_are_rejected() {
    let e = error_of(&GOOD.replace(r#""tables": 2"#, r#""tables": -3"#));
    assert!(e.contains("expected a non-negative integer, got -3"), "{e}");
    let e = error_of(&GOOD.replace(r#"{"id": "s2"}"#, r#"{"id": "s2", "tables": -1}"#));
    assert!(e.contains("non-negative"), "{e}");
}

#[test]
fn zero_sizes_are_rejected() {
    let e = error_of(&GOOD.replace(r#"[{"id": "s1"}, {"id": "s2"}]"#, "[]"));
    assert_eq!(e, "the instance has no slots");
    let e = error_of(&GOOD.replace(r#""priorities": [3, 1]"#, r#""weight": 0"#));
    assert_eq!(e, "request \"r1\": weight must be at least 1");
}

#[test]
fn duplicates_and_bad_references_are_rejected() {
    let e = error_of(&GOOD.replace(r#"{"id": "b"}"#, r#"{"id": "a"}"#));
    assert_eq!(e, "duplicate participant id \"a\"");
    let e = error_of(&GOOD.replace(r#""priorities": [3, 1]"#, r#""fixed_slot": "s9""#));
    assert_eq!(e, "request \"r1\" refers to unknown slot \"s9\"");
    let e = error_of(&GOOD.replace(r#""priorities": [3, 1]"#, r#""after": ["r0"]"#));
    assert_eq!(e, "request \"r1\" refers to unknown request \"r0\"");
    let e = error_of(&GOOD.replace(r#"["a", "b"]"#, r#"["a", "a"]"#));
    assert_eq!(e, "request \"r1\": participant \"a\" is listed twice");
    let e = error_of(&GOOD.replace(r#"["a", "b"]"#, r#"["a"]"#));
    assert!(
        e.contains("has 1 participants; a meeting needs 2 to 4"),
        "{e}"
    );
    let e = error_of(&GOOD.replace(r#""tables": 2"#, r#""tables": 2, "colour": "red""#));
    assert!(e.contains("unknown field `colour`"), "{e}");
}

#[test]
fn precedence_cycles_are_rejected() {
    let text = r#"{"tables": 1, "slots": [{"id": "s1"}, {"id": "s2"}],
      "participants": [{"id": "a"}, {"id": "b"}],
      "requests": [{"id": "r1", "participants": ["a", "b"], "after": ["r2"]},
                   {"id": "r2", "participants": ["a", "b"], "after": ["r1"]}]}"#;
    let e = error_of(text);
    assert!(e.contains("cycle between requests"), "{e}");
}

#[test]
fn malformed_dzn_is_rejected() {
    let e = Instance::load("x.dzn", "nBusiness = 2;").expect_err("incomplete");
    assert!(matches!(e, InstanceError::Dzn(_)), "{e}");
    assert!(e.to_string().contains("missing `nMeetings`"), "{e}");
}
