-- The place in the queue the person was last told, so the bot tells them again only when
-- it changes a lot; and a short detail on live events (a message's delivery state).
ALTER TABLE conversations ADD COLUMN told_position INTEGER;
ALTER TABLE live_events ADD COLUMN detail TEXT;
