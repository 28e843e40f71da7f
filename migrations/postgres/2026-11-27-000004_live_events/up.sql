-- Live events for the listeners' apps, numbered so that an app reconnecting with the last
-- number it saw catches up without losing or repeating anything. Ids and kinds only.
CREATE TABLE live_events (
    seq              BIGINT PRIMARY KEY NOT NULL,
    at               TIMESTAMP NOT NULL,
    kind             TEXT NOT NULL,
    conversation_id  TEXT,
    message_id       TEXT,
    listener_id      TEXT
);
