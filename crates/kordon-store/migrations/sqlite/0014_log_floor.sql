-- The log's published size when a row was stored: its entry, if the log has it, is at an
-- index at or above this, so recovery after a crash searches only the log's tail for rows
-- stored but not confirmed (issue 21). Older rows have none (searched from 0).
ALTER TABLE links ADD COLUMN log_floor BIGINT;
ALTER TABLE custody ADD COLUMN log_floor BIGINT;
