-- One replica at a time authenticates a given (client, GSTIN, user): it holds a short lease.
CREATE TABLE irp_auth_leases (
    client_id TEXT NOT NULL,
    gstin TEXT NOT NULL,
    username TEXT NOT NULL,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL,
    PRIMARY KEY (client_id, gstin, username)
);
