// Classes and enrollments (migration 0013) as a OneRoster import writes them, and the teachers of a
// student derived from them: a student's teachers are the teachers of the classes they are
// enrolled in. Internal to store/: runs inside the import's writer job and throws
// SQLite::Exception like the other query functions.
//
// The writer remembers which classes and students its changes touch; update_teachers() then
// rewrites student_staff for those students only, so a class that loses its teacher (or a student
// who leaves a class) loses the link, and teachers set by hand on students no import touched stay.
#pragma once

#include <SQLiteCpp/Database.h>

#include <set>
#include <string>
#include <vector>

#include "roster/oneroster.h"
#include "store/store.h"

namespace homeroom::store {

// Adds one row to `counts`: created, else updated when `changed`, else unchanged.
void count_row(ImportCounts& counts, bool existed, bool changed);
// The student's teachers as stored (student_staff), by id.
std::vector<std::string> teachers_of(SQLite::Database& db, const std::string& student_id);

class ClassWriter {
 public:
  ClassWriter(SQLite::Database& db, Millis now) : db_(db), now_(now) {}

  // Upserts a class. kInvalidArgument "classes.csv:LINE schoolSourcedId" when its school is not a
  // stored school (a district, or an org neither this import nor the store has).
  Status put_class(const OneRosterClass& c, ImportCounts& counts);
  // Upserts a student or teacher enrollment; kInvalidArgument "enrollments.csv:LINE column" when
  // the class is not stored or the user is not a stored student (teacher: staff member). Other
  // roles (administrator, aide, proctor) are not kept: a stored row of that id is deleted.
  Status put_enrollment(const OneRosterEnrollment& e, ImportCounts& counts);
  // Deletes one class (with its enrollments) / one enrollment; false when there was none.
  bool delete_class(const std::string& id);
  bool delete_enrollment(const std::string& id);
  // Deletes every enrollment of a student or staff member (the roster removed them).
  void delete_enrollments_of(const std::string& user_id);
  // Stored classes / enrollments whose class belongs to one of `schools`.
  std::vector<std::string> classes_in(const std::set<std::string>& schools);
  std::vector<std::string> enrollments_in(const std::set<std::string>& schools);

  // A student whose teachers must be derived again (e.g. listed by a bulk users file).
  void touch_student(const std::string& id) { students_.insert(id); }
  // Sets the teachers of every touched student (that still exists and is active) to the teachers
  // of their classes. Returns the students whose teachers changed.
  std::set<std::string> update_teachers();

 private:
  // Remembers `class_id` and the students enrolled in it now (call before a change to it).
  void touch_class(const std::string& class_id);

  SQLite::Database& db_;
  Millis now_;
  std::set<std::string> classes_;
  std::set<std::string> students_;
};

}  // namespace homeroom::store
