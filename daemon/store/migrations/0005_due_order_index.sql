-- The dispatcher asks for due deliveries in next_attempt_at order across three states. With the
-- index keyed (state, next_attempt_at) SQLite scanned every due row of each state and sorted them
-- for every lease (quadratic in the backlog: a 20,000-delivery send spent most of its time in
-- the sorter). Keyed by time alone, with the same partial condition, "the next N due" is a range
-- scan that stops after N rows. The queries name it (INDEXED BY): with deliveries_by_state below
-- the planner would otherwise pick that one and sort.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
  WHERE state IN ('queued', 'scheduled', 'sending');
-- Deliveries by state (/metrics, reports): a covering index scan instead of a full table scan
-- and a sort on every scrape.
CREATE INDEX deliveries_by_state ON deliveries (state);
