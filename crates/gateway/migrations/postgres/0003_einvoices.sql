-- E-invoice metadata (signed outputs only when retention is switched on).
CREATE TABLE einvoices (
    irn TEXT PRIMARY KEY,
    account_id UUID NOT NULL,
    owner_id UUID NOT NULL,
    gstin TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    doc_no TEXT NOT NULL,
    doc_date TEXT NOT NULL,
    ack_no BIGINT NOT NULL,
    ack_dt TEXT NOT NULL,
    status TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    signed_invoice TEXT,
    signed_qr_code TEXT,
    retain_until BIGINT,
    created_at BIGINT NOT NULL,
    cancelled_at BIGINT
);
CREATE INDEX einvoices_account ON einvoices(account_id, gstin, created_at);
