-- Issue 20: notifications when the app is closed (Web Push, RFC 8030/8291/8292). A staff
-- member's device subscribes; its push endpoint and keys are sealed as one value (a push
-- endpoint is a capability: whoever holds it can wake the device). A user keeps at most ten
-- devices; a device that subscribes again replaces its row. A subscription belongs to the
-- session that made it: it is woken only while that session is not revoked and can still be
-- renewed (logout, suspension or twelve hours away end it; the app subscribes again at login).
CREATE TABLE push_subscriptions (
    id                   TEXT PRIMARY KEY NOT NULL,
    user_id              TEXT NOT NULL REFERENCES users (id),
    organisation_id      TEXT NOT NULL,
    session_id           TEXT NOT NULL,
    subscription_sealed  BYTEA NOT NULL,
    device               TEXT NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    last_sent_at         TIMESTAMP
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_by_organisation ON push_subscriptions (organisation_id);
-- The notifications owed to devices, drained through the one outbox protocol. A topic names
-- what happened ('queue', 'referral', 'housing'); the words are chosen when it is sent and
-- name no one. One unsent row per device and topic: a second event coalesces into it.
CREATE TABLE push_outbox (
    id               TEXT PRIMARY KEY NOT NULL,
    subscription_id  TEXT NOT NULL,
    topic            TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP,
    claim_token      TEXT,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    sent_at          TIMESTAMP
);
CREATE INDEX push_outbox_unfinished ON push_outbox (created_at) WHERE status IN ('pending', 'sending');
CREATE INDEX push_outbox_by_subscription ON push_outbox (subscription_id, topic);
