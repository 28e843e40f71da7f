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
