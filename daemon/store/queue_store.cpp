#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/ids.h"
#include "store/queries.h"

// The condition of the partial index deliveries_due, word for word (migrations 0005, 0009): SQLite
// uses the index only for a query that repeats it.
#define DUE_STATES "state = 'queued' OR state = 'scheduled' OR state = 'sending'"

namespace homeroom::store {

// The lease's queries (their plans are checked by tests/unit/store/fair_lease_test.cpp).
const char* const kIndividualDueSql =
    "SELECT id, state, next_attempt_at FROM deliveries INDEXED BY deliveries_due WHERE (" DUE_STATES
    ") AND channel = ?1 AND priority = 0 AND next_attempt_at <= ?2 ORDER BY next_attempt_at "
    "LIMIT ?3";
// Bulk: the partial index deliveries_due_bulk (migration 0014) is `priority = 1 AND (DUE_STATES)`.
#define BULK_DUE \
  "FROM deliveries INDEXED BY deliveries_due_bulk WHERE priority = 1 AND (" DUE_STATES ")"
const char* const kBulkFirstSchoolSql =
    "SELECT school_id " BULK_DUE " AND channel = ?1 ORDER BY school_id LIMIT 1";
const char* const kBulkNextSchoolSql =
    "SELECT school_id " BULK_DUE " AND channel = ?1 AND school_id > ?2 ORDER BY school_id LIMIT 1";
const char* const kBulkRowsSql =
    "SELECT id, state, next_attempt_at " BULK_DUE
    " AND channel = ?1 AND school_id IS ?2 AND next_attempt_at <= ?3 ORDER BY next_attempt_at "
    "LIMIT ?4 OFFSET ?5";

EventLog::EventLog(SQLite::Database& db)
    : insert_(db,
              "INSERT INTO delivery_events (delivery_id, at, state, detail) VALUES (?, ?, ?, ?)") {}

void EventLog::add(const std::string& delivery_id, Millis at, DeliveryState state,
                   const std::string& detail) {
  insert_.bind(1, delivery_id);
  insert_.bind(2, at);
  insert_.bind(3, state_name(state));
  insert_.bind(4, detail);
  insert_.exec();
  insert_.reset();
}

void add_event(SQLite::Database& db, const std::string& delivery_id, Millis at, DeliveryState state,
               const std::string& detail) {
  EventLog(db).add(delivery_id, at, state, detail);
}

namespace {

// What a broadcast copy needs at send time: one template context per student it is about, built
// from the roster as it is now. Students whose link to the guardian is gone or restricted since
// planning are left out. Returns the students kept (given names, in order).
std::vector<std::string> broadcast_contexts(SQLite::Database& db, LeasedDelivery& d,
                                            const std::string& about,
                                            const std::string& guardian_family_name) {
  SQLite::Statement q(db,
                      "SELECT s.given_name, s.family_name, s.grade, "
                      "COALESCE(sg.contact_allowed, 0), "
                      "COALESCE((SELECT st.name FROM student_staff ss JOIN staff st ON "
                      "st.id = ss.staff_id WHERE ss.student_id = s.id ORDER BY ss.staff_id "
                      "LIMIT 1), ''), bs.variables, "
                      "COALESCE((SELECT name FROM schools WHERE id = s.school_id), '') "
                      "FROM students s LEFT JOIN student_guardians sg ON sg.student_id = s.id "
                      "AND sg.guardian_id = ? LEFT JOIN broadcast_students bs ON "
                      "bs.broadcast_id = ? AND bs.student_id = s.id WHERE s.id = ?");
  auto ids = nlohmann::json::parse(about.empty() ? "[]" : about, nullptr, false);
  if (!ids.is_array()) ids = nlohmann::json::array();
  nlohmann::json contexts = nlohmann::json::array();
  std::vector<std::string> names;
  for (const auto& id : ids) {
    if (!id.is_string()) continue;
    q.bind(1, d.guardian_id);
    q.bind(2, d.message_id);
    q.bind(3, id.get<std::string>());
    if (q.executeStep() && q.getColumn(3).getInt() != 0) {
      nlohmann::json context = nlohmann::json::object();
      if (!q.getColumn(5).isNull()) {
        auto vars = nlohmann::json::parse(q.getColumn(5).getString(), nullptr, false);
        if (vars.is_object()) context = std::move(vars);
      }
      context["guardian"] = {{"given_name", d.guardian_given_name},
                             {"family_name", guardian_family_name}};
      context["student"] = {{"given_name", q.getColumn(0).getString()},
                            {"family_name", q.getColumn(1).getString()},
                            {"grade", q.getColumn(2).getString()}};
      std::string staff = q.getColumn(4).getString();
      context["staff"] = {{"name", staff.empty() ? d.author_name : staff}};
      context["school"] = {{"name", q.getColumn(6).getString()}};
      names.push_back(q.getColumn(0).getString());
      if (d.student_id.empty()) {
        d.student_id = id.get<std::string>();
        d.student_family_name = q.getColumn(1).getString();
      }
      contexts.push_back(std::move(context));
    }
    q.reset();
  }
  d.template_contexts = contexts.dump();
  return names;
}

// The channels' due rows, individual before bulk, each (channel, priority) an index range scan;
// bulk rows fair across schools (see BulkLease).
struct DueRow {
  std::string id;
  std::string state;
  int priority = 0;
  Millis at = 0;
  std::string school;  // "" for none
  // The order of the lease: an individual row's next_attempt_at, a bulk row's place in its
  // channel's round-robin.
  std::int64_t order = 0;
};

// Bulk deliveries of one channel, round-robin across schools (migration 0014). The schools take
// turns in a cycle (deliveries without a school first, then by id), starting after the school
// served last: a batch of n takes the next due row of each school in turn until n schools gave
// one (a school with nothing due yet is passed over), then shares what room is left equally
// among them (a school with fewer due rows leaves its share to the others), and is ordered first
// rows first, then second rows, and so on. With more schools than room, the next batch goes on
// where this one stopped.
//
// Every query is a seek or a range scan that stops after its share, on deliveries_due_bulk, which
// it names (INDEXED BY) and whose condition it repeats word for word. A channel without pending
// bulk rows costs one seek (NULLs sort first: it also says whether rows without a school wait);
// the other statements are prepared only when there are some.
class BulkLease {
 public:
  explicit BulkLease(SQLite::Database& db) : db_(db), first_school_(db, kBulkFirstSchoolSql) {}

