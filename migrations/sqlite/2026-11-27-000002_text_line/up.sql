-- The anonymous text line: contacts (found by keyed HMAC, address sealed), conversations,
-- messages (bodies sealed), receipts of provider ids (deduplication), and the outbox.

CREATE TABLE contacts (
    id               TEXT PRIMARY KEY NOT NULL,
    channel          TEXT NOT NULL CHECK (channel IN ('telegram', 'sms', 'webchat')),
    address_hmac     TEXT NOT NULL,
    address_sealed   BLOB NOT NULL,
    alias            TEXT NOT NULL,
    kind             TEXT NOT NULL DEFAULT 'unknown',
    language         TEXT NOT NULL DEFAULT 'fr',
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'stopped')),
    flag             TEXT CHECK (flag IN ('abusive', 'blocked')),
    flag_until       TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX contacts_address ON contacts (address_hmac);

CREATE TABLE conversations (
    id                TEXT PRIMARY KEY NOT NULL,
    contact_id        TEXT NOT NULL REFERENCES contacts (id),
    channel           TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('bot', 'waiting', 'active', 'closed')),
    step              TEXT NOT NULL,
    priority          INTEGER NOT NULL DEFAULT 0,
    waiting_since     TIMESTAMP,
    acknowledged      BOOLEAN NOT NULL DEFAULT 0,
    led_to_something  BOOLEAN NOT NULL DEFAULT 0,
    close_reason      TEXT,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    last_message_at   TIMESTAMP NOT NULL,
    closed_at         TIMESTAMP
);
CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE INDEX conversations_queue ON conversations (state, priority, waiting_since);

CREATE TABLE messages (
    id               TEXT PRIMARY KEY NOT NULL,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    direction        TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    author           TEXT NOT NULL CHECK (author IN ('contact', 'bot', 'listener')),
    body_sealed      BLOB NOT NULL,
    delivery         TEXT,
    created_at       TIMESTAMP NOT NULL,
    position         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);

-- Provider message ids already received: a replay changes nothing. No personal data.
CREATE TABLE inbound_receipts (
    channel      TEXT NOT NULL,
    provider_id  TEXT NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (channel, provider_id)
);

-- Every outbound message. The destination travels sealed with the row, so a confirmation
-- can still be delivered after its contact has been erased.
CREATE TABLE outbox (
    id                   TEXT PRIMARY KEY NOT NULL,
    channel              TEXT NOT NULL,
    chat_key             TEXT NOT NULL,
    conversation_id      TEXT,
    message_id           TEXT,
    destination_sealed   BLOB NOT NULL,
    payload_sealed       BLOB NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_attempt_at      TIMESTAMP NOT NULL,
    locked_by            TEXT,
    locked_until         TIMESTAMP,
    provider_message_id  TEXT,
    last_error           TEXT,
    created_at           TIMESTAMP NOT NULL,
    position             INTEGER NOT NULL DEFAULT 0,
    sent_at              TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_chat ON outbox (chat_key, created_at, position);
CREATE INDEX outbox_provider ON outbox (channel, provider_message_id);
