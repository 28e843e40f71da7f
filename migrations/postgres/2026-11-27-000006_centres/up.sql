-- Centres: their public profile, referrals (one state machine for every hand-over),
-- published availability and its slots, appointments (FHIR words), the orientation dialogue
-- of the text line, idempotency keys, practitioners' calendar feeds, and the email outbox.

CREATE TABLE centre_profiles (
    organisation_id     TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    phone               TEXT,
    notify_email        TEXT,
    what_to_bring_fr    TEXT NOT NULL DEFAULT '',
    what_to_bring_en    TEXT NOT NULL DEFAULT '',
    updated_at          TIMESTAMP NOT NULL
);

CREATE TABLE referrals (
    id                  TEXT PRIMARY KEY NOT NULL,
    source_org_id       TEXT NOT NULL REFERENCES organisations (id),
    target_org_id       TEXT NOT NULL REFERENCES organisations (id),
    source_snapshot     TEXT NOT NULL,
    target_snapshot     TEXT NOT NULL,
    subject_alias       TEXT NOT NULL,
    conversation_id     TEXT,
    summary_sealed      BYTEA NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'done', 'revoked')),
    legal_basis         TEXT NOT NULL CHECK (legal_basis IN ('voluntary', 'court_ordered')),
    consent_at          TIMESTAMP,
    authority           TEXT,
    decision_reference  TEXT,
    order_ends_on       DATE,
    rejection_reason    TEXT,
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    decided_by          TEXT,
    decided_at          TIMESTAMP,
    done_by             TEXT,
    done_at             TIMESTAMP,
    revoked_by          TEXT,
    revoked_at          TIMESTAMP,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX referrals_target ON referrals (target_org_id, status);
CREATE INDEX referrals_source ON referrals (source_org_id, status);

CREATE TABLE availabilities (
    id                          TEXT PRIMARY KEY NOT NULL,
    organisation_id             TEXT NOT NULL REFERENCES organisations (id),
    practitioner_id             TEXT REFERENCES users (id),
    modality                    TEXT NOT NULL CHECK (modality IN ('on_site', 'phone', 'video')),
    location                    TEXT NOT NULL,
    first_start                 TIMESTAMP NOT NULL,
    duration_minutes            INTEGER NOT NULL,
    seats                       INTEGER NOT NULL,
    weekly                      BOOLEAN NOT NULL,
    repeat_until                DATE,
    buffer_minutes              INTEGER NOT NULL,
    booking_notice_minutes      INTEGER NOT NULL,
    cancellation_notice_minutes INTEGER NOT NULL,
    created_by                  TEXT NOT NULL,
    created_at                  TIMESTAMP NOT NULL
);

CREATE TABLE slots (
    id                          TEXT PRIMARY KEY NOT NULL,
    availability_id             TEXT NOT NULL REFERENCES availabilities (id),
    organisation_id             TEXT NOT NULL REFERENCES organisations (id),
    practitioner_id             TEXT REFERENCES users (id),
    starts_at                   TIMESTAMP NOT NULL,
    ends_at                     TIMESTAMP NOT NULL,
    seats                       INTEGER NOT NULL,
    booked                      INTEGER NOT NULL DEFAULT 0,
    modality                    TEXT NOT NULL,
    location                    TEXT NOT NULL,
    buffer_minutes              INTEGER NOT NULL,
    booking_notice_minutes      INTEGER NOT NULL,
    cancellation_notice_minutes INTEGER NOT NULL,
    withdrawn                   BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (booked >= 0 AND booked <= seats)
);
CREATE INDEX slots_by_centre ON slots (organisation_id, starts_at);
CREATE INDEX slots_by_practitioner ON slots (practitioner_id, starts_at);

CREATE TABLE appointments (
    id                  TEXT PRIMARY KEY NOT NULL,
    slot_id             TEXT NOT NULL REFERENCES slots (id),
    organisation_id     TEXT NOT NULL REFERENCES organisations (id),
    referral_id         TEXT REFERENCES referrals (id),
    conversation_id     TEXT,
    subject_alias       TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('booked', 'arrived', 'fulfilled', 'cancelled', 'noshow')),
    cancellation_reason TEXT,
    reminded_day_before BOOLEAN NOT NULL DEFAULT FALSE,
    reminded_two_hours  BOOLEAN NOT NULL DEFAULT FALSE,
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX appointments_by_centre ON appointments (organisation_id, status);
CREATE INDEX appointments_by_slot ON appointments (slot_id);

CREATE TABLE orientations (
    id                  TEXT PRIMARY KEY NOT NULL,
    conversation_id     TEXT NOT NULL,
    contact_id          TEXT NOT NULL,
    centre_id           TEXT NOT NULL REFERENCES organisations (id),
    listener_id         TEXT NOT NULL,
    summary_sealed      BYTEA NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('asking_consent', 'choosing_slot', 'booked', 'refused', 'withdrawn')),
    page                INTEGER NOT NULL DEFAULT 0,
    offered             TEXT NOT NULL DEFAULT '[]',
    referral_id         TEXT REFERENCES referrals (id),
    appointment_id      TEXT REFERENCES appointments (id),
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX orientations_by_contact ON orientations (contact_id, state);

CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    route       TEXT NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE calendar_feeds (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE email_outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at);
