-- Console logins: only the SHA-256 of the cookie value is kept. Rows stay after logout
-- (ended_at) so that the credential history can name who made a change.
CREATE TABLE web_sessions (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    user_id UUID NOT NULL REFERENCES users(id),
    secret_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);
