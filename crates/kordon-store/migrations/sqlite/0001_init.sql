-- kordon metadata, version 1. Portable SQL: the PostgreSQL migrations mirror it.
-- Times are Unix milliseconds (UTC). Hashes are lowercase hex.

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    vkey         TEXT NOT NULL,            -- C2SP verifier key string of the device key
    enrolled_at  BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE enroll_tokens (
    token_hash   TEXT PRIMARY KEY,         -- SHA-256 of the one-time token; the token itself is never stored
    device_id    TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);

-- Every accepted chain link, byte for byte.
CREATE TABLE links (
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,     -- SHA-256 of body = the link hash
    kind         TEXT NOT NULL,            -- 'segment' or the event kind
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    blob_sha256  TEXT,                     -- segments only
    size         BIGINT,
    night        BOOLEAN,
    attested     TEXT,
    body         BLOB NOT NULL,
    received_at  BIGINT NOT NULL,
    log_index    BIGINT UNIQUE,            -- NULL until the log has integrated it
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX links_device_time ON links (device_id, start_ms);
CREATE INDEX links_unlogged ON links (received_at) WHERE log_index IS NULL;

-- A second, different link under a sequence number already taken: refused, kept as evidence.
CREATE TABLE equivocations (
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL,
    body         BLOB NOT NULL,
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

-- Custody events (kordon.custody/v1 notes signed by the server), byte for byte.
CREATE TABLE custody (
    hash         TEXT PRIMARY KEY,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         BLOB NOT NULL,
    created_at   BIGINT NOT NULL,
    log_index    BIGINT UNIQUE
);
CREATE INDEX custody_unlogged ON custody (created_at) WHERE log_index IS NULL;
