-- The building name of a taxpayer's principal place of business (`AddrBnm` of the GSTIN
-- master), where the sandbox knows NIC's value.
ALTER TABLE taxpayers ADD COLUMN building TEXT;