  std::vector<DueRow> take(const std::string& channel, int n, Millis now,
                           const std::optional<std::string>& after) {
    std::vector<DueRow> out;
    if (n <= 0) return out;
    first_school_.bind(1, channel);
    const bool pending = first_school_.executeStep();
    const bool without_school = pending && first_school_.getColumn(0).isNull();
    first_school_.reset();
    if (!pending) return out;
    if (!next_school_) next_school_.emplace(db_, kBulkNextSchoolSql);
    if (!rows_) rows_.emplace(db_, kBulkRowsSql);
    const auto room = static_cast<std::size_t>(n);
    std::vector<std::vector<DueRow>> rows;  // per school that had a due row, in turn
    Turns turns(*next_school_, channel, after, without_school);
    std::size_t taken = 0;
    for (std::string school; taken < room && turns.next(school);) {
      std::vector<DueRow> first;
      if (due(channel, school, now, 1, first) == 1) {
        rows.push_back(std::move(first));
        ++taken;
      }
    }
    std::vector<std::size_t> active(rows.size());
    for (std::size_t i = 0; i < active.size(); ++i) active[i] = i;
    while (!active.empty() && taken < room) {
      const std::size_t share = (room - taken + active.size() - 1) / active.size();
      std::vector<std::size_t> more;  // schools that filled their share: they may have more
      for (std::size_t i : active) {
        const std::string school = rows[i].front().school;  // a copy: due() grows rows[i]
        const std::size_t got = due(channel, school, now, share, rows[i]);
        taken += got;
        if (got == share) more.push_back(i);
      }
      active = std::move(more);
    }
    for (std::size_t rank = 0; out.size() < room; ++rank) {
      const std::size_t before = out.size();
      for (auto& school_rows : rows) {
        if (rank >= school_rows.size() || out.size() == room) continue;
        out.push_back(std::move(school_rows[rank]));
        out.back().order = static_cast<std::int64_t>(out.size());
      }
      if (out.size() == before) break;
    }
    return out;
  }

