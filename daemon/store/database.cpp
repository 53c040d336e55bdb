#include "store/database.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <mutex>
#include <set>
#include <stdexcept>

namespace homeroom::store {

std::unique_ptr<SQLite::Database> open_connection(const std::string& path, bool read_only) {
  // No memory statistics (nothing reads them): with them on, every SQLite allocation takes a
  // process-wide mutex. Only possible before SQLite initializes; later it is a harmless no-op.
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  int flags = read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  // NOMUTEX: each connection is used by one thread at a time (the writer's thread, a read-pool
  // lease, a store's reader under its mutex), so SQLite's own per-call locking is pure cost.
  // With the memory statistics' mutex it was a tenth of the writer thread's time while sending.
  auto db = std::make_unique<SQLite::Database>(path, flags | SQLite::OPEN_NOMUTEX, 5000);
  if (!read_only) db->exec("PRAGMA journal_mode=WAL");
  db->exec("PRAGMA synchronous=FULL");
  db->exec("PRAGMA foreign_keys=ON");
  // 16 MiB of page cache per connection (SQLite's default is 2 MiB): a busy queue's indexes
  // stay in memory instead of being re-read through the OS on every lease.
  db->exec("PRAGMA cache_size=-16384");
  return db;
}

void migrate(SQLite::Database& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER "
      "NOT NULL) STRICT");
  std::set<std::string> applied;
  SQLite::Statement q(db, "SELECT name FROM schema_migrations");
  while (q.executeStep()) applied.insert(q.getColumn(0).getString());

  std::set<std::string> known;
  for (const auto& m : migrations()) known.insert(m.name);
  for (const auto& name : applied) {
    if (!known.count(name)) {
      throw std::runtime_error("database has migration " + name +
                               " that this homeroomd does not know; it was written by a newer "
                               "version");
    }
  }
  for (const auto& m : migrations()) {
    if (applied.count(m.name)) continue;
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec(m.sql);
    SQLite::Statement ins(db,
                          "INSERT INTO schema_migrations (name, applied_at) VALUES (?, "
                          "CAST(strftime('%s', 'now') AS INTEGER) * 1000)");
    ins.bind(1, m.name);
    ins.exec();
    tx.commit();
    spdlog::info("store: applied migration {}", m.name);
  }
}

}  // namespace homeroom::store
