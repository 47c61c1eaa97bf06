-- Flags are stored as integers 0/1 in both engines (sqlx's Any driver, through which both
-- are reached, cannot read a column declared BOOLEAN in SQLite). The values are unchanged:
-- SQLite always stored them as 0/1.
DROP INDEX inspections_latest_time;
ALTER TABLE inspections RENAME COLUMN latest TO latest_flag;
ALTER TABLE inspections ADD COLUMN latest INTEGER NOT NULL DEFAULT 1;
UPDATE inspections SET latest = latest_flag;
ALTER TABLE inspections DROP COLUMN latest_flag;
CREATE INDEX inspections_latest_time ON inspections (start_ms) WHERE latest = 1;

ALTER TABLE links RENAME COLUMN night TO night_flag;
ALTER TABLE links ADD COLUMN night INTEGER;
UPDATE links SET night = night_flag;
ALTER TABLE links DROP COLUMN night_flag;

ALTER TABLE users RENAME COLUMN disabled TO disabled_flag;
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
UPDATE users SET disabled = disabled_flag;
ALTER TABLE users DROP COLUMN disabled_flag;
