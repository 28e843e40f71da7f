//! Embedded first start: secrets generated privately; production refuses weak secrets.

use std::collections::HashMap;

use relais_api::config::Settings;
use relais_api::startup::prepare;

fn settings(pairs: &[(&str, &str)]) -> Settings {
    let env: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Settings::from_sources(None, &env).unwrap()
}

#[tokio::test]
async fn an_embedded_first_start_creates_private_secrets_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var");
    let app =
        relais_tests::spawn_app_with(&[("RELAIS_DATA_DIR", data.to_str().unwrap()), ("RELAIS_DATABASE_URL", "")]).await;
    assert_eq!(app.get("/healthz").send().await.status, 200);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for file in ["jwt.key", "hmac_pepper.key", "field.key"] {
            let mode = std::fs::metadata(data.join("secrets").join(file))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{file}");
        }
        let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}

#[test]
fn production_refuses_to_start_without_strong_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let missing = prepare(&settings(&[("RELAIS_MODE", "production"), ("RELAIS_DATA_DIR", data)]));
    let message = format!("{:#}", missing.err().expect("refused"));
    assert!(
        message.contains("production mode refuses to start") && message.contains("RELAIS_JWT_KEY"),
        "{message}"
    );

    let weak = prepare(&settings(&[
        ("RELAIS_MODE", "production"),
        ("RELAIS_DATA_DIR", data),
        ("RELAIS_JWT_KEY", "Y2hhbmdlbWVjaGFuZ2VtZWNoYW5nZW1lY2hhbmdlbWU="),
        ("RELAIS_HMAC_PEPPER", "Y2hhbmdlbWVjaGFuZ2VtZWNoYW5nZW1lY2hhbmdlbWU="),
        ("RELAIS_FIELD_KEY", "Y2hhbmdlbWVjaGFuZ2VtZWNoYW5nZW1lY2hhbmdlbWU="),
    ]));
    let message = format!("{:#}", weak.err().expect("refused"));
    assert!(message.contains("weak"), "{message}");
    assert!(
        !std::path::Path::new(data).join("secrets").exists(),
        "production never generates secrets"
    );
}
