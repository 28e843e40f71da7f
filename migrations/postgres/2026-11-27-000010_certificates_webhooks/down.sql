DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE certificates;
ALTER TABLE cases DROP COLUMN closed_at;
