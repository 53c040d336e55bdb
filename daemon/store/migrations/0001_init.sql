-- homeroom schema v1. Times are Unix milliseconds (UTC). Ids are text.
CREATE TABLE staff (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  email       TEXT NOT NULL DEFAULT '',
  role        TEXT NOT NULL CHECK (role IN ('teacher', 'admin')),
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE guardians (
  id           TEXT PRIMARY KEY,
  given_name   TEXT NOT NULL,
  family_name  TEXT NOT NULL,
  language     TEXT NOT NULL DEFAULT 'en',
  timezone     TEXT NOT NULL DEFAULT 'UTC',
  preferences  TEXT NOT NULL DEFAULT '{}',  -- JSON, see core/model.h Preferences
  updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE contact_points (
  id           INTEGER PRIMARY KEY,
  guardian_id  TEXT NOT NULL REFERENCES guardians (id) ON DELETE CASCADE,
  position     INTEGER NOT NULL,
  channel      TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
  address      TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'active',
  UNIQUE (guardian_id, channel, address)
) STRICT;

CREATE TABLE students (
  id           TEXT PRIMARY KEY,
  given_name   TEXT NOT NULL,
  family_name  TEXT NOT NULL,
  grade        TEXT NOT NULL DEFAULT '',
  updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE student_staff (
  student_id  TEXT NOT NULL REFERENCES students (id) ON DELETE CASCADE,
  staff_id    TEXT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
  PRIMARY KEY (student_id, staff_id)
) STRICT;
CREATE INDEX student_staff_by_staff ON student_staff (staff_id);

CREATE TABLE student_guardians (
  student_id       TEXT NOT NULL REFERENCES students (id) ON DELETE CASCADE,
  guardian_id      TEXT NOT NULL REFERENCES guardians (id) ON DELETE CASCADE,
  position         INTEGER NOT NULL,
  relationship     TEXT NOT NULL DEFAULT '',
  contact_allowed  INTEGER NOT NULL CHECK (contact_allowed IN (0, 1)),
  PRIMARY KEY (student_id, guardian_id)
) STRICT;
CREATE INDEX student_guardians_by_guardian ON student_guardians (guardian_id);

CREATE TABLE api_tokens (
  id          TEXT PRIMARY KEY,
  hash        TEXT NOT NULL UNIQUE,  -- SHA-256 of the token; the token itself is never stored
  role        TEXT NOT NULL CHECK (role IN ('teacher', 'admin')),
  staff_id    TEXT REFERENCES staff (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
) STRICT;

CREATE TABLE messages (
  id            TEXT PRIMARY KEY,
  student_id    TEXT NOT NULL REFERENCES students (id),
  author_staff  TEXT,                 -- NULL when an admin token without staff sent it
  category      TEXT NOT NULL,
  body          TEXT NOT NULL,
  translations  TEXT NOT NULL DEFAULT '{}',  -- JSON {"es": "..."}
  send_at       INTEGER,
  created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_by_student ON messages (student_id);

-- An Idempotency-Key remembers the first answer for one caller.
CREATE TABLE idempotency_keys (
  token_id      TEXT NOT NULL,
  key           TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  status        INTEGER NOT NULL,
  response      TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (token_id, key)
) STRICT;

CREATE TABLE deliveries (
  id               TEXT PRIMARY KEY,
  message_id       TEXT NOT NULL REFERENCES messages (id),
  guardian_id      TEXT NOT NULL,
  channel          TEXT NOT NULL,
  address          TEXT NOT NULL,
  language         TEXT NOT NULL,
  state            TEXT NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  lease_until      INTEGER,
  provider_id      TEXT,
  last_error       TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_by_message ON deliveries (message_id);
-- "Due deliveries" is a range scan over the states the dispatcher picks up.
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at)
  WHERE state IN ('queued', 'scheduled', 'sending');

-- Every state change of a delivery, for the teacher's view and for audits.
CREATE TABLE delivery_events (
  id           INTEGER PRIMARY KEY,
  delivery_id  TEXT NOT NULL REFERENCES deliveries (id),
  at           INTEGER NOT NULL,
  state        TEXT NOT NULL,
  detail       TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX delivery_events_by_delivery ON delivery_events (delivery_id);
