#include "store/class_store.h"

#include <SQLiteCpp/Statement.h>

#include <nlohmann/json.hpp>

namespace homeroom::store {
namespace {

bool has_row(SQLite::Database& db, const char* sql, const std::string& id) {
  SQLite::Statement q(db, sql);
  q.bind(1, id);
  return q.executeStep();
}

std::vector<std::string> ids(SQLite::Statement& q) {
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

std::vector<std::string> ids_in(SQLite::Database& db, const std::string& sql,
                                const std::set<std::string>& schools) {
  SQLite::Statement q(db, sql);
  q.bind(1, nlohmann::json(schools).dump());
  return ids(q);
}

std::string at(const char* file, int line, const char* column) {
  return std::string(file) + ":" + std::to_string(line) + " " + column;
}

}  // namespace

void count_row(ImportCounts& counts, bool existed, bool changed) {
  if (!existed) {
    ++counts.created;
  } else if (changed) {
    ++counts.updated;
  } else {
    ++counts.unchanged;
  }
}

std::vector<std::string> teachers_of(SQLite::Database& db, const std::string& student_id) {
  SQLite::Statement q(db,
                      "SELECT staff_id FROM student_staff WHERE student_id = ? ORDER BY staff_id");
  q.bind(1, student_id);
  return ids(q);
}

Status ClassWriter::put_class(const OneRosterClass& c, ImportCounts& counts) {
  if (!has_row(db_, "SELECT 1 FROM schools WHERE id = ?", c.school_id)) {
    return Status::invalid(at("classes.csv", c.line, "schoolSourcedId"),
                           "org " + c.school_id +
                               " is not a school homeroom knows (a school in orgs.csv, or one "
                               "stored)");
  }
  const std::string grades = nlohmann::json(c.grades).dump();
  const std::string periods = nlohmann::json(c.periods).dump();
  SQLite::Statement old(db_,
                        "SELECT school_id, title, grades, course_id, class_code, periods FROM "
                        "classes WHERE id = ?");
  old.bind(1, c.id);
  const bool existed = old.executeStep();
  const bool changed =
      existed &&
      (old.getColumn(0).getString() != c.school_id || old.getColumn(1).getString() != c.title ||
       old.getColumn(2).getString() != grades || old.getColumn(3).getString() != c.course_id ||
       old.getColumn(4).getString() != c.class_code || old.getColumn(5).getString() != periods);
  count_row(counts, existed, changed);
  if (existed && !changed) return {};
  SQLite::Statement q(db_,
                      "INSERT INTO classes (id, school_id, title, grades, course_id, class_code, "
                      "periods, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO "
                      "UPDATE SET school_id = excluded.school_id, title = excluded.title, "
                      "grades = excluded.grades, course_id = excluded.course_id, "
                      "class_code = excluded.class_code, periods = excluded.periods, "
                      "updated_at = excluded.updated_at");
  q.bind(1, c.id);
  q.bind(2, c.school_id);
  q.bind(3, c.title);
  q.bind(4, grades);
  q.bind(5, c.course_id);
  q.bind(6, c.class_code);
  q.bind(7, periods);
  q.bind(8, now_);
  q.exec();
  return {};
}

Status ClassWriter::put_enrollment(const OneRosterEnrollment& e, ImportCounts& counts) {
  const bool kept = e.role == "student" || e.role == "teacher";
  SQLite::Statement old(db_,
                        "SELECT class_id, role, COALESCE(student_id, staff_id), begin_date, "
                        "end_date FROM enrollments WHERE id = ?");
  old.bind(1, e.id);
  const bool existed = old.executeStep();
  if (existed) {
    const bool changed =
        old.getColumn(0).getString() != e.class_id || old.getColumn(1).getString() != e.role ||
        old.getColumn(2).getString() != e.user_id || old.getColumn(3).getString() != e.begin_date ||
        old.getColumn(4).getString() != e.end_date;
    if (!changed) {
      ++counts.unchanged;
      return {};
    }
  }
  if (!kept) {
    // An enrollment that became an aide's (or never was kept): nothing of it stays.
    if (existed && delete_enrollment(e.id)) ++counts.deleted;
    return {};
  }
  if (!has_row(db_, "SELECT 1 FROM classes WHERE id = ?", e.class_id)) {
    return Status::invalid(at("enrollments.csv", e.line, "classSourcedId"),
                           "class " + e.class_id + " is neither in classes.csv nor stored");
  }
  const bool student = e.role == "student";
  if (!has_row(db_,
               student ? "SELECT 1 FROM students WHERE id = ?" : "SELECT 1 FROM staff WHERE id = ?",
               e.user_id)) {
    return Status::invalid(at("enrollments.csv", e.line, "userSourcedId"),
                           std::string(student ? "student " : "teacher ") + e.user_id +
                               " is neither in users.csv nor stored");
  }
  if (existed) delete_enrollment(e.id);  // remembers what it was in
  if (student) {
    touch_student(e.user_id);
  } else {
    touch_class(e.class_id);
  }
  SQLite::Statement q(db_,
                      "INSERT INTO enrollments (id, class_id, role, student_id, staff_id, "
                      "begin_date, end_date, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, e.id);
  q.bind(2, e.class_id);
  q.bind(3, e.role);
  if (student) {
    q.bind(4, e.user_id);
    q.bind(5);
  } else {
    q.bind(4);
    q.bind(5, e.user_id);
  }
  q.bind(6, e.begin_date);
  q.bind(7, e.end_date);
  q.bind(8, now_);
  q.exec();
  count_row(counts, existed, true);
  return {};
}

bool ClassWriter::delete_class(const std::string& id) {
  touch_class(id);
  SQLite::Statement q(db_, "DELETE FROM classes WHERE id = ?");
  q.bind(1, id);
  return q.exec() > 0;
}

bool ClassWriter::delete_enrollment(const std::string& id) {
  SQLite::Statement old(db_, "SELECT class_id, student_id FROM enrollments WHERE id = ?");
  old.bind(1, id);
  if (!old.executeStep()) return false;
  if (old.getColumn(1).isNull()) {
    touch_class(old.getColumn(0).getString());
  } else {
    touch_student(old.getColumn(1).getString());
  }
  SQLite::Statement q(db_, "DELETE FROM enrollments WHERE id = ?");
  q.bind(1, id);
  q.exec();
  return true;
}

void ClassWriter::delete_enrollments_of(const std::string& user_id) {
  SQLite::Statement q(db_, "SELECT id FROM enrollments WHERE student_id = ?1 OR staff_id = ?1");
  q.bind(1, user_id);
  for (const auto& id : ids(q)) delete_enrollment(id);
}

std::vector<std::string> ClassWriter::classes_in(const std::set<std::string>& schools) {
  return ids_in(db_,
                "SELECT id FROM classes WHERE school_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY id",
                schools);
}

std::vector<std::string> ClassWriter::enrollments_in(const std::set<std::string>& schools) {
  return ids_in(db_,
                "SELECT e.id FROM enrollments e JOIN classes c ON c.id = e.class_id WHERE "
                "c.school_id IN (SELECT value FROM json_each(?)) ORDER BY e.id",
                schools);
}

void ClassWriter::touch_class(const std::string& class_id) {
  classes_.insert(class_id);
  SQLite::Statement q(db_,
                      "SELECT student_id FROM enrollments WHERE class_id = ? AND role = 'student'");
  q.bind(1, class_id);
  for (auto& id : ids(q)) students_.insert(std::move(id));
}

std::set<std::string> ClassWriter::update_teachers() {
  for (const auto& class_id : classes_) touch_class(class_id);  // who is enrolled now
  SQLite::Statement active(db_, "SELECT 1 FROM students WHERE id = ? AND deactivated_at IS NULL");
  SQLite::Statement derived(db_,
                            "SELECT DISTINCT t.staff_id FROM enrollments e JOIN enrollments t ON "
                            "t.class_id = e.class_id AND t.role = 'teacher' WHERE "
                            "e.student_id = ? ORDER BY t.staff_id");
  SQLite::Statement clear(db_, "DELETE FROM student_staff WHERE student_id = ?");
  SQLite::Statement add(db_, "INSERT INTO student_staff (student_id, staff_id) VALUES (?, ?)");
  std::set<std::string> changed;
  for (const auto& student : students_) {
    active.bind(1, student);
    const bool exists = active.executeStep();
    active.reset();
    if (!exists) continue;
    derived.bind(1, student);
    const std::vector<std::string> teachers = ids(derived);
    derived.reset();
    if (teachers == teachers_of(db_, student)) continue;
    clear.bind(1, student);
    clear.exec();
    clear.reset();
    for (const auto& teacher : teachers) {
      add.bind(1, student);
      add.bind(2, teacher);
      add.exec();
      add.reset();
    }
    changed.insert(student);
  }
  classes_.clear();
  students_.clear();
  return changed;
}

}  // namespace homeroom::store
