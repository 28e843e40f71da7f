//! The attack of issue 14, as a test: with the housing operator's account (and a colluding
//! centre for every factor step and for placements), an attacker builds a grid of offers,
//! moves one offer hundreds of times to search the boundary, and fits a circle to everything
//! observed. The best estimate must stay at least R/2 from where the protected person lives:
//! matching only ever tests her secret protective disc.

use relais_tests::TestApp;
use relais_tests::line::spawn_line_app;
use serde_json::{Value, json};

/// Where she lives (never in a response), and her alert distance.
const HER: (f64, f64) = (48.8566, 2.3522);
const ALERT_KM: f64 = 2.0;
const KM_PER_DEGREE: f64 = 111.195;

/// A point `east`, `north` km from her, as (lat, lon).
fn at(east: f64, north: f64) -> (f64, f64) {
    (
        HER.0 + north / KM_PER_DEGREE,
        HER.1 + east / (KM_PER_DEGREE * HER.0.to_radians().cos()),
    )
}

/// Great-circle distance in km.
fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la, lb) = (a.0.to_radians(), b.0.to_radians());
    let h = ((lb - la) / 2.0).sin().powi(2) + la.cos() * lb.cos() * ((b.1 - a.1).to_radians() / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().asin()
}

/// The least-squares circle through points (east, north) in km (Kåsa's fit): its centre.
fn fit_circle(points: &[(f64, f64)]) -> (f64, f64) {
    // x² + y² + D x + E y + F = 0: normal equations of [x y 1] · [D E F] = -(x² + y²).
    let mut m = [[0.0f64; 4]; 3];
    for (x, y) in points {
        let row = [*x, *y, 1.0];
        let rhs = -(x * x + y * y);
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += row[i] * row[j];
            }
            m[i][3] += row[i] * rhs;
        }
    }
    for col in 0..3 {
        let pivot = (col..3)
            .max_by(|a, b| m[*a][col].abs().total_cmp(&m[*b][col].abs()))
            .unwrap();
        m.swap(col, pivot);
        for row in 0..3 {
            if row != col {
                let f = m[row][col] / m[col][col];
                let pivot_row = m[col];
                for (cell, p) in m[row].iter_mut().zip(pivot_row).skip(col) {
                    *cell -= f * p;
                }
            }
        }
    }
    let (d, e) = (m[0][3] / m[0][0], m[1][3] / m[1][1]);
    (-d / 2.0, -e / 2.0)
}

/// The commune a point is in (an offer must declare it): the attacker looks it up, here in
/// the same reference contours, among the départements the probes reach.
fn commune_at((lat, lon): (f64, f64)) -> String {
    use relais_core::geo::contours;
    static AREAS: std::sync::OnceLock<Vec<(String, contours::Area)>> = std::sync::OnceLock::new();
    let areas = AREAS.get_or_init(|| {
        let geo = relais_core::geo::Geography::load().unwrap();
        geo.communes()
            .iter()
            .filter(|c| ["60", "75", "77", "78", "91", "92", "93", "94", "95"].contains(&c.departement_code.as_str()))
            .filter_map(|c| Some((c.insee_code.clone(), contours::area(&c.insee_code)?)))
            .collect()
    });
    let found = areas.iter().find(|(_, a)| a.contains(lat, lon)).or_else(|| {
        areas
            .iter()
            .find(|(_, a)| a.near(lat, lon, contours::BORDER_TOLERANCE_M))
    });
    if let Some((code, _)) = found {
        return code.clone();
    }
    // Elsewhere in France: the communes whose town hall is within 40 km, looked up one by one.
    let geo = relais_core::geo::Geography::load().unwrap();
    let nearby: Vec<(String, contours::Area)> = geo
        .communes()
        .iter()
        .filter(|c| {
            contours::point(&c.insee_code).is_some_and(|(la, lo)| (la - lat).abs() < 0.4 && (lo - lon).abs() < 0.6)
        })
        .filter_map(|c| Some((c.insee_code.clone(), contours::area(&c.insee_code)?)))
        .collect();
    let found = nearby.iter().find(|(_, a)| a.contains(lat, lon)).or_else(|| {
        nearby
            .iter()
            .find(|(_, a)| a.near(lat, lon, contours::BORDER_TOLERANCE_M))
    });
    found
        .map(|(code, _)| code.clone())
        .unwrap_or_else(|| panic!("no commune holds ({lat}, {lon})"))
}

