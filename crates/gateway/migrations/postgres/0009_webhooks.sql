-- Webhooks of an account (the signing secret sealed by the vault), and the outbox of their
-- deliveries: an event is written here in the transaction of the change it reports, so a
-- crash between the commit and the delivery loses nothing. `next_attempt_at` is NULL once the
-- delivery succeeded or was given up.
CREATE TABLE webhooks (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX webhooks_account ON webhooks(account_id);

CREATE TABLE webhook_deliveries (
    event_id UUID NOT NULL,
    webhook_id UUID NOT NULL REFERENCES webhooks(id),
    account_id UUID NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_attempt_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    PRIMARY KEY (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries(webhook_id, created_at);

-- The credential version whose password age was last reported, so it is reported once.
ALTER TABLE nic_credentials ADD COLUMN age_notified_version BIGINT;
