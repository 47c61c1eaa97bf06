-- Release to others (issue 19): redacted copies, shares with named recipients, the officer's
-- preservation requests. Times are Unix ms, UTC.
CREATE TABLE redactions (
    id             TEXT PRIMARY KEY,
    crossing_point TEXT NOT NULL,
    inspection_id  TEXT,                       -- the inspection it was made from, if any
    device_id      TEXT NOT NULL,
    first_seq      BIGINT NOT NULL,
    last_seq       BIGINT NOT NULL,
    from_ms        BIGINT NOT NULL,            -- start of the first source segment
    to_ms          BIGINT NOT NULL,
    ops            TEXT NOT NULL,              -- kordon.redaction/v1 text
    ops_sha256     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    state          TEXT NOT NULL,              -- rendering | ready | failed
    error          TEXT,                       -- why it failed
    result_sha256  TEXT,                       -- the rendered copy (redactions/<id>.mp4), once ready
    size           BIGINT,
    event_hash     TEXT                        -- its derive event
);
CREATE INDEX redactions_inspection ON redactions (inspection_id, created_at);
CREATE TABLE shares (
    id             TEXT PRIMARY KEY,
    crossing_point TEXT NOT NULL,
    redaction_id   TEXT,                       -- a redacted copy shared, or
    case_id        TEXT,                       -- a case's evidence package shared (one of the two)
    recipient      TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    code_sha256    TEXT NOT NULL,              -- the one-time code, hashed
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_by     TEXT,
    failures       BIGINT NOT NULL,            -- wrong codes in a row
    opened_at      BIGINT,                     -- when the code was used
    session_sha256 TEXT,                       -- the recipient's session, hashed
    state          TEXT NOT NULL,              -- preparing | ready | failed
    error          TEXT,
    file_sha256    TEXT,                       -- the redacted package (shares/<id>.zip), once ready
    size           BIGINT,
    verdict        TEXT,                       -- kordon-verify on it when made: 'holds', or its failures
    downloads      BIGINT NOT NULL
);
CREATE INDEX shares_created ON shares (created_at);
CREATE TABLE preservation_requests (
    id             TEXT PRIMARY KEY,
    officer        TEXT NOT NULL,
    crossing_point TEXT NOT NULL,
    from_ms        BIGINT NOT NULL,
    to_ms          BIGINT NOT NULL,
    reason         TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    requested_at   BIGINT NOT NULL,
    state          TEXT NOT NULL,              -- pending | approved | refused
    decided_by     TEXT,
    decided_at     BIGINT,
    comment        TEXT,
    case_id        TEXT                        -- the case holding the footage, once approved
);
CREATE INDEX preservation_officer ON preservation_requests (officer, requested_at);
CREATE INDEX preservation_state ON preservation_requests (state, requested_at);
CREATE INDEX shares_redaction ON shares (redaction_id, created_at);
