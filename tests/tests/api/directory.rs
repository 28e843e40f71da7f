//! The centres directory: services and locations kept by each centre's manager, search by
//! postal code, the national coverage against two centres per region, and the public
//! export in the Open Referral HSDS 3.0 shape, validated against HSDS's own JSON schemas.

use std::collections::HashMap;

use relais_tests::TestApp;
use relais_tests::line::spawn_line_app;
use serde_json::{Value, json};

const HSDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/hsds-3.0");

/// HSDS's object schemas refer to each other by file name (`"$ref": "location.json"`):
/// inline them, cutting cycles (an object met again inside itself accepts any object).
fn inline(value: &Value, files: &HashMap<String, Value>, path: &mut Vec<String>) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref")
                && let Some(schema) = files.get(target)
            {
                if path.contains(target) {
                    return json!({ "type": "object" });
                }
                path.push(target.clone());
                let inlined = inline(schema, files, path);
                path.pop();
                return inlined;
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), inline(v, files, path))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| inline(v, files, path)).collect()),
        other => other.clone(),
    }
}

fn hsds_validator(name: &str) -> jsonschema::Validator {
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(HSDS).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            files.insert(
                path.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&text).unwrap(),
            );
        }
    }
    let root = inline(&files[name], &files, &mut vec![name.to_owned()]);
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap()
}

fn compiled_validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(format!("{HSDS}/compiled/{name}")).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&serde_json::from_str(&text).unwrap())
        .unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} is not valid HSDS 3.0: {errors:?}\n{value}");
}

async fn describe_centres(app: &TestApp) {
    let manager = app.token("manager").await;
    let idf = app.organisation_id("CPCA Île-de-France Est").await;
    let services = app
        .put(&format!("/v1/centres/{idf}/services"))
        .bearer(&manager)
        .json(&json!({ "items": [
            { "kind": "individual_follow_up", "description": "Entretiens individuels avec un psychologue." },
            { "kind": "responsibility_course", "description": "Stage de deux jours, sur décision de justice." },
        ]}))
        .send()
        .await;
    assert_eq!(services.status, 200, "{}", services.text());
    let locations = app
        .put(&format!("/v1/centres/{idf}/locations"))
        .bearer(&manager)
        .json(&json!({ "items": [{
            "name": "Antenne de Paris 11e", "address": "12 rue de la Paix", "postal_code": "75011",
            "latitude": 48.8589, "longitude": 2.3800,
            "opening_hours": [
                { "weekday": 1, "opens": "09:00", "closes": "17:30" },
                { "weekday": 3, "opens": "13:00", "closes": "20:00" },
            ],
        }]}))
        .send()
        .await;
    assert_eq!(locations.status, 200, "{}", locations.text());
    assert_eq!(locations.json()["items"][0]["city"], "Paris");
    assert_eq!(locations.json()["items"][0]["departement"], "75");
}

/// On a fresh start the demo's centres already describe their services, so the public export
/// has something to show (it was empty until a manager wrote them).
#[tokio::test]
async fn a_fresh_start_publishes_the_demo_centres_services() {
    let app = spawn_line_app(&[]).await;
    let services = app.get("/v1/directory/hsds/services").send().await;
    assert_eq!(services.status, 200, "{}", services.text());
    let services = services.json();
    let items = services["contents"].as_array().unwrap();
    assert_eq!(items.len(), 5, "three in Paris, two at La Réunion: {services}");
    let schema = hsds_validator("service.json");
    for service in items {
        assert_valid(&schema, service, "a demo service");
        assert!(
            service["description"].as_str().is_some_and(|d| d.contains(" / ")),
            "French, then English: {service}"
        );
    }
    let at = app.get("/v1/directory/hsds/service_at_locations").send().await.json();
    assert_eq!(at["total_items"], 5, "each at its centre's place: {at}");
}

