DROP TABLE inventory_reports;
DROP TABLE housing_index_version;
DROP TABLE housing_placement_nights;
DROP TABLE housing_placements;
DROP TABLE housing_requests;
DROP TABLE housing_offer_nights;
DROP TABLE housing_offers;
