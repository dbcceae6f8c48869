/// `docs/openapi.json` is the document the server generates. Regenerate with
/// `UPDATE_SNAPSHOTS=1 cargo test -p kontor-web openapi`.
#[test]
fn openapi_document_matches_the_snapshot() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let generated = kontor_web::openapi_json();
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::write(path, &generated).unwrap();
    }
    let stored = std::fs::read_to_string(path).expect("docs/openapi.json exists");
    assert!(generated.contains("/api/v1/events/{slug}/registrations"));
    assert_eq!(
        stored, generated,
        "the API changed: regenerate docs/openapi.json (see this test's doc)"
    );
}
