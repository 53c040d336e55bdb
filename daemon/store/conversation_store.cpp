#include "store/conversation_store.h"

#include <SQLiteCpp/Statement.h>
#include <date/tz.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "conversations/auto_text.h"
#include "conversations/keywords.h"
#include "core/ids.h"
#include "core/redact.h"
#include "routing/local_time.h"
#include "store/database.h"
#include "store/queries.h"
#include "store/unsubscribe_store.h"

namespace homeroom::store {

using conversations::InboundMessage;
using nlohmann::json;

const char* inbound_kind_name(InboundResult::Kind kind) {
  switch (kind) {
    case InboundResult::Kind::kDuplicate:
      return "duplicate";
    case InboundResult::Kind::kStop:
      return "stop";
    case InboundResult::Kind::kStart:
      return "start";
    case InboundResult::Kind::kHelp:
      return "help";
    case InboundResult::Kind::kThread:
      return "thread";
    case InboundResult::Kind::kHeld:
      return "held";
    case InboundResult::Kind::kChoice:
      return "choice";
    case InboundResult::Kind::kOffice:
      return "office";
  }
  return "?";
}

void add_consent_event(SQLite::Database& db, const std::string& guardian_id,
                       const std::string& channel, const std::string& address,
                       const std::string& category, const std::string& change,
                       const std::string& source, const std::string& language, Millis now) {
  SQLite::Statement q(db,
                      "INSERT INTO consent_events (guardian_id, channel, address, category, "
                      "change, source, language, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, guardian_id);
  q.bind(2, channel);
  q.bind(3, address);
  q.bind(4, category);
  q.bind(5, change);
  q.bind(6, source);
  q.bind(7, language);
  q.bind(8, now);
  q.exec();
}

namespace {

// Automatic messages (confirmations, HELP, questions, office hours replies, forwards): answers to
// the family's own message, sent whatever the category modes say, never falling back elsewhere.
constexpr const char* kServiceCategory = "service";

std::string school_of_student(SQLite::Database& db, const std::string& student_id) {
  SQLite::Statement q(db, "SELECT COALESCE(school_id, '') FROM students WHERE id = ?");
  q.bind(1, student_id);
  return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

// The school whose pool holds `number`, or "".
std::string school_of_number(SQLite::Database& db, const std::string& number) {
  if (number.empty()) return {};
  SQLite::Statement q(db,
                      "SELECT id FROM schools WHERE EXISTS (SELECT 1 FROM json_each(sms_numbers) "
                      "WHERE value = ?) ORDER BY id LIMIT 1");
  q.bind(1, number);
  return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

School school_or_default(SQLite::Database& db, const std::string& school_id) {
  if (school_id.empty()) return School{};
  auto school = get_school(db, school_id);
  return school ? *school : School{};
}

struct Holder {
  std::string guardian_id;
  std::string language;
  std::string status;
};

// The guardians holding (channel, address), in roster order.
std::vector<Holder> holders_of(SQLite::Database& db, const std::string& channel,
                               const std::string& address) {
  SQLite::Statement q(db,
                      "SELECT cp.guardian_id, g.language, cp.status FROM contact_points cp "
                      "JOIN guardians g ON g.id = cp.guardian_id WHERE cp.channel = ? AND "
                      "cp.address = ? COLLATE NOCASE ORDER BY cp.id");
  q.bind(1, channel);
  q.bind(2, address);
  std::vector<Holder> out;
  while (q.executeStep()) {
    out.push_back(
        {q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString()});
  }
  return out;
}

// A student of `guardian_id` (contact allowed first), or "": automatic messages need one.
std::string any_student_of(SQLite::Database& db, const std::string& guardian_id) {
  SQLite::Statement q(db,
                      "SELECT student_id FROM student_guardians WHERE guardian_id = ? "
                      "ORDER BY contact_allowed DESC, position LIMIT 1");
  q.bind(1, guardian_id);
  return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

std::string guardian_language(SQLite::Database& db, const std::string& guardian_id) {
  SQLite::Statement q(db, "SELECT language FROM guardians WHERE id = ?");
  q.bind(1, guardian_id);
  return q.executeStep() ? q.getColumn(0).getString() : std::string("en");
}

std::string find_or_create_teacher_thread(SQLite::Database& db, const std::string& staff_id,
                                          const std::string& student_id,
                                          const std::string& guardian_id, Millis now) {
  SQLite::Statement q(db,
                      "SELECT id FROM threads WHERE kind = 'teacher' AND staff_id = ? AND "
                      "student_id = ? AND guardian_id = ?");
  q.bind(1, staff_id);
  q.bind(2, student_id);
  q.bind(3, guardian_id);
  if (q.executeStep()) return q.getColumn(0).getString();
  std::string id = new_id("thr_");
  SQLite::Statement ins(db,
                        "INSERT INTO threads (id, kind, school_id, staff_id, student_id, "
                        "guardian_id, created_at, updated_at) VALUES (?, 'teacher', ?, ?, ?, ?, "
                        "?, ?)");
  ins.bind(1, id);
  ins.bind(2, school_of_student(db, student_id));
  ins.bind(3, staff_id);
  ins.bind(4, student_id);
  ins.bind(5, guardian_id);
  ins.bind(6, now);
  ins.bind(7, now);
  ins.exec();
  return id;
}

std::string find_or_create_office_thread(SQLite::Database& db, const std::string& school_id,
                                         const std::string& channel, const std::string& address,
                                         const std::string& guardian_id, Millis now) {
  SQLite::Statement q(db,
                      "SELECT id FROM threads WHERE kind = 'office' AND school_id = ? AND "
                      "last_channel = ? AND last_address = ?");
  q.bind(1, school_id);
  q.bind(2, channel);
  q.bind(3, address);
  if (q.executeStep()) return q.getColumn(0).getString();
  std::string id = new_id("thr_");
  SQLite::Statement ins(db,
                        "INSERT INTO threads (id, kind, school_id, guardian_id, last_channel, "
                        "last_address, created_at, updated_at) VALUES (?, 'office', ?, ?, ?, ?, "
                        "?, ?)");
  ins.bind(1, id);
  ins.bind(2, school_id);
  ins.bind(3, guardian_id);
  ins.bind(4, channel);
  ins.bind(5, address);
  ins.bind(6, now);
  ins.bind(7, now);
  ins.exec();
  return id;
}

// The pool number the thread's SMS to `phone` go from: the one assigned before (while it is still
// in the pool), else a number of the pool no other thread of this phone has, else the number whose
// threads were used least recently (shared from then on). "" when the school has no pool.
std::string assign_number(SQLite::Database& db, const std::string& thread_id,
                          const std::string& school_id, const std::string& phone, Millis now) {
  const School school = school_or_default(db, school_id);
  const auto& pool = school.sms_numbers;
  SQLite::Statement existing(db,
                             "SELECT pool_number FROM number_assignments WHERE thread_id = ? AND "
                             "guardian_phone = ?");
  existing.bind(1, thread_id);
  existing.bind(2, phone);
  if (existing.executeStep()) {
    std::string number = existing.getColumn(0).getString();
    if (std::find(pool.begin(), pool.end(), number) != pool.end()) {
      SQLite::Statement touch(db,
                              "UPDATE number_assignments SET last_used_at = ? WHERE thread_id = "
                              "? AND guardian_phone = ?");
      touch.bind(1, now);
      touch.bind(2, thread_id);
      touch.bind(3, phone);
      touch.exec();
      return number;
    }
    SQLite::Statement drop(
        db, "DELETE FROM number_assignments WHERE thread_id = ? AND guardian_phone = ?");
    drop.bind(1, thread_id);
    drop.bind(2, phone);
    drop.exec();
  }
  if (pool.empty()) return {};
  std::map<std::string, Millis> last_used;  // pool number -> latest use by this phone
  SQLite::Statement used(db,
                         "SELECT pool_number, MAX(last_used_at) FROM number_assignments WHERE "
                         "guardian_phone = ? GROUP BY pool_number");
  used.bind(1, phone);
  while (used.executeStep()) {
    last_used[used.getColumn(0).getString()] = used.getColumn(1).getInt64();
  }
  std::string chosen;
  for (const auto& n : pool) {
    if (!last_used.count(n)) {
      chosen = n;
      break;
    }
  }
  if (chosen.empty()) {
    Millis oldest = 0;
    for (const auto& n : pool) {
      if (chosen.empty() || last_used[n] < oldest) {
        chosen = n;
        oldest = last_used[n];
      }
    }
  }
  SQLite::Statement ins(db,
                        "INSERT INTO number_assignments (thread_id, guardian_phone, pool_number, "
                        "school_id, last_used_at) VALUES (?, ?, ?, ?, ?)");
  ins.bind(1, thread_id);
  ins.bind(2, phone);
  ins.bind(3, chosen);
  ins.bind(4, school_id);
  ins.bind(5, now);
  ins.exec();
  return chosen;
}

std::int64_t add_thread_message(SQLite::Database& db, const std::string& thread_id,
                                const std::string& direction, const std::string& channel,
                                const std::string& address, const std::string& body,
                                const std::string& original, const std::string& message_id,
                                const std::string& delivery_id, const std::string& provider_id,
                                const std::string& author_staff, Millis at) {
  SQLite::Statement q(db,
                      "INSERT INTO thread_messages (thread_id, direction, channel, address, body, "
                      "original, message_id, delivery_id, provider_id, author_staff, created_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), ?, "
                      "?)");
  q.bind(1, thread_id);
  q.bind(2, direction);
  q.bind(3, channel);
  q.bind(4, address);
  q.bind(5, body);
  q.bind(6, original);
  q.bind(7, message_id);
  q.bind(8, delivery_id);
  q.bind(9, provider_id);
  q.bind(10, author_staff);
  q.bind(11, at);
  q.exec();
  SQLite::Statement touch(db, "UPDATE threads SET updated_at = ? WHERE id = ?");
  touch.bind(1, at);
  touch.bind(2, thread_id);
  touch.exec();
  return db.getLastInsertRowid();
}

// One outbound message queued at once: a messages row and its one delivery.
struct Outgoing {
  std::string student_id;
  std::string guardian_id;
  std::string author_staff;  // "" : none (no "Name:" prefix, no thread Reply-To)
  std::string category = kServiceCategory;
  std::string channel;
  std::string address;
  std::string from;  // SMS sender; "" : the channel's configured one
  std::string language;
  std::string text;
  std::string why;  // the first event's detail
};

struct Queued {
  std::string message_id;
  std::string delivery_id;
};

Queued queue_outgoing(SQLite::Database& db, const Outgoing& o, Millis now) {
  Queued out{new_id("msg_"), new_id("dlv_")};
  SQLite::Statement msg(db,
                        "INSERT INTO messages (id, student_id, author_staff, category, body, "
                        "translations, created_at) VALUES (?, ?, NULLIF(?, ''), ?, ?, '{}', ?)");
  msg.bind(1, out.message_id);
  msg.bind(2, o.student_id);
  msg.bind(3, o.author_staff);
  msg.bind(4, o.category);
  msg.bind(5, o.text);
  msg.bind(6, now);
  msg.exec();
  SQLite::Statement d(db,
                      "INSERT INTO deliveries (id, message_id, guardian_id, channel, address, "
                      "language, state, next_attempt_at, created_at, updated_at, from_address, "
                      "school_id) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, NULLIF(?, ''), "
                      "(SELECT school_id FROM students WHERE id = ?11))");
  d.bind(1, out.delivery_id);
  d.bind(2, out.message_id);
  d.bind(3, o.guardian_id);
  d.bind(4, o.channel);
  d.bind(5, o.address);
  d.bind(6, o.language.empty() ? std::string("en") : o.language);
  d.bind(7, now);
  d.bind(8, now);
  d.bind(9, now);
  d.bind(10, o.from);
  d.bind(11, o.student_id);
  d.exec();
  add_event(db, out.delivery_id, now, DeliveryState::kQueued, o.why);
  return out;
}

struct ThreadRow {
  std::string id, kind, school_id, staff_id, student_id, guardian_id, last_channel, last_address;
  std::optional<Millis> auto_reply_at;
};

std::optional<ThreadRow> get_thread(SQLite::Database& db, const std::string& id) {
  SQLite::Statement q(db,
                      "SELECT id, kind, school_id, staff_id, student_id, guardian_id, "
                      "last_channel, last_address, auto_reply_at FROM threads WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  ThreadRow t;
  t.id = q.getColumn(0).getString();
  t.kind = q.getColumn(1).getString();
  t.school_id = q.getColumn(2).getString();
  t.staff_id = q.getColumn(3).getString();
  t.student_id = q.getColumn(4).getString();
  t.guardian_id = q.getColumn(5).getString();
  t.last_channel = q.getColumn(6).getString();
  t.last_address = q.getColumn(7).getString();
  if (!q.getColumn(8).isNull()) t.auto_reply_at = q.getColumn(8).getInt64();
  return t;
}

std::optional<ReplySettings> read_reply_settings(SQLite::Database& db,
                                                 const std::string& staff_id) {
  SQLite::Statement q(db,
                      "SELECT office_hours, forward_replies FROM staff_reply_settings WHERE "
                      "staff_id = ?");
  q.bind(1, staff_id);
  if (!q.executeStep()) return std::nullopt;
  ReplySettings s;
  s.forward_replies = q.getColumn(1).getInt() != 0;
  if (!q.getColumn(0).isNull()) {
    auto j = json::parse(q.getColumn(0).getString(), nullptr, false);
    if (j.is_object()) {
      OfficeHours h;
      h.days = j.value("days", std::vector<int>{});
      h.start = j.value("start", "");
      h.end = j.value("end", "");
      s.office_hours = h;
    }
  }
  return s;
}

// The local ISO weekday, minute of the day and day number of `t` in `zone`.
struct LocalMoment {
  int weekday = 1;
  int minute = 0;
  long day = 0;
};
LocalMoment local_moment(const date::time_zone* zone, Millis t) {
  const auto local = zone->to_local(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(t)));
  const auto day = date::floor<date::days>(local);
  LocalMoment m;
  m.weekday = static_cast<int>(date::weekday(day).iso_encoding());
  m.minute =
      static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
  m.day = day.time_since_epoch().count();
  return m;
}

bool inside_office_hours(const OfficeHours& h, const LocalMoment& m) {
  if (std::find(h.days.begin(), h.days.end(), m.weekday) == h.days.end()) return false;
  auto start = routing::parse_clock_time(h.start);
  auto end = routing::parse_clock_time(h.end);
  if (!start || !end) return true;  // unreadable hours: never auto-reply
  return routing::LocalWindow{*start, *end}.contains(m.minute);
}

std::string staff_name(SQLite::Database& db, const std::string& staff_id) {
  SQLite::Statement q(db, "SELECT name FROM staff WHERE id = ?");
  q.bind(1, staff_id);
  return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

// What a new inbound message in a teacher thread sets off: the office hours reply (once per thread
// per local day, outside the hours) and the forward to the teacher's email.
int after_inbound(SQLite::Database& db, const ThreadRow& t, const InboundMessage& m, Millis now) {
  if (t.kind != "teacher" || t.staff_id.empty()) return 0;
  auto settings = read_reply_settings(db, t.staff_id);
  if (!settings) return 0;
  int queued = 0;
  const std::string language = guardian_language(db, t.guardian_id);
  const std::string teacher = staff_name(db, t.staff_id);
  if (settings->office_hours) {
    const School school = school_or_default(db, t.school_id);
    const auto* zone = routing::resolve_zone(school.timezone, "UTC");
    const LocalMoment at = local_moment(zone, now);
    const bool replied_today =
        t.auto_reply_at && local_moment(zone, *t.auto_reply_at).day == at.day;
    if (!inside_office_hours(*settings->office_hours, at) && !replied_today) {
      Outgoing o;
      o.student_id = t.student_id;
      o.guardian_id = t.guardian_id;
      o.channel = m.channel;
      o.address = m.from;
      o.language = language;
      if (m.channel == "sms") o.from = assign_number(db, t.id, t.school_id, m.from, now);
      if (m.channel == "sms" && o.from.empty()) o.from = m.to;
      const auto& h = *settings->office_hours;
      o.text = conversations::office_hours_reply(language, teacher, h.days, h.start, h.end);
      o.why = "office hours auto-reply";
      Queued q = queue_outgoing(db, o, now);
      add_thread_message(db, t.id, "out", m.channel, "", o.text, "", q.message_id, q.delivery_id,
                         "", "", now);
      SQLite::Statement mark(db, "UPDATE threads SET auto_reply_at = ? WHERE id = ?");
      mark.bind(1, now);
      mark.bind(2, t.id);
      mark.exec();
      ++queued;
    }
  }
  if (settings->forward_replies) {
    SQLite::Statement q(db, "SELECT email FROM staff WHERE id = ?");
    q.bind(1, t.staff_id);
    const std::string email = q.executeStep() ? q.getColumn(0).getString() : "";
    if (!email.empty()) {
      SQLite::Statement names(db,
                              "SELECT COALESCE((SELECT given_name || ' ' || family_name FROM "
                              "guardians WHERE id = ?), ''), COALESCE((SELECT given_name FROM "
                              "students WHERE id = ?), '')");
      names.bind(1, t.guardian_id);
      names.bind(2, t.student_id);
      names.executeStep();
      Outgoing o;
      o.student_id = t.student_id;
      o.guardian_id = t.guardian_id;
      o.channel = "email";
      o.address = email;
      o.language = "en";
      o.text = "A reply from " + names.getColumn(0).getString() + " (" +
               names.getColumn(1).getString() + "'s family) in homeroom thread " + t.id + ":\n\n" +
               m.text + "\n\nAnswer it in homeroom (GET /v1/threads/" + t.id + ").";
      o.why = "reply forwarded to the teacher";
      queue_outgoing(db, o, now);
      ++queued;
    }
  }
  return queued;
}

void append_inbound(SQLite::Database& db, const std::string& thread_id, const InboundMessage& m,
                    Millis at) {
  add_thread_message(db, thread_id, "in", m.channel, m.from, m.text, m.original, "", "",
                     m.provider_id, "", at);
  SQLite::Statement q(db,
                      "UPDATE threads SET last_channel = ?, last_address = ? WHERE id = ? AND "
                      "kind = 'teacher'");
  q.bind(1, m.channel);
  q.bind(2, m.from);
  q.bind(3, thread_id);
  q.exec();
  if (m.channel == "sms") {
    SQLite::Statement touch(db,
                            "UPDATE number_assignments SET last_used_at = ? WHERE thread_id = ? "
                            "AND guardian_phone = ?");
    touch.bind(1, at);
    touch.bind(2, thread_id);
    touch.bind(3, m.from);
    touch.exec();
  }
}

// Into a matched thread: the message, then what it sets off.
int deliver_to_thread(SQLite::Database& db, const std::string& thread_id, const InboundMessage& m,
                      Millis now) {
  append_inbound(db, thread_id, m, now);
  auto t = get_thread(db, thread_id);
  return t ? after_inbound(db, *t, m, now) : 0;
}

std::string office_for(SQLite::Database& db, const InboundMessage& m, Millis now) {
  auto holders = holders_of(db, m.channel, m.from);
  const std::string guardian = holders.empty() ? "" : holders.front().guardian_id;
  std::string school = m.channel == "sms" ? school_of_number(db, m.to) : "";
  if (school.empty() && !guardian.empty()) {
    school = school_of_student(db, any_student_of(db, guardian));
  }
  const std::string id = find_or_create_office_thread(db, school, m.channel, m.from, guardian, now);
  add_thread_message(db, id, "in", m.channel, m.from, m.text, m.original, "", "", m.provider_id, "",
                     now);
  return id;
}

// --- SMS keywords -------------------------------------------------------------------------------

InboundResult handle_keyword(SQLite::Database& db, const InboundMessage& m,
                             const conversations::KeywordMatch& k,
                             const std::vector<Holder>& holders, Millis now) {
  InboundResult r;
  const std::string student =
      holders.empty() ? "" : any_student_of(db, holders.front().guardian_id);
  std::string school_id = school_of_number(db, m.to);
  if (school_id.empty() && !student.empty()) school_id = school_of_student(db, student);
  const School school = school_or_default(db, school_id);
  auto reply = [&](const std::string& text, const std::string& why) {
    if (holders.empty() || student.empty()) return;  // nobody known to answer as
    Outgoing o;
    o.student_id = student;
    o.guardian_id = holders.front().guardian_id;
    o.channel = "sms";
    o.address = m.from;
    o.from = m.to;
    o.language = k.language;
    o.text = text;
    o.why = why;
    queue_outgoing(db, o, now);
    ++r.queued;
  };

  if (k.kind == conversations::Keyword::kHelp) {
    r.kind = InboundResult::Kind::kHelp;
    reply(conversations::help_answer(k.language, school.name, school.contact_line), "HELP answer");
    return r;
  }
  const bool stop = k.kind == conversations::Keyword::kStop;
  r.kind = stop ? InboundResult::Kind::kStop : InboundResult::Kind::kStart;
  SQLite::Statement change(db,
                           "UPDATE contact_points SET status = ?, status_changed_at = ?, "
                           "status_reason = ? WHERE channel = 'sms' AND address = ? AND status "
                           "= ?");
  change.bind(1, stop ? "stopped" : "active");
  change.bind(2, now);
  change.bind(3, stop ? "the family texted STOP" : "the family texted START");
  change.bind(4, m.from);
  change.bind(5, stop ? "active" : "stopped");
  const int changed = change.exec();
  if (holders.empty()) {
    add_consent_event(db, "", "sms", m.from, "", stop ? "stop" : "start", "sms-keyword", k.language,
                      now);
  }
  for (const auto& h : holders) {
    add_consent_event(db, h.guardian_id, "sms", m.from, "", stop ? "stop" : "start", "sms-keyword",
                      k.language, now);
  }
  if (stop) {
    // What is already queued for this number must not go either (urgent: the school's policy).
    SQLite::Statement pending(
        db,
        "SELECT d.id, m.category, COALESCE(sc.urgent_to_stopped, 0) FROM deliveries d "
        "JOIN messages m ON m.id = d.message_id LEFT JOIN students s ON s.id = m.student_id "
        "LEFT JOIN schools sc ON sc.id = s.school_id WHERE d.channel = 'sms' AND d.address = ? "
        "AND (d.state = 'queued' OR d.state = 'scheduled')");
    pending.bind(1, m.from);
    std::vector<std::string> ids;
    while (pending.executeStep()) {
      const std::string category = pending.getColumn(1).getString();
      if (category == kServiceCategory) continue;
      if (category == "urgent" && pending.getColumn(2).getInt() != 0) continue;
      ids.push_back(pending.getColumn(0).getString());
    }
    SQLite::Statement suppress(db,
                               "UPDATE deliveries SET state = 'suppressed', last_error = ?, "
                               "updated_at = ? WHERE id = ?");
    for (const auto& id : ids) {
      suppress.bind(1, "the family texted STOP");
      suppress.bind(2, now);
      suppress.bind(3, id);
      suppress.exec();
      suppress.reset();
      add_event(db, id, now, DeliveryState::kSuppressed, "the family texted STOP");
    }
  }
  // One confirmation per change: a second STOP (or a provider's retry) confirms nothing again.
  if (changed > 0) {
    reply(stop ? conversations::stop_confirmation(k.language, school.name)
               : conversations::start_confirmation(k.language, school.name),
          stop ? "STOP confirmation" : "START confirmation");
  }
  return r;
}

// --- SMS routing --------------------------------------------------------------------------------

struct Candidate {
  std::string thread_id;
  std::string staff_name;
  std::string student_name;
  std::string guardian_id;
  std::string student_id;
};

std::vector<Candidate> candidates_for(SQLite::Database& db, const std::string& phone,
                                      const std::string& number) {
  std::vector<Candidate> out;
  auto collect = [&](SQLite::Statement& q) {
    while (q.executeStep()) {
      out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                     q.getColumn(2).getString(), q.getColumn(3).getString(),
                     q.getColumn(4).getString()});
    }
  };
  SQLite::Statement assigned(
      db,
      "SELECT t.id, COALESCE(st.name, ''), COALESCE(s.given_name, ''), t.guardian_id, "
      "t.student_id FROM number_assignments a JOIN threads t ON t.id = a.thread_id "
      "LEFT JOIN staff st ON st.id = t.staff_id LEFT JOIN students s ON s.id = t.student_id "
      "WHERE a.guardian_phone = ? AND a.pool_number = ? ORDER BY a.last_used_at DESC, t.id");
  assigned.bind(1, phone);
  assigned.bind(2, number);
  collect(assigned);
  if (!out.empty()) return out;
  // No pool assignment (a school without a pool, or a number homeroom never sent from to this
  // phone): the teacher threads of whoever holds the phone.
  SQLite::Statement holders(
      db,
      "SELECT t.id, COALESCE(st.name, ''), COALESCE(s.given_name, ''), t.guardian_id, "
      "t.student_id FROM threads t JOIN contact_points cp ON cp.guardian_id = t.guardian_id "
      "AND cp.channel = 'sms' AND cp.address = ? LEFT JOIN staff st ON st.id = t.staff_id "
      "LEFT JOIN students s ON s.id = t.student_id WHERE t.kind = 'teacher' "
      "ORDER BY t.updated_at DESC, t.id");
  holders.bind(1, phone);
  collect(holders);
  return out;
}

InboundResult route_sms(SQLite::Database& db, const InboundMessage& m, Millis now) {
  InboundResult r;
  // An answer to the question asked before?
  SQLite::Statement held(db,
                         "SELECT id, candidates, body, original, provider_id, received_at FROM "
                         "held_inbound WHERE guardian_phone = ? AND pool_number = ? ORDER BY id");
  held.bind(1, m.from);
  held.bind(2, m.to);
  std::vector<InboundMessage> waiting;
  std::vector<std::string> held_candidates;
  while (held.executeStep()) {
    if (held_candidates.empty()) {
      held_candidates = json::parse(held.getColumn(1).getString()).get<std::vector<std::string>>();
    }
    InboundMessage w = m;
    w.text = held.getColumn(2).getString();
    w.original = held.getColumn(3).getString();
    w.provider_id = held.getColumn(4).getString();
    w.received_at = held.getColumn(5).getInt64();
    waiting.push_back(std::move(w));
  }
  if (!waiting.empty()) {
    auto choice = conversations::parse_choice(m.text, static_cast<int>(held_candidates.size()));
    if (!choice) {
      // Not an answer: held with the others (the question is not asked twice).
      SQLite::Statement ins(db,
                            "INSERT INTO held_inbound (guardian_phone, pool_number, candidates, "
                            "body, original, provider_id, received_at) VALUES (?, ?, ?, ?, ?, ?, "
                            "?)");
      ins.bind(1, m.from);
      ins.bind(2, m.to);
      ins.bind(3, json(held_candidates).dump());
      ins.bind(4, m.text);
      ins.bind(5, m.original);
      ins.bind(6, m.provider_id);
      ins.bind(7, now);
      ins.exec();
      r.kind = InboundResult::Kind::kHeld;
      return r;
    }
    r.kind = InboundResult::Kind::kChoice;
    r.thread_id = held_candidates[static_cast<std::size_t>(*choice - 1)];
    for (const auto& w : waiting) append_inbound(db, r.thread_id, w, w.received_at);
    SQLite::Statement drop(db,
                           "DELETE FROM held_inbound WHERE guardian_phone = ? AND pool_number = ?");
    drop.bind(1, m.from);
    drop.bind(2, m.to);
    drop.exec();
    r.queued += deliver_to_thread(db, r.thread_id, m, now);
    return r;
  }

  auto candidates = candidates_for(db, m.from, m.to);
  if (candidates.size() == 1) {
    r.kind = InboundResult::Kind::kThread;
    r.thread_id = candidates.front().thread_id;
    r.queued += deliver_to_thread(db, r.thread_id, m, now);
    return r;
  }
  if (candidates.empty()) {
    r.kind = InboundResult::Kind::kOffice;
    r.thread_id = office_for(db, m, now);
    return r;
  }
  // Several threads share this pair: hold the message and ask which teacher it is for.
  std::vector<std::string> ids;
  std::vector<std::string> names;
  std::map<std::string, int> name_count;
  for (const auto& c : candidates) ++name_count[c.staff_name];
  for (const auto& c : candidates) {
    ids.push_back(c.thread_id);
    std::string name = c.staff_name.empty() ? "the school" : c.staff_name;
    if (name_count[c.staff_name] > 1 && !c.student_name.empty())
      name += " (" + c.student_name + ")";
    names.push_back(name);
  }
  SQLite::Statement ins(db,
                        "INSERT INTO held_inbound (guardian_phone, pool_number, candidates, body, "
                        "original, provider_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  ins.bind(1, m.from);
  ins.bind(2, m.to);
  ins.bind(3, json(ids).dump());
  ins.bind(4, m.text);
  ins.bind(5, m.original);
  ins.bind(6, m.provider_id);
  ins.bind(7, now);
  ins.exec();
  const Candidate& first = candidates.front();
  Outgoing o;
  o.student_id = first.student_id;
  o.guardian_id = first.guardian_id;
  o.channel = "sms";
  o.address = m.from;
  o.from = m.to;
  o.language = guardian_language(db, first.guardian_id);
  o.text = conversations::choice_question(o.language, names);
  o.why = "which teacher? question";
  queue_outgoing(db, o, now);
  r.kind = InboundResult::Kind::kHeld;
  r.queued = 1;
  return r;
}

// --- email routing ------------------------------------------------------------------------------

// "reply+TOKEN@domain" (any case) -> "token"; "" otherwise.
std::string reply_token_of(const std::string& to) {
  std::string address = to;
  if (auto lt = address.find('<'); lt != std::string::npos) {
    auto gt = address.find('>', lt);
    address = address.substr(lt + 1, gt == std::string::npos ? std::string::npos : gt - lt - 1);
  }
  const auto at = address.rfind('@');
  if (at == std::string::npos || at < 6) return {};
  std::string local = address.substr(0, at);
  for (char& c : local) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  while (!local.empty() && (local.front() == ' ' || local.front() == '"')) local.erase(0, 1);
  if (local.rfind("reply+", 0) != 0) return {};
  std::string token = local.substr(6);
  if (token.empty() || token.size() > 64) return {};
  return token;
}

std::string thread_by_token(SQLite::Database& db, const std::string& token) {
  SQLite::Statement q(db, "SELECT id FROM threads WHERE reply_token = ?");
  q.bind(1, token);
  return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

// Threads created since tokens were last filled in get theirs (tokens are deterministic, so this
// is the index of every token homeroom can have issued).
void fill_reply_tokens(SQLite::Database& db, const ConversationOptions& options) {
  if (!options.reply_token) return;
  std::vector<std::array<std::string, 4>> missing;
  SQLite::Statement q(db,
                      "SELECT id, staff_id, student_id, guardian_id FROM threads WHERE kind = "
                      "'teacher' AND reply_token IS NULL");
  while (q.executeStep()) {
    missing.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                       q.getColumn(2).getString(), q.getColumn(3).getString()});
  }
  SQLite::Statement set(db, "UPDATE threads SET reply_token = ? WHERE id = ?");
  for (const auto& t : missing) {
    set.bind(1, options.reply_token(t[1], t[2], t[3]));
    set.bind(2, t[0]);
    set.exec();
    set.reset();
  }
}

// "<dlv_x@domain>" -> the thread the delivery's message belongs to (for its guardian).
std::string thread_by_message_id(SQLite::Database& db, std::string id) {
  while (!id.empty() && (id.front() == '<' || id.front() == ' ')) id.erase(0, 1);
  while (!id.empty() && (id.back() == '>' || id.back() == ' ')) id.pop_back();
  const auto at = id.find('@');
  if (at == std::string::npos) return {};
  SQLite::Statement q(db,
                      "SELECT tm.thread_id FROM deliveries d JOIN thread_messages tm ON "
                      "tm.message_id = d.message_id JOIN threads t ON t.id = tm.thread_id WHERE "
                      "d.id = ? AND (t.guardian_id = d.guardian_id OR t.kind = 'office') "
                      "ORDER BY tm.id LIMIT 1");
  q.bind(1, id.substr(0, at));
  return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

InboundResult route_email(SQLite::Database& db, const InboundMessage& m,
                          const ConversationOptions& options, Millis now) {
  InboundResult r;
  // mailto:unsubscribe+TOKEN@ (List-Unsubscribe): the same as POST /u/TOKEN. An unknown token
  // goes on to the office inbox like any mail that matches nothing.
  if (const std::string token = unsubscribe_token_of_address(m.to);
      !token.empty() && options.unsubscribe_tokens.make) {
    if (auto target = find_unsubscribe_target(db, token, options.unsubscribe_tokens)) {
      record_unsubscribe(db, *target, m.from, now);
      r.kind = InboundResult::Kind::kStop;
      return r;
    }
  }
  std::string thread;
  if (const std::string token = reply_token_of(m.to); !token.empty()) {
    thread = thread_by_token(db, token);
    if (thread.empty()) {
      fill_reply_tokens(db, options);
      thread = thread_by_token(db, token);
    }
  }
  if (thread.empty() && !m.in_reply_to.empty()) thread = thread_by_message_id(db, m.in_reply_to);
  for (auto it = m.references.rbegin(); thread.empty() && it != m.references.rend(); ++it) {
    thread = thread_by_message_id(db, *it);
  }
  if (thread.empty()) {
    r.kind = InboundResult::Kind::kOffice;
    r.thread_id = office_for(db, m, now);
    return r;
  }
  auto t = get_thread(db, thread);
  r.thread_id = thread;
  if (t && t->kind == "office") {
    r.kind = InboundResult::Kind::kOffice;
    add_thread_message(db, thread, "in", m.channel, m.from, m.text, m.original, "", "",
                       m.provider_id, "", now);
    return r;
  }
  r.kind = InboundResult::Kind::kThread;
  r.queued += deliver_to_thread(db, thread, m, now);
  return r;
}

InboundResult receive_inbound(SQLite::Database& db, const InboundMessage& m,
                              const ConversationOptions& options, Millis now) {
  InboundResult r;
  if (!m.provider_id.empty()) {
    SQLite::Statement dedup(db,
                            "INSERT INTO inbound_dedup (source, provider_id, received_at) VALUES "
                            "(?, ?, ?) ON CONFLICT DO NOTHING");
    dedup.bind(1, m.source);
    dedup.bind(2, m.provider_id);
    dedup.bind(3, now);
    if (dedup.exec() == 0) {
      r.kind = InboundResult::Kind::kDuplicate;
      return r;
    }
  }
  if (m.channel == "sms") {
    auto holders = holders_of(db, "sms", m.from);
    auto keyword =
        conversations::match_keyword(m.text, holders.empty() ? "" : holders.front().language);
    if (keyword.kind != conversations::Keyword::kNone) {
      return handle_keyword(db, m, keyword, holders, now);
    }
    return route_sms(db, m, now);
  }
  return route_email(db, m, options, now);
}

// Held messages whose question nobody answered within the window: each (number, pool number)
// group whose first message is that old goes to the office inbox, in order, with its times.
int release_unanswered_held(SQLite::Database& db, Millis now) {
  std::vector<std::pair<std::string, std::string>> pairs;
  {
    SQLite::Statement q(db,
                        "SELECT guardian_phone, pool_number FROM held_inbound GROUP BY "
                        "guardian_phone, pool_number HAVING MIN(received_at) <= ?");
    q.bind(1, now - kHeldAnswerWindow);
    while (q.executeStep())
      pairs.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
  }
  int moved = 0;
  for (const auto& [phone, pool] : pairs) {
    SQLite::Statement held(db,
                           "SELECT body, original, provider_id, received_at FROM held_inbound "
                           "WHERE guardian_phone = ? AND pool_number = ? ORDER BY id");
    held.bind(1, phone);
    held.bind(2, pool);
    while (held.executeStep()) {
      InboundMessage m;
      m.channel = "sms";
      m.source = "held";
      m.from = phone;
      m.to = pool;
      m.text = held.getColumn(0).getString();
      m.original = held.getColumn(1).getString();
      m.provider_id = held.getColumn(2).getString();
      m.received_at = held.getColumn(3).getInt64();
      office_for(db, m, m.received_at);
      ++moved;
    }
    SQLite::Statement drop(db,
                           "DELETE FROM held_inbound WHERE guardian_phone = ? AND pool_number = ?");
    drop.bind(1, phone);
    drop.bind(2, pool);
    drop.exec();
  }
  return moved;
}

}  // namespace

void ConversationStore::release_unanswered(Done<int> done) {
  auto moved = std::make_shared<int>(0);
  store_.writer().submit(
      [this, moved](SQLite::Database& db) {
        *moved = release_unanswered_held(db, clock_.now());
        return Status{};
      },
      [moved, done = std::move(done)](Status s) {
        if (!s.is_ok()) return done(s);
        if (*moved > 0) {
          spdlog::info("held replies: {} unanswered for 24 h moved to the office inbox", *moved);
        }
        done(*moved);
      });
}

void link_note_to_threads(SQLite::Database& db, const NewMessage& message,
                          const std::vector<std::pair<std::string, PlannedDelivery>>& deliveries,
                          Millis now) {
  if (message.author_staff.empty()) return;
  std::map<std::string, std::string> thread_of;  // guardian -> thread
  SQLite::Statement set_from(db, "UPDATE deliveries SET from_address = ? WHERE id = ?");
  for (const auto& [delivery_id, d] : deliveries) {
    auto [it, added] = thread_of.emplace(d.guardian_id, "");
    if (added) {
      it->second = find_or_create_teacher_thread(db, message.author_staff, message.student_id,
                                                 d.guardian_id, now);
      add_thread_message(db, it->second, "out", "", "", message.body, "", message.id, delivery_id,
                         "", message.author_staff, now);
    }
    if (d.channel == "sms" && d.state != DeliveryState::kSuppressed) {
      auto t = get_thread(db, it->second);
      const std::string from = assign_number(db, it->second, t ? t->school_id : "", d.address, now);
      if (!from.empty()) {
        set_from.bind(1, from);
        set_from.bind(2, delivery_id);
        set_from.exec();
        set_from.reset();
      }
    }
  }
}

ConversationStore::ConversationStore(Store& store, std::filesystem::path db_path,
                                     const Clock& clock, ConversationOptions options)
    : store_(store), path_(std::move(db_path)), clock_(clock), options_(std::move(options)) {}

ConversationStore::~ConversationStore() = default;

template <typename Fn>
auto ConversationStore::read(Fn&& fn) -> decltype(fn(std::declval<SQLite::Database&>())) {
  try {
    std::lock_guard lock(read_mu_);
    if (!reader_) reader_ = open_connection(path_.string(), /*read_only=*/true);
    return fn(*reader_);
  } catch (const std::exception& e) {
    return Status::internal(std::string("database: ") + e.what());
  }
}

void ConversationStore::handle(InboundMessage message, std::function<void(Status)> done) {
  receive(std::move(message), [done = std::move(done)](Result<InboundResult> r) {
    done(r.is_ok() ? Status{} : r.status());
  });
}

void ConversationStore::receive(InboundMessage message, Done<InboundResult> done) {
  auto result = std::make_shared<InboundResult>();
  auto m = std::make_shared<InboundMessage>(std::move(message));
  store_.writer().submit(
      [this, m, result](SQLite::Database& db) {
        Millis now = clock_.now();
        *result = receive_inbound(db, *m, options_, now);
        return Status{};
      },
      [this, m, result, done = std::move(done)](Status s) {
        if (!s.is_ok()) {
          spdlog::error("inbound {} from {} via {}: not recorded: {}", m->channel,
                        mask_address(m->from), m->source, s.to_string());
          done(s);
          return;
        }
        spdlog::info("inbound {} {} from {} via {}: {}{}{}", m->channel, m->provider_id,
                     mask_address(m->from), m->source, inbound_kind_name(result->kind),
                     result->thread_id.empty() ? "" : " ", result->thread_id);
        if (result->queued > 0 && options_.on_new_work) options_.on_new_work();
        done(*result);
      });
}

Result<std::vector<ThreadSummary>> ConversationStore::list_threads(const Principal& principal) {
  return read([&](SQLite::Database& db) -> Result<std::vector<ThreadSummary>> {
    std::string where;
    std::string arg;
    if (principal.role != Role::kAdmin) {
      if (principal.staff_id.empty()) return std::vector<ThreadSummary>{};
      where = "t.kind = 'teacher' AND t.staff_id = ?";
      arg = principal.staff_id;
    } else {
      SQLite::Statement s(db, "SELECT COALESCE(school_id, '') FROM staff WHERE id = ?");
      s.bind(1, principal.staff_id);
      if (!principal.staff_id.empty() && s.executeStep()) arg = s.getColumn(0).getString();
      where = arg.empty() ? "1" : "t.school_id = ?";
    }
    SQLite::Statement q(
        db,
        "SELECT t.id, t.kind, t.school_id, t.staff_id, COALESCE(st.name, ''), t.student_id, "
        "COALESCE(s.given_name || ' ' || s.family_name, ''), t.guardian_id, "
        "COALESCE(g.given_name || ' ' || g.family_name, ''), t.last_channel, t.last_address, "
        "(SELECT COUNT(*) FROM thread_messages tm WHERE tm.thread_id = t.id AND tm.direction = "
        "'in' AND tm.read_at IS NULL), t.updated_at FROM threads t "
        "LEFT JOIN staff st ON st.id = t.staff_id LEFT JOIN students s ON s.id = t.student_id "
        "LEFT JOIN guardians g ON g.id = t.guardian_id WHERE " +
            where + " ORDER BY t.updated_at DESC, t.id LIMIT 1000");
    if (!arg.empty()) q.bind(1, arg);
    std::vector<ThreadSummary> out;
    while (q.executeStep()) {
      ThreadSummary t;
      t.id = q.getColumn(0).getString();
      t.kind = q.getColumn(1).getString();
      t.school_id = q.getColumn(2).getString();
      t.staff_id = q.getColumn(3).getString();
      t.staff_name = q.getColumn(4).getString();
      t.student_id = q.getColumn(5).getString();
      t.student_name = q.getColumn(6).getString();
      t.guardian_id = q.getColumn(7).getString();
      t.guardian_name = q.getColumn(8).getString();
      t.last_channel = q.getColumn(9).getString();
      t.last_address = q.getColumn(10).getString();
      t.unread = q.getColumn(11).getInt();
      t.updated_at = q.getColumn(12).getInt64();
      out.push_back(std::move(t));
    }
    return out;
  });
}

namespace {

bool may_see(SQLite::Database& db, const ThreadRow& t, const Principal& p) {
  if (p.role == Role::kAdmin) {
    if (p.staff_id.empty()) return true;
    SQLite::Statement s(db, "SELECT COALESCE(school_id, '') FROM staff WHERE id = ?");
    s.bind(1, p.staff_id);
    const std::string school = s.executeStep() ? s.getColumn(0).getString() : "";
    return school.empty() || school == t.school_id;
  }
  return t.kind == "teacher" && !p.staff_id.empty() && t.staff_id == p.staff_id;
}

}  // namespace

void ConversationStore::open_thread(std::string thread_id, Principal principal,
                                    Done<ThreadView> done) {
  auto view = std::make_shared<ThreadView>();
  store_.writer().submit(
      [this, thread_id, principal, view](SQLite::Database& db) -> Status {
        auto t = get_thread(db, thread_id);
        if (!t || !may_see(db, *t, principal)) {
          return Status::not_found("thread " + thread_id + " not found");
        }
        SQLite::Statement q(
            db,
            "SELECT tm.id, tm.direction, CASE WHEN tm.direction = 'out' THEN "
            "COALESCE(d.channel, tm.channel) ELSE tm.channel END, tm.body, tm.original, "
            "tm.author_staff, COALESCE(tm.message_id, ''), COALESCE(tm.delivery_id, ''), "
            "COALESCE(d.state, ''), tm.created_at, tm.read_at FROM thread_messages tm "
            "LEFT JOIN deliveries d ON d.id = tm.delivery_id WHERE tm.thread_id = ? "
            "ORDER BY tm.created_at, tm.id");
        q.bind(1, thread_id);
        while (q.executeStep()) {
          ThreadMessageView v;
          v.id = q.getColumn(0).getInt64();
          v.direction = q.getColumn(1).getString();
          v.channel = q.getColumn(2).getString();
          v.body = q.getColumn(3).getString();
          v.original = q.getColumn(4).getString();
          v.author_staff = q.getColumn(5).getString();
          v.message_id = q.getColumn(6).getString();
          v.delivery_id = q.getColumn(7).getString();
          v.delivery_state = q.getColumn(8).getString();
          v.created_at = q.getColumn(9).getInt64();
          if (!q.getColumn(10).isNull()) v.read_at = q.getColumn(10).getInt64();
          view->messages.push_back(std::move(v));
        }
        SQLite::Statement mark(db,
                               "UPDATE thread_messages SET read_at = ? WHERE thread_id = ? AND "
                               "direction = 'in' AND read_at IS NULL");
        mark.bind(1, clock_.now());
        mark.bind(2, thread_id);
        mark.exec();
        auto& s = view->thread;
        s.id = t->id;
        s.kind = t->kind;
        s.school_id = t->school_id;
        s.staff_id = t->staff_id;
        s.staff_name = staff_name(db, t->staff_id);
        s.student_id = t->student_id;
        s.guardian_id = t->guardian_id;
        s.last_channel = t->last_channel;
        s.last_address = t->last_address;
        SQLite::Statement names(db,
                                "SELECT COALESCE((SELECT given_name || ' ' || family_name FROM "
                                "students WHERE id = ?), ''), COALESCE((SELECT given_name || ' ' "
                                "|| family_name FROM guardians WHERE id = ?), '')");
        names.bind(1, t->student_id);
        names.bind(2, t->guardian_id);
        if (names.executeStep()) {
          s.student_name = names.getColumn(0).getString();
          s.guardian_name = names.getColumn(1).getString();
        }
        return Status{};
      },
      [view, done = std::move(done)](Status s) {
        done(s.is_ok() ? Result<ThreadView>(std::move(*view)) : Result<ThreadView>(std::move(s)));
      });
}

void ConversationStore::post_reply(std::string thread_id, Principal principal, std::string body,
                                   Done<std::string> done) {
  auto id = std::make_shared<std::string>();
  store_.writer().submit(
      [this, thread_id, principal, body = std::move(body), id](SQLite::Database& db) -> Status {
        const Millis now = clock_.now();
        auto t = get_thread(db, thread_id);
        if (!t || !may_see(db, *t, principal)) {
          return Status::not_found("thread " + thread_id + " not found");
        }
        std::string channel = t->last_channel;
        std::string address = t->last_address;
        if (channel.empty()) {
          // The family never wrote: answer where the last note to them went.
          SQLite::Statement last(db,
                                 "SELECT d.channel, d.address FROM thread_messages tm JOIN "
                                 "deliveries d ON d.message_id = tm.message_id AND d.guardian_id "
                                 "= ? WHERE tm.thread_id = ? AND tm.direction = 'out' AND "
                                 "d.state NOT IN ('suppressed', 'failed', 'dead') "
                                 "ORDER BY tm.id DESC, d.rowid DESC LIMIT 1");
          last.bind(1, t->guardian_id);
          last.bind(2, thread_id);
          if (last.executeStep()) {
            channel = last.getColumn(0).getString();
            address = last.getColumn(1).getString();
          }
        }
        if (channel.empty() || address.empty()) {
          return Status::conflict("this family has no channel to answer on yet");
        }
        const std::string student =
            t->student_id.empty() ? any_student_of(db, t->guardian_id) : t->student_id;
        if (student.empty() || t->guardian_id.empty()) {
          return Status::conflict("the sender is not on the roster; answer them directly");
        }
        if (channel == "sms") {
          SQLite::Statement stopped(db,
                                    "SELECT 1 FROM contact_points WHERE channel = 'sms' AND "
                                    "address = ? AND status = 'stopped'");
          stopped.bind(1, address);
          if (stopped.executeStep()) {
            return Status::conflict("the family texted STOP: homeroom sends them no more SMS");
          }
        }
        Outgoing o;
        o.student_id = student;
        o.guardian_id = t->guardian_id;
        // The thread's teacher signs it, so an email carries the thread's Reply-To token.
        o.author_staff = t->staff_id;
        o.category = "note";
        o.channel = channel;
        o.address = address;
        o.language = guardian_language(db, t->guardian_id);
        o.text = body;
        o.why = "reply in thread " + thread_id;
        if (channel == "sms") o.from = assign_number(db, thread_id, t->school_id, address, now);
        Queued q = queue_outgoing(db, o, now);
        add_thread_message(db, thread_id, "out", channel, "", body, "", q.message_id, q.delivery_id,
                           "", principal.staff_id.empty() ? t->staff_id : principal.staff_id, now);
        *id = q.message_id;
        return Status{};
      },
      [this, id, done = std::move(done)](Status s) {
        if (s.is_ok() && options_.on_new_work) options_.on_new_work();
        done(s.is_ok() ? Result<std::string>(std::move(*id)) : Result<std::string>(std::move(s)));
      });
}

void ConversationStore::put_reply_settings(std::string staff_id, ReplySettings settings,
                                           StatusDone done) {
  store_.writer().submit(
      [staff_id = std::move(staff_id), settings = std::move(settings)](SQLite::Database& db) {
        SQLite::Statement q(db,
                            "INSERT INTO staff_reply_settings (staff_id, office_hours, "
                            "forward_replies) VALUES (?, ?, ?) ON CONFLICT (staff_id) DO UPDATE "
                            "SET office_hours = excluded.office_hours, forward_replies = "
                            "excluded.forward_replies");
        q.bind(1, staff_id);
        if (settings.office_hours) {
          const auto& h = *settings.office_hours;
          q.bind(2, json{{"days", h.days}, {"start", h.start}, {"end", h.end}}.dump());
        } else {
          q.bind(2);
        }
        q.bind(3, settings.forward_replies ? 1 : 0);
        q.exec();
        return Status{};
      },
      std::move(done));
}

Result<ReplySettings> ConversationStore::reply_settings(const std::string& staff_id) {
  return read([&](SQLite::Database& db) -> Result<ReplySettings> {
    return read_reply_settings(db, staff_id).value_or(ReplySettings{});
  });
}

}  // namespace homeroom::store
