-- At the central server: the logs of crossing-point servers that forward to it. Each
-- edge's entries are kept byte for byte by index; `frontier` is the right edge of its
-- tree at `size` (kordon_core::merkle::Frontier), `checkpoint` its latest signed
-- checkpoint, which the central log also records as a custody event.
CREATE TABLE edges (
    origin       TEXT PRIMARY KEY,
    size         BIGINT NOT NULL,
    frontier     TEXT NOT NULL,
    checkpoint   BLOB NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE edge_entries (
    origin       TEXT NOT NULL,
    idx          BIGINT NOT NULL,
    body         BLOB NOT NULL,
    PRIMARY KEY (origin, idx)
);
