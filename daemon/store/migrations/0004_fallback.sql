-- Fallback: a delivery that failed permanently (or was reported undelivered, bounced, stopped) is
-- followed by one on the guardian's next channel; fallback_of names the failed delivery, so the
-- chain per (message, guardian) can be read back.
ALTER TABLE deliveries ADD COLUMN fallback_of TEXT REFERENCES deliveries (id);
CREATE INDEX deliveries_by_fallback_of ON deliveries (fallback_of) WHERE fallback_of IS NOT NULL;
-- The reach report reads the messages of a period.
CREATE INDEX messages_by_created_at ON messages (created_at);
