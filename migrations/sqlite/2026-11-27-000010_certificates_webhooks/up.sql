-- Attendance certificates, the partners' signed webhooks, and when a case was closed (its
-- legal retention runs from then).
ALTER TABLE cases ADD COLUMN closed_at TIMESTAMP;
UPDATE cases SET closed_at = updated_at WHERE status = 'closed';

-- A certificate as issued: its content (centre, measure, dates attended, the person's name as
-- printed, the verification code) sealed, so the same PDF can be produced again; the code is
-- found by a keyed HMAC, never stored in clear.
CREATE TABLE certificates (
    id               TEXT PRIMARY KEY NOT NULL,
    case_id          TEXT NOT NULL REFERENCES cases (id),
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    measure_id       TEXT REFERENCES measures (id),
    code_hmac        TEXT NOT NULL UNIQUE,
    content_sealed   BLOB NOT NULL,
    issued_by        TEXT NOT NULL,
    issued_at        TIMESTAMP NOT NULL
);
CREATE INDEX certificates_by_case ON certificates (case_id, issued_at);

-- One endpoint per partner organisation; its signing secret sealed (it must be used, not
-- just compared).
CREATE TABLE webhook_endpoints (
    organisation_id  TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    url              TEXT NOT NULL,
    secret_sealed    BLOB NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

-- Every message owed to a partner, written in the transaction of its cause; 'dead' after the
-- last retry, until replayed. The case it follows from (if any) is kept so erasure removes it.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    case_id          TEXT,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    delivered_at     TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_partner ON webhook_deliveries (organisation_id, created_at);
CREATE INDEX webhook_deliveries_by_case ON webhook_deliveries (case_id);

-- The delivery log: one row per attempt.
CREATE TABLE webhook_attempts (
    id               TEXT PRIMARY KEY NOT NULL,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at     TIMESTAMP NOT NULL,
    status_code      INTEGER,
    error            TEXT,
    duration_ms      BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, attempted_at);
