-- E-invoice metadata (signed outputs only when retention is switched on).
CREATE TABLE einvoices (
    irn TEXT PRIMARY KEY,
    account_id BLOB NOT NULL,
    owner_id BLOB NOT NULL,
    gstin TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    doc_no TEXT NOT NULL,
    doc_date TEXT NOT NULL,
    ack_no INTEGER NOT NULL,
    ack_dt TEXT NOT NULL,
    status TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    signed_invoice TEXT,
    signed_qr_code TEXT,
    retain_until INTEGER,
    created_at INTEGER NOT NULL,
    cancelled_at INTEGER
);
CREATE INDEX einvoices_account ON einvoices(account_id, gstin, created_at);
