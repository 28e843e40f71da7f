DROP INDEX outbox_unfinished;
CREATE INDEX outbox_unfinished ON outbox (created_at, position) WHERE status IN ('pending', 'sending');
ALTER TABLE outbox DROP COLUMN urgency;
