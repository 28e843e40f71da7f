-- The listener's desk: who holds a conversation, how it ended, private notes, canned
-- replies, and the phone calls of the line (so statistics cover calls and texts alike).

ALTER TABLE conversations ADD COLUMN listener_id TEXT REFERENCES users (id);
ALTER TABLE conversations ADD COLUMN assigned_at TIMESTAMP;
ALTER TABLE conversations ADD COLUMN outcome TEXT;
ALTER TABLE conversations ADD COLUMN summary_sealed BLOB;
CREATE INDEX conversations_listener ON conversations (listener_id, state);

CREATE TABLE conversation_notes (
    id               TEXT PRIMARY KEY NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    author_id        TEXT NOT NULL REFERENCES users (id),
    body_sealed      BLOB NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, created_at);

CREATE TABLE canned_replies (
    id          TEXT PRIMARY KEY NOT NULL,
    language    TEXT NOT NULL CHECK (language IN ('fr', 'en')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE phone_calls (
    id                TEXT PRIMARY KEY NOT NULL,
    listener_id       TEXT NOT NULL REFERENCES users (id),
    started_at        TIMESTAMP NOT NULL,
    duration_seconds  INTEGER NOT NULL,
    caller_kind       TEXT NOT NULL,
    topics            TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    centre_id         TEXT REFERENCES organisations (id),
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX phone_calls_started ON phone_calls (started_at);
