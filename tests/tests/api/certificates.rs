//! Attendance certificates (content from the recorded sessions only, a code anyone can check
//! without learning the name, a tampered code refused) and the person's rights over the file
//! (export of everything, erasure once the legal retention has passed).

use diesel::prelude::*;
use relais_tests::TestApp;
use relais_tests::line::spawn_line_app;
use serde_json::{Value, json};

async fn open_case(app: &TestApp, token: &str) -> String {
    let case = app
        .post("/v1/cases")
        .bearer(token)
        .json(&json!({ "origin": "self", "legal_basis": "court_ordered", "identity": { "name": "Marc Dupont", "date_of_birth": "1980-04-02" } }))
        .send()
        .await;
    assert_eq!(case.status, 201, "{}", case.text());
    case.json()["id"].as_str().unwrap().to_owned()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let reply = app.post(path).bearer(token).json(&body).send().await;
    assert_eq!(reply.status, 201, "{path}: {}", reply.text());
    reply.json()
}

/// A session planned at `at` (UTC), then marked `status`.
async fn session(app: &TestApp, token: &str, case: &str, at: &str, kind: &str, measure: Option<&str>, status: &str) {
    let s = post(
        app,
        token,
        &format!("/v1/cases/{case}/sessions"),
        json!({ "kind": kind, "planned_at": at, "measure_id": measure }),
    )
    .await;
    let marked = app
        .patch(&format!("/v1/sessions/{}", s["id"].as_str().unwrap()))
        .bearer(token)
        .json(&json!({ "status": status }))
        .send()
        .await;
    assert_eq!(marked.status, 200, "{}", marked.text());
}

/// The text of every page of a PDF, as a PDF parser extracts it from the bytes served (its
/// content streams and fonts), not as the code that wrote it meant it.
fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF that parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(!pages.is_empty(), "a PDF with pages");
    doc.extract_text(&pages).expect("the text of every page")
}