#[tokio::test]
async fn the_public_export_is_valid_hsds() {
    let app = spawn_line_app(&[]).await;
    describe_centres(&app).await;

    // No account needed: the directory is public.
    let root = app.get("/v1/directory/hsds").send().await;
    assert_eq!(root.status, 200);
    let list = app.get("/v1/directory/hsds/organizations?per_page=1").send().await;
    assert_eq!(list.status, 200, "{}", list.text());
    let list = list.json();
    assert_eq!(list["total_items"], 2, "two demo centres, nothing else");
    assert_eq!(
        (list["total_pages"].as_i64(), list["size"].as_i64()),
        (Some(2), Some(1))
    );
    let basic = compiled_validator("organization_list.json");
    let contents = list["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 1, "one per page");
    for item in contents {
        assert_valid(&basic, item, "an organization of the list");
    }

    let idf = app.organisation_id("CPCA Île-de-France Est").await;
    let org = app
        .get(&format!("/v1/directory/hsds/organizations/{idf}"))
        .send()
        .await
        .json();
    let org_schema = hsds_validator("organization.json");
    assert_valid(&org_schema, &org, "the organization");
    // The check has teeth: an organization without a name, or a location without its type, fails.
    let mut broken = org.clone();
    broken.as_object_mut().unwrap().remove("name");
    assert!(!org_schema.is_valid(&broken));
    let mut broken = org.clone();
    broken["locations"][0].as_object_mut().unwrap().remove("location_type");
    assert!(!org_schema.is_valid(&broken));
    assert_eq!(org["services"].as_array().unwrap().len(), 2);
    assert_eq!(org["locations"][0]["schedules"][0]["byday"], "MO");
    assert_eq!(org["locations"][0]["addresses"][0]["postal_code"], "75011");
    assert_eq!(org["phones"][0]["number"], "01 23 45 67 89");
    assert!(
        !org.to_string().contains("accueil."),
        "the notification address is not public"
    );

    let services = app.get("/v1/directory/hsds/services").send().await.json();
    let service_schema = hsds_validator("service.json");
    for service in services["contents"].as_array().unwrap() {
        assert_valid(&service_schema, service, "a service");
    }
    let one = services["contents"][0]["id"].as_str().unwrap();
    let single = app.get(&format!("/v1/directory/hsds/services/{one}")).send().await;
    assert_eq!(single.status, 200);
    let at = app.get("/v1/directory/hsds/service_at_locations").send().await.json();
    let at_schema = hsds_validator("service_at_location.json");
    assert_eq!(
        at["total_items"], 4,
        "the Paris centre's two services at its one place, La Réunion's two demo services at its own"
    );
    for item in at["contents"].as_array().unwrap() {
        assert_valid(&at_schema, item, "a service at a location");
    }

    let helpline = app.organisation_id("Ne frappez pas (ligne d'écoute)").await;
    assert_eq!(
        app.get(&format!("/v1/directory/hsds/organizations/{helpline}"))
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/v1/directory/hsds/organizations?per_page=0")
            .send()
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn listeners_find_centres_by_postal_code_and_the_ministry_sees_coverage() {
    let app = spawn_line_app(&[]).await;
    describe_centres(&app).await;
    let listener = app.token("listener").await;
    let paris = app
        .get("/v1/centres?postal_code=75011")
        .bearer(&listener)
        .send()
        .await
        .json();
    let names: Vec<&str> = paris["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["CPCA Île-de-France Est"]);
    assert_eq!(paris["items"][0]["locations"][0]["opening_hours"][1]["opens"], "13:00");
    let reunion = app
        .get("/v1/centres?postal_code=97400")
        .bearer(&listener)
        .send()
        .await
        .json();
    assert_eq!(reunion["items"][0]["timezone"], "Indian/Reunion");
    let nowhere = app
        .get("/v1/centres?postal_code=29200")
        .bearer(&listener)
        .send()
        .await
        .json();
    assert_eq!(nowhere["items"], json!([]), "Brest: no centre covers Finistère");
    assert_eq!(
        app.get("/v1/centres?postal_code=7501")
            .bearer(&listener)
            .send()
            .await
            .status,
        400
    );

    let coordinator = app.token("coordinator").await;
    let coverage = app.get("/v1/centres/coverage").bearer(&coordinator).send().await;
    assert_eq!(coverage.status, 200, "{}", coverage.text());
    let coverage = coverage.json();
    assert_eq!(coverage["target_per_region"], 2);
    let region = |code: &str| {
        coverage["regions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(region("11")["centres"], 1, "Île-de-France");
    assert_eq!(region("11")["meets_target"], false);
    assert!(
        region("11")["departements_without_centre"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "78"),
        "Yvelines is not covered"
    );
    assert_eq!(region("04")["centres"], 1, "La Réunion");
    let without: Vec<&str> = coverage["regions_without_centre"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(without.contains(&"53") && !without.contains(&"11"), "{without:?}");
}

#[tokio::test]
async fn only_a_centres_manager_describes_it() {
    let app = spawn_line_app(&[]).await;
    let idf = app.organisation_id("CPCA Île-de-France Est").await;
    let reunion = app.organisation_id("CPCA La Réunion").await;
    let body = json!({ "items": [{ "kind": "care", "description": "Soins." }] });
    let practitioner = app.token("practitioner").await;
    assert_eq!(
        app.put(&format!("/v1/centres/{idf}/services"))
            .bearer(&practitioner)
            .json(&body)
            .send()
            .await
            .status,
        403
    );
    let manager = app.token("manager").await;
    assert_eq!(
        app.put(&format!("/v1/centres/{reunion}/services"))
            .bearer(&manager)
            .json(&body)
            .send()
            .await
            .status,
        404,
        "another centre"
    );
    for bad in [
        json!({ "items": [{ "name": "A", "address": "1 rue", "postal_code": "00000" }] }),
        json!({ "items": [{ "name": "A", "address": "1 rue", "postal_code": "75011", "latitude": 48.8 }] }),
        json!({ "items": [{ "name": "A", "address": "1 rue", "postal_code": "75011", "opening_hours": [{ "weekday": 8, "opens": "09:00", "closes": "10:00" }] }] }),
        json!({ "items": [{ "name": "A", "address": "1 rue", "postal_code": "75011", "opening_hours": [{ "weekday": 1, "opens": "18:00", "closes": "10:00" }] }] }),
    ] {
        let reply = app
            .put(&format!("/v1/centres/{idf}/locations"))
            .bearer(&manager)
            .json(&bad)
            .send()
            .await;
        assert_eq!(reply.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn centres_covering_a_postal_code_come_nearest_first() {
    use diesel::prelude::*;
    use relais_core::db::schema::centre_locations;
    let app = spawn_line_app(&[]).await;
    let admin = app.token("admin").await;
    // Three more centres covering the Yvelines and Paris: one at Versailles, one in Paris 11e,
    // one without a located address (and named to sort first by name).
    let mut ids = Vec::new();
    for name in ["AAA CPCA sans adresse", "CPCA Paris Centre", "CPCA Versailles"] {
        let created = app
            .post("/v1/organisations")
            .bearer(&admin)
            .json(&json!({ "kind": "centre", "name": name, "timezone": "Europe/Paris", "coverage": ["75", "78"] }))
            .send()
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        ids.push(created.json()["id"].as_str().unwrap().to_owned());
    }
    let place = |org: &str, code: &str, at: Option<(f64, f64)>| {
        diesel::insert_into(centre_locations::table)
            .values((
                centre_locations::id.eq(uuid::Uuid::new_v4().to_string()),
                centre_locations::organisation_id.eq(org.to_owned()),
                centre_locations::name.eq("Accueil"),
                centre_locations::address.eq("1 rue de la Mairie"),
                centre_locations::postal_code.eq(code.to_owned()),
                centre_locations::city.eq("Ville"),
                centre_locations::departement.eq(code[..2].to_owned()),
                centre_locations::latitude.eq(at.map(|a| a.0)),
                centre_locations::longitude.eq(at.map(|a| a.1)),
                centre_locations::opening_hours.eq("[]"),
                centre_locations::position.eq(0),
            ))
            .execute(&mut *app.conn())
            .unwrap();
    };
    place(&ids[0], "75011", None);
    place(&ids[1], "75011", Some((48.8589, 2.3800)));
    place(&ids[2], "78000", Some((48.8049, 2.1204)));
    let listener = app.token("listener").await;
    let names = |body: Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // From Versailles (78000), Versailles first; from Paris 11e, Paris first; the centre with
    // no located address last either way.
    let from_versailles = app.get("/v1/centres?postal_code=78000").bearer(&listener).send().await;
    assert_eq!(from_versailles.status, 200, "{}", from_versailles.text());
    assert_eq!(
        names(from_versailles.json()),
        ["CPCA Versailles", "CPCA Paris Centre", "AAA CPCA sans adresse"]
    );
    let from_paris = app
        .get("/v1/centres?postal_code=75011")
        .bearer(&listener)
        .send()
        .await
        .json();
    let from_paris = names(from_paris);
    assert_eq!(&from_paris[..2], ["CPCA Paris Centre", "CPCA Versailles"]);
    assert!(
        from_paris[2..].iter().any(|n| n == "AAA CPCA sans adresse"),
        "{from_paris:?}"
    );
}
