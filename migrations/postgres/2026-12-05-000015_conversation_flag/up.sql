-- What a listener must know at once (victim words, danger, suicide), and how many times the bot
-- did not understand the person (the second time, a listener is offered).
ALTER TABLE conversations ADD COLUMN flag TEXT;
ALTER TABLE conversations ADD COLUMN not_understood INTEGER NOT NULL DEFAULT 0;
