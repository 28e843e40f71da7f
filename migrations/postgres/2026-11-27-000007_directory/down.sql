DROP TABLE centre_locations;
DROP TABLE centre_services;
