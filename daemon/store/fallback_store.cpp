#include <SQLiteCpp/Statement.h>

#include <algorithm>

#include "core/ids.h"
#include "routing/delivery_planner.h"
#include "store/queries.h"

namespace homeroom::store {
namespace {

// The channels to try, in the guardian's order: their preference list, else their contact points'.
std::vector<std::string> channel_order(const Guardian& g) {
  std::vector<std::string> order;
  auto add = [&order](const std::string& channel) {
    if (std::find(order.begin(), order.end(), channel) == order.end()) order.push_back(channel);
  };
  for (const auto& c : g.preferences.channels) add(c);
  if (order.empty()) {
    for (const auto& c : g.contacts) add(c.channel);
  }
  return order;
}

// True when (channel, address) may not carry this message: another guardian holding it is
// restricted for the student (or do_not_contact on a message that is not legally required), or it
// already receives a copy of this message (one copy per address).
bool address_blocked(SQLite::Database& db, const std::string& message_id,
                     const std::string& student_id, const std::string& guardian_id,
                     const std::string& channel, const std::string& address,
                     bool legally_required) {
  SQLite::Statement held(
      db,
      "SELECT 1 FROM contact_points cp JOIN guardians g ON g.id = cp.guardian_id "
      "WHERE cp.channel = ? AND cp.address = ? AND cp.guardian_id != ? AND "
      "((g.do_not_contact = 1 AND ? = 0) OR EXISTS (SELECT 1 FROM student_guardians sg "
      "WHERE sg.student_id = ? AND sg.guardian_id = cp.guardian_id AND sg.contact_allowed = 0))");
  held.bind(1, channel);
  held.bind(2, address);
  held.bind(3, guardian_id);
  held.bind(4, legally_required ? 1 : 0);
  held.bind(5, student_id);
  if (held.executeStep()) return true;
  SQLite::Statement copy(db,
                         "SELECT 1 FROM deliveries WHERE message_id = ? AND channel = ? AND "
                         "address = ? AND state NOT IN ('failed', 'suppressed', 'dead')");
  copy.bind(1, message_id);
  copy.bind(2, channel);
  copy.bind(3, address);
  return copy.executeStep();
}

// The defaults of the student's school (quiet hours, time zone) for guardians without their own.
routing::PlannerOptions school_rules(SQLite::Database& db, const std::string& student_id) {
  routing::PlannerOptions options;
  auto student = get_student(db, student_id);
  if (student && !student->school_id.empty()) {
    if (auto school = get_school(db, student->school_id)) {
      options = routing::options_for_school(*school, options);
    }
  }
  return options;
}

}  // namespace

std::optional<std::string> fall_back(SQLite::Database& db, const std::string& delivery_id,
                                     const std::string& reason, Millis now,
                                     const std::set<std::string>& available_channels) {
  SQLite::Statement q(db,
                      "SELECT d.message_id, d.guardian_id, d.channel, d.language, d.state, "
                      "m.student_id, m.legally_required, COALESCE(sg.contact_allowed, 0), "
                      "m.category "
                      "FROM deliveries d JOIN messages m ON m.id = d.message_id "
                      "LEFT JOIN student_guardians sg ON sg.student_id = m.student_id "
                      "AND sg.guardian_id = d.guardian_id WHERE d.id = ? "
                      // Automatic answers (conversation_store.cpp) answer on the channel the
                      // family wrote by, and a forward goes to a teacher: neither moves on.
                      "AND m.category != 'service'");
  q.bind(1, delivery_id);
  if (!q.executeStep()) return std::nullopt;
  const std::string message_id = q.getColumn(0).getString();
  const std::string guardian_id = q.getColumn(1).getString();
  const std::string failed_channel = q.getColumn(2).getString();
  const std::string language = q.getColumn(3).getString();
  const std::string state = q.getColumn(4).getString();
  const std::string student_id = q.getColumn(5).getString();
  const bool legally_required = q.getColumn(6).getInt() != 0;
  const bool contact_allowed = q.getColumn(7).getInt() != 0;
  const std::string category = q.getColumn(8).getString();
  if (state != "failed") return std::nullopt;  // only a failure moves on

  // A late or repeated report for a delivery that already fell back creates nothing new.
  SQLite::Statement again(db, "SELECT 1 FROM deliveries WHERE fallback_of = ?");
  again.bind(1, delivery_id);
  if (again.executeStep()) return std::nullopt;

  const std::string failed = failed_channel + " failed (" + reason + ")";
  // The same rules as the lease: a restricted (or unlinked) guardian is never contacted about the
  // student, and do_not_contact blocks everything not legally required.
  if (!contact_allowed) {
    add_event(db, delivery_id, now, DeliveryState::kFailed,
              "no fallback: contact with this guardian is not allowed for this student");
    return std::nullopt;
  }
  auto guardian = get_guardian(db, guardian_id);
  if (!guardian) {
    add_event(db, delivery_id, now, DeliveryState::kFailed, "no fallback: the guardian is gone");
    return std::nullopt;
  }
  if (guardian->do_not_contact && !legally_required) {
    add_event(db, delivery_id, now, DeliveryState::kFailed, "no fallback: do not contact");
    return std::nullopt;
  }

  std::set<std::string> tried;
  {
    SQLite::Statement t(db,
                        "SELECT channel FROM deliveries WHERE message_id = ? AND guardian_id = ?");
    t.bind(1, message_id);
    t.bind(2, guardian_id);
    while (t.executeStep()) tried.insert(t.getColumn(0).getString());
  }

  for (const auto& channel : channel_order(*guardian)) {
    if (tried.count(channel) != 0 || available_channels.count(channel) == 0) continue;
    // The family unsubscribed from this category on that channel (never urgent).
    if (category != "urgent" && guardian->unsubscribed.count({channel, category}) != 0) continue;
    for (const auto& contact : guardian->contacts) {
      // Urgent SMS still reach a number that texted STOP where the school says so.
      const bool stopped_but_urgent = category == "urgent" && contact.channel == "sms" &&
                                      contact.status == "stopped" &&
                                      school_rules(db, student_id).urgent_to_stopped;
      if (contact.channel != channel || (contact.status != "active" && !stopped_but_urgent)) {
        continue;
      }
      if (address_blocked(db, message_id, student_id, guardian_id, channel, contact.address,
                          legally_required)) {
        continue;
      }
      // A failure at 22:00 does not make the next channel ring at 22:00 (rule 5 of the planner).
      const Millis not_before =
          routing::outside_quiet_hours(*guardian, category, now, school_rules(db, student_id));
      const DeliveryState next_state =
          not_before > now ? DeliveryState::kScheduled : DeliveryState::kQueued;
      std::string id = new_id("dlv_");
      SQLite::Statement ins(db,
                            "INSERT INTO deliveries (id, message_id, guardian_id, channel, "
                            "address, language, state, next_attempt_at, created_at, updated_at, "
                            "fallback_of, priority, about, school_id) SELECT ?, ?, ?, ?, ?, ?, "
                            "?, ?, ?, ?, "
                            // A broadcast copy keeps its place behind notes, its school's turn
                            // and the students it names.
                            "?11, priority, about, school_id FROM deliveries WHERE id = ?11");
      ins.bind(1, id);
      ins.bind(2, message_id);
      ins.bind(3, guardian_id);
      ins.bind(4, channel);
      ins.bind(5, contact.address);
      ins.bind(6, language);
      ins.bind(7, state_name(next_state));
      ins.bind(8, not_before);
      ins.bind(9, now);
      ins.bind(10, now);
      ins.bind(11, delivery_id);
      ins.exec();
      std::string why = "fallback of " + delivery_id + ": " + failed;
      if (not_before > now) why += "; quiet hours until " + format_rfc3339(not_before);
      add_event(db, id, now, next_state, why);
      add_event(db, delivery_id, now, DeliveryState::kFailed,
                "fell back to " + channel + " (" + id + ")");
      return id;
    }
  }
  add_event(db, delivery_id, now, DeliveryState::kFailed,
            "no channel left to fall back to: the guardian is unreached for this message");
  return std::nullopt;
}

}  // namespace homeroom::store
