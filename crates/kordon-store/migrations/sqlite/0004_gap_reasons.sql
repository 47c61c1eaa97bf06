-- Reasons given for gaps in the coverage of an inspection, and their review.
CREATE TABLE gap_reasons (
    id            TEXT PRIMARY KEY,
    inspection_id TEXT NOT NULL,
    from_ms       BIGINT NOT NULL,
    to_ms         BIGINT NOT NULL,
    reason        TEXT NOT NULL,            -- malfunction | exemption | restricted_area | other
    text          TEXT NOT NULL,
    status        TEXT NOT NULL,            -- pending | approved | rejected
    filed_by      TEXT NOT NULL,
    filed_at      BIGINT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT
);
CREATE INDEX gap_reasons_inspection ON gap_reasons (inspection_id);
