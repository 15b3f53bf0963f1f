-- The simulated IRP: taxpayer master, client registrations, portal and API users,
-- sessions, e-invoices, OTPs and the outbox of "sent" messages.
CREATE TABLE irp_keys (
    name TEXT PRIMARY KEY,
    der BLOB NOT NULL
);

CREATE TABLE taxpayers (
    gstin TEXT PRIMARY KEY,
    pan TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    trade_name TEXT NOT NULL,
    address TEXT NOT NULL,
    location TEXT NOT NULL,
    pin INTEGER NOT NULL,
    state_code INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACT', 'CNL', 'INA', 'SUS')),
    blocked INTEGER NOT NULL DEFAULT 0,
    mobile TEXT NOT NULL,
    email TEXT NOT NULL,
    einvoice_enabled INTEGER NOT NULL DEFAULT 1,
    registered_on TEXT NOT NULL
);
CREATE INDEX taxpayers_pan ON taxpayers(pan);

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('GSP', 'ERP', 'ECO', 'TAXPAYER')),
    pan TEXT NOT NULL,
    name TEXT NOT NULL,
    mobile TEXT NOT NULL,
    email TEXT NOT NULL,
    whitelisted_ips TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE portal_users (
    user_id TEXT PRIMARY KEY COLLATE NOCASE,
    gstin TEXT NOT NULL REFERENCES taxpayers(gstin),
    parent_user_id TEXT,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_users (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    gstin TEXT NOT NULL REFERENCES taxpayers(gstin),
    client_id TEXT NOT NULL REFERENCES clients(client_id),
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'FROZEN', 'BLOCKED')),
    ack_no TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX api_users_gstin ON api_users(gstin);

CREATE TABLE sessions (
    auth_token TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    gstin TEXT NOT NULL,
    username TEXT NOT NULL,
    sek BLOB NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_key ON sessions(client_id, gstin, username);

CREATE TABLE einvoices (
    irn TEXT PRIMARY KEY,
    gstin TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    doc_no TEXT NOT NULL,
    doc_key TEXT NOT NULL,
    doc_date TEXT NOT NULL,
    financial_year TEXT NOT NULL,
    ack_no INTEGER NOT NULL UNIQUE,
    ack_dt TEXT NOT NULL,
    signed_invoice TEXT NOT NULL,
    signed_qr_code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACT', 'CNL')),
    cancel_date TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (gstin, financial_year, doc_type, doc_key)
);

CREATE TABLE otps (
    request_id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    mobile TEXT NOT NULL,
    code_hash BLOB NOT NULL,
    context TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    verified INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mobile TEXT NOT NULL,
    email TEXT NOT NULL,
    message TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE TABLE portal_sessions (
    token TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    gstin TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
