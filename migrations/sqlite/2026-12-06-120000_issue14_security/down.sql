DROP TABLE security_alerts;
DROP TABLE security_activity;
