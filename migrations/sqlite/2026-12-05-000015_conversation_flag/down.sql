ALTER TABLE conversations DROP COLUMN not_understood;
ALTER TABLE conversations DROP COLUMN flag;
