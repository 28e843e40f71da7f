-- Live events for centres: whose they are (NULL: the helpline's), and the object they name
-- (a referral, an appointment).
ALTER TABLE live_events ADD COLUMN organisation_id TEXT;
ALTER TABLE live_events ADD COLUMN object_id TEXT;
