-- The crossing point a case belongs to (issue 15): users scoped to crossing points see,
-- fill, export and release only the cases of theirs, and only with footage recorded
-- there. NULL: a national case, for users without a scope (and every case opened before
-- this column, which scoped users therefore no longer reach).
ALTER TABLE cases ADD COLUMN crossing_point TEXT;
