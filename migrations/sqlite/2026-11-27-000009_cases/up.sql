-- Author case files, owned by one centre: identity as the person gave it (sealed), court
-- measures, protected persons (their location sealed, write-only through the API), sessions
-- and attendance, notes (sealed) and tasks.
CREATE TABLE cases (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    referral_id      TEXT REFERENCES referrals (id),
    appointment_id   TEXT REFERENCES appointments (id),
    origin           TEXT NOT NULL CHECK (origin IN ('helpline', 'justice', 'housing', 'self', 'other')),
    legal_basis      TEXT NOT NULL CHECK (legal_basis IN ('voluntary', 'court_ordered')),
    identity_sealed  BLOB,
    status           TEXT NOT NULL CHECK (status IN ('open', 'suspended', 'closed')),
    close_reason     TEXT,
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX cases_by_centre ON cases (organisation_id, status);

CREATE TABLE case_practitioners (
    case_id  TEXT NOT NULL REFERENCES cases (id),
    user_id  TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (case_id, user_id)
);

CREATE TABLE measures (
    id                  TEXT PRIMARY KEY NOT NULL,
    case_id             TEXT NOT NULL REFERENCES cases (id),
    kind                TEXT NOT NULL CHECK (kind IN ('eviction', 'care_obligation', 'contact_ban', 'place_ban', 'residence_ban')),
    authority           TEXT NOT NULL,
    decision_reference  TEXT NOT NULL,
    starts_on           DATE NOT NULL,
    ends_on             DATE,
    sessions_required   INTEGER,
    zone_sealed         BLOB,
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL
);
CREATE INDEX measures_by_case ON measures (case_id);

CREATE TABLE protected_persons (
    id                TEXT PRIMARY KEY NOT NULL,
    case_id           TEXT NOT NULL REFERENCES cases (id),
    label             TEXT NOT NULL,
    location_sealed   BLOB NOT NULL,
    radius_km         INTEGER NOT NULL CHECK (radius_km BETWEEN 1 AND 10),
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX protected_persons_by_case ON protected_persons (case_id);

CREATE TABLE measure_protected_persons (
    measure_id           TEXT NOT NULL REFERENCES measures (id),
    protected_person_id  TEXT NOT NULL REFERENCES protected_persons (id),
    PRIMARY KEY (measure_id, protected_person_id)
);

CREATE TABLE case_sessions (
    id              TEXT PRIMARY KEY NOT NULL,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    kind            TEXT NOT NULL CHECK (kind IN ('individual', 'group', 'responsibility_course')),
    planned_at      TIMESTAMP NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('planned', 'attended', 'excused', 'unexcused')),
    appointment_id  TEXT REFERENCES appointments (id),
    measure_id      TEXT REFERENCES measures (id),
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX case_sessions_by_case ON case_sessions (case_id, planned_at);

CREATE TABLE case_notes (
    id           TEXT PRIMARY KEY NOT NULL,
    case_id      TEXT NOT NULL REFERENCES cases (id),
    author_id    TEXT NOT NULL,
    body_sealed  BLOB NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX case_notes_by_case ON case_notes (case_id);

CREATE TABLE case_tasks (
    id          TEXT PRIMARY KEY NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    title       TEXT NOT NULL,
    due_on      DATE NOT NULL,
    done_at     TIMESTAMP,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX case_tasks_by_case ON case_tasks (case_id, due_on);
