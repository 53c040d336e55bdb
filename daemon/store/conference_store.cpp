// ConferenceStore's SQL: slots, planning their reminders, cancelling them (migration 0012).
#include "store/conference_store.h"

#include <SQLiteCpp/Statement.h>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "render/conference_text.h"
#include "routing/conference_reminders.h"
#include "store/conversation_store.h"
#include "store/database.h"
#include "store/queries.h"

namespace homeroom::store {
namespace {

constexpr const char* kNotSent = "state IN ('planned', 'scheduled', 'queued')";

std::optional<ConferenceView> load_conference(SQLite::Database& db, const std::string& id) {
  SQLite::Statement q(db,
                      "SELECT student_id, staff_id, starts_at, duration_minutes, place, note, "
                      "state, created_at, updated_at, cancelled_at FROM conferences WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  ConferenceView v;
  Conference& c = v.conference;
  c.id = id;
  c.student_id = q.getColumn(0).getString();
  c.staff_id = q.getColumn(1).getString();
  c.starts_at = q.getColumn(2).getInt64();
  c.duration_minutes = q.getColumn(3).getInt();
  c.place = q.getColumn(4).getString();
  c.note = q.getColumn(5).getString();
  v.state = q.getColumn(6).getString();
  v.created_at = q.getColumn(7).getInt64();
  v.updated_at = q.getColumn(8).getInt64();
  if (!q.getColumn(9).isNull()) v.cancelled_at = q.getColumn(9).getInt64();
  return v;
}

// The slot with its reminders and their deliveries (events included).
std::optional<ConferenceView> conference_view(SQLite::Database& db, const std::string& id) {
  auto v = load_conference(db, id);
  if (!v) return v;
  SQLite::Statement q(db,
                      "SELECT message_id, offset_minutes, starts_at, timezone, created_at, "
                      "cancelled_at FROM conference_reminders WHERE conference_id = ? "
                      "ORDER BY rowid");
  q.bind(1, id);
  while (q.executeStep()) {
    ConferenceReminderView r;
    r.message_id = q.getColumn(0).getString();
    r.minutes_before = q.getColumn(1).getInt();
    r.starts_at = q.getColumn(2).getInt64();
    r.timezone = q.getColumn(3).getString();
    r.created_at = q.getColumn(4).getInt64();
    if (!q.getColumn(5).isNull()) r.cancelled_at = q.getColumn(5).getInt64();
    if (auto message = get_message(db, r.message_id)) r.deliveries = std::move(message->deliveries);
    v->reminders.push_back(std::move(r));
  }
  return v;
}

bool same_slot(const Conference& a, const Conference& b) {
  return a.student_id == b.student_id && a.staff_id == b.staff_id && a.starts_at == b.starts_at &&
         a.duration_minutes == b.duration_minutes && a.place == b.place && a.note == b.note;
}

// Suppresses the deliveries of the slot's reminders that no provider has yet, and marks the
// reminders cancelled. A delivery `sending` right now is with a provider: its outcome is recorded.
void cancel_reminders(SQLite::Database& db, const std::string& id, const std::string& why,
                      Millis now) {
  const std::string of_slot =
      "message_id IN (SELECT message_id FROM conference_reminders WHERE conference_id = ?2)";
  SQLite::Statement events(db,
                           "INSERT INTO delivery_events (delivery_id, at, state, detail) SELECT "
                           "id, ?1, 'suppressed', ?3 FROM deliveries WHERE " +
                               of_slot + " AND " + kNotSent + " ORDER BY rowid");
  events.bind(1, now);
  events.bind(2, id);
  events.bind(3, why);
  events.exec();
  SQLite::Statement up(db,
                       "UPDATE deliveries SET state = 'suppressed', last_error = ?3, "
                       "updated_at = ?1 WHERE " +
                           of_slot + " AND " + kNotSent);
  up.bind(1, now);
  up.bind(2, id);
  up.bind(3, why);
  up.exec();
  SQLite::Statement mark(db,
                         "UPDATE conference_reminders SET cancelled_at = ?1 WHERE "
                         "conference_id = ?2 AND cancelled_at IS NULL");
  mark.bind(1, now);
  mark.bind(2, id);
  mark.exec();
}

// Plans the slot's reminders and inserts them: one message per (rule, time zone) with its
// deliveries, linked to the teacher's threads. Returns the deliveries that will be sent.
int plan_reminders(SQLite::Database& db, const Conference& c, const StudentRoster& roster,
                   const Staff& staff, const std::set<std::string>& channels, Millis now) {
  const std::vector<int> rules =
      roster.school ? roster.school->conference_reminders : School{}.conference_reminders;
  const std::string default_language = roster.school ? roster.school->language : "en";
  routing::PlannerOptions options;
  options.available_channels = channels;
  const auto& languages = render::conference_reminder_languages();
  auto planned = routing::plan_conference_reminders(roster, c, rules, languages, now, options);
  const render::ConferenceReminderFacts facts{roster.student.given_name, staff.name, c.starts_at,
                                              c.duration_minutes,        c.place,    c.note};

  SQLite::Statement ins_msg(db,
                            "INSERT INTO messages (id, student_id, author_staff, category, body, "
                            "translations, send_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  SQLite::Statement ins(db,
                        "INSERT INTO deliveries (id, message_id, guardian_id, channel, address, "
                        "language, state, next_attempt_at, created_at, updated_at, last_error, "
                        "school_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''))");
  SQLite::Statement ins_reminder(db,
                                 "INSERT INTO conference_reminders (message_id, conference_id, "
                                 "offset_minutes, starts_at, timezone, created_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?)");
  EventLog events(db);
  int to_send = 0;
  std::vector<bool> done(planned.size(), false);
  for (std::size_t first = 0; first < planned.size(); ++first) {
    if (done[first]) continue;
    const int minutes = planned[first].minutes_before;
    const std::string& zone = planned[first].timezone;
    NewMessage m;
    m.id = new_id("msg_");
    m.student_id = c.student_id;
    m.author_staff = c.staff_id;
    m.category = "conference";
    m.body = render::conference_reminder_text(default_language, zone, facts);
    for (const auto& language : languages) {
      m.translations[language] = render::conference_reminder_text(language, zone, facts);
    }
    std::vector<std::pair<std::string, PlannedDelivery>> deliveries;
    for (std::size_t i = first; i < planned.size(); ++i) {
      if (done[i] || planned[i].minutes_before != minutes || planned[i].timezone != zone) continue;
      done[i] = true;
      PlannedDelivery& p = planned[i].delivery;
      if (p.state != DeliveryState::kSuppressed) {
        ++to_send;
        if (!m.send_at || p.not_before < *m.send_at) m.send_at = p.not_before;
      }
      deliveries.emplace_back(new_id("dlv_"), std::move(p));
    }
    ins_msg.bind(1, m.id);
    ins_msg.bind(2, m.student_id);
    ins_msg.bind(3, m.author_staff);
    ins_msg.bind(4, m.category);
    ins_msg.bind(5, m.body);
    ins_msg.bind(6, nlohmann::json(m.translations).dump());
    if (m.send_at) {
      ins_msg.bind(7, *m.send_at);
    } else {
      ins_msg.bind(7);
    }
    ins_msg.bind(8, now);
    ins_msg.exec();
    ins_msg.reset();
    for (const auto& [id, p] : deliveries) {
      ins.bind(1, id);
      ins.bind(2, m.id);
      ins.bind(3, p.guardian_id);
      ins.bind(4, p.channel);
      ins.bind(5, p.address);
      ins.bind(6, p.language);
      ins.bind(7, state_name(p.state));
      ins.bind(8, std::max(now, p.not_before));
      ins.bind(9, now);
      ins.bind(10, now);
      if (p.state == DeliveryState::kSuppressed) {
        ins.bind(11, p.detail);
      } else {
        ins.bind(11);
      }
      ins.bind(12, roster.student.school_id);
      ins.exec();
      ins.reset();
      events.add(id, now, p.state, p.detail);
    }
    // A family's reply to the reminder reaches the teacher's thread (SMS from its pool number).
    link_note_to_threads(db, m, deliveries, now);
    ins_reminder.bind(1, m.id);
    ins_reminder.bind(2, c.id);
    ins_reminder.bind(3, minutes);
    ins_reminder.bind(4, c.starts_at);
    ins_reminder.bind(5, zone);
    ins_reminder.bind(6, now);
    ins_reminder.exec();
    ins_reminder.reset();
  }
  return to_send;
}

struct Upserted {
  ConferenceChange change = ConferenceChange::kUnchanged;
  int reminders = 0;
};

Result<Upserted> upsert_conference(SQLite::Database& db, const Conference& c,
                                   const std::set<std::string>& channels, Millis now) {
  auto stored = load_conference(db, c.id);
  if (stored && stored->state == "scheduled" && same_slot(stored->conference, c)) {
    return Upserted{};
  }
  auto roster = get_student_roster(db, c.student_id);
  if (!roster) return Status::invalid("student_id", "unknown student " + c.student_id);
  auto staff = get_staff(db, c.staff_id);
  if (!staff) return Status::invalid("staff_id", "unknown staff member " + c.staff_id);
  if (c.starts_at <= now) {
    return Status::invalid("starts_at", "must be in the future (a new or changed conference)");
  }
  if (stored) {
    const bool moved = stored->conference.starts_at != c.starts_at;
    cancel_reminders(
        db, c.id, moved ? "cancelled: the conference moved" : "cancelled: the conference changed",
        now);
  }
  SQLite::Statement q(
      db,
      "INSERT INTO conferences (id, student_id, staff_id, starts_at, "
      "duration_minutes, place, note, state, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'scheduled', ?8, ?8) "
      "ON CONFLICT (id) DO UPDATE SET student_id = excluded.student_id, "
      "staff_id = excluded.staff_id, starts_at = excluded.starts_at, "
      "duration_minutes = excluded.duration_minutes, place = excluded.place, "
      "note = excluded.note, state = 'scheduled', updated_at = excluded.updated_at, "
      "cancelled_at = NULL");
  q.bind(1, c.id);
  q.bind(2, c.student_id);
  q.bind(3, c.staff_id);
  q.bind(4, c.starts_at);
  q.bind(5, c.duration_minutes);
  q.bind(6, c.place);
  q.bind(7, c.note);
  q.bind(8, now);
  q.exec();
  Upserted out;
  out.change = stored ? ConferenceChange::kUpdated : ConferenceChange::kCreated;
  out.reminders = plan_reminders(db, c, *roster, *staff, channels, now);
  return out;
}

Status cancel_conference(SQLite::Database& db, const std::string& id, Millis now) {
  auto stored = load_conference(db, id);
  if (!stored) return Status::not_found("conference " + id + " not found");
  if (stored->state == "cancelled") return {};
  cancel_reminders(db, id, "cancelled: the conference was cancelled", now);
  SQLite::Statement q(db,
                      "UPDATE conferences SET state = 'cancelled', cancelled_at = ?1, "
                      "updated_at = ?1 WHERE id = ?2");
  q.bind(1, now);
  q.bind(2, id);
  q.exec();
  return {};
}

}  // namespace

ConferenceStore::ConferenceStore(Store& store, std::filesystem::path db_path, const Clock& clock,
                                 ConferenceOptions options)
    : store_(store), path_(std::move(db_path)), clock_(clock), options_(std::move(options)) {}

ConferenceStore::~ConferenceStore() = default;

template <typename Fn>
auto ConferenceStore::read(Fn&& fn) -> decltype(fn(std::declval<SQLite::Database&>())) {
  try {
    std::lock_guard lock(read_mu_);
    if (!reader_) reader_ = open_connection(path_.string(), /*read_only=*/true);
    return fn(*reader_);
  } catch (const std::exception& e) {
    return Status::internal(std::string("database: ") + e.what());
  }
}

void ConferenceStore::put(Conference conference, Done<ConferencePut> done) {
  auto result = std::make_shared<Result<ConferencePut>>(Status::internal("not run"));
  store_.writer().submit(
      [this, c = std::move(conference), result](SQLite::Database& db) -> Status {
        auto upserted = upsert_conference(db, c, options_.available_channels, clock_.now());
        if (!upserted.is_ok()) {
          *result = upserted.status();
          return upserted.status();
        }
        *result = ConferencePut{upserted->change, *conference_view(db, c.id)};
        return {};
      },
      [this, result, done = std::move(done)](Status s) {
        if (!s.is_ok()) {
          done(result->is_ok() ? Result<ConferencePut>(std::move(s)) : std::move(*result));
          return;
        }
        if ((*result)->change != ConferenceChange::kUnchanged && options_.on_new_work) {
          options_.on_new_work();
        }
        done(std::move(*result));
      });
}

void ConferenceStore::cancel(std::string id, Done<ConferenceView> done) {
  auto result = std::make_shared<Result<ConferenceView>>(Status::internal("not run"));
  store_.writer().submit(
      [this, id = std::move(id), result](SQLite::Database& db) -> Status {
        Status s = cancel_conference(db, id, clock_.now());
        if (!s.is_ok()) {
          *result = s;
          return s;
        }
        *result = *conference_view(db, id);
        return {};
      },
      [result, done = std::move(done)](Status s) {
        done(s.is_ok() || !result->is_ok() ? std::move(*result) : Result<ConferenceView>(s));
      });
}

Result<ConferenceView> ConferenceStore::get(const std::string& id) {
  return read([&](SQLite::Database& db) -> Result<ConferenceView> {
    auto v = conference_view(db, id);
    if (!v) return Status::not_found("conference " + id + " not found");
    return std::move(*v);
  });
}

Result<std::vector<ConferenceView>> ConferenceStore::list(const std::string& student_id,
                                                          const std::string& staff_id) {
  return read([&](SQLite::Database& db) -> Result<std::vector<ConferenceView>> {
    SQLite::Statement q(db,
                        "SELECT id FROM conferences WHERE (?1 = '' OR student_id = ?1) AND "
                        "(?2 = '' OR staff_id = ?2) ORDER BY starts_at, id");
    q.bind(1, student_id);
    q.bind(2, staff_id);
    std::vector<ConferenceView> out;
    while (q.executeStep()) {
      if (auto v = conference_view(db, q.getColumn(0).getString())) out.push_back(std::move(*v));
    }
    return out;
  });
}

void ConferenceStore::import(std::vector<ConferenceRow> rows, bool dry_run,
                             Done<ConferenceImportSummary> done) {
  auto summary = std::make_shared<ConferenceImportSummary>();
  store_.writer().submit(
      [this, rows = std::move(rows), dry_run, summary](SQLite::Database& db) -> Status {
        const Millis now = clock_.now();
        for (const auto& row : rows) {
          auto upserted = upsert_conference(db, row.conference, options_.available_channels, now);
          if (!upserted.is_ok()) {
            const Status& s = upserted.status();
            summary->errors.push_back(
                {row.line, s.field() == "id" ? "conference_id" : s.field(), s.message()});
            continue;
          }
          summary->reminders += upserted->reminders;
          switch (upserted->change) {
            case ConferenceChange::kCreated:
              ++summary->created;
              break;
            case ConferenceChange::kUpdated:
              ++summary->updated;
              break;
            case ConferenceChange::kUnchanged:
              ++summary->unchanged;
              break;
          }
        }
        // A failing job is rolled back alone: bad rows, and a dry run, fail on purpose.
        if (!summary->errors.empty()) return Status::invalid("conferences", "bad rows");
        return dry_run ? Status::conflict("dry run: rolled back") : Status{};
      },
      [this, summary, dry_run, done = std::move(done)](Status s) {
        const bool rolled_back_on_purpose =
            !summary->errors.empty() || (dry_run && s.code() == Code::kConflict);
        if (!s.is_ok() && !rolled_back_on_purpose) {
          done(std::move(s));
          return;
        }
        if (s.is_ok() && options_.on_new_work) options_.on_new_work();
        done(std::move(*summary));
      });
}

}  // namespace homeroom::store
