-- IRP sessions belong to the credential row whose password obtained them: the owner, the
-- GSTIN and the credential version (versions never repeat). Another row with the same NIC
-- username, whatever its password, never sees them. Sessions are a cache: they start empty.
DROP TABLE irp_sessions;
CREATE TABLE irp_sessions (
    client_id TEXT NOT NULL,
    owner_id UUID NOT NULL,
    gstin TEXT NOT NULL,
    version BIGINT NOT NULL,
    username TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, owner_id, gstin, version)
);

DROP TABLE irp_auth_leases;
CREATE TABLE irp_auth_leases (
    client_id TEXT NOT NULL,
    owner_id UUID NOT NULL,
    gstin TEXT NOT NULL,
    version BIGINT NOT NULL,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL,
    PRIMARY KEY (client_id, owner_id, gstin, version)
);
