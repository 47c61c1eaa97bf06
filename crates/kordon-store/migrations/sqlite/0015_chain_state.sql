-- Each device's chain, kept as links arrive (issue 14; docs/spec/metadata.md "Chain
-- state"): written in the same transaction as the link, so that no read has to load and
-- re-verify a camera's whole history. Devices whose links predate this table get their
-- state computed once when the server starts (kordon_server::startup).
CREATE TABLE chain_state (
    device_id        TEXT PRIMARY KEY,
    links            BIGINT NOT NULL,      -- links stored
    segments         BIGINT NOT NULL,      -- of which segments
    recorded_ms      BIGINT NOT NULL,      -- sum of the segments' lengths
    last_seq         BIGINT NOT NULL,      -- highest sequence number stored
    max_end_ms       BIGINT NOT NULL,      -- latest end (segment) or time (event)
    last_received_ms BIGINT NOT NULL,      -- when the latest link arrived
    head             BIGINT,               -- complete and unbroken from 0 up to here
    problems         BIGINT NOT NULL       -- rows in chain_problems
);

-- What does not hold in a chain, one row per problem (kordon_core::chain::ChainProblem),
-- keyed by its anchor: the sequence number whose arrival creates it.
CREATE TABLE chain_problems (
    device_id  TEXT NOT NULL,
    anchor     BIGINT NOT NULL,
    kind       TEXT NOT NULL,   -- missing, broken_prev, time_backwards, unexplained_gap, equivocation, attestation_mismatch
    from_seq   BIGINT NOT NULL, -- missing: first missing; gap: the segment before; else the anchor
    to_seq     BIGINT NOT NULL, -- missing: last missing; else the anchor
    hash_a     TEXT,            -- broken_prev: expected; equivocation: the link kept
    hash_b     TEXT,            -- broken_prev: found; equivocation: the twin refused
    time_a     BIGINT,          -- time_backwards: earliest allowed; gap: from
    time_b     BIGINT,          -- time_backwards: the link's time; gap: to
    note       TEXT             -- attestation_mismatch: the signer
);
CREATE INDEX chain_problems_anchor ON chain_problems (device_id, anchor);

-- A device's events (stops, faults) without scanning its segments.
CREATE INDEX links_events ON links (device_id, seq) WHERE kind <> 'segment';

-- What a custody event is about, as its first two words ("device cam-1" of "device cam-1
-- seq 5", "case C-1"), so that a trail is read a page at a time by log index whatever
-- the number of events about the segments of a camera (issue 14).
ALTER TABLE custody ADD COLUMN subject_key TEXT;
UPDATE custody SET subject_key = CASE
    WHEN instr(substr(subject, instr(subject, ' ') + 1), ' ') > 0
    THEN substr(subject, 1, instr(subject, ' ') + instr(substr(subject, instr(subject, ' ') + 1), ' ') - 1)
    ELSE subject END;
CREATE INDEX custody_trail ON custody (subject_key, log_index);
