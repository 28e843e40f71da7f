//! The routes the server registers and the paths of `openapi.yaml` are the same set.

use std::collections::BTreeSet;

use relais_tests::Contract;

#[test]
fn every_registered_route_is_in_the_contract_and_back() {
    let registered: BTreeSet<(String, String)> = relais_api::routes::table()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    let contract = Contract::load();
    let documented: BTreeSet<(String, String)> = contract
        .operations()
        .iter()
        .map(|op| (op.method.clone(), op.template.clone()))
        .collect();
    let missing: Vec<_> = registered.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&registered).collect();
    assert!(missing.is_empty(), "registered but not in openapi.yaml: {missing:?}");
    assert!(extra.is_empty(), "in openapi.yaml but not registered: {extra:?}");
}

#[test]
fn the_contract_checker_catches_a_wrong_body() {
    // A control: the validator must be able to fail.
    let contract = Contract::load();
    let good = br#"{"status":"ok"}"#;
    assert!(
        contract
            .check("GET", "/healthz", 200, Some("application/json"), good)
            .is_ok()
    );
    let bad = br#"{"status":1}"#;
    assert!(
        contract
            .check("GET", "/healthz", 200, Some("application/json"), bad)
            .is_err()
    );
    assert!(contract.check("GET", "/healthz", 200, Some("text/html"), good).is_err());
    assert!(
        contract
            .check("GET", "/nowhere", 200, Some("application/json"), good)
            .is_err()
    );
}

#[test]
fn the_contract_checker_refuses_a_status_the_operation_does_not_document() {
    let contract = Contract::load();
    let problem = br#"{"type":"about:blank","title":"I'm a teapot","status":418}"#;
    // Teeth: an undocumented status fails, even an error with a well-formed problem body.
    let teapot = contract.check("GET", "/healthz", 418, Some("application/problem+json"), problem);
    assert!(teapot.is_err(), "418 on /healthz passed the contract");
    // A route without a body documents neither 413 nor 415.
    assert!(
        contract
            .check("GET", "/healthz", 415, Some("application/problem+json"), problem)
            .is_err()
    );
    // A shared response is followed to its schema: a 401 must be a Problem.
    let unauthorised = br#"{"type":"about:blank","title":"Unauthorized","status":401}"#;
    assert!(
        contract
            .check("GET", "/v1/me", 401, Some("application/problem+json"), unauthorised)
            .is_ok()
    );
    assert!(
        contract
            .check(
                "GET",
                "/v1/me",
                401,
                Some("application/problem+json"),
                br#"{"status":"x"}"#
            )
            .is_err()
    );
}

#[test]
fn no_operation_documents_a_catch_all_status() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml")).unwrap();
    let spec: serde_json::Value = serde_norway::from_str(&text).unwrap();
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op.get("responses").and_then(|r| r.as_object()) else {
                continue;
            };
            operations += 1;
            for key in responses.keys() {
                assert!(
                    key.len() == 3 && key.bytes().all(|b| b.is_ascii_digit()),
                    "{method} {path} documents {key:?}: list the statuses it answers instead"
                );
            }
            let secured = op
                .get("security")
                .and_then(|s| s.as_array())
                .is_none_or(|s| !s.is_empty());
            if secured {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} needs credentials but documents no 401"
                );
            }
            assert!(responses.contains_key("500"), "{method} {path} documents no 500");
            if op.get("requestBody").is_some() {
                for status in ["413", "415"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} takes a body but documents no {status}"
                    );
                }
            }
        }
    }
    assert!(operations > 100, "read {operations} operations");
}

#[test]
fn every_schema_and_body_has_an_example_that_validates() {
    let problems = Contract::load().example_problems();
    assert!(
        problems.is_empty(),
        "{} example problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_example_check_catches_a_wrong_or_missing_example() {
    // Controls on altered copies of the contract: the check must be able to fail.
    let mut spec = Contract::raw();
    spec["components"]["schemas"]["Referral"]["examples"][0]["status"] = "lost".into();
    let problems = Contract::from_spec(spec).example_problems();
    assert!(
        problems.iter().any(|p| p.starts_with("schema Referral example 0")),
        "a Referral example with an unknown status passed: {problems:?}"
    );

    let mut spec = Contract::raw();
    spec["components"]["schemas"]["Health"]
        .as_object_mut()
        .unwrap()
        .remove("examples");
    let problems = Contract::from_spec(spec).example_problems();
    assert!(
        problems.contains(&"schema Health has no examples".to_owned()),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p == "paths GET /healthz 200 application/json has no example"),
        "an operation whose body has no example passed: {problems:?}"
    );

    let mut spec = Contract::raw();
    spec["components"]["responses"]["NotFound"]["content"]["application/problem+json"]["example"]["status"] =
        "404".into();
    let problems = Contract::from_spec(spec).example_problems();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("response NotFound application/problem+json example 0")),
        "a shared response's wrong example passed: {problems:?}"
    );
}
