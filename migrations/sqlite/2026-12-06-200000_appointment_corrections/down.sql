DROP TABLE appointment_corrections;
