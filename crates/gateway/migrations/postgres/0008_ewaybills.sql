-- The e-way bill of an e-invoice, kept with it under the same data-minimisation rule: its
-- number, when it was generated, how long it is valid, and when it was cancelled.
ALTER TABLE einvoices ADD COLUMN ewb_no BIGINT;
ALTER TABLE einvoices ADD COLUMN ewb_dt TEXT;
ALTER TABLE einvoices ADD COLUMN ewb_valid_till TEXT;
ALTER TABLE einvoices ADD COLUMN ewb_cancelled_at BIGINT;
CREATE INDEX einvoices_ewb ON einvoices(account_id, ewb_no);
