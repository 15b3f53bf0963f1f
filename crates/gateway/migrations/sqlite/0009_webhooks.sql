-- Webhooks of an account (the signing secret sealed by the vault), and the outbox of their
-- deliveries: an event is written here in the transaction of the change it reports, so a
-- crash between the commit and the delivery loses nothing. `next_attempt_at` is NULL once the
-- delivery succeeded or was given up.
CREATE TABLE webhooks (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX webhooks_account ON webhooks(account_id);

CREATE TABLE webhook_deliveries (
    event_id BLOB NOT NULL,
    webhook_id BLOB NOT NULL REFERENCES webhooks(id),
    account_id BLOB NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    last_status INTEGER,
    last_error TEXT,
    delivered_at INTEGER,
    PRIMARY KEY (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries(webhook_id, created_at);

-- The credential version whose password age was last reported, so it is reported once.
ALTER TABLE nic_credentials ADD COLUMN age_notified_version INTEGER;
