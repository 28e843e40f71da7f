-- Foundation: organisations, staff accounts, sessions, login throttling, partner keys, audit.
-- Ids are UUIDs as TEXT, generated in Rust; timestamps are UTC.

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('helpline', 'centre', 'housing_platform', 'national', 'partner')),
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    coverage    TEXT NOT NULL DEFAULT '[]',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX organisations_name ON organisations (name);

CREATE TABLE users (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    email            TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    roles            TEXT NOT NULL,
    totp_secret      BYTEA,
    totp_enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step   BIGINT,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_organisation ON users (organisation_id);

-- A session is one refresh-token family; access tokens carry its id.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    second_factor BOOLEAN NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP NOT NULL,
    revoked_at    TIMESTAMP,
    revoked_reason TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    token_hash  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE UNIQUE INDEX refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Keyed by an HMAC of the normalised email, whether or not an account exists,
-- so that throttling itself does not reveal which emails have accounts.
CREATE TABLE login_throttle (
    subject          TEXT PRIMARY KEY NOT NULL,
    failures         INTEGER NOT NULL,
    last_failure_at  TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP
);

CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    name             TEXT NOT NULL,
    prefix           TEXT NOT NULL,
    key_hash         TEXT NOT NULL,
    created_by       TEXT,
    created_at       TIMESTAMP NOT NULL,
    last_used_at     TIMESTAMP,
    revoked_at       TIMESTAMP
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);
CREATE INDEX api_keys_organisation ON api_keys (organisation_id);

CREATE TABLE audit_log (
    seq              BIGINT PRIMARY KEY NOT NULL,
    id               TEXT NOT NULL,
    at               TIMESTAMP NOT NULL,
    actor_type       TEXT NOT NULL,
    actor_id         TEXT,
    organisation_id  TEXT,
    action           TEXT NOT NULL,
    object_type      TEXT,
    object_id        TEXT,
    details          TEXT NOT NULL,
    prev_hash        TEXT NOT NULL,
    hash             TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

-- Append-only: the application never updates or deletes audit rows. Someone with
-- direct database access can drop this trigger; the hash chain then shows the change.
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
