-- Email one-click unsubscribe (RFC 8058): what a family stopped, and the index of the tokens
-- homeroom may have issued in List-Unsubscribe.
--
-- A family's "stop this category on this channel": the planner (and a fallback) skips that
-- channel for that category; "urgent" is never affected.
CREATE TABLE channel_opt_outs (
  guardian_id  TEXT NOT NULL REFERENCES guardians (id) ON DELETE CASCADE,
  channel      TEXT NOT NULL,
  category     TEXT NOT NULL,
  at           INTEGER NOT NULL,
  PRIMARY KEY (guardian_id, channel, category)
) STRICT;

-- unsubscribe_token(guardian_id, category, channel) for every (guardian, category, channel) a
-- delivery was created for (render/tokens.h: tokens carry no ids, so the receiving side looks
-- them up here). Filled lazily from deliveries whose rowid is above the high-water mark.
CREATE TABLE unsubscribe_tokens (
  token        TEXT PRIMARY KEY,
  guardian_id  TEXT NOT NULL,
  category     TEXT NOT NULL,
  channel      TEXT NOT NULL
) STRICT;
CREATE TABLE unsubscribe_token_mark (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  last_rowid    INTEGER NOT NULL
) STRICT;
INSERT INTO unsubscribe_token_mark (id, last_rowid) VALUES (1, 0);
