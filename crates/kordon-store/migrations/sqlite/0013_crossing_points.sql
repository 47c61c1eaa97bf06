-- A border crossing point is a `crossing_point` everywhere; a checkpoint is only ever a
-- signed log checkpoint (issue 13). Names change, values stay.
ALTER TABLE checkpoints RENAME TO crossing_points;
ALTER TABLE officers RENAME COLUMN checkpoint TO crossing_point;
ALTER TABLE assignments RENAME COLUMN checkpoint TO crossing_point;
ALTER TABLE inspections RENAME COLUMN checkpoint TO crossing_point;
ALTER TABLE users RENAME COLUMN checkpoints TO crossing_points;
