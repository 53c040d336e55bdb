// Store::import_oneroster's SQL: a parsed OneRoster import applied in one writer job.
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <memory>
#include <set>

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

void count(ImportCounts& counts, bool existed, bool changed) {
  if (!existed) {
    ++counts.created;
  } else if (changed) {
    ++counts.updated;
  } else {
    ++counts.unchanged;
  }
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
// stay and the import's are added; with delta (or absent) enrollments the stored teachers stay.
Student merge_student(Student s, const std::optional<Student>& stored,
                      const OneRosterImport& data) {
  if (stored) {
    if (data.modes.users != OneRosterMode::kBulk) {
      std::vector<GuardianLink> links = stored->guardians;
      add_links(links, s.guardians);
      s.guardians = std::move(links);
    }
    if (data.modes.enrollments != OneRosterMode::kBulk) {
      std::set<std::string> teachers(stored->staff.begin(), stored->staff.end());
      teachers.insert(s.staff.begin(), s.staff.end());
      s.staff.assign(teachers.begin(), teachers.end());
    }
    for (auto& link : s.guardians) {
      for (const auto& old : stored->guardians) {
        if (old.guardian_id == link.guardian_id && !old.contact_allowed) {
          link.contact_allowed = false;
        }
      }
    }
  }
  std::sort(s.staff.begin(), s.staff.end());
  s.staff.erase(std::unique(s.staff.begin(), s.staff.end()), s.staff.end());
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

// A user the delta marks tobedeleted. Rows with history (messages, deliveries, threads) are kept
// and only unlinked, so what was sent stays readable; the summary says so.
void delete_user(SQLite::Database& db, const std::string& id, OneRosterSummary& summary) {
  if (has_row(db, "SELECT 1 FROM students WHERE id = ?", id)) {
    if (has_row(db, "SELECT 1 FROM messages WHERE student_id = ? LIMIT 1", id)) {
      run(db, "DELETE FROM student_guardians WHERE student_id = ?", id);
      run(db, "DELETE FROM student_staff WHERE student_id = ?", id);
      ++summary.students.unlinked;
      summary.notes.push_back("student " + id +
                              " has messages on record: unlinked from guardians and teachers "
                              "instead of deleted");
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
                              " has messages on record: unlinked from students instead of "
                              "deleted");
    } else {
      run(db, "DELETE FROM staff WHERE id = ?", id);
      ++summary.staff.deleted;
    }
  }
}

Result<OneRosterSummary> import_oneroster(SQLite::Database& db, const OneRosterImport& data,
                                          const ImportProgress& progress, Millis now) {
  OneRosterSummary summary;
  const std::size_t total = data.orgs.size() + data.staff.size() + data.guardians.size() +
                            data.students.size() + data.stored_student_links.size() +
                            data.deleted.users.size() + data.deleted.orgs.size();
  std::size_t done = 0;
  auto step = [&] {
    ++done;
    if (progress && (done % 256 == 0 || done == total)) progress(done, total);
  };

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
    count(summary.schools, stored.has_value(), changed);
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
    count(summary.staff, stored.has_value(), changed);
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
    count(summary.guardians, stored.has_value(), changed);
    step();
  }

  for (Student imported : data.students) {
    imported.school_id = school_of(db, data, import_schools, imported.id);
    auto stored = get_student(db, imported.id);
    Student s = merge_student(std::move(imported), stored, data);
    const bool changed = stored && !same_student(*stored, s);
    if (!stored || changed) {
      if (Status st = put_student(db, s, now); !st) {
        return Status::invalid("users.csv", "student " + s.id + ": " + st.message());
      }
    }
    count(summary.students, stored.has_value(), changed);
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
      ++summary.students.updated;
    }
    step();
  }

  for (const auto& id : data.deleted.users) {
    delete_user(db, id, summary);
    step();
  }
  for (const auto& id : data.deleted.orgs) {
    if (has_row(db, "SELECT 1 FROM schools WHERE id = ?", id)) {
      if (Status st = delete_row(db, "schools", id); st) {
        ++summary.schools.deleted;
      } else {
        summary.notes.push_back(st.message() + ": kept");
      }
    }
    step();
  }
  if (!data.deleted.enrollments.empty() || !data.deleted.classes.empty()) {
    summary.notes.push_back(
        "class and enrollment deletions remove no teacher from a student: send enrollments.csv "
        "as bulk to replace the students' teachers");
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
