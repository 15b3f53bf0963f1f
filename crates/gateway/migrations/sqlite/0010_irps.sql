-- NIC runs two IRPs (NIC1, NIC2) over one IRN registry; each issues its own sessions, so a
-- session is kept per IRP. Sessions are a cache: they start empty. An e-invoice records the IRP
-- that generated it, so that operations on it at the other IRP name it in the `irp` header.
DROP TABLE irp_sessions;
CREATE TABLE irp_sessions (
    irp TEXT NOT NULL,
    client_id TEXT NOT NULL,
    owner_id BLOB NOT NULL,
    gstin TEXT NOT NULL,
    version INTEGER NOT NULL,
    username TEXT NOT NULL,
    sealed BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (irp, client_id, owner_id, gstin, version)
);

DROP TABLE irp_auth_leases;
CREATE TABLE irp_auth_leases (
    irp TEXT NOT NULL,
    client_id TEXT NOT NULL,
    owner_id BLOB NOT NULL,
    gstin TEXT NOT NULL,
    version INTEGER NOT NULL,
    holder TEXT NOT NULL,
    until INTEGER NOT NULL,
    PRIMARY KEY (irp, client_id, owner_id, gstin, version)
);

ALTER TABLE einvoices ADD COLUMN irp TEXT;
