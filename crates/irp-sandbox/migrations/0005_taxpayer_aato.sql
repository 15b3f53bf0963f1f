-- A taxpayer's aggregate annual turnover in crore rupees, where the sandbox master flags it
-- (test control `set_aato`): at 10 crore and above, documents must be reported within 30
-- days of their date (2305).
ALTER TABLE taxpayers ADD COLUMN aato_crore INTEGER;
