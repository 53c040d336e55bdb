-- Where the IMAP poller stands in each mailbox it polls (conversations/imap_poller.h): the
-- mailbox's UIDVALIDITY and the highest UID whose message the inbound handler has recorded.
-- Messages are processed in UID order and the cursor moves only after the handler said the
-- message is durable, so a restart resumes after the last recorded one.
CREATE TABLE imap_cursors (
  mailbox TEXT PRIMARY KEY,  -- "<username> <url>"
  uidvalidity INTEGER NOT NULL,
  last_uid INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
