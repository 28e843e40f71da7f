-- The centres directory: what each centre offers and where, with its opening hours.
CREATE TABLE centre_services (
    id              TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind            TEXT NOT NULL CHECK (kind IN ('individual_follow_up', 'talking_group', 'responsibility_course', 'care')),
    description     TEXT NOT NULL,
    position        INTEGER NOT NULL
);
CREATE INDEX centre_services_by_centre ON centre_services (organisation_id);

CREATE TABLE centre_locations (
    id              TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name            TEXT NOT NULL,
    address         TEXT NOT NULL,
    postal_code     TEXT NOT NULL,
    city            TEXT NOT NULL,
    departement     TEXT NOT NULL,
    latitude        DOUBLE PRECISION,
    longitude       DOUBLE PRECISION,
    opening_hours   TEXT NOT NULL DEFAULT '[]',
    position        INTEGER NOT NULL
);
CREATE INDEX centre_locations_by_centre ON centre_locations (organisation_id);
