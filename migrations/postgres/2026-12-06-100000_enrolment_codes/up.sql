-- One live enrolment code per account: a person in charge gives it, the account's owner
-- types it with the password to enrol a second factor. Only its keyed hash is stored.
CREATE TABLE enrolment_codes (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    code_hash   TEXT NOT NULL,
    issued_by   TEXT,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
