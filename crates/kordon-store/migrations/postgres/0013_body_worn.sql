-- Cameras in the field (issue 17). A body-worn system (AXIS Body Worn) pushing to kordon as its content destination
-- (docs/axis.md, issue 17). Flags are 0/1.
CREATE TABLE axis_systems (
    system_id     TEXT PRIMARY KEY,           -- the system's UUID
    connection_id TEXT NOT NULL,
    name          TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE TABLE axis_users (
    uuid       TEXT PRIMARY KEY,              -- the system's internal user UUID
    name       TEXT NOT NULL,
    user_id    TEXT NOT NULL,                 -- the user-supplied id ('' if none)
    active     BIGINT NOT NULL,
    officer    TEXT,                          -- the kordon officer (service number) mapped
    updated_at BIGINT NOT NULL
);
CREATE TABLE axis_devices (
    serial     TEXT PRIMARY KEY,              -- the camera's serial = kordon device id
    name       TEXT NOT NULL,
    model      TEXT NOT NULL,
    active     BIGINT NOT NULL,
    firmware   TEXT NOT NULL,                 -- from the latest recording's metadata
    updated_at BIGINT NOT NULL
);
CREATE TABLE axis_recordings (
    container     TEXT PRIMARY KEY,
    serial        TEXT NOT NULL,
    user_uuid     TEXT NOT NULL,
    meta          TEXT NOT NULL,              -- the container's metadata, JSON object
    status        TEXT NOT NULL,              -- Transferring | Complete | Rejected
    started       BIGINT NOT NULL,            -- the record-start event written (0/1)
    created_at    BIGINT NOT NULL,
    completed_at  BIGINT
);
CREATE INDEX axis_recordings_serial ON axis_recordings (serial, created_at);
CREATE TABLE axis_objects (
    container    TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,               -- clip | bookmark | gnss | rejected
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    seq          BIGINT,                      -- the clip's link in the camera's chain
    signed_video BIGINT NOT NULL,             -- carries in-stream signatures (SEI)
    meta         TEXT NOT NULL,               -- the object's metadata, JSON object
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (container, name)
);
CREATE TABLE gnss_points (
    device_id TEXT NOT NULL,
    at_ms     BIGINT NOT NULL,
    lon_e7    BIGINT NOT NULL,                -- degrees x 10^7
    lat_e7    BIGINT NOT NULL,
    source    TEXT NOT NULL,                  -- the trail object it came from
    PRIMARY KEY (device_id, at_ms, source)
);
-- What each camera last said of itself (an agent with every upload, a body-worn system
-- with every clip): the camera list and `kordon device status` show it.
CREATE TABLE device_health (
    device_id     TEXT PRIMARY KEY,
    battery       BIGINT,                     -- percent, when the camera says
    free_mib      BIGINT,                     -- free storage on the camera
    backlog_links BIGINT,                     -- links waiting on the camera
    backlog_bytes BIGINT,
    docked        BIGINT,                     -- 0/1, when known
    firmware      TEXT NOT NULL,
    audio         TEXT NOT NULL,              -- the latest segment's audio word ('' if v1)
    reported_at   BIGINT NOT NULL
);
-- The cameras on shift now (open assignments): read without scanning years of shifts.
CREATE INDEX assignments_open ON assignments (device_id) WHERE end_ms IS NULL;
