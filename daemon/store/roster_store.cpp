#include <SQLiteCpp/Statement.h>

#include <set>

#include "store/json_codec.h"
#include "store/queries.h"
#include "store/unsubscribe_store.h"

namespace homeroom::store {
namespace {

bool exists(SQLite::Database& db, const char* table, const std::string& id) {
  SQLite::Statement q(db, std::string("SELECT 1 FROM ") + table + " WHERE id = ?");
  q.bind(1, id);
  return q.executeStep();
}

}  // namespace

// Binds `school_id` ("" as NULL), or says which field names an unknown school.
Status bind_school(SQLite::Database& db, SQLite::Statement& q, int index,
                   const std::string& school_id) {
  if (school_id.empty()) {
    q.bind(index);
    return {};
  }
  if (!exists(db, "schools", school_id)) {
    return Status::invalid("school_id", "unknown school id " + school_id);
  }
  q.bind(index, school_id);
  return {};
}

Status put_school(SQLite::Database& db, const School& school, Millis now) {
  SQLite::Statement q(
      db,
      "INSERT INTO schools (id, name, timezone, language, preferences, contact_line, office_email, "
      "sms_numbers, urgent_to_stopped, updated_at, conference_reminders) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone, "
      "language = excluded.language, preferences = excluded.preferences, "
      "contact_line = excluded.contact_line, office_email = excluded.office_email, "
      "sms_numbers = excluded.sms_numbers, urgent_to_stopped = excluded.urgent_to_stopped, "
      "updated_at = excluded.updated_at, conference_reminders = excluded.conference_reminders");
  q.bind(1, school.id);
  q.bind(2, school.name);
  q.bind(3, school.timezone);
  q.bind(4, school.language);
  q.bind(5, preferences_to_json(school.defaults).dump());
  q.bind(6, school.contact_line);
  q.bind(7, school.office_email);
  q.bind(8, nlohmann::json(school.sms_numbers).dump());
  q.bind(9, school.urgent_to_stopped ? 1 : 0);
  q.bind(10, now);
  q.bind(11, nlohmann::json(school.conference_reminders).dump());
  q.exec();
  return {};
}

std::optional<School> get_school(SQLite::Database& db, const std::string& id) {
  SQLite::Statement q(
      db,
      "SELECT id, name, timezone, language, preferences, contact_line, "
      "office_email, sms_numbers, urgent_to_stopped, conference_reminders FROM schools "
      "WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  School s;
  s.id = q.getColumn(0).getString();
  s.name = q.getColumn(1).getString();
  s.timezone = q.getColumn(2).getString();
  s.language = q.getColumn(3).getString();
  s.defaults = preferences_from_json(nlohmann::json::parse(q.getColumn(4).getString()));
  s.contact_line = q.getColumn(5).getString();
  s.office_email = q.getColumn(6).getString();
  s.sms_numbers = nlohmann::json::parse(q.getColumn(7).getString()).get<std::vector<std::string>>();
  s.urgent_to_stopped = q.getColumn(8).getInt() != 0;
  s.conference_reminders =
      nlohmann::json::parse(q.getColumn(9).getString()).get<std::vector<int>>();
  return s;
}

Status put_staff(SQLite::Database& db, const Staff& staff, Millis now) {
  SQLite::Statement q(
      db,
      "INSERT INTO staff (id, name, email, role, school_id, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, "
      "role = excluded.role, school_id = excluded.school_id, updated_at = excluded.updated_at");
  q.bind(1, staff.id);
  q.bind(2, staff.name);
  q.bind(3, staff.email);
  q.bind(4, role_name(staff.role));
  if (Status s = bind_school(db, q, 5, staff.school_id); !s) return s;
  q.bind(6, now);
  q.exec();
  return {};
}

Status put_guardian(SQLite::Database& db, const Guardian& g, Millis now) {
  SQLite::Statement q(
      db,
      "INSERT INTO guardians (id, given_name, family_name, language, timezone, preferences, "
      "updated_at, do_not_contact) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
      "SET given_name = excluded.given_name, family_name = excluded.family_name, "
      "language = excluded.language, timezone = excluded.timezone, "
      "preferences = excluded.preferences, updated_at = excluded.updated_at, "
      "do_not_contact = excluded.do_not_contact");
  q.bind(1, g.id);
  q.bind(2, g.given_name);
  q.bind(3, g.family_name);
  q.bind(4, g.language);
  q.bind(5, g.timezone);
  q.bind(6, preferences_to_json(g.preferences).dump());
  q.bind(7, now);
  q.bind(8, g.do_not_contact ? 1 : 0);
  q.exec();

  // Contact points are replaced as a whole, keeping the status (e.g. bounced) of ones that stay.
  std::map<std::pair<std::string, std::string>, std::string> old_status;
  {
    SQLite::Statement old(
        db, "SELECT channel, address, status FROM contact_points WHERE guardian_id = ?");
    old.bind(1, g.id);
    while (old.executeStep()) {
      old_status[{old.getColumn(0).getString(), old.getColumn(1).getString()}] =
          old.getColumn(2).getString();
    }
  }
  SQLite::Statement del(db, "DELETE FROM contact_points WHERE guardian_id = ?");
  del.bind(1, g.id);
  del.exec();
  SQLite::Statement ins(db,
                        "INSERT INTO contact_points (guardian_id, position, channel, address, "
                        "status) VALUES (?, ?, ?, ?, ?)");
  int position = 0;
  for (const auto& c : g.contacts) {
    auto it = old_status.find({c.channel, c.address});
    ins.bind(1, g.id);
    ins.bind(2, position++);
    ins.bind(3, c.channel);
    ins.bind(4, c.address);
    ins.bind(5, it == old_status.end() ? std::string("active") : it->second);
    ins.exec();
    ins.reset();
  }
  return {};
}

Status put_student(SQLite::Database& db, const Student& s, Millis now) {
  for (std::size_t i = 0; i < s.staff.size(); ++i) {
    if (!exists(db, "staff", s.staff[i])) {
      return Status::invalid("staff[" + std::to_string(i) + "]", "unknown staff id " + s.staff[i]);
    }
  }
  for (std::size_t i = 0; i < s.guardians.size(); ++i) {
    if (!exists(db, "guardians", s.guardians[i].guardian_id)) {
      return Status::invalid("guardians[" + std::to_string(i) + "].id",
                             "unknown guardian id " + s.guardians[i].guardian_id);
    }
  }
  SQLite::Statement q(
      db,
      "INSERT INTO students (id, given_name, family_name, grade, school_id, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
      "given_name = excluded.given_name, family_name = excluded.family_name, "
      "grade = excluded.grade, school_id = excluded.school_id, updated_at = excluded.updated_at, "
      "deactivated_at = NULL");
  q.bind(1, s.id);
  q.bind(2, s.given_name);
  q.bind(3, s.family_name);
  q.bind(4, s.grade);
  if (Status status = bind_school(db, q, 5, s.school_id); !status) return status;
  q.bind(6, now);
  q.exec();

  SQLite::Statement del_staff(db, "DELETE FROM student_staff WHERE student_id = ?");
  del_staff.bind(1, s.id);
  del_staff.exec();
  SQLite::Statement ins_staff(db,
                              "INSERT OR IGNORE INTO student_staff (student_id, staff_id) "
                              "VALUES (?, ?)");
  for (const auto& staff_id : s.staff) {
    ins_staff.bind(1, s.id);
    ins_staff.bind(2, staff_id);
    ins_staff.exec();
    ins_staff.reset();
  }

  SQLite::Statement del_links(db, "DELETE FROM student_guardians WHERE student_id = ?");
  del_links.bind(1, s.id);
  del_links.exec();
  SQLite::Statement ins_link(db,
                             "INSERT INTO student_guardians (student_id, guardian_id, position, "
                             "relationship, contact_allowed) VALUES (?, ?, ?, ?, ?)");
  int position = 0;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < s.guardians.size(); ++i) {
    const auto& link = s.guardians[i];
    if (!seen.insert(link.guardian_id).second) {
      return Status::invalid("guardians[" + std::to_string(i) + "].id",
                             "guardian " + link.guardian_id + " is listed twice");
    }
    ins_link.bind(1, s.id);
    ins_link.bind(2, link.guardian_id);
    ins_link.bind(3, position++);
    ins_link.bind(4, link.relationship);
    ins_link.bind(5, link.contact_allowed ? 1 : 0);
    ins_link.exec();
    ins_link.reset();
  }
  return {};
}

Status delete_row(SQLite::Database& db, const char* table, const std::string& id) {
  if (std::string(table) == "students") {
    SQLite::Statement used(db, "SELECT 1 FROM messages WHERE student_id = ? LIMIT 1");
    used.bind(1, id);
    if (used.executeStep()) {
      return Status::conflict("student " + id +
                              " has messages on record; their history is kept, so the student "
                              "cannot be deleted");
    }
  }
  if (std::string(table) == "schools") {
    SQLite::Statement used(db,
                           "SELECT 1 FROM students WHERE school_id = ?1 UNION ALL "
                           "SELECT 1 FROM staff WHERE school_id = ?1 UNION ALL "
                           "SELECT 1 FROM classes WHERE school_id = ?1 LIMIT 1");
    used.bind(1, id);
    if (used.executeStep()) {
      return Status::conflict("school " + id +
                              " still has students, staff or classes; move them first");
    }
  }
  SQLite::Statement q(db, std::string("DELETE FROM ") + table + " WHERE id = ?");
  q.bind(1, id);
  if (q.exec() == 0) return Status::not_found(id + " not found");
  return {};
}

std::optional<Staff> get_staff(SQLite::Database& db, const std::string& id) {
  SQLite::Statement q(db,
                      "SELECT id, name, email, role, COALESCE(school_id, '') FROM staff "
                      "WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  Staff s;
  s.id = q.getColumn(0).getString();
  s.name = q.getColumn(1).getString();
  s.email = q.getColumn(2).getString();
  s.role = parse_role(q.getColumn(3).getString()).value_or(Role::kTeacher);
  s.school_id = q.getColumn(4).getString();
  return s;
}

std::optional<Guardian> get_guardian(SQLite::Database& db, const std::string& id) {
  SQLite::Statement q(db,
                      "SELECT id, given_name, family_name, language, timezone, preferences, "
                      "do_not_contact FROM guardians WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  Guardian g;
  g.id = q.getColumn(0).getString();
  g.given_name = q.getColumn(1).getString();
  g.family_name = q.getColumn(2).getString();
  g.language = q.getColumn(3).getString();
  g.timezone = q.getColumn(4).getString();
  g.preferences = preferences_from_json(nlohmann::json::parse(q.getColumn(5).getString()));
  g.do_not_contact = q.getColumn(6).getInt() != 0;
  SQLite::Statement c(db,
                      "SELECT channel, address, status FROM contact_points WHERE guardian_id = ? "
                      "ORDER BY position");
  c.bind(1, id);
  while (c.executeStep()) {
    g.contacts.push_back(
        {c.getColumn(0).getString(), c.getColumn(1).getString(), c.getColumn(2).getString()});
  }
  load_unsubscribed(db, g);
  return g;
}

std::optional<Student> get_student(SQLite::Database& db, const std::string& id) {
  SQLite::Statement q(db,
                      "SELECT id, given_name, family_name, grade, COALESCE(school_id, '') "
                      "FROM students WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  Student s;
  s.id = q.getColumn(0).getString();
  s.given_name = q.getColumn(1).getString();
  s.family_name = q.getColumn(2).getString();
  s.grade = q.getColumn(3).getString();
  s.school_id = q.getColumn(4).getString();
  SQLite::Statement st(db,
                       "SELECT staff_id FROM student_staff WHERE student_id = ? ORDER BY staff_id");
  st.bind(1, id);
  while (st.executeStep()) s.staff.push_back(st.getColumn(0).getString());
  SQLite::Statement g(db,
                      "SELECT guardian_id, relationship, contact_allowed FROM student_guardians "
                      "WHERE student_id = ? ORDER BY position");
  g.bind(1, id);
  while (g.executeStep()) {
    s.guardians.push_back(
        {g.getColumn(0).getString(), g.getColumn(1).getString(), g.getColumn(2).getInt() != 0});
  }
  return s;
}

std::optional<StudentRoster> get_student_roster(SQLite::Database& db, const std::string& id) {
  auto student = get_student(db, id);
  if (!student) return std::nullopt;
  StudentRoster roster{*student, {}, {}};
  for (const auto& link : student->guardians) {
    if (auto g = get_guardian(db, link.guardian_id)) roster.guardians.push_back(std::move(*g));
  }
  if (!student->school_id.empty()) roster.school = get_school(db, student->school_id);
  return roster;
}

bool teaches(SQLite::Database& db, const std::string& staff_id, const std::string& student_id) {
  SQLite::Statement q(db, "SELECT 1 FROM student_staff WHERE staff_id = ? AND student_id = ?");
  q.bind(1, staff_id);
  q.bind(2, student_id);
  return q.executeStep();
}

Result<ImportSummary> import_roster(SQLite::Database& db, const RosterImport& data,
                                    const std::string& source_name, Millis now) {
  std::set<std::string> new_staff;
  for (const auto& s : data.staff) new_staff.insert(s.id);
  std::string problems;
  for (const auto& [teacher, line] : data.teacher_first_line) {
    if (!new_staff.count(teacher) && !exists(db, "staff", teacher)) {
      problems += source_name + ":" + std::to_string(line) + ": teacher_id: unknown staff id " +
                  teacher + " (add it with PUT /v1/staff/" + teacher +
                  " or give teacher_name in the file)\n";
    }
  }
  if (!problems.empty()) {
    problems.pop_back();
    return Status::invalid("teacher_id", problems);
  }
  ImportSummary summary;
  for (const auto& s : data.staff) {
    if (auto existing = get_staff(db, s.id)) continue;  // never demote or rename existing staff
    put_staff(db, s, now);
    ++summary.staff;
  }
  for (const auto& g : data.guardians) {
    put_guardian(db, g, now);
    ++summary.guardians;
  }
  for (const auto& s : data.students) {
    if (auto st = put_student(db, s, now); !st.is_ok()) return st;
    ++summary.students;
  }
  return summary;
}

}  // namespace homeroom::store
