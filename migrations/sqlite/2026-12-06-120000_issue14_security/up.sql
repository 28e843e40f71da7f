-- What an account did that probing is made of (offer creates and moves, proposals asked,
-- placements refused), counted for the limits and the alerts. Positions are the offers' own.
CREATE TABLE security_activity (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject_id TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    version BIGINT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX security_activity_account ON security_activity (account_id, kind, at);
CREATE INDEX security_activity_subject ON security_activity (subject_id, kind, at);

CREATE TABLE security_alerts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    account_id TEXT NOT NULL,
    organisation_id TEXT,
    subject_id TEXT,
    count BIGINT NOT NULL,
    threshold BIGINT NOT NULL,
    suspended BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX security_alerts_account ON security_alerts (account_id, kind, created_at);
CREATE INDEX security_alerts_created ON security_alerts (created_at);
