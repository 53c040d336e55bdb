-- A digest delivery (routing: category mode "digest") is collected, when it falls due, with the
-- guardian's other digest deliveries due on the same contact address into one message. The
-- index finds those companions without scanning the due backlog.
ALTER TABLE deliveries ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_digest ON deliveries (guardian_id, channel, address, next_attempt_at)
  WHERE digest = 1;
