// Store::import_oneroster's SQL: a parsed OneRoster import applied in one writer job.
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "store/class_store.h"
#include "store/queries.h"

namespace homeroom::store {
namespace {

bool has_row(SQLite::Database& db, const std::string& sql, const std::string& id) {
  SQLite::Statement q(db, sql);
  q.bind(1, id);
  return q.executeStep();
}

// The first of the user's orgs that is a school (of this import or stored); "" when none is.
std::string school_of(SQLite::Database& db, const OneRosterImport& data,
                      const std::set<std::string>& import_schools, const std::string& user_id) {
  auto it = data.user_orgs.find(user_id);
  if (it == data.user_orgs.end()) return "";
  for (const auto& org : it->second) {
    if (import_schools.count(org)) return org;
  }
  for (const auto& org : it->second) {
    if (has_row(db, "SELECT 1 FROM schools WHERE id = ?", org)) return org;
  }
  return "";
}

// True when the family said STOP to this address (its latest consent event is a stop), so a
// contact point the import adds for it starts out stopped, whoever it belongs to.
bool stopped_by_consent(SQLite::Database& db, const ContactPoint& c) {
  SQLite::Statement q(db,
                      "SELECT change FROM consent_events WHERE channel = ? AND address = ? AND "
                      "category = '' ORDER BY at DESC, id DESC LIMIT 1");
  q.bind(1, c.channel);
  q.bind(2, c.address);
  return q.executeStep() && q.getColumn(0).getString() == "stop";
}

bool same_contacts(const std::vector<ContactPoint>& a, const std::vector<ContactPoint>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.channel == y.channel && x.address == y.address && x.status == y.status;
  });
}

bool same_links(const std::vector<GuardianLink>& a, const std::vector<GuardianLink>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.guardian_id == y.guardian_id && x.relationship == y.relationship &&
           x.contact_allowed == y.contact_allowed;
  });
}

// The import's guardian merged onto the stored one: the SIS owns names and addresses; the
// family (or the school) owns language, time zone, preferences, do_not_contact and every
// contact point's status. Stored addresses the SIS no longer lists stay when homeroom stopped
// using them (a STOP must survive the number leaving and coming back) or when they are push
// subscriptions (which only the family's device creates).
Guardian merge_guardian(SQLite::Database& db, Guardian g, const std::optional<Guardian>& stored) {
  if (stored) {
    g.language = stored->language;
    g.timezone = stored->timezone;
    g.preferences = stored->preferences;
    g.do_not_contact = stored->do_not_contact;
  }
  for (auto& c : g.contacts) {
    const ContactPoint* old = nullptr;
    if (stored) {
      for (const auto& s : stored->contacts) {
        if (s.channel == c.channel && s.address == c.address) old = &s;
      }
    }
    if (old) {
      c.status = old->status;
    } else {
      c.status = stopped_by_consent(db, c) ? "stopped" : "active";
    }
  }
  if (stored) {
    for (const auto& s : stored->contacts) {
      const bool listed = std::any_of(g.contacts.begin(), g.contacts.end(), [&](const auto& c) {
        return c.channel == s.channel && c.address == s.address;
      });
      if (!listed && (s.status != "active" || s.channel == "push")) g.contacts.push_back(s);
    }
  }
  return g;
}

// put_guardian keeps the status of contact points that stay; new ones need theirs written.
void write_contact_statuses(SQLite::Database& db, const Guardian& g) {
  SQLite::Statement q(db,
                      "UPDATE contact_points SET status = ? WHERE guardian_id = ? AND channel = ? "
                      "AND address = ? AND status <> ?");
  for (const auto& c : g.contacts) {
    q.bind(1, c.status);
    q.bind(2, g.id);
    q.bind(3, c.channel);
    q.bind(4, c.address);
    q.bind(5, c.status);
    q.exec();
    q.reset();
  }
}

// Adds `extra` links not already in `links` (by guardian), keeping the order.
void add_links(std::vector<GuardianLink>& links, const std::vector<GuardianLink>& extra) {
  for (const auto& l : extra) {
    const bool present = std::any_of(links.begin(), links.end(),
                                     [&](const auto& x) { return x.guardian_id == l.guardian_id; });
    if (!present) links.push_back(l);
  }
}

