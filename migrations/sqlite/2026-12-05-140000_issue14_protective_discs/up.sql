-- The secret protective disc of each protected person: drawn once when the location is
-- recorded (centre offset from her, radius with a random margin), sealed like the location.
-- Matching and placements test only this disc. Rows recorded before it get theirs on first use.
ALTER TABLE protected_persons ADD COLUMN disc_sealed BLOB;

-- The exclusion factor is set by the following centre on the request, from fixed steps, and
-- kept on each placement (extensions use it); it is never chosen per call.
ALTER TABLE housing_requests ADD COLUMN radius_factor REAL NOT NULL DEFAULT 2.0;
ALTER TABLE housing_placements ADD COLUMN radius_factor REAL NOT NULL DEFAULT 2.0;
