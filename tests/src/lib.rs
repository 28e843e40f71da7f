//! relais-tests: the black-box harness. `spawn_app()` starts the real application on port 0
//! with a fresh database (a temporary SQLite file, or a fresh PostgreSQL database when
//! `TEST_DATABASE_URL` is set), loads the demo data, and returns a client that checks every
//! response against `openapi.yaml`.

pub mod contract;
pub mod fakes;
pub mod hooks;
pub mod line;
pub mod logs;
pub mod postgres;
pub mod process;
pub mod push;
pub mod smtp;
pub mod wait;
pub mod webchat;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use relais_api::config::Settings;
use relais_api::startup::Application;
use relais_api::state::AppState;
use relais_core::db::DirectConn;
use relais_core::demo::DemoAccount;
use serde_json::Value;

pub use contract::Contract;

/// The contract, loaded once for the whole test binary.
pub fn contract() -> Arc<Contract> {
    static CONTRACT: OnceLock<Arc<Contract>> = OnceLock::new();
    CONTRACT.get_or_init(|| Arc::new(Contract::load())).clone()
}

pub struct TestApp {
    pub address: String,
    pub state: actix_web_data::Data,
    pub demo: Vec<DemoAccount>,
    pub data_dir: tempfile::TempDir,
    client: reqwest::Client,
    contract: Arc<Contract>,
    _postgres: Option<postgres::TestDatabase>,
    pub telegram: Option<fakes::Fake>,
    pub sms: Option<fakes::Fake>,
    /// The PostgreSQL database URL, when the suite runs on PostgreSQL.
    pub database_url: Option<String>,
}

/// Re-exported so tests need not depend on actix-web.
pub mod actix_web_data {
    pub type Data = actix_web::web::Data<relais_api::state::AppState>;
}

/// A response, already checked against the contract.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
    /// The problem `type` slug, such as `not-found`.
    pub fn problem(&self) -> String {
        self.json()["type"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("urn:relais:problem:")
            .to_owned()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with extra `RELAIS_*` settings.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let admin = std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty());
    spawn_app_on(admin.as_deref(), extra).await
}

/// Starts the app on a fresh database of the PostgreSQL server at `admin` (an administrator's
/// URL), or on SQLite when None.
pub async fn spawn_app_on(admin: Option<&str>, extra: &[(&str, &str)]) -> TestApp {
    start(extra, admin.map(postgres::TestDatabase::create), None).await
}

/// A second instance on the same database as `other` (PostgreSQL), as behind a load balancer.
pub async fn spawn_instance_sharing(other: &TestApp, extra: &[(&str, &str)]) -> TestApp {
    let url = other.database_url.clone().expect("a PostgreSQL test app");
    start(extra, None, Some(url)).await
}

async fn start(
    extra: &[(&str, &str)],
    postgres: Option<postgres::TestDatabase>,
    shared_url: Option<String>,
) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary folder");
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("RELAIS_BIND".into(), "127.0.0.1:0".into());
    env.insert("RELAIS_DATA_DIR".into(), data_dir.path().display().to_string());
    env.insert("RELAIS_DATABASE_POOL_SIZE".into(), "4".into());
    // Every test calls from 127.0.0.1: the rate limits are raised out of the way, and the
    // tests of the limits set their own.
    env.insert("RELAIS_RATE_LIMIT_GUESS_PER_MINUTE".into(), "1000000".into());
    env.insert("RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE".into(), "1000000".into());
    let database_url = postgres.as_ref().map(|pg| pg.url.clone()).or(shared_url);
    if let Some(url) = &database_url {
        env.insert("RELAIS_DATABASE_URL".into(), url.clone());
    }
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let settings = Settings::from_sources(None, &env).expect("test settings are valid");
    let app = Application::build(settings).await.expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let demo = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = state.database.get().expect("connection");
            relais_core::demo::load(&mut conn, &state.geo, &state.secrets).expect("demo data loads")
        })
        .await
        .expect("demo task")
    };
    TestApp {
        address,
        state,
        demo,
        data_dir,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        contract: contract(),
        _postgres: postgres,
        telegram: None,
        sms: None,
        database_url,
    }
}