// The import's student merged onto the stored one. A stored link with contact_allowed=false keeps
// it (the school's restriction outlives a SIS re-import). With a delta users file the stored links
// stay and the import's are added. The stored teachers stay: ClassWriter::update_teachers derives
// them from the stored enrollments once those are written.
Student merge_student(Student s, const std::optional<Student>& stored,
                      const OneRosterImport& data) {
  s.staff.clear();
  if (stored) {
    s.staff = stored->staff;
    if (data.modes.users != OneRosterMode::kBulk) {
      std::vector<GuardianLink> links = stored->guardians;
      add_links(links, s.guardians);
      s.guardians = std::move(links);
    }
    for (auto& link : s.guardians) {
      for (const auto& old : stored->guardians) {
        if (old.guardian_id == link.guardian_id && !old.contact_allowed) {
          link.contact_allowed = false;
        }
      }
    }
  }
  return s;
}

bool same_student(const Student& a, const Student& b) {
  return a.given_name == b.given_name && a.family_name == b.family_name && a.grade == b.grade &&
         a.school_id == b.school_id && a.staff == b.staff && same_links(a.guardians, b.guardians);
}

void run(SQLite::Database& db, const std::string& sql, const std::string& id) {
  SQLite::Statement q(db, sql);
  q.bind(1, id);
  q.exec();
}

// A user the roster removed (delta tobedeleted, or left out of a bulk users file). Rows with
// history are kept, so what was sent stays readable, but nobody reaches them any more: a student
// with messages is unlinked from guardians, teachers and classes and deactivated (in no audience);
// a guardian with deliveries or threads, or a staff member with messages or threads, is unlinked
// from students and classes. The summary says so. Everyone else is deleted.
void remove_user(SQLite::Database& db, ClassWriter& classes, const std::string& id, Millis now,
                 OneRosterSummary& summary) {
  classes.delete_enrollments_of(id);
  run(db, "DELETE FROM oneroster_rows WHERE file = 'users' AND id = ?", id);
  if (has_row(db, "SELECT 1 FROM students WHERE id = ?", id)) {
    if (has_row(db, "SELECT 1 FROM messages WHERE student_id = ? LIMIT 1", id)) {
      run(db, "DELETE FROM student_guardians WHERE student_id = ?", id);
      run(db, "DELETE FROM student_staff WHERE student_id = ?", id);
      SQLite::Statement q(db,
                          "UPDATE students SET deactivated_at = ?, updated_at = ? WHERE id = ? "
                          "AND deactivated_at IS NULL");
      q.bind(1, now);
      q.bind(2, now);
      q.bind(3, id);
      q.exec();
      ++summary.students.unlinked;
      summary.notes.push_back("student " + id +
                              " has messages on record: deactivated and unlinked from guardians, "
                              "teachers and classes instead of deleted");
    } else {
      run(db, "DELETE FROM students WHERE id = ?", id);
      ++summary.students.deleted;
    }
  }
  if (has_row(db, "SELECT 1 FROM guardians WHERE id = ?", id)) {
    if (has_row(db, "SELECT 1 FROM deliveries WHERE guardian_id = ? LIMIT 1", id) ||
        has_row(db, "SELECT 1 FROM threads WHERE guardian_id = ? LIMIT 1", id)) {
      run(db, "DELETE FROM student_guardians WHERE guardian_id = ?", id);
      ++summary.guardians.unlinked;
      summary.notes.push_back("guardian " + id +
                              " has messages on record: unlinked from students instead of "
                              "deleted");
    } else {
      run(db, "DELETE FROM guardians WHERE id = ?", id);
      ++summary.guardians.deleted;
    }
  }
  if (has_row(db, "SELECT 1 FROM staff WHERE id = ?", id)) {
    if (has_row(db, "SELECT 1 FROM messages WHERE author_staff = ? LIMIT 1", id) ||
        has_row(db, "SELECT 1 FROM threads WHERE staff_id = ? LIMIT 1", id)) {
      run(db, "DELETE FROM student_staff WHERE staff_id = ?", id);
      ++summary.staff.unlinked;
      summary.notes.push_back("staff " + id +
                              " has messages on record: unlinked from students and classes "
                              "instead of deleted");
    } else {
      run(db, "DELETE FROM staff WHERE id = ?", id);
      ++summary.staff.deleted;
    }
  }
}

