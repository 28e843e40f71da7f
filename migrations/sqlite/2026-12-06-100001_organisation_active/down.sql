ALTER TABLE organisations DROP COLUMN active;
