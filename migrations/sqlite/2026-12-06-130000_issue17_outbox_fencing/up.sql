-- One outbox protocol: every claim writes a fresh fencing token, and only the claim that
-- holds it settles the row.
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
ALTER TABLE email_outbox ADD COLUMN claim_token TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN claim_token TEXT;
