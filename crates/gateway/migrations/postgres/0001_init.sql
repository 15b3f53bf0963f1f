-- Accounts, users, auth tokens, owners, the credential vault and its audit trail.
CREATE TABLE accounts (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE auth_tokens (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    user_id UUID REFERENCES users(id),
    label TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX auth_tokens_account ON auth_tokens(account_id, created_at);

CREATE TABLE owners (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL CHECK (kind IN ('PAN', 'GSTIN', 'BRANCH')),
    name TEXT NOT NULL,
    pan TEXT,
    gstin TEXT,
    parent_id UUID REFERENCES owners(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX owners_account ON owners(account_id, created_at);

CREATE TABLE vault_keys (
    version BIGINT PRIMARY KEY,
    wrapped_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE nic_credentials (
    owner_id UUID NOT NULL REFERENCES owners(id),
    gstin TEXT NOT NULL,
    username TEXT NOT NULL,
    key_version BIGINT NOT NULL REFERENCES vault_keys(version),
    password_ciphertext BYTEA NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Who made the last store, copied into the audit trail by the triggers below.
    account_id UUID NOT NULL,
    actor_token_id UUID,
    request_id TEXT,
    PRIMARY KEY (owner_id, gstin)
);

CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    account_id UUID NOT NULL,
    actor_token_id UUID,
    action TEXT NOT NULL,
    owner_id UUID,
    gstin TEXT,
    username TEXT,
    version BIGINT,
    request_id TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX audit_events_owner ON audit_events(owner_id, gstin, id);

-- Every store (a new row, or a new version) is audited by the same statement that writes it.
CREATE FUNCTION audit_nic_credentials_store() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_events (account_id, actor_token_id, action, owner_id, gstin, username, version, request_id, at)
    VALUES (NEW.account_id, NEW.actor_token_id, 'nic_credentials.store', NEW.owner_id, NEW.gstin, NEW.username, NEW.version, NEW.request_id, NEW.updated_at);
    RETURN NULL;
END
$$;

CREATE TRIGGER nic_credentials_audit_insert AFTER INSERT ON nic_credentials
    FOR EACH ROW EXECUTE FUNCTION audit_nic_credentials_store();

CREATE TRIGGER nic_credentials_audit_update AFTER UPDATE OF version ON nic_credentials
    FOR EACH ROW EXECUTE FUNCTION audit_nic_credentials_store();
