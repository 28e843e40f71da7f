-- Web chat sessions the server issued: the token's keyed HMAC (the same key as the web chat
-- contact's address_hmac), never the token; a session unused for the idle delay is refused.
CREATE TABLE webchat_sessions (
    token_hmac TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL
);
CREATE INDEX webchat_sessions_last_used ON webchat_sessions (last_used_at);
