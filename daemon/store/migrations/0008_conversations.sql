-- Conversations: one thread per (teacher, student, guardian), plus one office inbox thread per
-- (school, channel, sender) for replies that match no teacher thread. Every outbound note and
-- every reply is a row of thread_messages.
CREATE TABLE threads (
  id              TEXT PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('teacher', 'office')),
  school_id       TEXT NOT NULL DEFAULT '',  -- '' : the deployment's defaults (no school)
  staff_id        TEXT NOT NULL DEFAULT '',  -- '' for an office thread
  student_id      TEXT NOT NULL DEFAULT '',
  guardian_id     TEXT NOT NULL DEFAULT '',  -- '' for an office thread from an unknown sender
  -- The reply token of the thread's email Reply-To (render/tokens.h), lowercase; NULL until known.
  reply_token     TEXT UNIQUE,
  -- Where the family last wrote from: a teacher's answer goes back there.
  last_channel    TEXT NOT NULL DEFAULT '',
  last_address    TEXT NOT NULL DEFAULT '',
  -- The office hours auto-reply goes at most once per thread per day.
  auto_reply_at   INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX threads_by_key ON threads (staff_id, student_id, guardian_id)
  WHERE kind = 'teacher';
CREATE UNIQUE INDEX threads_office_by_sender ON threads (school_id, last_channel, last_address)
  WHERE kind = 'office';
CREATE INDEX threads_by_guardian ON threads (guardian_id);
CREATE INDEX threads_by_school ON threads (school_id, updated_at);

CREATE TABLE thread_messages (
  id            INTEGER PRIMARY KEY,
  thread_id     TEXT NOT NULL REFERENCES threads (id),
  direction     TEXT NOT NULL CHECK (direction IN ('out', 'in')),
  channel       TEXT NOT NULL DEFAULT '',  -- the channel it came by (in), or '' for a note (out)
  address       TEXT NOT NULL DEFAULT '',  -- the family's address it came from (in)
  body          TEXT NOT NULL,             -- what the reader sees (the extracted reply)
  original      TEXT NOT NULL DEFAULT '',  -- inbound: the SMS body or the whole email
  message_id    TEXT,                      -- outbound: the messages row
  delivery_id   TEXT,                      -- outbound: its first delivery to this guardian
  provider_id   TEXT,                      -- inbound: the provider's id
  author_staff  TEXT NOT NULL DEFAULT '',  -- outbound: who wrote it
  created_at    INTEGER NOT NULL,
  read_at       INTEGER                    -- inbound: when staff first opened the thread after it
) STRICT;
CREATE INDEX thread_messages_by_thread ON thread_messages (thread_id, id);
CREATE INDEX thread_messages_by_message ON thread_messages (message_id) WHERE message_id IS NOT NULL;

-- An inbound message is acted on once: a provider re-sending it finds its row here.
CREATE TABLE inbound_dedup (
  source       TEXT NOT NULL,
  provider_id  TEXT NOT NULL,
  received_at  INTEGER NOT NULL,
  PRIMARY KEY (source, provider_id)
) STRICT;

-- Every consent change, with its time and source.
CREATE TABLE consent_events (
  id           INTEGER PRIMARY KEY,
  guardian_id  TEXT NOT NULL DEFAULT '',  -- '' : an address homeroom does not know
  channel      TEXT NOT NULL,
  address      TEXT NOT NULL,
  category     TEXT NOT NULL DEFAULT '',  -- email unsubscribe: the category stopped
  change       TEXT NOT NULL CHECK (change IN ('stop', 'start')),
  source       TEXT NOT NULL CHECK (source IN ('sms-keyword', 'provider-21610',
                                               'email-unsubscribe', 'api')),
  language     TEXT NOT NULL DEFAULT '',
  at           INTEGER NOT NULL
) STRICT;
CREATE INDEX consent_events_by_address ON consent_events (channel, address);

-- Which pool number each guardian-thread's SMS go from: a reply from (guardian phone, pool number)
-- belongs to the thread(s) here. Several rows with one (phone, number) mean the pool was smaller
-- than the guardian's threads: a reply there gets the disambiguation question.
CREATE TABLE number_assignments (
  thread_id       TEXT NOT NULL REFERENCES threads (id),
  guardian_phone  TEXT NOT NULL,
  pool_number     TEXT NOT NULL,
  school_id       TEXT NOT NULL DEFAULT '',
  last_used_at    INTEGER NOT NULL,
  PRIMARY KEY (thread_id, guardian_phone)
) STRICT;
CREATE INDEX number_assignments_by_pair ON number_assignments (guardian_phone, pool_number);

-- Inbound SMS held while the family answers the disambiguation question.
CREATE TABLE held_inbound (
  id              INTEGER PRIMARY KEY,
  guardian_phone  TEXT NOT NULL,
  pool_number     TEXT NOT NULL,
  candidates      TEXT NOT NULL,  -- JSON array of thread ids, in the order of the question
  body            TEXT NOT NULL,
  original        TEXT NOT NULL,
  provider_id     TEXT NOT NULL DEFAULT '',
  received_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX held_inbound_by_pair ON held_inbound (guardian_phone, pool_number);

-- A teacher's office hours and reply forwarding (PUT /v1/staff/{id}).
CREATE TABLE staff_reply_settings (
  staff_id         TEXT PRIMARY KEY REFERENCES staff (id) ON DELETE CASCADE,
  office_hours     TEXT,  -- JSON {"days":[1..7],"start":"HH:MM","end":"HH:MM"}; NULL: none
  forward_replies  INTEGER NOT NULL DEFAULT 0 CHECK (forward_replies IN (0, 1))
) STRICT;

-- The pool number an SMS goes from (NULL: the channel's configured sender).
ALTER TABLE deliveries ADD COLUMN from_address TEXT;
