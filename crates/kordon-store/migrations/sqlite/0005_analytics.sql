-- Analytics at scale: the latest version of each inspection is flagged (so searches do not
-- group a million rows), officers of an inspection are a table of their own (indexed
-- search by officer and by camera), the declarant is kept, bookmarks, and coverage is
-- stored and recomputed only when something it depends on changed.

ALTER TABLE inspections ADD COLUMN declarant TEXT NOT NULL DEFAULT '';
ALTER TABLE inspections ADD COLUMN latest BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE inspections SET latest = FALSE
 WHERE version < (SELECT MAX(version) FROM inspections l WHERE l.id = inspections.id);
CREATE INDEX inspections_latest_time ON inspections (start_ms) WHERE latest;

-- The officers of the latest version of each inspection, with its time (an index kept
-- by kordon: rows of earlier versions are replaced; the inspections table keeps them all).
CREATE TABLE inspection_officers (
    officer      TEXT NOT NULL,
    id           TEXT NOT NULL,
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    PRIMARY KEY (officer, id)
);
CREATE INDEX inspection_officers_end ON inspection_officers (officer, end_ms);
CREATE INDEX inspection_officers_id ON inspection_officers (id);
INSERT INTO inspection_officers (officer, id, start_ms, end_ms)
  WITH RECURSIVE split(id, start_ms, end_ms, officer, rest) AS (
    SELECT id, start_ms, end_ms, '', officers || ';' FROM inspections WHERE latest
    UNION ALL
    SELECT id, start_ms, end_ms, substr(rest, 1, instr(rest, ';') - 1), substr(rest, instr(rest, ';') + 1)
      FROM split WHERE rest <> '')
  SELECT DISTINCT officer, id, start_ms, end_ms FROM split WHERE officer <> '';

CREATE TABLE bookmarks (
    id            TEXT PRIMARY KEY,
    inspection_id TEXT,                     -- a bookmark is on an inspection,
    device_id     TEXT,                     -- or on a camera's footage,
    at_ms         BIGINT NOT NULL,          -- at this moment
    label         TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX bookmarks_inspection ON bookmarks (inspection_id);
CREATE INDEX bookmarks_device ON bookmarks (device_id, at_ms);

-- Computed coverage of the latest version of each inspection. `generation` is bumped
-- whenever something the result depends on changes (a link of a camera assigned to one of
-- its officers, an assignment, a new version); a result is written back only if the
-- generation it was computed at is still current, so no change is ever lost.
CREATE TABLE coverage (
    inspection_id TEXT PRIMARY KEY,
    version       BIGINT NOT NULL,
    generation    BIGINT NOT NULL,
    computed      BIGINT,                   -- generation the result below belongs to
    result        TEXT                      -- JSON of the computed coverage
);
CREATE INDEX coverage_stale ON coverage (inspection_id) WHERE computed IS NULL OR computed <> generation;
INSERT INTO coverage (inspection_id, version, generation)
  SELECT id, version, 1 FROM inspections WHERE latest;
