-- Customs inspection records from the customs IT systems. Corrections are new versions;
-- nothing is overwritten.
CREATE TABLE inspections (
    id           TEXT NOT NULL,
    version      BIGINT NOT NULL,
    checkpoint   TEXT NOT NULL,
    lane         TEXT NOT NULL,
    officers     TEXT NOT NULL,            -- ';'-separated service numbers
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    plate        TEXT NOT NULL,
    plate_norm   TEXT NOT NULL,            -- normalised for search
    declaration  TEXT NOT NULL,
    kind         TEXT NOT NULL,            -- documents | vehicle | goods
    outcome      TEXT NOT NULL,            -- cleared | violation | refused
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX inspections_time ON inspections (checkpoint, start_ms);
CREATE INDEX inspections_plate ON inspections (plate_norm);
CREATE INDEX inspections_declaration ON inspections (declaration);
CREATE INDEX assignments_officer ON assignments (officer, start_ms);
