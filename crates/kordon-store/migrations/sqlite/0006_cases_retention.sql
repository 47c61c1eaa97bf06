-- Cases, legal holds, retention (purged bytes keep their signed manifests) and scrubbing.

CREATE TABLE cases (
    id            TEXT PRIMARY KEY,
    reference     TEXT NOT NULL,           -- the case's reference number
    kind          TEXT NOT NULL,           -- complaint | lawyer_request | law_enforcement_request | internal_review
    description   TEXT NOT NULL,
    opened_by     TEXT NOT NULL,
    opened_at     BIGINT NOT NULL
);

-- What a case holds: footage of a camera over a time range (from an inspection, a segment
-- or a range), or a note. Rows are only ever added.
CREATE TABLE case_items (
    case_id       TEXT NOT NULL,
    item          INTEGER NOT NULL,
    kind          TEXT NOT NULL,           -- inspection | segment | range | note
    inspection_id TEXT,
    device_id     TEXT,
    from_ms       BIGINT,
    to_ms         BIGINT,
    text          TEXT NOT NULL,
    added_by      TEXT NOT NULL,
    added_at      BIGINT NOT NULL,
    PRIMARY KEY (case_id, item)
);
CREATE INDEX case_items_device ON case_items (device_id, from_ms);

-- Retention: a purged segment keeps its link row and manifest; only the bytes go.
ALTER TABLE links ADD COLUMN purged_at BIGINT;
ALTER TABLE links ADD COLUMN tombstone TEXT;     -- hash of the tombstone custody event
CREATE INDEX links_received ON links (received_at) WHERE kind = 'segment' AND purged_at IS NULL;

-- Blobs whose bytes no longer match their hash, moved aside by the scrubber.
CREATE TABLE quarantine (
    sha256        TEXT PRIMARY KEY,
    found_at      BIGINT NOT NULL,
    detail        TEXT NOT NULL
);
