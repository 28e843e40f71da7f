DROP TABLE webchat_sessions;
