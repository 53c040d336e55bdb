#include <SQLiteCpp/Statement.h>

#include "store/queries.h"

namespace homeroom::store {
namespace {

std::vector<ReachFamily> families_without_message(SQLite::Database& db, const std::string& staff,
                                                  Millis since) {
  // A guardian whose copy was suppressed because a shared address got it was reached too.
  SQLite::Statement q(
      db,
      "SELECT g.id, g.given_name || ' ' || g.family_name, s.id, "
      "s.given_name || ' ' || s.family_name "
      "FROM student_staff ss JOIN students s ON s.id = ss.student_id "
      "JOIN student_guardians sg ON sg.student_id = s.id AND sg.contact_allowed = 1 "
      "JOIN guardians g ON g.id = sg.guardian_id AND g.do_not_contact = 0 "
      "WHERE ss.staff_id = ?1 AND NOT EXISTS (SELECT 1 FROM messages m "
      "JOIN deliveries d ON d.message_id = m.id WHERE m.student_id = s.id "
      "AND m.author_staff = ?1 AND m.created_at >= ?2 AND d.guardian_id = g.id "
      "AND (d.state IN ('sent', 'delivered') OR (d.state = 'suppressed' AND EXISTS ("
      "SELECT 1 FROM deliveries d2 WHERE d2.message_id = m.id AND d2.channel = d.channel "
      "AND d2.address = d.address AND d2.state IN ('sent', 'delivered'))))) "
      "ORDER BY s.id, sg.position");
  q.bind(1, staff);
  q.bind(2, since);
  std::vector<ReachFamily> out;
  while (q.executeStep()) {
    out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                   q.getColumn(2).getString(), q.getColumn(3).getString()});
  }
  return out;
}

// A result row (message id, guardian id, guardian name, student id, student name, ...) with the
// last delivery tried: its channel, error and time.
UnreachedFamily unreached_row(SQLite::Database& db, SQLite::Statement& row) {
  UnreachedFamily u;
  u.message_id = row.getColumn(0).getString();
  u.family = {row.getColumn(1).getString(), row.getColumn(2).getString(),
              row.getColumn(3).getString(), row.getColumn(4).getString()};
  SQLite::Statement last(db,
                         "SELECT channel, COALESCE(last_error, ''), updated_at FROM deliveries "
                         "WHERE message_id = ? AND guardian_id = ? ORDER BY rowid DESC LIMIT 1");
  last.bind(1, u.message_id);
  last.bind(2, u.family.guardian_id);
  if (last.executeStep()) {
    u.channel = last.getColumn(0).getString();
    u.reason = last.getColumn(1).getString();
    u.at = last.getColumn(2).getInt64();
  }
  return u;
}

std::vector<UnreachedFamily> unreached_families(SQLite::Database& db, const std::string& staff,
                                                Millis since, bool own_students_only) {
  // Every delivery of the (message, guardian) ended failed or dead, and at least one failed:
  // the fallback chain ran out.
  SQLite::Statement q(
      db,
      "SELECT m.id, d.guardian_id, COALESCE(g.given_name || ' ' || g.family_name, ''), "
      "s.id, s.given_name || ' ' || s.family_name "
      "FROM messages m JOIN deliveries d ON d.message_id = m.id "
      "JOIN students s ON s.id = m.student_id LEFT JOIN guardians g ON g.id = d.guardian_id "
      "WHERE COALESCE(m.author_staff, '') = ?1 AND m.created_at >= ?2 AND (?3 = 0 OR EXISTS ("
      "SELECT 1 FROM student_staff ss WHERE ss.student_id = m.student_id AND ss.staff_id = ?1)) "
      "GROUP BY m.id, d.guardian_id "
      "HAVING SUM(d.state = 'failed') > 0 AND SUM(d.state NOT IN ('failed', 'dead')) = 0 "
      "ORDER BY MIN(m.created_at), m.id, d.guardian_id");
  q.bind(1, staff);
  q.bind(2, since);
  q.bind(3, own_students_only ? 1 : 0);
  std::vector<UnreachedFamily> out;
  while (q.executeStep()) out.push_back(unreached_row(db, q));
  return out;
}

// Admins: the same "every channel failed" rule, per school of the student, any author.
std::vector<SchoolReach> unreached_by_school(SQLite::Database& db, Millis since) {
  SQLite::Statement q(
      db,
      "SELECT m.id, d.guardian_id, COALESCE(g.given_name || ' ' || g.family_name, ''), "
      "s.id, s.given_name || ' ' || s.family_name, COALESCE(s.school_id, ''), "
      "COALESCE(sc.name, '') "
      "FROM messages m JOIN deliveries d ON d.message_id = m.id "
      "JOIN students s ON s.id = m.student_id LEFT JOIN guardians g ON g.id = d.guardian_id "
      "LEFT JOIN schools sc ON sc.id = s.school_id "
      "WHERE m.created_at >= ?1 GROUP BY m.id, d.guardian_id "
      "HAVING SUM(d.state = 'failed') > 0 AND SUM(d.state NOT IN ('failed', 'dead')) = 0 "
      "ORDER BY COALESCE(s.school_id, ''), MIN(m.created_at), m.id, d.guardian_id");
  q.bind(1, since);
  std::vector<SchoolReach> out;
  while (q.executeStep()) {
    const std::string school_id = q.getColumn(5).getString();
    if (out.empty() || out.back().school_id != school_id) {
      out.push_back({school_id, q.getColumn(6).getString(), {}});
    }
    out.back().unreached.push_back(unreached_row(db, q));
  }
  return out;
}

}  // namespace

ReachReport reach_report(SQLite::Database& db, Millis since, const std::string& only_staff) {
  std::vector<std::string> staff_ids;
  if (!only_staff.empty()) {
    staff_ids.push_back(only_staff);
  } else {
    SQLite::Statement q(db,
                        "SELECT staff_id FROM student_staff UNION "
                        "SELECT COALESCE(author_staff, '') FROM messages WHERE created_at >= ? "
                        "ORDER BY 1");
    q.bind(1, since);
    while (q.executeStep()) staff_ids.push_back(q.getColumn(0).getString());
  }
  ReachReport report;
  for (const auto& id : staff_ids) {
    TeacherReach t;
    t.staff_id = id;
    if (auto staff = get_staff(db, id)) t.name = staff->name;
    t.no_message = families_without_message(db, id, since);
    t.unreached = unreached_families(db, id, since, !only_staff.empty());
    // An admin without a staff member appears only when something of theirs went unreached.
    if (id.empty() && t.unreached.empty()) continue;
    report.teachers.push_back(std::move(t));
  }
  if (only_staff.empty()) report.schools = unreached_by_school(db, since);
  return report;
}

}  // namespace homeroom::store
