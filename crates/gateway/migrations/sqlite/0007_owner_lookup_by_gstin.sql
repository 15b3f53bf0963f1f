-- Finding the owner of a GSTIN when a ClearTax client sends no owner_id: the account's GSTIN
-- owners, and the owners whose credentials cover the GSTIN.
CREATE INDEX owners_account_gstin ON owners(account_id, gstin);
CREATE INDEX nic_credentials_account_gstin ON nic_credentials(account_id, gstin);
-- A GSTIN's e-invoices in the console, newest first.
CREATE INDEX einvoices_owner ON einvoices(account_id, owner_id, created_at, irn);
