-- Broadcasts: one template per language sent to an audience of students' families. The broadcast
-- has a messages row with the same id (deliveries reference messages): its body is the template of
-- the school's default language (else the first), its translations the other templates, its
-- student_id the first student of the audience.
CREATE TABLE broadcasts (
  id              TEXT PRIMARY KEY REFERENCES messages (id),
  audience        TEXT NOT NULL,  -- JSON as submitted
  -- planning: chunks of the audience are still being planned; planned: every delivery exists;
  -- cancelled: DELETE stopped it (deliveries not yet sent are suppressed "cancelled").
  state           TEXT NOT NULL CHECK (state IN ('planning', 'planned', 'cancelled')),
  students_total  INTEGER NOT NULL,
  -- Planning progress: broadcast_students rows with id < next_row are planned; last_row ends the
  -- audience. A crash mid-planning resumes at next_row.
  next_row        INTEGER NOT NULL,
  last_row        INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  planned_at      INTEGER,
  cancelled_at    INTEGER
) STRICT;
CREATE INDEX broadcasts_planning ON broadcasts (state) WHERE state = 'planning';

-- The audience, resolved when the broadcast is accepted, in household order (students sharing
-- their first guardian are adjacent, so a chunk keeps siblings together). One insert per broadcast
-- on the single writer: a broadcast's rows are a contiguous id range.
CREATE TABLE broadcast_students (
  id            INTEGER PRIMARY KEY,
  broadcast_id  TEXT NOT NULL,  -- written before its broadcasts row, hence no REFERENCES
  student_id    TEXT NOT NULL,
  household     TEXT NOT NULL,  -- the student's first guardian id (chunk boundaries)
  variables     TEXT            -- JSON object of per-student variables, or NULL
) STRICT;
CREATE UNIQUE INDEX broadcast_students_by_student ON broadcast_students (broadcast_id, student_id);

-- 0 = individual (notes, replies, their fallbacks), 1 = bulk (broadcasts): the dispatcher leases
-- individual deliveries first.
ALTER TABLE deliveries ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1));
-- A broadcast delivery's students (JSON array of ids): siblings are named in one copy.
ALTER TABLE deliveries ADD COLUMN about TEXT;

-- The dispatcher leases per (channel, priority) - each channel has its own throttle, and bulk
-- waits for individual deliveries - in next_attempt_at order: with the equality prefix
-- (channel, priority), "the next N due" stays a range scan that stops after N rows. Same partial
-- condition as before (spelled with OR, repeated word for word by the queries, see 0005).
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (channel, priority, next_attempt_at)
  WHERE state = 'queued' OR state = 'scheduled' OR state = 'sending';