void remove_school(SQLite::Database& db, const std::string& id, OneRosterSummary& summary) {
  if (!has_row(db, "SELECT 1 FROM schools WHERE id = ?", id)) return;
  if (Status st = delete_row(db, "schools", id); st) {
    run(db, "DELETE FROM oneroster_rows WHERE file = 'orgs' AND id = ?", id);
    ++summary.schools.deleted;
  } else {
    summary.notes.push_back(st.message() + ": kept");
  }
}

// Remembers that an import wrote row `id` of `file`, scoped by `orgs` (see migration 0013).
void record_row(SQLite::Database& db, const char* file, const std::string& id,
                const std::set<std::string>& orgs) {
  SQLite::Statement q(db,
                      "INSERT INTO oneroster_rows (file, id, orgs) VALUES (?, ?, ?) ON CONFLICT "
                      "(file, id) DO UPDATE SET orgs = excluded.orgs");
  q.bind(1, file);
  q.bind(2, id);
  q.bind(3, nlohmann::json(orgs).dump());
  q.exec();
}

// The rows of `file` an earlier import wrote that one of `scope` scopes.
std::vector<std::string> recorded(SQLite::Database& db, const char* file,
                                  const std::set<std::string>& scope) {
  SQLite::Statement q(db,
                      "SELECT id FROM oneroster_rows r WHERE file = ? AND EXISTS (SELECT 1 FROM "
                      "json_each(r.orgs) o WHERE o.value IN (SELECT value FROM json_each(?))) "
                      "ORDER BY id");
  q.bind(1, file);
  q.bind(2, nlohmann::json(scope).dump());
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

template <typename T>
std::set<std::string> ids_of(const std::vector<T>& rows) {
  std::set<std::string> out;
  for (const auto& row : rows) out.insert(row.id);
  return out;
}

// The orgs that scope each user of the import: their own, and for a guardian their students'.
std::map<std::string, std::set<std::string>> user_scopes(SQLite::Database& db,
                                                         const OneRosterImport& data) {
  std::map<std::string, std::set<std::string>> out;
  auto orgs_of = [&](const std::string& id) {
    auto it = data.user_orgs.find(id);
    return it == data.user_orgs.end() ? std::set<std::string>{}
                                      : std::set<std::string>(it->second.begin(), it->second.end());
  };
  for (const auto& s : data.staff) out[s.id] = orgs_of(s.id);
  for (const auto& g : data.guardians) out[g.id] = orgs_of(g.id);
  for (const auto& s : data.students) {
    auto orgs = orgs_of(s.id);
    out[s.id] = orgs;
    for (const auto& link : s.guardians) {
      if (out.count(link.guardian_id)) out[link.guardian_id].insert(orgs.begin(), orgs.end());
    }
  }
  for (const auto& [student_id, links] : data.stored_student_links) {
    auto stored = get_student(db, student_id);
    if (!stored || stored->school_id.empty()) continue;
    for (const auto& link : links) {
      if (out.count(link.guardian_id)) out[link.guardian_id].insert(stored->school_id);
    }
  }
  return out;
}

// What an import removes: what delta files mark tobedeleted and what bulk files leave out (within
// the import's orgs), listed before anything is written.
struct Removals {
  std::vector<std::string> enrollments;
  std::vector<std::string> classes;
  std::vector<std::string> users;
  std::vector<std::string> schools;
  std::size_t size() const {
    return enrollments.size() + classes.size() + users.size() + schools.size();
  }
};

Removals removals(SQLite::Database& db, const OneRosterImport& data, ClassWriter& classes) {
  const std::set<std::string>& scope = data.scope_orgs;
  Removals out{data.deleted.enrollments, data.deleted.classes, data.deleted.users,
               data.deleted.orgs};
  const auto add_left_out = [](std::vector<std::string>& to, std::vector<std::string> stored,
                               const std::set<std::string>& listed) {
    for (auto& id : stored) {
      if (!listed.count(id)) to.push_back(std::move(id));
    }
  };
  if (data.modes.enrollments == OneRosterMode::kBulk) {
    add_left_out(out.enrollments, classes.enrollments_in(scope), ids_of(data.enrollments));
  }
  if (data.modes.classes == OneRosterMode::kBulk) {
    add_left_out(out.classes, classes.classes_in(scope), ids_of(data.classes));
  }
  if (data.modes.users == OneRosterMode::kBulk) {
    std::set<std::string> listed = ids_of(data.staff);
    listed.merge(ids_of(data.students));
    listed.merge(ids_of(data.guardians));
    add_left_out(out.users, recorded(db, "users", scope), listed);
  }
  if (data.modes.orgs == OneRosterMode::kBulk) {
    add_left_out(out.schools, recorded(db, "orgs", scope), ids_of(data.orgs));
  }
  return out;
}

// Enrollments first and schools last, so that a school's classes and people go before it.
void apply_removals(SQLite::Database& db, const Removals& gone, ClassWriter& classes, Millis now,
                    OneRosterSummary& summary, const std::function<void()>& step) {
  for (const auto& id : gone.enrollments) {
    if (classes.delete_enrollment(id)) ++summary.enrollments.deleted;
    step();
  }
  for (const auto& id : gone.classes) {
    if (classes.delete_class(id)) ++summary.classes.deleted;
    step();
  }
  for (const auto& id : gone.users) {
    remove_user(db, classes, id, now, summary);
    step();
  }
  for (const auto& id : gone.schools) {
    remove_school(db, id, summary);
    step();
  }
}

Result<OneRosterSummary> import_oneroster(SQLite::Database& db, const OneRosterImport& data,
                                          const ImportProgress& progress, Millis now) {
  OneRosterSummary summary;
  ClassWriter classes(db, now);
  const Removals gone = removals(db, data, classes);
  const std::size_t total = data.orgs.size() + data.staff.size() + data.guardians.size() +
                            data.students.size() + data.stored_student_links.size() +
                            data.classes.size() + data.enrollments.size() + gone.size();
  std::size_t done = 0;
  const std::function<void()> step = [&] {
    ++done;
    if (progress && (done % 256 == 0 || done == total)) progress(done, total);
  };
  const auto scopes = user_scopes(db, data);
  const auto scope_of = [&](const std::string& id) { return scopes.at(id); };

  std::set<std::string> import_schools;
  for (const auto& org : data.orgs) {
    if (org.type != "school") {
      step();
      continue;  // districts have no row of their own
    }
    import_schools.insert(org.id);
    auto stored = get_school(db, org.id);
    // A stored school keeps its time zone, language, defaults and numbers: OneRoster has none.
    School school = stored ? *stored : School{};
    school.id = org.id;
    school.name = org.name;
    const bool changed = stored && stored->name != org.name;
    if (!stored || changed) put_school(db, school, now);
    std::set<std::string> orgs{org.id};
    if (!org.parent_id.empty()) orgs.insert(org.parent_id);
    record_row(db, "orgs", org.id, orgs);
    count_row(summary.schools, stored.has_value(), changed);
    step();
  }

  for (Staff s : data.staff) {
    s.school_id = school_of(db, data, import_schools, s.id);
    auto stored = get_staff(db, s.id);
    const bool changed = stored && (stored->name != s.name || stored->email != s.email ||
                                    stored->role != s.role || stored->school_id != s.school_id);
    if (!stored || changed) {
      if (Status st = put_staff(db, s, now); !st) return st;
    }
    record_row(db, "users", s.id, scope_of(s.id));
    count_row(summary.staff, stored.has_value(), changed);
    step();
  }

  for (const auto& imported : data.guardians) {
    auto stored = get_guardian(db, imported.id);
    Guardian g = merge_guardian(db, imported, stored);
    const bool changed =
        stored && (stored->given_name != g.given_name || stored->family_name != g.family_name ||
                   !same_contacts(stored->contacts, g.contacts));
    if (!stored || changed) {
      put_guardian(db, g, now);
      write_contact_statuses(db, g);
    }
    record_row(db, "users", g.id, scope_of(g.id));
    count_row(summary.guardians, stored.has_value(), changed);
    step();
  }

  // Students are counted once their teachers are known (update_teachers below).
  struct Counted {
    std::string id;
    bool existed = false;
    std::vector<std::string> teachers;  // as stored before
  };
  std::vector<Counted> students;  // in file order
  std::set<std::string> changed_students;
  for (Student imported : data.students) {
    imported.school_id = school_of(db, data, import_schools, imported.id);
    auto stored = get_student(db, imported.id);
    Student s = merge_student(std::move(imported), stored, data);
    const bool changed =
        stored &&
        (!same_student(*stored, s) ||
         has_row(db, "SELECT 1 FROM students WHERE id = ? AND deactivated_at IS NOT NULL", s.id));
    if (!stored || changed) {
      if (Status st = put_student(db, s, now); !st) {
        return Status::invalid("users.csv", "student " + s.id + ": " + st.message());
      }
    }
    record_row(db, "users", s.id, scope_of(s.id));
    students.push_back({s.id, stored.has_value(), s.staff});
    if (changed) changed_students.insert(s.id);
    // With enrollments.csv in the set, an imported student's teachers are their classes'.
    if (data.modes.enrollments != OneRosterMode::kAbsent) classes.touch_student(s.id);
    step();
  }

  // Delta: guardians of this import naming stored students that are not in it.
  for (const auto& [student_id, links] : data.stored_student_links) {
    auto stored = get_student(db, student_id);
    if (!stored) {
      return Status::invalid("users.csv", "agentSourcedIds: unknown student id " + student_id);
    }
    Student s = *stored;
    add_links(s.guardians, links);
    if (!same_links(stored->guardians, s.guardians)) {
      if (Status st = put_student(db, s, now); !st) return st;
      changed_students.insert(student_id);
    }
    step();
  }

  for (const auto& c : data.classes) {
    if (Status st = classes.put_class(c, summary.classes); !st) return st;
    step();
  }
  for (const auto& e : data.enrollments) {
    if (Status st = classes.put_enrollment(e, summary.enrollments); !st) return st;
    step();
  }

  apply_removals(db, gone, classes, now, summary, step);

  const std::set<std::string> new_teachers = classes.update_teachers();
  changed_students.insert(new_teachers.begin(), new_teachers.end());
  std::set<std::string> counted;
  for (const auto& student : students) {
    // Teachers also go when the roster removes them (with their links).
    const bool changed = changed_students.count(student.id) > 0 ||
                         (student.existed && teachers_of(db, student.id) != student.teachers);
    count_row(summary.students, student.existed, changed);
    counted.insert(student.id);
  }
  for (const auto& id : changed_students) {
    if (!counted.count(id)) ++summary.students.updated;  // a stored student this import changed
  }
  if (progress && total == 0) progress(0, 0);
  return summary;
}

}  // namespace

}  // namespace homeroom::store

namespace homeroom::store {

void Store::import_oneroster(OneRosterImport data, bool dry_run, ImportProgress progress,
                             Done<OneRosterSummary> done) {
  auto result = std::make_shared<Result<OneRosterSummary>>(Status::internal("not run"));
  writer_->submit(
      [this, data = std::move(data), dry_run, progress = std::move(progress),
       result](SQLite::Database& db) -> Status {
        *result = store::import_oneroster(db, data, progress, clock_.now());
        if (!result->is_ok()) return result->status();
        // A failing job is rolled back alone: a dry run is one that fails on purpose.
        return dry_run ? Status::conflict("dry run: rolled back") : Status{};
      },
      [result, dry_run, done = std::move(done)](Status s) {
        if (s.is_ok() || (dry_run && result->is_ok())) {
          done(std::move(*result));
        } else {
          done(result->is_ok() ? Result<OneRosterSummary>(std::move(s)) : std::move(*result));
        }
      });
}

}  // namespace homeroom::store
