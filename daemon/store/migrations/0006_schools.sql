-- Schools: the defaults a family without a setting of its own gets (time zone, language, quiet
-- hours, channels, category modes, digest time), and what replies need (the HELP contact line,
-- the office inbox, the pool of SMS numbers, the urgent-to-STOPped policy).
CREATE TABLE schools (
  id                 TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  timezone           TEXT NOT NULL DEFAULT 'UTC',
  language           TEXT NOT NULL DEFAULT 'en',
  preferences        TEXT NOT NULL DEFAULT '{}',  -- JSON, core/model.h Preferences (defaults)
  contact_line       TEXT NOT NULL DEFAULT '',
  office_email       TEXT NOT NULL DEFAULT '',
  sms_numbers        TEXT NOT NULL DEFAULT '[]',  -- JSON array of E.164 numbers
  urgent_to_stopped  INTEGER NOT NULL DEFAULT 0 CHECK (urgent_to_stopped IN (0, 1)),
  updated_at         INTEGER NOT NULL
) STRICT;

-- NULL: the deployment's defaults (no school set).
ALTER TABLE students ADD COLUMN school_id TEXT REFERENCES schools (id);
ALTER TABLE staff ADD COLUMN school_id TEXT REFERENCES schools (id);
CREATE INDEX students_by_school ON students (school_id) WHERE school_id IS NOT NULL;
