-- A case is closed when the matter ends; from then on it holds nothing (its items and
-- custody trail stay), and its footage follows the retention rules again unless another
-- open case or an inspection that found a violation holds it.
ALTER TABLE cases ADD COLUMN closed_at BIGINT;
ALTER TABLE cases ADD COLUMN closed_by TEXT;
