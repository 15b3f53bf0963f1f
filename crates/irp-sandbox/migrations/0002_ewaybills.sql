-- E-way bills raised from IRNs: at most one active bill per IRN; a cancelled one frees the
-- IRN for another bill (and for its own cancellation).
CREATE TABLE ewaybills (
    ewb_no INTEGER PRIMARY KEY,
    irn TEXT NOT NULL REFERENCES einvoices (irn),
    gstin TEXT NOT NULL,
    ewb_dt TEXT NOT NULL,
    valid_till TEXT,
    distance_km INTEGER NOT NULL,
    trans_mode TEXT,
    veh_no TEXT,
    status TEXT NOT NULL CHECK (status IN ('ACT', 'CNL')),
    cancel_date TEXT,
    created_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX ewaybills_one_active_per_irn ON ewaybills (irn) WHERE status = 'ACT';
CREATE INDEX ewaybills_by_gstin ON ewaybills (gstin, created_at);
