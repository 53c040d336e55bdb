// Opening SQLite the way homeroom needs it, and bringing the schema up to date.
//
// Every connection runs in WAL mode with synchronous=FULL (a committed transaction survives power
// loss), foreign keys on, and a busy timeout so homeroomctl and homeroomd can share one file.
// Functions here throw SQLite::Exception; the Store catches it (exceptions stop at store/).
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>
#include <vector>

namespace homeroom::store {

struct Migration {
  const char* name;  // "0001_init.sql": applied in name order, each once
  const char* sql;
};
const std::vector<Migration>& migrations();  // generated from migrations/*.sql

std::unique_ptr<SQLite::Database> open_connection(const std::string& path, bool read_only);

// Applies every migration not yet recorded in schema_migrations, each in its own transaction.
// Refuses a database that has migrations this binary does not know (a newer homeroom wrote it).
void migrate(SQLite::Database& db);

}  // namespace homeroom::store
