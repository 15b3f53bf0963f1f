-- Console logins: only the SHA-256 of the cookie value is kept. Rows stay after logout
-- (ended_at) so that the credential history can name who made a change.
CREATE TABLE web_sessions (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    user_id BLOB NOT NULL REFERENCES users(id),
    secret_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);
