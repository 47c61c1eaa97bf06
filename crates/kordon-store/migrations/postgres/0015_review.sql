-- The explanation flow: the decider's comment (required on a rejection), and the
-- queues of what waits for a decision, read without scanning history.
ALTER TABLE gap_reasons ADD COLUMN comment TEXT;
CREATE INDEX gap_reasons_status ON gap_reasons (status, filed_at);
CREATE INDEX gap_reasons_filed_by ON gap_reasons (filed_by, filed_at);
-- A custody trail filtered by action, a page at a time.
CREATE INDEX custody_trail_action ON custody (subject_key, action, log_index);
-- The list of cases, newest first, a page at a time.
CREATE INDEX cases_opened ON cases (opened_at, id);
-- Quality review: a supervisor's checklist outcome for an inspection he watched (each
-- also a custody event `review`).
CREATE TABLE reviews (
    id            TEXT PRIMARY KEY,
    inspection_id TEXT NOT NULL,
    reviewer      TEXT NOT NULL,
    reviewed_at   BIGINT NOT NULL,
    outcome       TEXT NOT NULL,            -- meets | concerns | breach
    checklist     TEXT NOT NULL,            -- the items found to hold, ';'-separated
    note          TEXT NOT NULL
);
CREATE INDEX reviews_inspection ON reviews (inspection_id, reviewed_at);