 private:
  // The schools with pending bulk rows on a channel, each once, in turn after `after` (none:
  // from the start); "" stands for the deliveries without a school.
  class Turns {
   public:
    Turns(SQLite::Statement& next_school, std::string channel,
          const std::optional<std::string>& after, bool without_school)
        : next_school_(next_school), channel_(std::move(channel)) {
      if (!after) {
        phases_ = {{true, "", std::nullopt}, {false, "", std::nullopt}};
      } else if (after->empty()) {
        phases_ = {{false, "", std::nullopt}, {true, "", std::nullopt}};
      } else {
        phases_ = {{false, *after, std::nullopt}, {true, "", std::nullopt}, {false, "", *after}};
      }
      if (!without_school) {
        phases_.erase(std::remove_if(phases_.begin(), phases_.end(),
                                     [](const Phase& p) { return p.without_school; }),
                      phases_.end());
      }
    }

    bool next(std::string& school) {
      while (phase_ < phases_.size()) {
        Phase& p = phases_[phase_];
        if (p.without_school) {
          ++phase_;
          school.clear();
          return true;
        }
        next_school_.bind(1, channel_);
        next_school_.bind(2, p.above);
        const bool found = next_school_.executeStep();
        if (found) school = next_school_.getColumn(0).getString();
        next_school_.reset();
        if (found && (!p.up_to || school <= *p.up_to)) {
          p.above = school;
          return true;
        }
        ++phase_;
      }
      return false;
    }

   private:
    struct Phase {
      bool without_school;
      std::string above;                 // schools with an id above this one
      std::optional<std::string> up_to;  // and up to this one, when set
    };
    SQLite::Statement& next_school_;
    std::string channel_;
    std::vector<Phase> phases_;
    std::size_t phase_ = 0;
  };

  // Appends the school's next due rows after those it already has (up to `share`); returns how
  // many it found.
  std::size_t due(const std::string& channel, const std::string& school, Millis now,
                  std::size_t share, std::vector<DueRow>& rows) {
    SQLite::Statement& q = *rows_;
    q.bind(1, channel);
    if (school.empty()) {
      q.bind(2);
    } else {
      q.bind(2, school);
    }
    q.bind(3, now);
    q.bind(4, static_cast<std::int64_t>(share));
    q.bind(5, static_cast<std::int64_t>(rows.size()));
    std::size_t got = 0;
    while (q.executeStep()) {
      rows.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), 1,
                      q.getColumn(2).getInt64(), school, 0});
      ++got;
    }
    q.reset();
    return got;
  }

  SQLite::Database& db_;
  SQLite::Statement first_school_;
  std::optional<SQLite::Statement> next_school_, rows_;
};

std::vector<DueRow> due_rows(SQLite::Database& db, const LeaseLimits& limits, Millis now) {
  SQLite::Statement q(db, kIndividualDueSql);
  BulkLease bulk(db);
  std::vector<DueRow> due;
  for (const auto& channel : known_channels()) {
    int left = limits.total;
    if (auto it = limits.per_channel.find(channel); it != limits.per_channel.end()) {
      left = std::min(left, it->second);
    }
    q.bind(1, channel);
    q.bind(2, now);
    q.bind(3, left);
    while (q.executeStep()) {
      const Millis at = q.getColumn(2).getInt64();
      due.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), 0, at, "", at});
      --left;
    }
    q.reset();
    std::optional<std::string> after;
    if (auto it = limits.bulk_after.find(channel); it != limits.bulk_after.end()) {
      after = it->second;
    }
    for (auto& row : bulk.take(channel, left, now, after)) due.push_back(std::move(row));
  }
  std::stable_sort(due.begin(), due.end(), [](const DueRow& a, const DueRow& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.order < b.order;
  });
  if (due.size() > static_cast<std::size_t>(std::max(0, limits.total))) {
    due.resize(static_cast<std::size_t>(std::max(0, limits.total)));
  }
  return due;
}

}  // namespace

