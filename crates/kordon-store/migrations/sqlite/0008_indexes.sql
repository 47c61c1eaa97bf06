-- Whether a blob is still used by a kept segment is asked on every purge and scrub.
CREATE INDEX links_blob ON links (blob_sha256) WHERE blob_sha256 IS NOT NULL;
-- Custody trails are read by subject (an inspection, a case, a camera).
CREATE INDEX custody_subject ON custody (subject);
