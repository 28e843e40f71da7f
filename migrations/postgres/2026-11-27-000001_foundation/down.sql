DROP FUNCTION IF EXISTS audit_log_append_only CASCADE;
DROP TABLE audit_log;
DROP TABLE api_keys;
DROP TABLE login_throttle;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE organisations;
