-- Verification status of stored credentials, and IRP sessions (sealed by the vault).
ALTER TABLE nic_credentials ADD COLUMN verify_status TEXT NOT NULL DEFAULT 'UNVERIFIED';
ALTER TABLE nic_credentials ADD COLUMN last_verified_at BIGINT;
ALTER TABLE nic_credentials ADD COLUMN last_error TEXT;

CREATE TABLE irp_sessions (
    client_id TEXT NOT NULL,
    gstin TEXT NOT NULL,
    username TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, gstin, username)
);