/// A request being built: method, path, optional bearer token and body.
pub struct Call<'a> {
    app: &'a TestApp,
    method: reqwest::Method,
    path: String,
    token: Option<String>,
    body: Option<(String, Vec<u8>)>,
    headers: Vec<(String, String)>,
}

impl Call<'_> {
    pub fn bearer(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(("application/json".into(), body.to_string().into_bytes()));
        self
    }
    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some((content_type.to_owned(), body.into()));
        self
    }
    /// Sends the request and checks the response against the contract.
    pub async fn send(self) -> Reply {
        let reply = self.send_unchecked_inner().await;
        let (method, path) = (
            self.method.as_str().to_owned(),
            self.path.split('?').next().unwrap_or_default().to_owned(),
        );
        let content_type = reply.header("content-type");
        if let Err(e) = self
            .app
            .contract
            .check(&method, &path, reply.status, content_type.as_deref(), &reply.body)
        {
            panic!("contract violation: {e}");
        }
        reply
    }
    /// Sends without the contract check: for paths outside the contract (unknown routes).
    pub async fn send_unchecked(self) -> Reply {
        self.send_unchecked_inner().await
    }
    async fn send_unchecked_inner(&self) -> Reply {
        let mut req = self
            .app
            .client
            .request(self.method.clone(), format!("{}{}", self.app.address, self.path));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        if let Some((ct, body)) = &self.body {
            req = req.header("content-type", ct).body(body.clone());
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.bytes().await.expect("body read").to_vec();
        Reply { status, headers, body }
    }
}

