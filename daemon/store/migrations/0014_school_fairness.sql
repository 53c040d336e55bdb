-- Fairness across schools for bulk deliveries. Leased in due order alone, one district's (or one
-- big school's) broadcast made every other school's broadcast on the same channel wait until it
-- was done. The dispatcher now leases bulk deliveries round-robin across schools
-- (store/queue_store.cpp), so it needs each delivery's school.
--
-- The school the delivery is about: the student's school for a note or a reply, for a broadcast
-- copy the school of the first student it names; a fallback keeps the school of the delivery it
-- replaces. NULL: the student has no school (the deployment's defaults; such bulk deliveries
-- share one turn of their own), or a writer that does not set it (only bulk deliveries need it).
ALTER TABLE deliveries ADD COLUMN school_id TEXT;
UPDATE deliveries SET school_id = (
  SELECT s.school_id FROM students s WHERE s.id = COALESCE(
    CASE WHEN json_valid(deliveries.about) THEN json_extract(deliveries.about, '$[0]') END,
    (SELECT m.student_id FROM messages m WHERE m.id = deliveries.message_id)));

-- The bulk lease: per channel, the schools with pending bulk deliveries (a seek per school, from
-- the one after the school served last), then each school's next due rows (a range scan in
-- next_attempt_at order that stops after its share). Individual deliveries keep deliveries_due
-- (0009). The condition is spelled with OR, not IN (see 0005), and the queries repeat it word for
-- word, with `priority = 1` as a literal, to use the index.
CREATE INDEX deliveries_due_bulk ON deliveries (channel, school_id, next_attempt_at)
  WHERE priority = 1 AND (state = 'queued' OR state = 'scheduled' OR state = 'sending');
