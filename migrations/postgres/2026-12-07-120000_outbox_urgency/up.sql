-- Issue 18: the soak saw listeners' replies wait 85 to 100 s behind the bot's backlog, and an
-- emergency answer would have waited with them. A row's urgency: 2 for the answer to a message
-- read as danger, suicide or a victim's words, 1 for a listener's words, 0 for the rest.
-- Rows are claimed most urgent first, then oldest first; a chat's order is kept (its oldest
-- unfinished row goes first, claimed ahead of the queue when a more urgent row waits behind it).
ALTER TABLE outbox ADD COLUMN urgency INTEGER NOT NULL DEFAULT 0;
DROP INDEX outbox_unfinished;
CREATE INDEX outbox_unfinished ON outbox (urgency DESC, created_at, position) WHERE status IN ('pending', 'sending');
