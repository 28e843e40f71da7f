DROP INDEX webhook_deliveries_unfinished;
DROP INDEX email_outbox_unfinished;
DROP INDEX outbox_chat_sent;
DROP INDEX outbox_chat_unfinished;
DROP INDEX outbox_unfinished;
