-- Forwarding that never loses or stalls (docs/spec/forwarding.md, issue 20).
--
-- At a crossing point: how far the centre has confirmed this log (the newest receipt the
-- server verified against the centre's log key), the items it could not send yet, and a
-- change feed (outbox) of the records a national view needs, filled by triggers so that
-- no write path can forget it.
CREATE TABLE forward_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    confirmed    BIGINT NOT NULL,           -- entries [0, confirmed) the centre holds
    receipt      TEXT NOT NULL,             -- base64 tlog-proof + event proving it
    updated_at   BIGINT NOT NULL
);

CREATE TABLE forward_holes (
    idx          BIGINT PRIMARY KEY,        -- the entry's index in this log
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    found_at     BIGINT NOT NULL,
    next_at      BIGINT NOT NULL
);
CREATE INDEX forward_holes_due ON forward_holes (next_at);

-- At the centre: the items each crossing point reported it could not send, and how far
-- its records have come.
CREATE TABLE edge_holes (
    origin       TEXT NOT NULL,
    idx          BIGINT NOT NULL,
    link_hash    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    reported_at  BIGINT NOT NULL,
    PRIMARY KEY (origin, idx)
);
ALTER TABLE edges ADD COLUMN records BIGINT NOT NULL DEFAULT 0;

CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    id           TEXT NOT NULL,
    at           BIGINT NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER) * 1000)
);
CREATE TRIGGER crossing_points_outbox_insert AFTER INSERT ON crossing_points BEGIN INSERT INTO outbox (kind, id) VALUES ('crossing_point', NEW.code); END;
CREATE TRIGGER crossing_points_outbox_update AFTER UPDATE ON crossing_points BEGIN INSERT INTO outbox (kind, id) VALUES ('crossing_point', NEW.code); END;
CREATE TRIGGER officers_outbox_insert AFTER INSERT ON officers BEGIN INSERT INTO outbox (kind, id) VALUES ('officer', NEW.service_no); END;
CREATE TRIGGER officers_outbox_update AFTER UPDATE ON officers BEGIN INSERT INTO outbox (kind, id) VALUES ('officer', NEW.service_no); END;
CREATE TRIGGER assignments_outbox_insert AFTER INSERT ON assignments BEGIN INSERT INTO outbox (kind, id) VALUES ('assignment', NEW.id); END;
CREATE TRIGGER assignments_outbox_update AFTER UPDATE ON assignments BEGIN INSERT INTO outbox (kind, id) VALUES ('assignment', NEW.id); END;
CREATE TRIGGER inspections_outbox_insert AFTER INSERT ON inspections BEGIN INSERT INTO outbox (kind, id) VALUES ('inspection', NEW.id); END;
CREATE TRIGGER inspections_outbox_update AFTER UPDATE ON inspections BEGIN INSERT INTO outbox (kind, id) VALUES ('inspection', NEW.id); END;
CREATE TRIGGER gap_reasons_outbox_insert AFTER INSERT ON gap_reasons BEGIN INSERT INTO outbox (kind, id) VALUES ('gap_reason', NEW.id); END;
CREATE TRIGGER gap_reasons_outbox_update AFTER UPDATE ON gap_reasons BEGIN INSERT INTO outbox (kind, id) VALUES ('gap_reason', NEW.id); END;
CREATE TRIGGER cases_outbox_insert AFTER INSERT ON cases BEGIN INSERT INTO outbox (kind, id) VALUES ('case', NEW.id); END;
CREATE TRIGGER cases_outbox_update AFTER UPDATE ON cases BEGIN INSERT INTO outbox (kind, id) VALUES ('case', NEW.id); END;
CREATE TRIGGER case_items_outbox_insert AFTER INSERT ON case_items BEGIN INSERT INTO outbox (kind, id) VALUES ('case', NEW.case_id); END;
CREATE TRIGGER case_items_outbox_update AFTER UPDATE ON case_items BEGIN INSERT INTO outbox (kind, id) VALUES ('case', NEW.case_id); END;
