-- Issue 20: a note on a case is corrected, never overwritten. Each correction keeps the text
-- as corrected and its reason, both sealed as the note is, with who and when; the note's
-- first text stays as written. Every correction is audited (case_note.correct).
CREATE TABLE case_note_corrections (
    id             TEXT PRIMARY KEY NOT NULL,
    note_id        TEXT NOT NULL REFERENCES case_notes (id),
    case_id        TEXT NOT NULL REFERENCES cases (id),
    author_id      TEXT NOT NULL,
    body_sealed    BLOB NOT NULL,
    reason_sealed  BLOB NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX case_note_corrections_by_note ON case_note_corrections (note_id, created_at);
CREATE INDEX case_note_corrections_by_case ON case_note_corrections (case_id);
