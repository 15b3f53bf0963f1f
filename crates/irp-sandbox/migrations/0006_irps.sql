-- NIC runs two IRPs (NIC1, NIC2) over one IRN registry. A sandbox can serve both: each issues
-- its own sessions, and each e-invoice records the IRP that generated it (operations on it at
-- the other IRP must name that one in the `irp` header).
ALTER TABLE sessions ADD COLUMN irp TEXT NOT NULL DEFAULT 'NIC1';
ALTER TABLE einvoices ADD COLUMN irp TEXT NOT NULL DEFAULT 'NIC1';
