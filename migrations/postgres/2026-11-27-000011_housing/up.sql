-- The national housing platform: offers (the platform's and centres' own), housing requests
-- from cases (each also a referral to the platform), placements night by night with their
-- funding, and a counter that tells every instance its in-memory offer index is stale.
CREATE TABLE housing_offers (
    id               TEXT PRIMARY KEY NOT NULL,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    kind             TEXT NOT NULL CHECK (kind IN ('hotel', 'shelter', 'apartment', 'host_family', 'centre_place')),
    name             TEXT NOT NULL,
    provider         TEXT NOT NULL,
    address          TEXT NOT NULL,
    commune          TEXT NOT NULL,
    departement      TEXT NOT NULL,
    region           TEXT NOT NULL,
    latitude         DOUBLE PRECISION NOT NULL,
    longitude        DOUBLE PRECISION NOT NULL,
    capacity         INTEGER NOT NULL CHECK (capacity >= 1),
    price_cents      BIGINT NOT NULL CHECK (price_cents >= 0),
    accessible       BOOLEAN NOT NULL,
    pets             BOOLEAN NOT NULL,
    couples          BOOLEAN NOT NULL,
    hosts_victims    BOOLEAN NOT NULL,
    available_from   DATE NOT NULL,
    available_until  DATE,
    active           BOOLEAN NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX housing_offers_by_owner ON housing_offers (organisation_id);

-- Places taken per offer and night: a seat is taken by one conditional update.
CREATE TABLE housing_offer_nights (
    offer_id  TEXT NOT NULL REFERENCES housing_offers (id),
    night     DATE NOT NULL,
    booked    INTEGER NOT NULL CHECK (booked >= 0),
    PRIMARY KEY (offer_id, night)
);

CREATE TABLE housing_requests (
    id                TEXT PRIMARY KEY NOT NULL,
    case_id           TEXT REFERENCES cases (id),
    organisation_id   TEXT NOT NULL REFERENCES organisations (id),
    referral_id       TEXT NOT NULL REFERENCES referrals (id),
    first_night       DATE NOT NULL,
    last_night        DATE NOT NULL,
    urgency           TEXT NOT NULL CHECK (urgency IN ('tonight', 'within_days')),
    needs_accessible  BOOLEAN NOT NULL,
    needs_pets        BOOLEAN NOT NULL,
    needs_couple      BOOLEAN NOT NULL,
    court_eviction    BOOLEAN NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'placed', 'unmet', 'withdrawn')),
    unmet_reason      TEXT CHECK (unmet_reason IS NULL OR unmet_reason IN ('no_compliant_offer', 'no_capacity', 'declined', 'other')),
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX housing_requests_queue ON housing_requests (status, urgency, created_at);

CREATE TABLE housing_placements (
    id               TEXT PRIMARY KEY NOT NULL,
    offer_id         TEXT NOT NULL REFERENCES housing_offers (id),
    request_id       TEXT REFERENCES housing_requests (id),
    case_id          TEXT REFERENCES cases (id),
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    source           TEXT NOT NULL CHECK (source IN ('platform', 'centre')),
    status           TEXT NOT NULL CHECK (status IN ('active', 'ended', 'no_show')),
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX housing_placements_by_case ON housing_placements (case_id);

CREATE TABLE housing_placement_nights (
    placement_id  TEXT NOT NULL REFERENCES housing_placements (id),
    night         DATE NOT NULL,
    funding       TEXT NOT NULL CHECK (funding IN ('platform', 'centre', 'partner')),
    price_cents   BIGINT NOT NULL,
    PRIMARY KEY (placement_id, night)
);

CREATE TABLE housing_index_version (
    id       INTEGER PRIMARY KEY NOT NULL,
    version  BIGINT NOT NULL
);
INSERT INTO housing_index_version (id, version) VALUES (1, 0);

-- The weekly inventory email: one row per ISO week sent, so one instance sends it once.
CREATE TABLE inventory_reports (
    week     TEXT PRIMARY KEY NOT NULL,
    sent_at  TIMESTAMP NOT NULL
);