#[tokio::test]
async fn a_certificate_states_the_recorded_sessions_and_its_code_checks_out() {
    let captured = relais_tests::logs::capture();
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let case = open_case(&app, &practitioner).await;
    let care = post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/measures"),
        json!({ "kind": "care_obligation", "authority": "jap", "decision_reference": "JAP-2026-41", "starts_on": "2026-01-01", "ends_on": "2027-01-01", "sessions_required": 3 }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let eviction = post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/measures"),
        json!({ "kind": "eviction", "authority": "procureur", "decision_reference": "PR-9", "starts_on": "2026-01-01" }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Paris time: 23:30 UTC on 15 March is already 16 March at the centre.
    for (at, kind, measure, status) in [
        ("2025-12-20T09:00:00Z", "individual", None, "attended"), // before the measure
        ("2026-03-02T09:00:00Z", "individual", Some(care.as_str()), "attended"),
        ("2026-03-09T09:00:00Z", "individual", Some(care.as_str()), "excused"),
        ("2026-03-15T23:30:00Z", "group", Some(care.as_str()), "attended"),
        ("2026-04-01T09:00:00Z", "group", Some(care.as_str()), "unexcused"),
        (
            "2026-04-08T09:00:00Z",
            "individual",
            Some(eviction.as_str()),
            "attended",
        ), // another measure
    ] {
        session(&app, &practitioner, &case, at, kind, measure, status).await;
    }

    let issued = post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/certificates"),
        json!({ "measure_id": care }),
    )
    .await;
    let dates: Vec<&str> = issued["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        ["2026-03-02", "2026-03-16"],
        "the attended sessions of the measure, by local date"
    );
    assert_eq!(issued["sessions_required"], 3);
    assert_eq!(issued["period_from"], "2026-01-01");
    // A period asked from before the decision starts at the decision.
    let early = post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/certificates"),
        json!({ "measure_id": care, "from": "2025-06-01" }),
    )
    .await;
    assert_eq!(early["period_from"], "2026-01-01");
    assert_eq!(early["sessions"], issued["sessions"]);
    let code = issued["verification_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 23);
    assert!(
        issued["check_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v1/certificate-checks/{code}"))
    );

    // The PDF says the same, with the name for the court.
    let pdf = app
        .get(issued["pdf_url"].as_str().unwrap())
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type").as_deref(), Some("application/pdf"));
    let text = pdf_text(&pdf.body);
    for expected in [
        "ATTESTATION DE SUIVI",
        "CPCA Île-de-France Est",
        "Marc Dupont",
        "Obligation de soins / Care obligation",
        "JAP-2026-41",
        "2 mars 2026 / 2 March 2026",
        "16 mars 2026 / 16 March 2026",
        "Séances suivies / Sessions attended : 2 sur 3 requises / of 3 required",
        code.as_str(),
    ] {
        assert!(text.contains(expected), "{expected} missing from the PDF:\n{text}");
    }
    for absent in ["9 mars 2026", "1 avril 2026", "8 avril 2026", "20 décembre 2025"] {
        assert!(
            !text.contains(absent),
            "{absent} is not an attended session of the measure"
        );
    }
    // Another centre cannot download it.
    let other = app.token("practitioner.reunion").await;
    let theirs = app.get(issued["pdf_url"].as_str().unwrap()).bearer(&other).send().await;
    assert_eq!(theirs.status, 404);

    // Anyone holding the code checks it, without a session and without learning the name.
    let check = app.get(&format!("/v1/certificate-checks/{code}")).send().await;
    assert_eq!(check.status, 200, "{}", check.text());
    assert_eq!(check.json()["genuine"], true);
    assert_eq!(check.json()["dates_attended"], json!(["2026-03-02", "2026-03-16"]));
    assert_eq!(check.json()["measure_kind"], "care_obligation");
    for private in ["Marc", "Dupont", "1980", "JAP-2026-41"] {
        assert!(!check.text().contains(private), "{private} in the public check");
    }
    let typed = code.replace('-', " ").to_lowercase();
    let typed = app
        .get(&format!("/v1/certificate-checks/{}", typed.replace(' ', "%20")))
        .send()
        .await;
    assert_eq!(typed.status, 200, "case and separators do not matter");

    // A code with one character changed is refused; a malformed one too.
    let mut tampered: Vec<char> = code.chars().collect();
    tampered[0] = if tampered[0] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let refused = app.get(&format!("/v1/certificate-checks/{tampered}")).send().await;
    assert_eq!(refused.status, 404);
    assert_eq!(
        refused.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let malformed = app.get("/v1/certificate-checks/ABC-123").send().await;
    assert_eq!(malformed.status, 400);

    // The code is not stored in clear; nothing of the certificate reaches the logs.
    let stored = app.stored_text();
    let certificate = issued["id"].as_str().expect("the certificate's id");
    assert!(
        stored.contains(certificate),
        "the stored text does not hold the certificate {certificate}"
    );
    assert!(!stored.contains(&code) && !stored.contains(&code.replace('-', "")));
    assert!(!stored.contains("Marc Dupont"), "the certificate's content is sealed");
    for private in ["Marc Dupont", code.as_str()] {
        assert!(!captured.read(5).contains(private), "{private} in the logs");
    }

    // Nothing to certify in a period without attended sessions; the period must make sense.
    let empty = app
        .post(&format!("/v1/cases/{case}/certificates"))
        .bearer(&practitioner)
        .json(&json!({ "measure_id": care, "from": "2026-03-03", "to": "2026-03-10" }))
        .send()
        .await;
    assert_eq!(empty.status, 409);
    let backwards = app
        .post(&format!("/v1/cases/{case}/certificates"))
        .bearer(&practitioner)
        .json(&json!({ "from": "2026-03-10", "to": "2026-03-03" }))
        .send()
        .await;
    assert_eq!(backwards.status, 400);
    // Without a measure: every attended session, up to today.
    let all = post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/certificates"),
        json!({}),
    )
    .await;
    assert_eq!(all["sessions"].as_array().unwrap().len(), 4);
    let listed = app
        .get(&format!("/v1/cases/{case}/certificates"))
        .bearer(&practitioner)
        .send()
        .await
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn the_person_can_have_everything_exported_and_the_file_erased_after_retention() {
    let app = spawn_line_app(&[("RELAIS_CASE_RETENTION_DAYS", "365")]).await;
    let practitioner = app.token("practitioner").await;
    let manager = app.token("manager").await;
    let case = open_case(&app, &practitioner).await;
    let protected = post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/protected-persons"),
        json!({ "label": "Mme B.", "location": { "address": "7 impasse des Lilas", "latitude": 48.861234, "longitude": 2.443321 }, "radius_km": 3 }),
    )
    .await;
    // A contact ban covering the protected person, and a care obligation with a session and a
    // certificate of its own: erasure must undo every link.
    post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/measures"),
        json!({ "kind": "contact_ban", "authority": "jap", "decision_reference": "JAP-5", "starts_on": "2026-01-01", "protected_person_ids": [protected["id"]] }),
    )
    .await;
    let care = post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/measures"),
        json!({ "kind": "care_obligation", "authority": "jap", "decision_reference": "JAP-6", "starts_on": "2026-01-01", "sessions_required": 4 }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/notes"),
        json!({ "body": "Évoque une rupture récente." }),
    )
    .await;
    post(
        &app,
        &practitioner,
        &format!("/v1/cases/{case}/tasks"),
        json!({ "title": "Appeler le SPIP", "due_on": "2026-12-15" }),
    )
    .await;
    session(
        &app,
        &practitioner,
        &case,
        "2026-03-02T09:00:00Z",
        "individual",
        Some(care.as_str()),
        "attended",
    )
    .await;
    for body in [json!({}), json!({ "measure_id": care })] {
        post(&app, &practitioner, &format!("/v1/cases/{case}/certificates"), body).await;
    }

    // Everything held on the person, in one document; the victim's location is not theirs.
    let export = app
        .get(&format!("/v1/cases/{case}/export"))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(export.status, 200, "{}", export.text());
    let doc = export.json();
    assert_eq!(doc["case"]["identity"]["name"], "Marc Dupont");
    assert_eq!(doc["notes"][0]["body"], "Évoque une rupture récente.");
    assert_eq!(doc["tasks"][0]["title"], "Appeler le SPIP");
    assert_eq!(doc["sessions"][0]["status"], "attended");
    assert_eq!(doc["certificates"].as_array().unwrap().len(), 2);
    assert_eq!(doc["protected_persons"][0]["label"], "Mme B.");
    for secret in ["Lilas", "48.861", "2.443"] {
        assert!(!export.text().contains(secret), "{secret} in the export");
    }
    let other = app.token("practitioner.reunion").await;
    assert_eq!(
        app.get(&format!("/v1/cases/{case}/export"))
            .bearer(&other)
            .send()
            .await
            .status,
        404
    );

    // Erasure: a manager's act, only for a closed case, only after the retention.
    let erase = |token: String| {
        let app = &app;
        let path = format!("/v1/cases/{case}");
        async move { app.delete(&path).bearer(&token).send().await }
    };
    assert_eq!(erase(manager.clone()).await.status, 409, "an open case is kept");
    let closed = app
        .patch(&format!("/v1/cases/{case}"))
        .bearer(&practitioner)
        .json(&json!({ "status": "closed", "close_reason": "Fin de la mesure" }))
        .send()
        .await;
    assert_eq!(closed.status, 200);
    assert!(closed.json()["closed_at"].is_string());
    let early = erase(manager.clone()).await;
    assert_eq!(early.status, 409);
    assert!(early.text().contains("kept until"), "{}", early.text());
    assert_eq!(erase(practitioner.clone()).await.status, 403, "managers erase");
    assert_eq!(erase(other.clone()).await.status, 404);

    app.app_state().clock.advance(chrono::Duration::days(366));
    // Access tokens end by the server's clock: a new one at the moved time.
    let (manager, practitioner) = (app.token("manager").await, app.token("practitioner").await);
    let erased = erase(manager.clone()).await;
    assert_eq!(erased.status, 200, "{}", erased.text());
    assert_eq!(
        erased.json(),
        json!({ "measures": 2, "protected_persons": 1, "sessions": 1, "notes": 1, "tasks": 1, "certificates": 2 })
    );
    assert_eq!(
        app.get(&format!("/v1/cases/{case}"))
            .bearer(&practitioner)
            .send()
            .await
            .status,
        404
    );
    use relais_core::db::schema::{audit_log, case_notes, case_sessions, certificates, protected_persons};
    let mut conn = app.conn();
    let left: i64 = case_notes::table.count().get_result::<i64>(&mut *conn).unwrap()
        + case_sessions::table.count().get_result::<i64>(&mut *conn).unwrap()
        + certificates::table.count().get_result::<i64>(&mut *conn).unwrap()
        + protected_persons::table.count().get_result::<i64>(&mut *conn).unwrap();
    assert_eq!(left, 0);
    for action in ["case.export", "case.erase"] {
        let count: i64 = audit_log::table
            .filter(audit_log::action.eq(action))
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(count, 1, "{action} audited");
    }
}

