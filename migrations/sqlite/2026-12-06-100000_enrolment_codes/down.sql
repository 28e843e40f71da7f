DROP TABLE enrolment_codes;
