ALTER TABLE webhook_deliveries DROP COLUMN claim_token;
ALTER TABLE email_outbox DROP COLUMN claim_token;
ALTER TABLE outbox DROP COLUMN claim_token;
