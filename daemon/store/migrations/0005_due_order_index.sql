-- The dispatcher asks for due deliveries in next_attempt_at order across three states. With the
-- index keyed (state, next_attempt_at) SQLite scanned every due row of each state and sorted them
-- for every lease (quadratic in the backlog: a 20,000-delivery send spent most of its time in
-- the sorter). Keyed by time alone, with the same partial condition, "the next N due" is a range
-- scan that stops after N rows. The queries name it (INDEXED BY) so that the planner never
-- prefers another index and sorts.
-- The condition is spelled with OR, not IN: SQLite evaluates a three-value IN by building a
-- temporary b-tree, and it evaluates a partial index's condition on every write of a delivery
-- (twice per UPDATE), which made each lease and each outcome cost four b-tree creations.
-- Queries must repeat the condition word for word to use the index (store/queue_store.cpp).
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
  WHERE state = 'queued' OR state = 'scheduled' OR state = 'sending';
