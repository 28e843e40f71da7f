ALTER TABLE live_events DROP COLUMN object_id;
ALTER TABLE live_events DROP COLUMN organisation_id;
