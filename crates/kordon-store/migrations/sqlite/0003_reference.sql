-- Reference data: crossing points and officers. Every change is also a custody event in
-- the log; these rows are the current state.
CREATE TABLE checkpoints (
    code         TEXT PRIMARY KEY,
    name_uk      TEXT NOT NULL,
    name_latin   TEXT NOT NULL,
    tz           TEXT NOT NULL,            -- IANA time zone, e.g. Europe/Kyiv
    lanes        TEXT NOT NULL,            -- ';'-separated lane names
    updated_at   BIGINT NOT NULL
);

CREATE TABLE officers (
    service_no   TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    checkpoint   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
