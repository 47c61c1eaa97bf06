-- The longest link of each device (end - start), kept as links arrive, so that "the links
-- of a camera overlapping [from, to)" can bound its search to start >= from - this: on a
-- year of rows (and PostgreSQL's monthly partitions) it reads a handful of rows, not half
-- the year.
ALTER TABLE devices ADD COLUMN max_span_ms BIGINT NOT NULL DEFAULT 0;
UPDATE devices SET max_span_ms = COALESCE((SELECT MAX(end_ms - start_ms) FROM links WHERE links.device_id = devices.id), 0);
