-- Forwarding that never loses or stalls (docs/spec/forwarding.md, issue 20).
--
-- At a crossing point: how far the centre has confirmed this log (the newest receipt the
-- server verified against the centre's log key), the items it could not send yet, and a
-- change feed (outbox) of the records a national view needs, filled by triggers so that
-- no write path can forget it.
CREATE TABLE forward_state (
    id           BIGINT PRIMARY KEY CHECK (id = 1),
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
    seq          BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    id           TEXT NOT NULL,
    -- the writing transaction's start: a reader waits until no transaction that started
    -- then can still commit a lower seq
    at           BIGINT NOT NULL DEFAULT (floor(extract(epoch FROM now()) * 1000))::bigint
);
CREATE FUNCTION outbox_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (kind, id) VALUES (TG_ARGV[0], to_jsonb(NEW) ->> TG_ARGV[1]);
    RETURN NULL;
END;
$$;
CREATE TRIGGER crossing_points_outbox AFTER INSERT OR UPDATE ON crossing_points FOR EACH ROW EXECUTE FUNCTION outbox_note('crossing_point', 'code');
CREATE TRIGGER officers_outbox AFTER INSERT OR UPDATE ON officers FOR EACH ROW EXECUTE FUNCTION outbox_note('officer', 'service_no');
CREATE TRIGGER assignments_outbox AFTER INSERT OR UPDATE ON assignments FOR EACH ROW EXECUTE FUNCTION outbox_note('assignment', 'id');
CREATE TRIGGER inspections_outbox AFTER INSERT OR UPDATE ON inspections FOR EACH ROW EXECUTE FUNCTION outbox_note('inspection', 'id');
CREATE TRIGGER gap_reasons_outbox AFTER INSERT OR UPDATE ON gap_reasons FOR EACH ROW EXECUTE FUNCTION outbox_note('gap_reason', 'id');
CREATE TRIGGER cases_outbox AFTER INSERT OR UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION outbox_note('case', 'id');
CREATE TRIGGER case_items_outbox AFTER INSERT OR UPDATE ON case_items FOR EACH ROW EXECUTE FUNCTION outbox_note('case', 'case_id');
