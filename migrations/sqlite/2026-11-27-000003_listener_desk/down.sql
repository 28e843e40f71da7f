DROP TABLE phone_calls;
DROP TABLE canned_replies;
DROP TABLE conversation_notes;
DROP INDEX conversations_listener;
ALTER TABLE conversations DROP COLUMN summary_sealed;
ALTER TABLE conversations DROP COLUMN outcome;
ALTER TABLE conversations DROP COLUMN assigned_at;
ALTER TABLE conversations DROP COLUMN listener_id;
