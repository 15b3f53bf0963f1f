-- IRP sessions belong to the credential row whose password obtained them: the owner, the
-- GSTIN and the credential version (versions never repeat). Another row with the same NIC
-- username, whatever its password, never sees them. Sessions are a cache: they start empty.
DROP TABLE irp_sessions;
CREATE TABLE irp_sessions (
    client_id TEXT NOT NULL,
    owner_id BLOB NOT NULL,
    gstin TEXT NOT NULL,
    version INTEGER NOT NULL,
    username TEXT NOT NULL,
    sealed BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, owner_id, gstin, version)
);

DROP TABLE irp_auth_leases;
CREATE TABLE irp_auth_leases (
    client_id TEXT NOT NULL,
    owner_id BLOB NOT NULL,
    gstin TEXT NOT NULL,
    version INTEGER NOT NULL,
    holder TEXT NOT NULL,
    until INTEGER NOT NULL,
    PRIMARY KEY (client_id, owner_id, gstin, version)
);
