-- A centre's correction of an appointment's attendance (a person marked as arrived by
-- mistake, a no-show who had come after all): from which status to which, why, who, when.
-- The appointment holds the corrected status; this keeps every step and its reason.
CREATE TABLE appointment_corrections (
    id              TEXT PRIMARY KEY NOT NULL,
    appointment_id  TEXT NOT NULL REFERENCES appointments (id),
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    corrected_by    TEXT NOT NULL,
    corrected_at    TIMESTAMP NOT NULL
);
CREATE INDEX appointment_corrections_by_appointment ON appointment_corrections (appointment_id, corrected_at);
