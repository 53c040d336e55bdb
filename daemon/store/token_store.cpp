#include <SQLiteCpp/Statement.h>

#include "core/ids.h"
#include "store/queries.h"

namespace homeroom::store {

std::string insert_token(SQLite::Database& db, const std::string& hash, Role role,
                         const std::string& staff_id, Millis now) {
  std::string id = new_id("tok_");
  SQLite::Statement q(db,
                      "INSERT INTO api_tokens (id, hash, role, staff_id, created_at) "
                      "VALUES (?, ?, ?, ?, ?)");
  q.bind(1, id);
  q.bind(2, hash);
  q.bind(3, role_name(role));
  if (staff_id.empty()) {
    q.bind(4);
  } else {
    q.bind(4, staff_id);
  }
  q.bind(5, now);
  q.exec();
  return id;
}

std::optional<Principal> find_token(SQLite::Database& db, const std::string& hash) {
  SQLite::Statement q(db,
                      "SELECT id, role, COALESCE(staff_id, '') FROM api_tokens "
                      "WHERE hash = ? AND revoked_at IS NULL");
  q.bind(1, hash);
  if (!q.executeStep()) return std::nullopt;
  Principal p;
  p.token_id = q.getColumn(0).getString();
  p.role = parse_role(q.getColumn(1).getString()).value_or(Role::kTeacher);
  p.staff_id = q.getColumn(2).getString();
  return p;
}

}  // namespace homeroom::store
