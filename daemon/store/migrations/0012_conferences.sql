-- Conference slots and their reminders (store/conference_store.cpp, docs/api.md "Conferences").
-- A slot is never deleted: DELETE cancels it (state 'cancelled') and its reminders' deliveries that
-- were not yet sent, and what was sent stays recorded. No REFERENCES on student_id and staff_id,
-- like messages.author_staff: a staff member who leaves keeps their slots' history.
CREATE TABLE conferences (
  id                TEXT PRIMARY KEY,
  student_id        TEXT NOT NULL,
  staff_id          TEXT NOT NULL,
  starts_at         INTEGER NOT NULL,
  duration_minutes  INTEGER NOT NULL,
  place             TEXT NOT NULL,
  note              TEXT NOT NULL DEFAULT '',
  state             TEXT NOT NULL CHECK (state IN ('scheduled', 'cancelled')),
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  cancelled_at      INTEGER
) STRICT;
CREATE INDEX conferences_by_student ON conferences (student_id);
CREATE INDEX conferences_by_staff ON conferences (staff_id);

-- One reminder of one slot: a messages row (category 'conference', its text naming the slot in one
-- time zone) whose deliveries carry it. Families in different time zones get one row each. A slot
-- that moves or is cancelled sets cancelled_at on its rows and suppresses their deliveries that
-- were not yet handed to a provider; the moved slot gets new rows.
CREATE TABLE conference_reminders (
  message_id      TEXT PRIMARY KEY REFERENCES messages (id),
  conference_id   TEXT NOT NULL REFERENCES conferences (id),
  offset_minutes  INTEGER NOT NULL,  -- the school's rule: minutes before the slot
  starts_at       INTEGER NOT NULL,  -- the slot time the text names
  timezone        TEXT NOT NULL,     -- the zone the text names it in
  created_at      INTEGER NOT NULL,
  cancelled_at    INTEGER
) STRICT;
CREATE INDEX conference_reminders_by_conference ON conference_reminders (conference_id);

-- The school's reminder rules: a JSON array of minutes before each slot.
ALTER TABLE schools ADD COLUMN conference_reminders TEXT NOT NULL DEFAULT '[4320,120]';