/// Limits and alert thresholds out of reach.
const UNWATCHED: &[(&str, &str)] = &[
    ("RELAIS_OFFER_CREATES_PER_HOUR", "100000"),
    ("RELAIS_OFFER_MOVES_PER_DAY", "100000"),
    ("RELAIS_OFFER_MOVES_PER_HOUR", "100000"),
    ("RELAIS_ALERT_CLUSTER_OFFERS", "100000"),
    ("RELAIS_ALERT_OFFER_MOVES", "100000"),
    ("RELAIS_ALERT_PROPOSAL_CHANGES", "100000"),
    ("RELAIS_ALERT_REFUSALS", "100000"),
];

fn offer_body(name: &str, (lat, lon): (f64, f64), extra: &Value) -> Value {
    let mut body = json!({ "kind": "hotel", "name": name, "provider": "Sonde", "address": "1 rue de la Sonde",
        "commune": commune_at((lat, lon)), "latitude": lat, "longitude": lon, "capacity": 5, "price_cents": 5000,
        "available_from": "2026-01-01" });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let reply = app.post(path).bearer(token).json(&body).send().await;
    assert_eq!(reply.status, 201, "{path}: {}", reply.text());
    reply.json()
}

async fn proposed(app: &TestApp, operator: &str, request: &str) -> Vec<String> {
    let found = app
        .get(&format!("/v1/housing/requests/{request}/proposals?limit=50"))
        .bearer(operator)
        .send()
        .await;
    assert_eq!(found.status, 200, "{}", found.text());
    found.json()["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["offer_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The attacker's bisection along one ray from her (the attacker's perfect guess): the
/// distance at which the answer flips, to about a metre. `inside(point)` asks the server.
async fn boundary<F, Fut>(bearing: f64, mut inside: F) -> (f64, f64)
where
    F: FnMut((f64, f64)) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let (mut lo, mut hi) = (0.0, 16.0);
    for _ in 0..14 {
        let mid = (lo + hi) / 2.0;
        if inside(at(mid * bearing.sin(), mid * bearing.cos())).await {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let r = (lo + hi) / 2.0;
    (r * bearing.sin(), r * bearing.cos())
}

#[tokio::test]
async fn probing_matching_and_placements_never_converges_on_her() {
    // The limits and alerts are lifted here: this test measures what the geometry gives away
    // to an attacker nobody stops (the next test shows they are stopped).
    let app = spawn_line_app(UNWATCHED).await;
    let practitioner = app.token("practitioner").await;
    let operator = app.token("housing").await;
    let case = super::housing::case(&app, &practitioner).await;
    let person = created(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/protected-persons"),
        json!({ "label": "Mme V.", "location": { "latitude": HER.0, "longitude": HER.1 }, "radius_km": ALERT_KM as i32 }),
    )
    .await;
    // Every factor step the API accepts, each on a request (the centre colludes); the probe
    // offer alone takes pets, so it is the one offer these requests can be proposed.
    let mut requests = Vec::new();
    for factor in [1.0, 1.5, 2.0] {
        let r = created(
            &app,
            &practitioner,
            &format!("/v1/cases/{case}/housing-requests"),
            json!({ "first_night": "2026-12-10", "last_night": "2026-12-12", "urgency": "tonight",
                    "needs": { "pets": true }, "radius_factor": factor }),
        )
        .await;
        assert_eq!(r["radius_factor"], factor);
        requests.push(r["id"].as_str().unwrap().to_owned());
    }
    for refused in [0.5, 1.2, 3.0] {
        let reply = app
            .post(&format!("/v1/cases/{case}/housing-requests"))
            .bearer(&practitioner)
            .json(&json!({ "first_night": "2026-12-10", "last_night": "2026-12-12", "urgency": "tonight", "radius_factor": refused }))
            .send()
            .await;
        assert_eq!(reply.status, 400, "factor {refused}: {}", reply.text());
    }

    // 1. A grid of 400 offers around her, one in eight bookable, the others never (their
    // calendar ended): the never-bookable ones are never even asked the place rules.
    let mut bookable = std::collections::HashSet::new();
    let mut never = std::collections::HashSet::new();
    for i in 0..20 {
        for j in 0..20 {
            let point = at(f64::from(i) - 9.5, f64::from(j) - 9.5);
            let open = (i * 20 + j) % 8 == 0;
            let extra = if open {
                json!({ "pets": true })
            } else {
                json!({ "pets": true, "available_until": "2026-02-01" })
            };
            let id = created(
                &app,
                &operator,
                "/v1/housing/offers",
                offer_body("Grille", point, &extra),
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            if open {
                bookable.insert(id);
            } else {
                never.insert(id);
            }
        }
    }
    let seen = proposed(&app, &operator, &requests[2]).await;
    assert!(
        seen.iter().all(|id| !never.contains(id)),
        "a never-bookable offer was proposed"
    );
    assert!(
        !seen.is_empty() && seen.len() < bookable.len(),
        "the grid straddles the disc"
    );
    // Take the grid away again (inactive), so that only the probe answers below.
    for id in bookable.iter().chain(never.iter()) {
        let mut body = offer_body("Grille", HER, &json!({ "active": false }));
        // Grenoble, by its town hall.
        body["latitude"] = json!(45.1868);
        body["longitude"] = json!(5.7357);
        body["commune"] = json!("38185");
        let reply = app
            .put(&format!("/v1/housing/offers/{id}"))
            .bearer(&operator)
            .json(&body)
            .send()
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    // 2. One offer moved along eight rays from her, for every factor step: 336 moves.
    let probe = created(
        &app,
        &operator,
        "/v1/housing/offers",
        offer_body("Sonde", HER, &json!({ "pets": true })),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut moves = 0;
    let mut estimates = Vec::new();
    for request in &requests {
        let mut points = Vec::new();
        for ray in 0..8 {
            let bearing = f64::from(ray) * std::f64::consts::TAU / 8.0;
            let point = boundary(bearing, |point| {
                moves += 1;
                let (app, operator, probe, request) = (&app, &operator, &probe, request);
                async move {
                    let reply = app
                        .put(&format!("/v1/housing/offers/{probe}"))
                        .bearer(operator)
                        .json(&offer_body("Sonde", point, &json!({ "pets": true })))
                        .send()
                        .await;
                    assert_eq!(reply.status, 200, "{}", reply.text());
                    !proposed(app, operator, request).await.contains(probe)
                }
            })
            .await;
            points.push(point);
        }
        let (east, north) = fit_circle(&points);
        let radius = points
            .iter()
            .map(|(x, y)| ((x - east).powi(2) + (y - north).powi(2)).sqrt())
            .sum::<f64>()
            / points.len() as f64;
        estimates.push((at(east, north), radius));
    }
    assert!(moves >= 200, "{moves} moves");

    // What the attacker learnt: the disc (its centre and each step's radius), not her.
    let disc = relais_core::cases::protected::disc_for_exclusion(
        &mut app.conn(),
        &app.app_state().secrets,
        person["id"].as_str().unwrap(),
    )
    .unwrap();
    let centre = (disc.centre().lat, disc.centre().lon);
    for (i, (estimate, radius)) in estimates.iter().enumerate() {
        let from_her = km(*estimate, HER);
        assert!(
            from_her >= ALERT_KM / 2.0,
            "step {i}: the best estimate is {from_her:.3} km from her, under R/2"
        );
        assert!(
            km(*estimate, centre) < 0.05,
            "step {i}: the fit found the disc's centre"
        );
        assert!(
            *radius > [1.0, 1.5, 2.0][i] * ALERT_KM + from_her,
            "step {i}: the radius hides her"
        );
    }
    // Every factor step draws the same centre: sweeping the steps adds nothing about her.
    assert!(km(estimates[0].0, estimates[2].0) < 0.05);

    // 3. Placements as centre staff: a centre's own offer created at each probe point (booked
    // offers cannot move) and a placement tried for the case. The boundary is the same disc's,
    // and every refusal says the same thing.
    let mut refusals = std::collections::BTreeSet::new();
    let bearing = std::f64::consts::FRAC_PI_4;
    let mut n = 0;
    let flip = boundary(bearing, |point| {
        n += 1;
        let (app, practitioner, case) = (&app, &practitioner, &case);
        async move {
            let own = created(
                app,
                practitioner,
                "/v1/housing/offers",
                offer_body(&format!("Place {n}"), point, &json!({})),
            )
            .await;
            let placed = app
                .post("/v1/housing/placements")
                .bearer(practitioner)
                .json(
                    &json!({ "case_id": case, "offer_id": own["id"], "first_night": "2026-12-10",
                               "last_night": "2026-12-10", "funding": "centre" }),
                )
                .send()
                .await;
            assert!(placed.status == 201 || placed.status == 409, "{}", placed.text());
            placed.status == 409
        }
    })
    .await;
    // A centre's declaration uses the largest step: the flip lies on that step's circle.
    let flip_km = km(at(flip.0, flip.1), estimates[2].0);
    assert!(
        (flip_km - estimates[2].1).abs() < 0.05,
        "placements test the same disc: {flip_km} against {}",
        estimates[2].1
    );
    // Refused for a place rule, or for a calendar, the answer is the same.
    for (point, extra) in [
        (at(0.0, 0.5), json!({})),
        (at(0.0, 40.0), json!({ "available_until": "2026-02-01" })),
    ] {
        let own = created(
            &app,
            &practitioner,
            "/v1/housing/offers",
            offer_body("Refus", point, &extra),
        )
        .await;
        let placed = app
            .post("/v1/housing/placements")
            .bearer(&practitioner)
            .json(
                &json!({ "case_id": case, "offer_id": own["id"], "first_night": "2026-12-10",
                           "last_night": "2026-12-10", "funding": "centre" }),
            )
            .send()
            .await;
        assert_eq!(placed.status, 409, "{}", placed.text());
        refusals.insert(placed.text());
    }
    assert_eq!(refusals.len(), 1, "{refusals:?}");
}

/// The alerts the administrator reads, as (kind, account, suspended).
async fn alerts(app: &TestApp, admin: &str) -> Vec<(String, String, bool)> {
    let reply = app.get("/v1/security/alerts").bearer(admin).send().await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_owned(),
                a["account_id"].as_str().unwrap().to_owned(),
                a["suspended"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn me(app: &TestApp, token: &str) -> String {
    app.get("/v1/me").bearer(token).send().await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn each_probing_behaviour_raises_its_alert_and_the_hard_threshold_suspends_the_attacker() {
    let smtp = relais_tests::smtp::SmtpSink::start().await;
    let app = spawn_line_app(&[
        ("RELAIS_SMTP_URL", &smtp.url),
        ("RELAIS_SECURITY_RECIPIENTS", "securite@relais.example"),
        ("RELAIS_OFFER_CREATES_PER_HOUR", "100"),
        ("RELAIS_OFFER_MOVES_PER_DAY", "100"),
        ("RELAIS_OFFER_MOVES_PER_HOUR", "100"),
        ("RELAIS_ALERT_CLUSTER_OFFERS", "5"),
        ("RELAIS_ALERT_CLUSTER_KM", "5"),
        ("RELAIS_ALERT_OFFER_MOVES", "4"),
        ("RELAIS_ALERT_PROPOSAL_CHANGES", "3"),
        ("RELAIS_ALERT_REFUSALS", "3"),
        ("RELAIS_ALERT_SUSPEND_FACTOR", "2"),
    ])
    .await;
    let practitioner = app.token("practitioner").await;
    let operator = app.token("housing").await;
    let admin = app.token("admin").await;
    let coordinator = app.token("coordinator").await;
    let operator_id = me(&app, &operator).await;
    let practitioner_id = me(&app, &practitioner).await;
    let case = super::housing::case(&app, &practitioner).await;
    created(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/protected-persons"),
        json!({ "label": "Mme V.", "location": { "latitude": HER.0, "longitude": HER.1 }, "radius_km": 2 }),
    )
    .await;
    let request = created(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/housing-requests"),
        json!({ "first_night": "2026-12-10", "last_night": "2026-12-12", "urgency": "tonight", "needs": { "pets": true } }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Nobody else reads the alerts.
    for token in [&operator, &practitioner] {
        let reply = app.get("/v1/security/alerts").bearer(token).send().await;
        assert_eq!(reply.status, 403, "{}", reply.text());
    }
    assert!(alerts(&app, &admin).await.is_empty());

    // 1. Offers created close together: five within 5 km.
    let mut offers = Vec::new();
    for i in 0..5 {
        let id = created(
            &app,
            &operator,
            "/v1/housing/offers",
            offer_body("Grille", at(f64::from(i) * 0.5, 0.0), &json!({ "pets": true })),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        offers.push(id);
    }
    let seen = alerts(&app, &admin).await;
    assert!(
        seen.contains(&("offer_cluster".into(), operator_id.clone(), false)),
        "{seen:?}"
    );
    // National coordinators read them too.
    let reply = app.get("/v1/security/alerts").bearer(&coordinator).send().await;
    assert_eq!(reply.status, 200);

    // 2. and 3. One offer moved again and again, the request's proposals asked after each move.
    let probe = &offers[0];
    for step in 1..=4 {
        let reply = app
            .put(&format!("/v1/housing/offers/{probe}"))
            .bearer(&operator)
            .json(&offer_body(
                "Grille",
                at(0.0, f64::from(step) * 0.3),
                &json!({ "pets": true }),
            ))
            .send()
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        proposed(&app, &operator, &request).await;
    }
    let seen = alerts(&app, &admin).await;
    assert!(
        seen.contains(&("offer_moves".into(), operator_id.clone(), false)),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("proposal_probing".into(), operator_id.clone(), false)),
        "{seen:?}"
    );

    // The moves are audited with both positions, sealed: an investigator with the key replays them.
    {
        use diesel::prelude::*;
        use relais_core::db::schema::audit_log;
        let rows: Vec<String> = audit_log::table
            .filter(audit_log::action.eq("offer.update"))
            .filter(audit_log::object_id.eq(probe))
            .order(audit_log::seq.asc())
            .select(audit_log::details)
            .load(&mut *app.conn())
            .unwrap();
        assert_eq!(rows.len(), 4);
        let last: Value = serde_json::from_str(&rows[3]).unwrap();
        assert!(!rows[3].contains("48.8"), "positions are sealed: {}", rows[3]);
        let secrets = &app.app_state().secrets;
        let (_, lat_from, _) =
            relais_core::security::open_position(secrets, probe, last["from"].as_str().unwrap()).unwrap();
        let (commune, lat_to, lon_to) =
            relais_core::security::open_position(secrets, probe, last["to"].as_str().unwrap()).unwrap();
        let (want_from, want_to) = (at(0.0, 0.9), at(0.0, 1.2));
        assert!((lat_from - want_from.0).abs() < 1e-9 && (lat_to - want_to.0).abs() < 1e-9);
        assert!((lon_to - want_to.1).abs() < 1e-9 && commune == "75056");
    }

    // 4. Refused placements piling up (centre staff, its own offers inside her zone).
    for n in 0..3 {
        let own = created(
            &app,
            &practitioner,
            "/v1/housing/offers",
            offer_body(&format!("Place {n}"), at(0.1 * f64::from(n), 0.0), &json!({})),
        )
        .await;
        let placed = app
            .post("/v1/housing/placements")
            .bearer(&practitioner)
            .json(
                &json!({ "case_id": case, "offer_id": own["id"], "first_night": "2026-12-10",
                           "last_night": "2026-12-10", "funding": "centre" }),
            )
            .send()
            .await;
        assert_eq!(placed.status, 409, "{}", placed.text());
    }
    let seen = alerts(&app, &admin).await;
    assert!(
        seen.contains(&("placement_refusals".into(), practitioner_id.clone(), false)),
        "{seen:?}"
    );
    assert!(seen.iter().all(|(_, _, suspended)| !suspended), "{seen:?}");

    // Each alert is audited, published live to administrators and emailed.
    {
        use diesel::prelude::*;
        use relais_core::db::schema::audit_log;
        let audited: i64 = audit_log::table
            .filter(audit_log::action.eq("security.alert"))
            .count()
            .get_result(&mut *app.conn())
            .unwrap();
        assert_eq!(audited, 4);
    }
    let live = relais_core::helpline::events::since(&mut app.conn(), 0, 100_000).unwrap();
    assert_eq!(live.iter().filter(|e| e.kind == "security.alert").count(), 4);
    let mails = smtp.wait_for(4).await.expect("the alerts are emailed");
    assert!(
        mails
            .iter()
            .filter(|m| m.to.iter().any(|t| t.contains("securite@relais.example")))
            .count()
            >= 4,
        "{mails:?}"
    );
    assert!(mails.iter().all(|m| !m.data.contains("48.8")), "no position in a mail");

    // The hard threshold (4 moves x 2): the attacker keeps moving and is stopped, suspended.
    let mut stopped = None;
    for step in 5..=12 {
        let reply = app
            .put(&format!("/v1/housing/offers/{probe}"))
            .bearer(&operator)
            .json(&offer_body(
                "Grille",
                at(0.0, f64::from(step) * 0.3),
                &json!({ "pets": true }),
            ))
            .send()
            .await;
        if reply.status != 200 {
            stopped = Some((step, reply.status));
            break;
        }
    }
    assert_eq!(stopped, Some((9, 401)), "the 8th move suspends, the 9th is refused");
    let seen = alerts(&app, &admin).await;
    assert!(
        seen.contains(&("offer_moves".into(), operator_id.clone(), true)),
        "{seen:?}"
    );
    // Suspended, sessions revoked: the password does not log in again either.
    let again = app
        .post("/v1/auth/login")
        .json(&json!({ "email": "housing@demo.relais.example", "password": "x" }))
        .send()
        .await;
    assert_ne!(again.status, 200);
    {
        use diesel::prelude::*;
        use relais_core::db::schema::{audit_log, users};
        let active: bool = users::table
            .find(&operator_id)
            .select(users::active)
            .first(&mut *app.conn())
            .unwrap();
        assert!(!active, "suspended pending an administrator");
        let suspended: i64 = audit_log::table
            .filter(audit_log::action.eq("user.suspend"))
            .filter(audit_log::object_id.eq(&operator_id))
            .count()
            .get_result(&mut *app.conn())
            .unwrap();
        assert_eq!(suspended, 1);
    }
}

#[tokio::test]
async fn offer_creates_and_moves_are_limited_with_retry_after() {
    let app = spawn_line_app(&[
        ("RELAIS_OFFER_CREATES_PER_HOUR", "3"),
        ("RELAIS_OFFER_MOVES_PER_DAY", "2"),
    ])
    .await;
    let operator = app.token("housing").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            created(
                &app,
                &operator,
                "/v1/housing/offers",
                offer_body("Limite", at(f64::from(i) * 20.0, 0.0), &json!({})),
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let refused = app
        .post("/v1/housing/offers")
        .bearer(&operator)
        .json(&offer_body("Limite", at(80.0, 0.0), &json!({})))
        .send()
        .await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert_eq!(
        refused.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let retry: i64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((3000..=3600).contains(&retry), "{retry}");
    // A centre's account has its own count.
    let practitioner = app.token("practitioner").await;
    created(
        &app,
        &practitioner,
        "/v1/housing/offers",
        offer_body("Centre", at(0.0, 30.0), &json!({})),
    )
    .await;

    // Moves: two a day for one offer.
    let probe = &ids[0];
    let owner = &operator;
    let mut statuses = Vec::new();
    for step in 1..=3 {
        let reply = app
            .put(&format!("/v1/housing/offers/{probe}"))
            .bearer(owner)
            .json(&offer_body("Limite", at(0.0, f64::from(step)), &json!({})))
            .send()
            .await;
        statuses.push(reply.status);
    }
    assert_eq!(statuses, [200, 200, 429]);
    // Changing anything but the place is not a move.
    let reply = app
        .put(&format!("/v1/housing/offers/{probe}"))
        .bearer(owner)
        .json(&offer_body("Nouveau nom", at(0.0, 2.0), &json!({})))
        .send()
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// Records a protected person at `HER`, later.
async fn protect_her(app: &TestApp, practitioner: &str, case: &str) {
    let reply = app
        .post(&format!("/v1/cases/{case}/protected-persons"))
        .bearer(practitioner)
        .json(&json!({ "label": "Mme V.", "location": { "latitude": HER.0, "longitude": HER.1 }, "radius_km": 1 }))
        .send()
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
}

/// The live events that flagged a placement as no longer compatible.
fn noncompliant(app: &TestApp) -> Vec<relais_core::helpline::events::LiveEvent> {
    relais_core::helpline::events::since(&mut app.conn(), 0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "housing.placement_noncompliant")
        .collect()
}

/// A placement booked from today on, in a centre's own offer at `point`.
async fn placed_now(app: &TestApp, practitioner: &str, case: &str, point: (f64, f64)) -> String {
    let today = chrono::Utc::now().date_naive();
    let own = created(
        app,
        practitioner,
        "/v1/housing/offers",
        offer_body("Maintenant", point, &json!({})),
    )
    .await;
    created(
        app,
        practitioner,
        "/v1/housing/placements",
        json!({ "case_id": case, "offer_id": own["id"], "first_night": today,
                "last_night": today + chrono::Duration::days(3), "funding": "centre" }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_rule_that_arrives_later_flags_the_placements_it_breaks_without_saying_where() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let case = super::housing::case(&app, &practitioner).await;
    let near = placed_now(&app, &practitioner, &case, at(0.3, 0.0)).await;
    let far = placed_now(&app, &practitioner, &case, at(0.0, 200.0)).await;
    let flagged = |app: &TestApp| {
        noncompliant(app)
            .into_iter()
            .map(|e| {
                (
                    e.object_id.unwrap_or_default(),
                    e.organisation_id.unwrap_or_default(),
                    e.detail,
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(flagged(&app).is_empty());

    // A protected person recorded later, 300 m from the first placement.
    protect_her(&app, &practitioner, &case).await;
    let events = flagged(&app);
    // The following centre and the platform are told, about the first placement only, with
    // no detail of where or why.
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|(id, _, detail)| *id == near && detail.is_none()));
    let orgs: std::collections::HashSet<_> = events.iter().map(|e| e.1.clone()).collect();
    assert_eq!(orgs.len(), 2, "the centre and the platform");

    // A residence ban on the second one's département, later: that one is flagged too.
    let far_offer = app
        .get(&format!("/v1/housing/placements/{far}"))
        .bearer(&practitioner)
        .send()
        .await
        .json();
    assert_eq!(far_offer["status"], "active");
    // Its département, from the commune it lies in (metropolitan INSEE codes start with it).
    let far_departement = commune_at(at(0.0, 200.0))[..2].to_owned();
    assert_ne!(far_departement, "75");
    let reply = app
        .post(&format!("/v1/cases/{case}/measures"))
        .bearer(&practitioner)
        .json(
            &json!({ "kind": "residence_ban", "authority": "jaf", "decision_reference": "JAF-2026-99",
                       "starts_on": "2026-01-01", "zone": { "departements": [far_departement], "communes": [] } }),
        )
        .send()
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let events = flagged(&app);
    assert!(events.iter().any(|(id, _, _)| *id == far), "{events:?}");
    {
        use diesel::prelude::*;
        use relais_core::db::schema::audit_log;
        let audited: i64 = audit_log::table
            .filter(audit_log::action.eq("placement.noncompliant"))
            .count()
            .get_result(&mut *app.conn())
            .unwrap();
        assert!(audited >= 2, "{audited}");
    }
}

#[tokio::test]
async fn a_rule_that_arrives_after_a_placements_last_night_by_the_server_clock_flags_nothing() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let case = super::housing::case(&app, &practitioner).await;
    placed_now(&app, &practitioner, &case, at(0.3, 0.0)).await;
    // Ten days on by the server's clock, the placement's four nights are all past.
    app.app_state().clock.advance(chrono::Duration::days(10));
    // Access tokens end by the server's clock: a new one at the moved time.
    let practitioner = app.token("practitioner").await;
    protect_her(&app, &practitioner, &case).await;
    assert!(noncompliant(&app).is_empty(), "no night from the server's today on");
}
