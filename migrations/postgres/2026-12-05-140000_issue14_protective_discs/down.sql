ALTER TABLE housing_placements DROP COLUMN radius_factor;
ALTER TABLE housing_requests DROP COLUMN radius_factor;
ALTER TABLE protected_persons DROP COLUMN disc_sealed;
