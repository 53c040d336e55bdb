// The IMAP poller's cursors (migration 0007).
#include <SQLiteCpp/Statement.h>

#include <memory>

#include "store/store.h"
#include "store/writer.h"

namespace homeroom::store {

Result<std::optional<ImapCursor>> Store::imap_cursor(const std::string& mailbox) {
  auto found = std::make_shared<std::optional<ImapCursor>>();
  Status s = writer_->run([mailbox, found](SQLite::Database& db) {
    SQLite::Statement q(db, "SELECT uidvalidity, last_uid FROM imap_cursors WHERE mailbox = ?");
    q.bind(1, mailbox);
    if (q.executeStep()) {
      *found = ImapCursor{q.getColumn(0).getInt64(), q.getColumn(1).getInt64()};
    }
    return Status{};
  });
  if (!s.is_ok()) return s;
  return *found;
}

void Store::save_imap_cursor(std::string mailbox, ImapCursor cursor, StatusDone done) {
  writer_->submit(
      [this, mailbox = std::move(mailbox), cursor](SQLite::Database& db) {
        SQLite::Statement q(db,
                            "INSERT INTO imap_cursors (mailbox, uidvalidity, last_uid, updated_at) "
                            "VALUES (?, ?, ?, ?) ON CONFLICT (mailbox) DO UPDATE SET "
                            "uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, "
                            "updated_at = excluded.updated_at");
        q.bind(1, mailbox);
        q.bind(2, cursor.uidvalidity);
        q.bind(3, cursor.last_uid);
        q.bind(4, clock_.now());
        q.exec();
        return Status{};
      },
      std::move(done));
}

}  // namespace homeroom::store
