DROP TABLE outbox;
DROP TABLE inbound_receipts;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE contacts;
