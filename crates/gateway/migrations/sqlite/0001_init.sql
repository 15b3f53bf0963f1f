-- Accounts, users, auth tokens, owners, the credential vault and its audit trail.
CREATE TABLE accounts (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE auth_tokens (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    user_id BLOB REFERENCES users(id),
    label TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX auth_tokens_account ON auth_tokens(account_id, created_at);

CREATE TABLE owners (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL CHECK (kind IN ('PAN', 'GSTIN', 'BRANCH')),
    name TEXT NOT NULL,
    pan TEXT,
    gstin TEXT,
    parent_id BLOB REFERENCES owners(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX owners_account ON owners(account_id, created_at);

CREATE TABLE vault_keys (
    version INTEGER PRIMARY KEY,
    wrapped_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE nic_credentials (
    owner_id BLOB NOT NULL REFERENCES owners(id),
    gstin TEXT NOT NULL,
    username TEXT NOT NULL,
    key_version INTEGER NOT NULL REFERENCES vault_keys(version),
    password_ciphertext BLOB NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- Who made the last store, copied into the audit trail by the triggers below.
    account_id BLOB NOT NULL,
    actor_token_id BLOB,
    request_id TEXT,
    PRIMARY KEY (owner_id, gstin)
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BLOB NOT NULL,
    actor_token_id BLOB,
    action TEXT NOT NULL,
    owner_id BLOB,
    gstin TEXT,
    username TEXT,
    version INTEGER,
    request_id TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX audit_events_owner ON audit_events(owner_id, gstin, id);

-- Every store (a new row, or a new version) is audited by the same statement that writes it.
CREATE TRIGGER nic_credentials_audit_insert AFTER INSERT ON nic_credentials
BEGIN
    INSERT INTO audit_events (account_id, actor_token_id, action, owner_id, gstin, username, version, request_id, at)
    VALUES (NEW.account_id, NEW.actor_token_id, 'nic_credentials.store', NEW.owner_id, NEW.gstin, NEW.username, NEW.version, NEW.request_id, NEW.updated_at);
END;

CREATE TRIGGER nic_credentials_audit_update AFTER UPDATE OF version ON nic_credentials
BEGIN
    INSERT INTO audit_events (account_id, actor_token_id, action, owner_id, gstin, username, version, request_id, at)
    VALUES (NEW.account_id, NEW.actor_token_id, 'nic_credentials.store', NEW.owner_id, NEW.gstin, NEW.username, NEW.version, NEW.request_id, NEW.updated_at);
END;
