-- The common portal's status of a taxpayer while the IRP's master holds a stale one (set by
-- the test control `mark_stale`); a sync GSTIN call copies it into `status` and clears it.
ALTER TABLE taxpayers ADD COLUMN portal_status TEXT CHECK (portal_status IN ('ACT', 'CNL', 'INA', 'SUS'));
