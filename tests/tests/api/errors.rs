//! Bad input gets a clear problem and changes nothing.

use relais_tests::spawn_app;
use serde_json::json;

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = spawn_app().await;
    let unknown = app.get("/v1/nothing-here").send_unchecked().await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    assert_eq!(unknown.problem(), "not-found");

    let wrong_method = app.call("PUT", "/v1/me").send_unchecked().await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.problem(), "method-not-allowed");
    assert_eq!(wrong_method.header("allow").as_deref(), Some("GET"));
}

#[tokio::test]
async fn malformed_json_unknown_fields_wrong_type_and_oversized_bodies_are_refused() {
    let app = spawn_app_limit().await;
    let admin = app.token("admin").await;
    let before = app.get("/v1/organisations").bearer(&admin).send().await.json()["items"]
        .as_array()
        .unwrap()
        .len();

    let malformed = app
        .post("/v1/organisations")
        .bearer(&admin)
        .raw("application/json", "{\"kind\": ")
        .send()
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.problem(), "bad-request");

    let unknown_field = app
        .post("/v1/organisations")
        .bearer(&admin)
        .json(&json!({ "kind": "centre", "name": "CPCA Test", "colour": "blue" }))
        .send()
        .await;
    assert_eq!(unknown_field.status, 400);
    assert!(unknown_field.json()["detail"].as_str().unwrap().contains("colour"));

    let wrong_type = app
        .post("/v1/organisations")
        .bearer(&admin)
        .raw(
            "text/plain",
            json!({ "kind": "centre", "name": "CPCA Test" }).to_string(),
        )
        .send()
        .await;
    assert_eq!(wrong_type.status, 415);
    assert_eq!(wrong_type.problem(), "unsupported-media-type");

    let huge_name = "x".repeat(5_000);
    let oversized = app
        .post("/v1/organisations")
        .bearer(&admin)
        .json(&json!({ "kind": "centre", "name": huge_name }))
        .send()
        .await;
    assert_eq!(oversized.status, 413);
    assert_eq!(oversized.problem(), "payload-too-large");

    let invalid = app
        .post("/v1/organisations")
        .bearer(&admin)
        .json(&json!({ "kind": "centre", "name": "CPCA Test", "coverage": ["999"] }))
        .send()
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.json()["errors"][0]["pointer"], "/coverage");

    let after = app.get("/v1/organisations").bearer(&admin).send().await.json()["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "refused requests changed nothing");
}

#[tokio::test]
async fn bodies_must_be_json_objects() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let account = app.account("housing").clone();
    let login = app
        .post("/v1/auth/login")
        .json(&json!([account.email, account.password]))
        .send()
        .await;
    assert_eq!(login.status, 400, "an array is not a login request");
    let org = app
        .post("/v1/organisations")
        .bearer(&admin)
        .json(&json!(["partner", "Array Org"]))
        .send()
        .await;
    assert_eq!(org.status, 400);
    let list = app.get("/v1/organisations").bearer(&admin).send().await.json();
    assert!(!list.to_string().contains("Array Org"));
}

async fn spawn_app_limit() -> relais_tests::TestApp {
    relais_tests::spawn_app_with(&[("RELAIS_BODY_LIMIT", "4096")]).await
}

#[tokio::test]
async fn malformed_ids_in_paths_name_nothing() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let reply = app.get("/v1/users/not-a-uuid").bearer(&admin).send().await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn dates_at_the_edge_of_the_calendar_are_refused_not_crashed_on() {
    let app = relais_tests::line::spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let supervisor = app.token("supervisor").await;
    let far = "+262000-01-01T00:00:00Z";
    let early = "-262000-01-01T00:00:00Z";
    for (token, path) in [
        (&practitioner, format!("/v1/slots?from={far}")),
        (&practitioner, format!("/v1/appointments?from={far}")),
        (&supervisor, format!("/v1/helpline/statistics?to={early}")),
    ] {
        let reply = app.get(&path.replace('+', "%2B")).bearer(token).send().await;
        assert_eq!(reply.status, 400, "{path}");
    }
    let reply = app
        .post("/v1/availabilities")
        .bearer(&practitioner)
        .json(&serde_json::json!({ "modality": "on_site", "location": "A", "starts_at": "+200000-01-01T00:00:00Z", "duration_minutes": 60, "repeat_weekly_until": "2030-01-01" }))
        .send()
        .await;
    assert_eq!(reply.status, 400);
    let admin = app.token("admin").await;
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    let reply = app
        .post("/v1/referrals")
        .bearer(&admin)
        .json(&serde_json::json!({ "centre_id": centre, "subject_alias": "X", "summary": "S", "legal_basis": "court_ordered", "authority": "jap", "decision_reference": "R", "order_ends_on": "+100000-01-01" }))
        .send()
        .await;
    assert_eq!(reply.status, 400);
    let reply = app
        .get("/v1/directory/hsds/organizations?page=18446744073709551615")
        .send()
        .await;
    assert_eq!(reply.status, 400, "a page past the contract's maximum is refused");
    let reply = app.get("/v1/directory/hsds/organizations?page=1000000000").send().await;
    assert_eq!(
        reply.status, 200,
        "the last page the contract allows is empty, not an error"
    );
    assert_eq!(reply.json()["contents"], serde_json::json!([]));
}

/// Issue 21: a 400 names what was wrong, as an RFC 9457 extension: `errors[]` of `{pointer,
/// detail}`, the pointer a JSON Pointer into the body (nested members and array items
/// included, a missing or unknown member too), or the query parameter's name.
#[tokio::test]
async fn a_refused_request_names_the_member_or_parameter_at_fault() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let cases = [
        (
            json!({ "kind": "centre", "name": "CPCA Test", "coverage": [75] }),
            "/coverage/0",
        ),
        (
            json!({ "kind": "centre", "name": "CPCA Test", "colour": "blue" }),
            "/colour",
        ),
        (json!({ "kind": "centre" }), "/name"),
        (json!({ "kind": "planet", "name": "CPCA Test" }), "/kind"),
        (
            json!({ "kind": "centre", "name": "CPCA Test", "coverage": ["999"] }),
            "/coverage",
        ),
    ];
    for (body, pointer) in cases {
        let reply = app.post("/v1/organisations").bearer(&admin).json(&body).send().await;
        assert_eq!(reply.status, 400, "{body}");
        let problem = reply.json();
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{body}: {problem}");
        let detail = problem["errors"][0]["detail"].as_str().unwrap_or_default();
        assert!(!detail.is_empty(), "{problem}");
        assert!(
            problem["detail"].as_str().unwrap_or_default().starts_with(pointer),
            "the detail says where too: {problem}"
        );
    }
    for (query, name) in [("limit=abc", "limit"), ("limit=0", "limit"), ("colour=blue", "colour")] {
        let reply = app
            .get(&format!("/v1/security/alerts?{query}"))
            .bearer(&admin)
            .send()
            .await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.json()["errors"][0]["pointer"], name, "{query}: {}", reply.text());
    }
    let not_object = app
        .post("/v1/organisations")
        .bearer(&admin)
        .json(&json!([1]))
        .send()
        .await;
    assert_eq!(not_object.status, 400);
    assert_eq!(not_object.json()["errors"][0]["pointer"], "", "the whole body");
}
