-- RFC 3161 time-stamp tokens over the log's checkpoints (docs/spec/timestamps.md, issue 18):
-- one row per authority and checkpoint size; the checkpoint note the token is over is kept
-- with it, since the log keeps only its latest checkpoint.
CREATE TABLE timestamps (
    tsa          TEXT NOT NULL,             -- the authority's configured name
    size         BIGINT NOT NULL,           -- the checkpoint's tree size
    checkpoint   BLOB NOT NULL,             -- the signed checkpoint note
    token        BLOB NOT NULL,             -- the DER TimeStampResp as received
    stamped_at   BIGINT NOT NULL,           -- the time the TSA states, Unix ms
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (tsa, size)
);
CREATE INDEX timestamps_by_size ON timestamps (size);
