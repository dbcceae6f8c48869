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

/// A parameter is in the path exactly when the path names it (a query string's parameters
/// once came out as path parameters, which clients generated from the document cannot call).
#[test]
fn openapi_parameters_are_where_the_paths_say() {
    let doc: serde_json::Value = serde_json::from_str(&kontor_web::openapi_json()).unwrap();
    let mut checked = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for p in operation["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                let declared = p["in"].as_str().unwrap();
                assert_eq!(
                    declared,
                    if in_path { "path" } else { "query" },
                    "{method} {path}: {name}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "{checked}");
}