impl TestApp {
    pub fn call(&self, method: &str, path: &str) -> Call<'_> {
        Call {
            app: self,
            method: reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            path: path.to_owned(),
            token: None,
            body: None,
            headers: Vec::new(),
        }
    }
    pub fn get(&self, path: &str) -> Call<'_> {
        self.call("GET", path)
    }
    pub fn post(&self, path: &str) -> Call<'_> {
        self.call("POST", path)
    }
    pub fn patch(&self, path: &str) -> Call<'_> {
        self.call("PATCH", path)
    }
    pub fn put(&self, path: &str) -> Call<'_> {
        self.call("PUT", path)
    }
    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call("DELETE", path)
    }

    /// The demo account holding `role`, in the organisation whose name contains `org` if given.
    pub fn account(&self, email_local: &str) -> &DemoAccount {
        self.demo
            .iter()
            .find(|a| a.email.split('@').next() == Some(email_local))
            .unwrap_or_else(|| panic!("no demo account {email_local}"))
    }

    pub async fn login_reply(&self, email: &str, password: &str) -> Reply {
        self.post("/v1/auth/login")
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
    }

    /// Logs a demo account in and returns its (access, refresh) tokens.
    pub async fn login(&self, email_local: &str) -> (String, String) {
        let account = self.account(email_local);
        let reply = self.login_reply(&account.email, &account.password).await;
        assert_eq!(reply.status, 200, "login of {email_local}: {}", reply.text());
        let body = reply.json();
        (
            body["access_token"].as_str().expect("access").to_owned(),
            body["refresh_token"].as_str().expect("refresh").to_owned(),
        )
    }

    pub async fn token(&self, email_local: &str) -> String {
        self.login(email_local).await.0
    }

    /// A new API key of the demo justice partner (SPIP de Paris), created by the administrator.
    pub async fn partner_key(&self) -> String {
        let admin = self.token("admin").await;
        let partner = self.organisation_id("SPIP de Paris").await;
        let created = self
            .post(&format!("/v1/organisations/{partner}/api-keys"))
            .bearer(&admin)
            .json(&serde_json::json!({ "name": "SPIP integration" }))
            .send()
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        created.json()["secret"].as_str().expect("a key").to_owned()
    }

    /// The id of the demo organisation with this exact name.
    pub async fn organisation_id(&self, name: &str) -> String {
        let admin = self.token("admin").await;
        let list = self.get("/v1/organisations").bearer(&admin).send().await.json();
        list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|o| o["name"] == name))
            .and_then(|o| o["id"].as_str())
            .unwrap_or_else(|| panic!("no organisation {name}"))
            .to_owned()
    }

    /// A blocking database connection of its own, for what only the database shows, and for
    /// changing rows as an intruder with access to the database would (the server's pooled
    /// connections only read; its writes go through its writer).
    pub fn conn(&self) -> DirectConn {
        self.state.database.direct().expect("connection")
    }

    pub fn app_state(&self) -> &AppState {
        &self.state
    }

    /// Every byte the database holds in clear (SQLite: its files after a checkpoint;
    /// PostgreSQL: every row of every table as text), to show that something is stored
    /// sealed. Fails rather than return less: a checkpoint or a read that fails, no table, or
    /// fewer bytes than the demo data alone fills (so "absent" can never pass on nothing).
    pub fn stored_text(&self) -> String {
        use diesel::RunQueryDsl as _;
        let url = &self.app_state().settings.database.url;
        let out = if let Some(path) = url.strip_prefix("sqlite://") {
            diesel::sql_query("PRAGMA wal_checkpoint(FULL)")
                .execute(&mut *self.conn())
                .expect("a WAL checkpoint");
            let mut out =
                String::from_utf8_lossy(&std::fs::read(path).expect("the database file is readable")).into_owned();
            match std::fs::read(format!("{path}-wal")) {
                Ok(bytes) => out.push_str(&String::from_utf8_lossy(&bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("the WAL file is unreadable: {e}"),
            }
            out
        } else {
            let mut conn = self.conn();
            let tables: Vec<Text> = diesel::sql_query(
                "SELECT table_name::text AS value FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .load(&mut *conn)
            .expect("the table list");
            assert!(tables.len() > 10, "only {} tables listed", tables.len());
            let mut out = String::new();
            for table in tables {
                let rows: Vec<Text> = diesel::sql_query(format!(
                    "SELECT COALESCE(string_agg(t::text, ' '), '') AS value FROM \"{}\" t",
                    table.value
                ))
                .load(&mut *conn)
                .expect("a table's rows");
                out.extend(rows.into_iter().map(|r| r.value));
            }
            out
        };
        assert!(
            out.len() > STORED_AT_LEAST,
            "stored_text read only {} bytes: the database was not read",
            out.len()
        );
        out
    }
}

/// Fewer bytes than the demo data fills on either backend: `stored_text` reads at least this.
pub const STORED_AT_LEAST: usize = 10_000;

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// An empty database beside the test app's, migrated: PostgreSQL when `TEST_DATABASE_URL` is
/// set, else a temporary SQLite file. Dropped with the value.
pub struct ScratchDatabase {
    pub url: String,
    _postgres: Option<postgres::TestDatabase>,
    _folder: Option<tempfile::TempDir>,
}

impl ScratchDatabase {
    pub fn create() -> Self {
        let (url, postgres, folder) = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let db = postgres::TestDatabase::create(&admin);
                (db.url.clone(), Some(db), None)
            }
            _ => {
                let folder = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}/scratch.sqlite3", folder.path().display());
                (url, None, Some(folder))
            }
        };
        let parsed = relais_core::db::DatabaseUrl::parse(&url).expect("a database URL");
        let db = relais_core::db::Db::connect(&parsed, 2).expect("scratch database");
        db.migrate().expect("scratch database migrated");
        Self {
            url,
            _postgres: postgres,
            _folder: folder,
        }
    }

    pub fn conn(&self) -> DirectConn {
        let parsed = relais_core::db::DatabaseUrl::parse(&self.url).expect("a database URL");
        relais_core::db::Db::connect(&parsed, 1)
            .expect("scratch database")
            .direct()
            .expect("connection")
    }
}
