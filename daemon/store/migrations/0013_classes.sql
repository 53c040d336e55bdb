-- Classes and who is enrolled in them, from OneRoster (classes.csv, enrollments.csv): broadcasts
-- to {"classes": [...]} reach the families of a class's students, and a student's teachers are the
-- teachers of their classes. Ids are the sourcedIds.
CREATE TABLE classes (
  id          TEXT PRIMARY KEY,
  school_id   TEXT NOT NULL REFERENCES schools (id),
  title       TEXT NOT NULL,
  grades      TEXT NOT NULL DEFAULT '[]',  -- JSON array, as listed
  course_id   TEXT NOT NULL DEFAULT '',
  class_code  TEXT NOT NULL DEFAULT '',
  periods     TEXT NOT NULL DEFAULT '[]',  -- JSON array, as listed
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX classes_by_school ON classes (school_id);

-- Only student and teacher enrollments are kept (aides and proctors are not on the roster).
CREATE TABLE enrollments (
  id          TEXT PRIMARY KEY,
  class_id    TEXT NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  role        TEXT NOT NULL CHECK (role IN ('student', 'teacher')),
  student_id  TEXT REFERENCES students (id) ON DELETE CASCADE,
  staff_id    TEXT REFERENCES staff (id) ON DELETE CASCADE,
  begin_date  TEXT NOT NULL DEFAULT '',  -- YYYY-MM-DD, '' when not given
  end_date    TEXT NOT NULL DEFAULT '',
  updated_at  INTEGER NOT NULL,
  CHECK ((role = 'student') = (student_id IS NOT NULL)),
  CHECK ((role = 'teacher') = (staff_id IS NOT NULL))
) STRICT;
CREATE INDEX enrollments_by_class ON enrollments (class_id, role);
CREATE INDEX enrollments_by_student ON enrollments (student_id) WHERE student_id IS NOT NULL;
CREATE INDEX enrollments_by_staff ON enrollments (staff_id) WHERE staff_id IS NOT NULL;

-- The schools and users OneRoster imports wrote, with the orgs that scope them (a user's
-- orgSourcedIds, for a guardian also their students'; a school and its parent), so that a later
-- bulk file removes what it no longer lists within the orgs it names, and never a row made through
-- the API or a roster CSV.
CREATE TABLE oneroster_rows (
  file  TEXT NOT NULL CHECK (file IN ('orgs', 'users')),
  id    TEXT NOT NULL,
  orgs  TEXT NOT NULL DEFAULT '[]',  -- JSON array of org sourcedIds
  PRIMARY KEY (file, id)
) STRICT;

-- Set when the roster removed a student who has messages on record: the row stays for that
-- history, unlinked, and is in no audience. A PUT (or an import listing the student again) clears it.
ALTER TABLE students ADD COLUMN deactivated_at INTEGER;