/// The PDF's text as poppler's `pdftotext` reads it (what a clerk copies from the document), or
/// None when pdftotext is not installed (`apt-get install poppler-utils`; .ci/run installs it).
fn pdftotext(bytes: &[u8]) -> Option<String> {
    use std::io::Write as _;
    let mut child = match std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("pdftotext: {e}"),
    };
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pdftotext failed on the certificate");
    // pdftotext wraps a right-to-left run in directional embedding marks (U+202B ... U+202C):
    // formatting for display, not characters of the text.
    let text = String::from_utf8(out.stdout).unwrap();
    Some(
        text.chars()
            .filter(|c| !matches!(*c as u32, 0x202A..=0x202E | 0x2066..=0x2069))
            .collect(),
    )
}

/// What the QR code on the PDF's first page says, read from the page drawn as an image
/// (`pdftoppm`, then `zbarimg`), or None when those tools are not installed.
fn qr_on_first_page(bytes: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("certificate.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    let page = dir.path().join("page");
    let drawn = std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-f", "1", "-l", "1", "-singlefile", "-png"])
        .arg(&pdf)
        .arg(&page)
        .status()
        .ok()?;
    assert!(drawn.success(), "pdftoppm failed on the certificate");
    let read = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(dir.path().join("page.png"))
        .output()
        .ok()?;
    assert!(read.status.success(), "no QR code found on the certificate");
    Some(String::from_utf8(read.stdout).unwrap().trim().to_owned())
}

#[tokio::test]
async fn a_certificate_prints_names_in_every_script_as_they_are_written() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let names = "Nguyễn Văn Đức — Łukasz Żółć — محمد";
    let others = ["Şükrü Ţărână", "Αλέξανδρος Παπαδόπουλος", "Дмитрий Шостакович"];
    let mut certificates = Vec::new();
    for name in std::iter::once(names).chain(others) {
        let case = app
            .post("/v1/cases")
            .bearer(&practitioner)
            .json(&json!({ "origin": "self", "legal_basis": "voluntary", "identity": { "name": name } }))
            .send()
            .await;
        assert_eq!(case.status, 201, "{}", case.text());
        let case = case.json()["id"].as_str().unwrap().to_owned();
        session(
            &app,
            &practitioner,
            &case,
            "2026-03-02T09:00:00Z",
            "individual",
            None,
            "attended",
        )
        .await;
        let issued = post(
            &app,
            &practitioner,
            &format!("/v1/cases/{case}/certificates"),
            json!({}),
        )
        .await;
        certificates.push((name, issued));
    }
    for (name, issued) in certificates {
        let pdf = app
            .get(issued["pdf_url"].as_str().unwrap())
            .bearer(&practitioner)
            .send()
            .await;
        assert_eq!(pdf.status, 200);
        assert!(
            pdf.body.len() < 200_000,
            "the fonts are subset: {} bytes",
            pdf.body.len()
        );
        let Some(text) = pdftotext(&pdf.body) else {
            eprintln!(
                "SKIPPED: pdftotext is not installed (apt-get install poppler-utils): the names are not read back"
            );
            return;
        };
        let line = text
            .lines()
            .find(|l| l.starts_with("Personne suivie / Person followed"))
            .unwrap_or_else(|| panic!("no name line in:\n{text}"));
        assert_eq!(line, format!("Personne suivie / Person followed : {name}"), "{text}");
        assert!(text.contains(issued["verification_code"].as_str().unwrap()));
        assert!(text.contains("ATTESTATION DE SUIVI"));
        match qr_on_first_page(&pdf.body) {
            Some(url) => assert_eq!(
                url,
                issued["check_url"].as_str().unwrap(),
                "the QR code holds the check URL"
            ),
            None => eprintln!("SKIPPED: pdftoppm or zbarimg is not installed: the QR code is not read back"),
        }
    }
}