constexpr const char* kNoLongerAllowed =
    "contact with this guardian is no longer allowed for this student";

// For a `sending` row, next_attempt_at is when its lease expires: a dispatcher that crashed
// mid-send leaves it there, and it becomes due again like any queued row.
namespace {

// The guardian's other digest deliveries due on the leader's address: they go in one message.
// attempt is 0 for a companion whose student the guardian may no longer be contacted about.
std::vector<DigestItem> digest_companions(SQLite::Database& db, const LeasedDelivery& leader,
                                          Millis now) {
  SQLite::Statement q(db,
                      "SELECT d.id, d.attempts, m.body, m.translations, s.given_name, "
                      "COALESCE(st.name, ''), COALESCE(sg.contact_allowed, 0) "
                      "FROM deliveries d JOIN messages m ON m.id = d.message_id "
                      "JOIN students s ON s.id = m.student_id "
                      "LEFT JOIN staff st ON st.id = m.author_staff "
                      "LEFT JOIN student_guardians sg ON sg.student_id = m.student_id "
                      "AND sg.guardian_id = d.guardian_id "
                      "WHERE d.guardian_id = ? AND d.channel = ? AND d.address = ? "
                      "AND d.digest = 1 AND d.next_attempt_at <= ? "
                      "AND (d.state = 'queued' OR d.state = 'scheduled') AND d.id != ? "
                      "ORDER BY d.next_attempt_at, d.created_at, d.id");
  q.bind(1, leader.guardian_id);
  q.bind(2, leader.channel);
  q.bind(3, leader.address);
  q.bind(4, now);
  q.bind(5, leader.id);
  std::vector<DigestItem> items;
  while (q.executeStep()) {
    DigestItem item;
    item.delivery_id = q.getColumn(0).getString();
    item.attempt = q.getColumn(6).getInt() != 0 ? q.getColumn(1).getInt() + 1 : 0;
    item.text = q.getColumn(2).getString();
    auto translations = nlohmann::json::parse(q.getColumn(3).getString());
    if (auto it = translations.find(leader.language); it != translations.end() && it->is_string()) {
      item.text = it->get<std::string>();
    }
    item.student_given_name = q.getColumn(4).getString();
    item.author_name = q.getColumn(5).getString();
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

std::vector<LeasedDelivery> lease_due(SQLite::Database& db, const LeaseLimits& limits, Millis now,
                                      Millis lease_until) {
  const std::vector<DueRow> due = due_rows(db, limits, now);

  SQLite::Statement info(
      db,
      "SELECT d.message_id, d.guardian_id, d.channel, d.address, d.language, d.attempts, "
      "m.category, m.body, m.translations, s.given_name, s.family_name, COALESCE(st.name, ''), "
      "COALESCE(g.given_name, ''), COALESCE(sg.contact_allowed, 0), m.student_id, "
      "COALESCE(m.author_staff, ''), d.priority, d.about, b.id IS NOT NULL, "
      "COALESCE(g.family_name, ''), COALESCE(b.state, ''), COALESCE(d.from_address, ''), "
      "d.digest, cr.cancelled_at IS NOT NULL "
      "FROM deliveries d JOIN messages m ON m.id = d.message_id "
      "JOIN students s ON s.id = m.student_id "
      "LEFT JOIN broadcasts b ON b.id = d.message_id "
      "LEFT JOIN conference_reminders cr ON cr.message_id = d.message_id "
      "LEFT JOIN staff st ON st.id = m.author_staff "
      "LEFT JOIN guardians g ON g.id = d.guardian_id "
      "LEFT JOIN student_guardians sg ON sg.student_id = m.student_id "
      "AND sg.guardian_id = d.guardian_id WHERE d.id = ?");
  SQLite::Statement lease(db,
                          "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, "
                          "next_attempt_at = ?, updated_at = ? WHERE id = ?");
  SQLite::Statement suppress(db,
                             "UPDATE deliveries SET state = 'suppressed', last_error = ?, "
                             "updated_at = ? WHERE id = ?");
  EventLog events(db);
  std::vector<LeasedDelivery> out;
  auto suppress_row = [&](const std::string& id, const std::string& why) {
    suppress.bind(1, why);
    suppress.bind(2, now);
    suppress.bind(3, id);
    suppress.exec();
    suppress.reset();
    events.add(id, now, DeliveryState::kSuppressed, why);
  };
  std::set<std::string> collected;  // companions already leased inside a digest of this batch
  for (const auto& due_row : due) {
    const std::string& id = due_row.id;
    if (collected.count(id) > 0) continue;
    info.bind(1, id);
    if (!info.executeStep()) {
      info.reset();
      continue;
    }
    const bool broadcast = info.getColumn(18).getInt() != 0;
    // The roster may have changed since planning: a guardian whose contact was restricted (or
    // unlinked) in the meantime is never contacted about this student.
    if (!broadcast && info.getColumn(13).getInt() == 0) {
      suppress_row(id, kNoLongerAllowed);
      info.reset();
      continue;
    }
    LeasedDelivery d;
    d.id = id;
    d.message_id = info.getColumn(0).getString();
    d.guardian_id = info.getColumn(1).getString();
    d.channel = info.getColumn(2).getString();
    d.address = info.getColumn(3).getString();
    d.language = info.getColumn(4).getString();
    d.attempt = info.getColumn(5).getInt() + 1;
    d.category = info.getColumn(6).getString();
    d.text = info.getColumn(7).getString();
    auto translations = nlohmann::json::parse(info.getColumn(8).getString());
    if (auto it = translations.find(d.language); it != translations.end() && it->is_string()) {
      d.text = it->get<std::string>();
    }
    d.student_given_name = info.getColumn(9).getString();
    d.student_family_name = info.getColumn(10).getString();
    d.author_name = info.getColumn(11).getString();
    d.guardian_given_name = info.getColumn(12).getString();
    d.student_id = info.getColumn(14).getString();
    d.author_staff = info.getColumn(15).getString();
    d.from = info.getColumn(21).getString();
    d.priority = info.getColumn(16).getInt();
    d.school_id = due_row.school;
    const std::string about = info.getColumn(17).isNull() ? "" : info.getColumn(17).getString();
    const std::string guardian_family_name = info.getColumn(19).getString();
    const bool cancelled = info.getColumn(20).getString() == "cancelled";
    const bool digest = info.getColumn(22).getInt() != 0;
    const bool slot_changed = info.getColumn(23).getInt() != 0;
    info.reset();
    // A retry of a copy that was with the provider when its broadcast was cancelled, or of a
    // reminder naming a conference time or place that has since changed.
    if (cancelled) {
      suppress_row(id, "cancelled");
      continue;
    }
    if (slot_changed) {
      suppress_row(id, "cancelled: the conference moved or was cancelled since this reminder");
      continue;
    }
    if (broadcast) {
      d.student_id.clear();
      auto names = broadcast_contexts(db, d, about, guardian_family_name);
      if (names.empty()) {
        suppress_row(id, kNoLongerAllowed);
        continue;
      }
      d.student_given_name = names.front();
      for (std::size_t i = 1; i < names.size(); ++i) {
        d.student_given_name += (i + 1 == names.size() ? " & " : ", ") + names[i];
      }
    }

    auto lease_row = [&](const std::string& row, const std::string& why) {
      lease.bind(1, lease_until);
      lease.bind(2, now);
      lease.bind(3, row);
      lease.exec();
      lease.reset();
      events.add(row, now, DeliveryState::kSending, why);
    };
    std::string detail = "attempt " + std::to_string(d.attempt);
    if (due_row.state == "sending") detail += " (the previous lease expired)";
    lease_row(id, detail);
    if (digest) {
      for (auto& item : digest_companions(db, d, now)) {
        collected.insert(item.delivery_id);
        if (item.attempt == 0) {  // restricted since planning
          suppress_row(item.delivery_id, kNoLongerAllowed);
          continue;
        }
        lease_row(item.delivery_id, "attempt " + std::to_string(item.attempt) +
                                        ", in the digest sent as delivery " + id);
        d.digest.push_back(std::move(item));
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

void record_updates(SQLite::Database& db, const std::vector<DeliveryUpdate>& updates, Millis now,
                    const std::set<std::string>& available_channels) {
  SQLite::Statement q(db,
                      "UPDATE deliveries SET state = ?, next_attempt_at = ?, "
                      "provider_id = COALESCE(NULLIF(?, ''), provider_id), last_error = ?, "
                      "updated_at = ?, segments = COALESCE(NULLIF(?, 0), segments) "
                      "WHERE id = ? AND state = 'sending' AND attempts = ?");
  EventLog events(db);
  for (const auto& u : updates) {
    q.bind(1, state_name(u.state));
    q.bind(2, u.state == DeliveryState::kQueued ? u.next_attempt_at : now);
    q.bind(3, u.provider_id);
    if (u.state == DeliveryState::kSent) {
      q.bind(4);
    } else {
      q.bind(4, u.detail);
    }
    q.bind(5, now);
    q.bind(6, u.segments);
    q.bind(7, u.id);
    q.bind(8, u.attempt);
    int changed = q.exec();
    q.reset();
    if (changed == 0) continue;  // a stale completion: the lease expired and was taken again
    events.add(u.id, now, u.state, u.state == DeliveryState::kSent ? u.provider_id : u.detail);
    if (!u.contact_status.empty()) set_contact_status(db, u.id, u.contact_status, u.detail, now);
    // Permanent and contact-stopped/gone failures move on to the next channel; a retryable one
    // that ran out of attempts (dead) stays for an admin to look at.
    if (u.state == DeliveryState::kFailed) fall_back(db, u.id, u.detail, now, available_channels);
  }
}

void set_contact_status(SQLite::Database& db, const std::string& delivery_id,
                        const std::string& status, const std::string& reason, Millis now) {
  SQLite::Statement q(db,
                      "UPDATE contact_points SET status = ?, status_changed_at = ?, "
                      "status_reason = ? WHERE (guardian_id, channel, address) = "
                      "(SELECT guardian_id, channel, address FROM deliveries WHERE id = ?)");
  q.bind(1, status);
  q.bind(2, now);
  q.bind(3, reason);
  q.bind(4, delivery_id);
  q.exec();
  // The provider refused the number as opted out (Twilio 21610, an opt-out callback): a consent
  // change like a STOP keyword, recorded with its source.
  if (status == "stopped") {
    SQLite::Statement c(db,
                        "INSERT INTO consent_events (guardian_id, channel, address, change, "
                        "source, at) SELECT guardian_id, channel, address, 'stop', "
                        "'provider-21610', ? FROM deliveries WHERE id = ?");
    c.bind(1, now);
    c.bind(2, delivery_id);
    c.exec();
  }
}

namespace {

void record_status_of(SQLite::Database& db, const std::string& id, const std::string& state,
                      const ProviderStatusUpdate& update, Millis now,
                      const std::set<std::string>& available_channels);

}  // namespace

void record_provider_status(SQLite::Database& db, const ProviderStatusUpdate& update, Millis now,
                            const std::set<std::string>& available_channels) {
  // Usually one delivery; every note of a digest carries the digest message's provider id.
  std::vector<std::pair<std::string, std::string>> rows;  // (id, state)
  {
    SQLite::Statement find(
        db, "SELECT id, state FROM deliveries WHERE channel = ? AND provider_id = ? ORDER BY id");
    find.bind(1, update.channel);
    find.bind(2, update.provider_id);
    while (find.executeStep()) {
      rows.emplace_back(find.getColumn(0).getString(), find.getColumn(1).getString());
    }
  }
  // None: not ours, or not recorded yet: nothing to move.
  for (const auto& [id, state] : rows) {
    record_status_of(db, id, state, update, now, available_channels);
  }
}

namespace {

void record_status_of(SQLite::Database& db, const std::string& id, const std::string& state,
                      const ProviderStatusUpdate& update, Millis now,
                      const std::set<std::string>& available_channels) {
  using Kind = ProviderStatusUpdate::Kind;

  std::optional<DeliveryState> next;
  std::string contact_status;
  std::string detail = update.reason;
  switch (update.kind) {
    case Kind::kSent:
      return;  // we already record "sent" when the provider accepts
    case Kind::kDelivered:
      if (state == "sent") next = DeliveryState::kDelivered;
      break;
    case Kind::kUndelivered:
      if (state == "sent") next = DeliveryState::kFailed;
      detail = "undelivered: " + update.reason;
      break;
    case Kind::kBounced:
      // A bounce can follow an earlier "delivered" (accepted by the receiving server).
      if (state == "sent" || state == "delivered") next = DeliveryState::kFailed;
      detail = "bounced: " + update.reason;
      contact_status = "bounced";
      break;
    case Kind::kContactStopped:
      if (state == "sent" || state == "delivered") next = DeliveryState::kFailed;
      detail = "contact stopped: " + update.reason;
      contact_status = "stopped";
      break;
  }
  if (!next) return;  // states move only forward
  SQLite::Statement q(db,
                      "UPDATE deliveries SET state = ?, last_error = ?, updated_at = ? "
                      "WHERE id = ?");
  q.bind(1, state_name(*next));
  if (*next == DeliveryState::kDelivered) {
    q.bind(2);
  } else {
    q.bind(2, detail);
  }
  q.bind(3, now);
  q.bind(4, id);
  q.exec();
  add_event(db, id, now, *next, detail.empty() ? "reported by the provider" : detail);
  if (!contact_status.empty()) set_contact_status(db, id, contact_status, detail, now);
  if (*next == DeliveryState::kFailed) fall_back(db, id, detail, now, available_channels);
}

}  // namespace

std::string get_or_create_secret(SQLite::Database& db, const std::string& name, Millis now) {
  SQLite::Statement q(db, "SELECT value FROM secrets WHERE name = ?");
  q.bind(1, name);
  if (q.executeStep()) {
    const auto& col = q.getColumn(0);
    return std::string(static_cast<const char*>(col.getBlob()), col.getBytes());
  }
  std::string value = random_bytes(32);
  SQLite::Statement ins(db, "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)");
  ins.bind(1, name);
  ins.bind(2, value.data(), static_cast<int>(value.size()));
  ins.bind(3, now);
  ins.exec();
  return value;
}

std::optional<Millis> next_due(SQLite::Database& db) {
  // ORDER BY ... LIMIT 1 per (channel, priority) rather than MIN(): each is a seek into the
  // partial index that stops at the first entry. INDEXED BY: without it the planner may pick
  // another index and sort every due row (see migrations 0005 and 0009).
  SQLite::Statement q(db,
                      "SELECT next_attempt_at FROM deliveries INDEXED BY deliveries_due "
                      "WHERE (" DUE_STATES
                      ") AND channel = ? AND priority = ? "
                      "ORDER BY next_attempt_at LIMIT 1");
  std::optional<Millis> first;
  for (const auto& channel : known_channels()) {
    for (int priority = 0; priority <= 1; ++priority) {
      q.bind(1, channel);
      q.bind(2, priority);
      if (q.executeStep()) {
        Millis at = q.getColumn(0).getInt64();
        if (!first || at < *first) first = at;
      }
      q.reset();
    }
  }
  return first;
}

std::map<std::string, std::int64_t> delivery_counts(SQLite::Database& db) {
  std::map<std::string, std::int64_t> counts;
  SQLite::Statement q(db, "SELECT state, COUNT(*) FROM deliveries GROUP BY state");
  while (q.executeStep()) counts[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
  return counts;
}

}  // namespace homeroom::store
