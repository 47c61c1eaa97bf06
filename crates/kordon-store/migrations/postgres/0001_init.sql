-- kordon metadata on PostgreSQL: the same tables, columns and meaning as the SQLite
-- migrations 0001–0008 (docs/spec/metadata.md), with PostgreSQL types and with `links`,
-- the table that grows by thousands of rows a minute, partitioned by month of start_ms.
-- Times are Unix milliseconds (UTC). Hashes are lowercase hex.

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    vkey         TEXT NOT NULL,
    enrolled_at  BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE enroll_tokens (
    token_hash   TEXT PRIMARY KEY,
    device_id    TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);

-- A unique constraint on a partitioned table must contain the partition key, so the two
-- that make a chain a chain — one link per (device, seq), one row per link hash — are kept
-- in this narrow table, written in the same statement as the link (Meta::insert_link).
CREATE TABLE link_keys (
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    PRIMARY KEY (device_id, seq)
);

-- Every accepted chain link, byte for byte. Monthly partitions links_pYYYYMM are created
-- ahead of time by kordon (Meta::ensure_partitions); links_default takes any other time
-- (a camera with a wrong clock) and is split when its month's partition is created.
CREATE TABLE links (
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    blob_sha256  TEXT,
    size         BIGINT,
    night        BIGINT,                   -- 0/1: booleans are integers in both engines
    attested     TEXT,
    body         BYTEA NOT NULL,
    received_at  BIGINT NOT NULL,
    log_index    BIGINT,
    purged_at    BIGINT,
    tombstone    TEXT,
    PRIMARY KEY (device_id, seq, start_ms)
) PARTITION BY RANGE (start_ms);
CREATE TABLE links_default PARTITION OF links DEFAULT;
CREATE INDEX links_hash ON links (hash);
CREATE INDEX links_log_index ON links (log_index);
CREATE INDEX links_device_time ON links (device_id, start_ms);
CREATE INDEX links_unlogged ON links (received_at) WHERE log_index IS NULL;
CREATE INDEX links_received ON links (received_at) WHERE kind = 'segment' AND purged_at IS NULL;
CREATE INDEX links_blob ON links (blob_sha256) WHERE blob_sha256 IS NOT NULL;

CREATE TABLE equivocations (
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL,
    body         BYTEA NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq, hash)
);

CREATE TABLE assignments (
    id           TEXT PRIMARY KEY,
    device_id    TEXT NOT NULL,
    officer      TEXT NOT NULL,
    checkpoint   TEXT NOT NULL,
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT,
    assigned_by  TEXT NOT NULL,
    returned_by  TEXT
);
CREATE INDEX assignments_device ON assignments (device_id, start_ms);
CREATE INDEX assignments_officer ON assignments (officer, start_ms);

CREATE TABLE custody (
    hash         TEXT PRIMARY KEY,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    log_index    BIGINT UNIQUE
);
CREATE INDEX custody_unlogged ON custody (created_at) WHERE log_index IS NULL;
CREATE INDEX custody_subject ON custody (subject);

CREATE TABLE inspections (
    id           TEXT NOT NULL,
    version      BIGINT NOT NULL,
    checkpoint   TEXT NOT NULL,
    lane         TEXT NOT NULL,
    officers     TEXT NOT NULL,
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    plate        TEXT NOT NULL,
    plate_norm   TEXT NOT NULL,
    declaration  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    declarant    TEXT NOT NULL DEFAULT '',
    latest       BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (id, version)
);
CREATE INDEX inspections_time ON inspections (checkpoint, start_ms);
CREATE INDEX inspections_plate ON inspections (plate_norm);
CREATE INDEX inspections_declaration ON inspections (declaration);
CREATE INDEX inspections_latest_time ON inspections (start_ms) WHERE latest = 1;

CREATE TABLE checkpoints (
    code         TEXT PRIMARY KEY,
    name_uk      TEXT NOT NULL,
    name_latin   TEXT NOT NULL,
    tz           TEXT NOT NULL,
    lanes        TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE officers (
    service_no   TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    checkpoint   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE gap_reasons (
    id            TEXT PRIMARY KEY,
    inspection_id TEXT NOT NULL,
    from_ms       BIGINT NOT NULL,
    to_ms         BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    text          TEXT NOT NULL,
    status        TEXT NOT NULL,
    filed_by      TEXT NOT NULL,
    filed_at      BIGINT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT
);
CREATE INDEX gap_reasons_inspection ON gap_reasons (inspection_id);

CREATE TABLE inspection_officers (
    officer      TEXT NOT NULL,
    id           TEXT NOT NULL,
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    PRIMARY KEY (officer, id)
);
CREATE INDEX inspection_officers_end ON inspection_officers (officer, end_ms);
CREATE INDEX inspection_officers_id ON inspection_officers (id);

CREATE TABLE bookmarks (
    id            TEXT PRIMARY KEY,
    inspection_id TEXT,
    device_id     TEXT,
    at_ms         BIGINT NOT NULL,
    label         TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX bookmarks_inspection ON bookmarks (inspection_id);
CREATE INDEX bookmarks_device ON bookmarks (device_id, at_ms);

CREATE TABLE coverage (
    inspection_id TEXT PRIMARY KEY,
    version       BIGINT NOT NULL,
    generation    BIGINT NOT NULL,
    computed      BIGINT,
    result        TEXT
);
CREATE INDEX coverage_stale ON coverage (inspection_id) WHERE computed IS NULL OR computed <> generation;

CREATE TABLE cases (
    id            TEXT PRIMARY KEY,
    reference     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    description   TEXT NOT NULL,
    opened_by     TEXT NOT NULL,
    opened_at     BIGINT NOT NULL
);

CREATE TABLE case_items (
    case_id       TEXT NOT NULL,
    item          BIGINT NOT NULL,
    kind          TEXT NOT NULL,
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

CREATE TABLE quarantine (
    sha256        TEXT PRIMARY KEY,
    found_at      BIGINT NOT NULL,
    detail        TEXT NOT NULL
);

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    checkpoints   TEXT NOT NULL,
    officer       TEXT,
    password_hash TEXT NOT NULL,
    totp_secret   TEXT,
    failed        BIGINT NOT NULL DEFAULT 0,
    locked_until  BIGINT,
    created_at    BIGINT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL,
    csrf          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);

CREATE TABLE api_tokens (
    token_hash    TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL,
    label         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
