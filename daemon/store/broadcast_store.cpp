// Broadcasts: accepting one (the audience resolved in SQL, in household order), planning its
// deliveries chunk by chunk, progress, cancellation. See Store::accept_broadcast.
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/ids.h"
#include "store/json_codec.h"
#include "store/queries.h"
#include "store/unsubscribe_store.h"

namespace homeroom::store {

// The copies a broadcast already has, by (channel, address), so a household reached from two
// chunks (a guardian of students in different households, or a shared address) still gets one.
struct FanoutMemo {
  struct Copy {
    std::string delivery_id;
    std::string guardian_id;
    std::vector<std::string> about;
  };
  bool loaded = false;
  std::unordered_map<std::string, Copy> copies;
};

std::shared_ptr<FanoutMemo> new_fanout_memo() { return std::make_shared<FanoutMemo>(); }

std::optional<Result<StoredResponse>> replay(SQLite::Database& db,
                                             const std::optional<IdempotencyRef>& idempotency) {
  if (!idempotency) return std::nullopt;
  SQLite::Statement q(db,
                      "SELECT request_hash, status, response FROM idempotency_keys "
                      "WHERE token_id = ? AND key = ?");
  q.bind(1, idempotency->token_id);
  q.bind(2, idempotency->key);
  if (!q.executeStep()) return std::nullopt;
  if (q.getColumn(0).getString() != idempotency->request_hash) {
    return Result<StoredResponse>(Status::conflict("Idempotency-Key " + idempotency->key +
                                                   " was already used with a different request"));
  }
  return Result<StoredResponse>(StoredResponse{static_cast<unsigned>(q.getColumn(1).getInt()),
                                               q.getColumn(2).getString(), true});
}

void remember(SQLite::Database& db, const std::optional<IdempotencyRef>& idempotency,
              const StoredResponse& response, Millis now) {
  if (!idempotency) return;
  SQLite::Statement q(db,
                      "INSERT INTO idempotency_keys (token_id, key, request_hash, status, "
                      "response, created_at) VALUES (?, ?, ?, ?, ?, ?)");
  q.bind(1, idempotency->token_id);
  q.bind(2, idempotency->key);
  q.bind(3, idempotency->request_hash);
  q.bind(4, static_cast<int>(response.status));
  q.bind(5, response.body);
  q.bind(6, now);
  q.exec();
}

namespace {

// The SQL condition on students `s` for an audience; ?2 is the JSON array of its values, ?3 today
// (YYYY-MM-DD, UTC). Students the roster deactivated are in no audience.
Result<std::string> audience_condition(const NewBroadcast& b) {
  const std::string values = "(SELECT value FROM json_each(?2))";
  std::string condition;
  if (b.audience_kind == "all") {
    condition = "?2 IS NOT NULL";
  } else if (b.audience_kind == "grades") {
    condition = "s.grade IN " + values;
  } else if (b.audience_kind == "students") {
    condition = "s.id IN " + values;
  } else if (b.audience_kind == "teachers") {
    condition = "s.id IN (SELECT student_id FROM student_staff WHERE staff_id IN " + values + ")";
  } else if (b.audience_kind == "classes") {
    // Enrolled as a student today: an enrollment that has ended or not begun does not count.
    condition =
        "s.id IN (SELECT student_id FROM enrollments WHERE role = 'student' AND class_id IN " +
        values +
        " AND (begin_date = '' OR begin_date <= ?3) AND (end_date = '' OR end_date >= ?3))";
  } else if (b.audience_kind == "schools") {
    condition = "s.school_id IN " + values;
  } else {
    return Status::invalid("audience", "unknown audience " + b.audience_kind);
  }
  return "(" + condition + ") AND s.deactivated_at IS NULL AND ?3 IS NOT NULL";
}

// The audiences that name rows: the query that finds one, and what to call it.
struct AudienceRows {
  const char* kind;
  const char* query;
  const char* unknown;  // the message's start, before the id
};
constexpr AudienceRows kAudienceRows[] = {
    {"students", "SELECT 1 FROM students WHERE id = ? AND deactivated_at IS NULL",
     "unknown (or removed from the roster) student"},
    {"teachers", "SELECT 1 FROM staff WHERE id = ?", "unknown staff member"},
    {"schools", "SELECT 1 FROM schools WHERE id = ?", "unknown school"},
    {"classes", "SELECT 1 FROM classes WHERE id = ?", "unknown class"},
};

// The first of `values` that `query` finds no row for, with its index.
std::optional<std::pair<std::size_t, std::string>> first_unknown(
    SQLite::Database& db, const char* query, const std::vector<std::string>& values) {
  SQLite::Statement q(db, query);
  for (std::size_t i = 0; i < values.size(); ++i) {
    q.bind(1, values[i]);
    const bool found = q.executeStep();
    q.reset();
    if (!found) return std::make_pair(i, values[i]);
  }
  return std::nullopt;
}

}  // namespace

Result<StoredResponse> accept_broadcast(SQLite::Database& db, const NewBroadcast& b,
                                        const std::optional<IdempotencyRef>& idempotency,
                                        const BroadcastRespondFn& respond, Millis now) {
  if (auto replayed = replay(db, idempotency)) return std::move(*replayed);

  for (const auto& rows : kAudienceRows) {
    if (b.audience_kind != rows.kind) continue;
    if (auto unknown = first_unknown(db, rows.query, b.audience_values)) {
      return Status::invalid(
          "audience." + b.audience_kind + "[" + std::to_string(unknown->first) + "]",
          std::string(rows.unknown) + " " + unknown->second);
    }
  }
  auto condition = audience_condition(b);
  if (!condition.is_ok()) return condition.status();

  SQLite::Statement ins(db,
                        "INSERT INTO broadcast_students (broadcast_id, student_id, household) "
                        "SELECT ?1, s.id, COALESCE((SELECT MIN(guardian_id) FROM "
                        "student_guardians sg WHERE sg.student_id = s.id), '') AS household "
                        "FROM students s WHERE " +
                            *condition + " ORDER BY household, s.id");
  ins.bind(1, b.id);
  ins.bind(2, nlohmann::json(b.audience_values).dump());
  ins.bind(3, format_rfc3339(now).substr(0, 10));  // today, UTC
  const std::int64_t students = ins.exec();
  if (students == 0) return Status::invalid("audience", "no student matches this audience");
  const std::int64_t last_row = db.getLastInsertRowid();
  const std::int64_t first_row = last_row - students + 1;

  SQLite::Statement vars(db,
                         "UPDATE broadcast_students SET variables = ? WHERE broadcast_id = ? AND "
                         "student_id = ?");
  for (const auto& [student, json] : b.variables) {
    vars.bind(1, json);
    vars.bind(2, b.id);
    vars.bind(3, student);
    const int changed = vars.exec();
    vars.reset();
    if (changed == 0) {
      return Status::invalid("variables." + student,
                             "student " + student + " is not in the audience");
    }
  }
  if (!b.needed_variables.empty()) {
    SQLite::Statement missing(db,
                              "SELECT student_id FROM broadcast_students WHERE id BETWEEN ? AND ? "
                              "AND variables IS NULL LIMIT 1");
    missing.bind(1, first_row);
    missing.bind(2, last_row);
    if (missing.executeStep()) {
      const std::string student = missing.getColumn(0).getString();
      return Status::invalid("variables." + student, "student " + student + " has no value for " +
                                                         *b.needed_variables.begin() +
                                                         ", which the template uses");
    }
  }

  std::string first_student;
  {
    SQLite::Statement q(db, "SELECT student_id FROM broadcast_students WHERE id = ?");
    q.bind(1, first_row);
    if (q.executeStep()) first_student = q.getColumn(0).getString();
  }
  auto body = b.templates.find(b.default_language);
  if (body == b.templates.end()) body = b.templates.begin();
  std::map<std::string, std::string> translations = b.templates;
  translations.erase(body->first);

  SQLite::Statement msg(db,
                        "INSERT INTO messages (id, student_id, author_staff, category, body, "
                        "translations, send_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  msg.bind(1, b.id);
  msg.bind(2, first_student);
  if (b.author_staff.empty()) {
    msg.bind(3);
  } else {
    msg.bind(3, b.author_staff);
  }
  msg.bind(4, b.category);
  msg.bind(5, body->second);
  msg.bind(6, nlohmann::json(translations).dump());
  if (b.send_at) {
    msg.bind(7, *b.send_at);
  } else {
    msg.bind(7);
  }
  msg.bind(8, now);
  msg.exec();

  SQLite::Statement bc(db,
                       "INSERT INTO broadcasts (id, audience, state, students_total, next_row, "
                       "last_row, created_at) VALUES (?, ?, 'planning', ?, ?, ?, ?)");
  bc.bind(1, b.id);
  bc.bind(2, b.audience_json);
  bc.bind(3, students);
  bc.bind(4, first_row);
  bc.bind(5, last_row);
  bc.bind(6, now);
  bc.exec();

  StoredResponse response = respond(b.id, students);
  remember(db, idempotency, response, now);
  return response;
}

namespace {

// The roster of a chunk's students, each statement prepared once: loading 2,000 students one
// get_student_roster at a time prepared seven statements per student.
class ChunkRosterLoader {
 public:
  explicit ChunkRosterLoader(SQLite::Database& db)
      : db_(db),
        student_(db,
                 "SELECT given_name, family_name, grade, COALESCE(school_id, '') FROM students "
                 "WHERE id = ?"),
        staff_(db, "SELECT staff_id FROM student_staff WHERE student_id = ? ORDER BY staff_id"),
        links_(db,
               "SELECT guardian_id, relationship, contact_allowed FROM student_guardians "
               "WHERE student_id = ? ORDER BY position"),
        guardian_(db,
                  "SELECT given_name, family_name, language, timezone, preferences, "
                  "do_not_contact FROM guardians WHERE id = ?"),
        contacts_(db,
                  "SELECT channel, address, status FROM contact_points WHERE guardian_id = ? "
                  "ORDER BY position") {}

  std::optional<StudentRoster> load(const std::string& id) {
    StudentRoster r;
    Student& s = r.student;
    s.id = id;
    student_.bind(1, id);
    const bool found = student_.executeStep();
    if (found) {
      s.given_name = student_.getColumn(0).getString();
      s.family_name = student_.getColumn(1).getString();
      s.grade = student_.getColumn(2).getString();
      s.school_id = student_.getColumn(3).getString();
    }
    student_.reset();
    if (!found) return std::nullopt;  // deleted since the broadcast was accepted
    staff_.bind(1, id);
    while (staff_.executeStep()) s.staff.push_back(staff_.getColumn(0).getString());
    staff_.reset();
    links_.bind(1, id);
    while (links_.executeStep()) {
      s.guardians.push_back({links_.getColumn(0).getString(), links_.getColumn(1).getString(),
                             links_.getColumn(2).getInt() != 0});
    }
    links_.reset();
    for (const auto& link : s.guardians) {
      if (const Guardian* g = guardian(link.guardian_id)) r.guardians.push_back(*g);
    }
    if (!s.school_id.empty()) {
      auto it = schools_.find(s.school_id);
      if (it == schools_.end())
        it = schools_.emplace(s.school_id, get_school(db_, s.school_id)).first;
      r.school = it->second;
    }
    return r;
  }

 private:
  const Guardian* guardian(const std::string& id) {
    if (auto it = guardians_.find(id); it != guardians_.end()) return &it->second;
    guardian_.bind(1, id);
    if (!guardian_.executeStep()) {
      guardian_.reset();
      return nullptr;
    }
    Guardian g;
    g.id = id;
    g.given_name = guardian_.getColumn(0).getString();
    g.family_name = guardian_.getColumn(1).getString();
    g.language = guardian_.getColumn(2).getString();
    g.timezone = guardian_.getColumn(3).getString();
    g.preferences =
        preferences_from_json(nlohmann::json::parse(guardian_.getColumn(4).getString()));
    g.do_not_contact = guardian_.getColumn(5).getInt() != 0;
    guardian_.reset();
    contacts_.bind(1, id);
    while (contacts_.executeStep()) {
      g.contacts.push_back({contacts_.getColumn(0).getString(), contacts_.getColumn(1).getString(),
                            contacts_.getColumn(2).getString()});
    }
    contacts_.reset();
    load_unsubscribed(db_, g);
    return &guardians_.emplace(id, std::move(g)).first->second;
  }

  SQLite::Database& db_;
  SQLite::Statement student_, staff_, links_, guardian_, contacts_;
  std::unordered_map<std::string, Guardian> guardians_;
  std::unordered_map<std::string, std::optional<School>> schools_;
};

std::string copy_key(const std::string& channel, const std::string& address) {
  return channel + '\n' + address;
}

void load_memo(SQLite::Database& db, const std::string& id, FanoutMemo& memo) {
  memo.copies.clear();
  SQLite::Statement q(db,
                      "SELECT id, guardian_id, channel, address, COALESCE(about, '[]') FROM "
                      "deliveries WHERE message_id = ? AND state != 'suppressed' AND "
                      "fallback_of IS NULL");
  q.bind(1, id);
  while (q.executeStep()) {
    auto about = nlohmann::json::parse(q.getColumn(4).getString(), nullptr, false);
    FanoutMemo::Copy copy{q.getColumn(0).getString(), q.getColumn(1).getString(), {}};
    if (about.is_array()) {
      for (const auto& s : about) {
        if (s.is_string()) copy.about.push_back(s.get<std::string>());
      }
    }
    memo.copies[copy_key(q.getColumn(2).getString(), q.getColumn(3).getString())] = std::move(copy);
  }
  memo.loaded = true;
}

}  // namespace

bool plan_broadcast_chunk(SQLite::Database& db, const std::string& id, int chunk_students,
                          const BroadcastPlanFn& plan, FanoutMemo& memo, Millis now) {
  NewMessage message;
  std::int64_t next_row = 0, last_row = 0;
  {
    SQLite::Statement q(db,
                        "SELECT b.state, b.next_row, b.last_row, m.category, m.body, "
                        "m.translations, m.send_at, COALESCE(m.author_staff, '') "
                        "FROM broadcasts b JOIN messages m ON m.id = b.id WHERE b.id = ?");
    q.bind(1, id);
    if (!q.executeStep() || q.getColumn(0).getString() != "planning") return false;
    next_row = q.getColumn(1).getInt64();
    last_row = q.getColumn(2).getInt64();
    message.id = id;
    message.category = q.getColumn(3).getString();
    message.body = q.getColumn(4).getString();
    message.translations =
        nlohmann::json::parse(q.getColumn(5).getString()).get<std::map<std::string, std::string>>();
    if (!q.getColumn(6).isNull()) message.send_at = q.getColumn(6).getInt64();
    message.author_staff = q.getColumn(7).getString();
  }
  if (!memo.loaded) load_memo(db, id, memo);

  // The chunk: at least chunk_students rows, then on to the end of the last household.
  std::vector<std::string> students;
  std::int64_t end_row = next_row;
  {
    SQLite::Statement q(db,
                        "SELECT id, student_id, household FROM broadcast_students "
                        "WHERE id BETWEEN ? AND ? ORDER BY id");
    q.bind(1, next_row);
    q.bind(2, last_row);
    std::string household;
    while (q.executeStep()) {
      std::string h = q.getColumn(2).getString();
      if (static_cast<int>(students.size()) >= chunk_students && h != household) break;
      household = std::move(h);
      students.push_back(q.getColumn(1).getString());
      end_row = q.getColumn(0).getInt64() + 1;
    }
  }
  if (students.empty()) end_row = last_row + 1;

  ChunkRosterLoader loader(db);
  std::vector<StudentRoster> audience;
  audience.reserve(students.size());
  for (const auto& s : students) {
    if (auto r = loader.load(s)) audience.push_back(std::move(*r));
  }
  std::vector<PlannedDelivery> planned = plan(audience, message, now);
  // A copy counts against the school of the first student it names (fair leasing, 0014).
  std::unordered_map<std::string, std::string> school_of;
  for (const auto& r : audience) school_of[r.student.id] = r.student.school_id;

  SQLite::Statement ins(db,
                        "INSERT INTO deliveries (id, message_id, guardian_id, channel, address, "
                        "language, state, next_attempt_at, created_at, updated_at, priority, "
                        "about, last_error, school_id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, NULLIF(?, ''))");
  EventLog events(db);
  std::unordered_map<std::string, bool> grown;  // delivery ids of earlier copies that got students
  for (auto& p : planned) {
    std::string detail = p.detail;
    if (p.state != DeliveryState::kSuppressed && !p.address.empty()) {
      const std::string key = copy_key(p.channel, p.address);
      auto it = memo.copies.find(key);
      if (it != memo.copies.end()) {
        // Reached from an earlier chunk: that copy names these students too.
        auto& copy = it->second;
        for (const auto& s : p.student_ids) {
          if (std::find(copy.about.begin(), copy.about.end(), s) == copy.about.end()) {
            copy.about.push_back(s);
            grown[copy.delivery_id] = true;
          }
        }
        if (copy.guardian_id == p.guardian_id) continue;  // the same guardian: one delivery
        p.state = DeliveryState::kSuppressed;
        detail = "one copy per household: sent with guardian " + copy.guardian_id + "'s copy";
      }
    }
    std::string delivery_id = new_id("dlv_");
    ins.bind(1, delivery_id);
    ins.bind(2, id);
    ins.bind(3, p.guardian_id);
    ins.bind(4, p.channel);
    ins.bind(5, p.address);
    ins.bind(6, p.language);
    ins.bind(7, state_name(p.state));
    ins.bind(8, std::max(now, p.not_before));
    ins.bind(9, now);
    ins.bind(10, now);
    ins.bind(11, nlohmann::json(p.student_ids).dump());
    if (p.state == DeliveryState::kSuppressed) {
      ins.bind(12, detail);
    } else {
      ins.bind(12);
    }
    auto school = p.student_ids.empty() ? school_of.end() : school_of.find(p.student_ids.front());
    ins.bind(13, school == school_of.end() ? std::string() : school->second);
    ins.exec();
    ins.reset();
    events.add(delivery_id, now, p.state, detail);
    if (p.state != DeliveryState::kSuppressed && !p.address.empty()) {
      memo.copies[copy_key(p.channel, p.address)] = {delivery_id, p.guardian_id, p.student_ids};
    }
  }
  if (!grown.empty()) {
    std::unordered_map<std::string, const FanoutMemo::Copy*> by_id;
    for (const auto& [key, copy] : memo.copies) {
      if (grown.count(copy.delivery_id)) by_id[copy.delivery_id] = &copy;
    }
    SQLite::Statement up(db, "UPDATE deliveries SET about = ? WHERE id = ?");
    for (const auto& [delivery_id, copy] : by_id) {
      up.bind(1, nlohmann::json(copy->about).dump());
      up.bind(2, delivery_id);
      up.exec();
      up.reset();
    }
  }

  const bool done = end_row > last_row;
  SQLite::Statement progress(db,
                             "UPDATE broadcasts SET next_row = ?, state = ?, planned_at = ? "
                             "WHERE id = ?");
  progress.bind(1, end_row);
  progress.bind(2, done ? "planned" : "planning");
  if (done) {
    progress.bind(3, now);
  } else {
    progress.bind(3);
  }
  progress.bind(4, id);
  progress.exec();
  return !done;
}

std::vector<std::string> broadcasts_planning(SQLite::Database& db) {
  std::vector<std::string> ids;
  SQLite::Statement q(db, "SELECT id FROM broadcasts WHERE state = 'planning' ORDER BY created_at");
  while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
  return ids;
}

std::optional<BroadcastView> get_broadcast(SQLite::Database& db, const std::string& id) {
  SQLite::Statement q(db,
                      "SELECT b.state, b.audience, b.students_total, b.next_row, b.last_row, "
                      "b.created_at, b.planned_at, b.cancelled_at, m.category, m.send_at, "
                      "COALESCE(m.author_staff, '') FROM broadcasts b JOIN messages m ON "
                      "m.id = b.id WHERE b.id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  BroadcastView v;
  v.id = id;
  v.state = q.getColumn(0).getString();
  v.audience_json = q.getColumn(1).getString();
  v.students_total = q.getColumn(2).getInt64();
  const std::int64_t first_row = q.getColumn(4).getInt64() - v.students_total + 1;
  v.students_planned = std::min(v.students_total, q.getColumn(3).getInt64() - first_row);
  v.created_at = q.getColumn(5).getInt64();
  if (!q.getColumn(6).isNull()) v.planned_at = q.getColumn(6).getInt64();
  if (!q.getColumn(7).isNull()) v.cancelled_at = q.getColumn(7).getInt64();
  v.category = q.getColumn(8).getString();
  if (!q.getColumn(9).isNull()) v.send_at = q.getColumn(9).getInt64();
  v.author_staff = q.getColumn(10).getString();

  SQLite::Statement counts(db,
                           "SELECT state, CASE WHEN state IN ('suppressed', 'failed', 'dead') "
                           "THEN COALESCE(last_error, '') END, COUNT(*) FROM deliveries "
                           "WHERE message_id = ? GROUP BY 1, 2");
  counts.bind(1, id);
  while (counts.executeStep()) {
    const std::string state = counts.getColumn(0).getString();
    const std::int64_t n = counts.getColumn(2).getInt64();
    v.counts[state] += n;
    v.deliveries += n;
    if (!counts.getColumn(1).isNull()) v.reasons[state][counts.getColumn(1).getString()] += n;
  }
  return v;
}

Status cancel_broadcast(SQLite::Database& db, const std::string& id, Millis now) {
  SQLite::Statement q(db,
                      "UPDATE broadcasts SET state = 'cancelled', cancelled_at = ? WHERE id = ? "
                      "AND state != 'cancelled'");
  q.bind(1, now);
  q.bind(2, id);
  if (q.exec() == 0) {
    SQLite::Statement exists(db, "SELECT 1 FROM broadcasts WHERE id = ?");
    exists.bind(1, id);
    if (!exists.executeStep()) return Status::not_found("broadcast " + id + " not found");
    return Status{};  // already cancelled
  }
  // Not yet handed to a channel. A `sending` row is with a provider right now: its outcome is
  // recorded as it comes.
  const char* pending = "message_id = ?2 AND state IN ('planned', 'scheduled', 'queued')";
  SQLite::Statement events(db, std::string("INSERT INTO delivery_events (delivery_id, at, state, "
                                           "detail) SELECT id, ?1, 'suppressed', 'cancelled' FROM "
                                           "deliveries WHERE ") +
                                   pending);
  events.bind(1, now);
  events.bind(2, id);
  events.exec();
  SQLite::Statement up(db, std::string("UPDATE deliveries SET state = 'suppressed', last_error = "
                                       "'cancelled', updated_at = ?1 WHERE ") +
                               pending);
  up.bind(1, now);
  up.bind(2, id);
  up.exec();
  return Status{};
}

}  // namespace homeroom::store
