ALTER TABLE live_events DROP COLUMN detail;
ALTER TABLE conversations DROP COLUMN told_position;
