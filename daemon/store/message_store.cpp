#include <SQLiteCpp/Statement.h>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "store/conversation_store.h"
#include "store/queries.h"

namespace homeroom::store {

Result<StoredResponse> accept_message(SQLite::Database& db, const NewMessage& message,
                                      const std::optional<IdempotencyRef>& idempotency,
                                      const PlanFn& plan, const RespondFn& respond, Millis now) {
  if (idempotency) {
    SQLite::Statement q(db,
                        "SELECT request_hash, status, response FROM idempotency_keys "
                        "WHERE token_id = ? AND key = ?");
    q.bind(1, idempotency->token_id);
    q.bind(2, idempotency->key);
    if (q.executeStep()) {
      if (q.getColumn(0).getString() != idempotency->request_hash) {
        return Status::conflict("Idempotency-Key " + idempotency->key +
                                " was already used with a different request");
      }
      return StoredResponse{static_cast<unsigned>(q.getColumn(1).getInt()),
                            q.getColumn(2).getString(), true};
    }
  }

  auto roster = get_student_roster(db, message.student_id);
  if (!roster) return Status::invalid("student_id", "unknown student " + message.student_id);
  auto planned = plan(*roster, message, now);
  if (!planned) return planned.status();

  SQLite::Statement ins_msg(db,
                            "INSERT INTO messages (id, student_id, author_staff, category, body, "
                            "translations, send_at, created_at, legally_required) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ins_msg.bind(1, message.id);
  ins_msg.bind(2, message.student_id);
  if (message.author_staff.empty()) {
    ins_msg.bind(3);
  } else {
    ins_msg.bind(3, message.author_staff);
  }
  ins_msg.bind(4, message.category);
  ins_msg.bind(5, message.body);
  ins_msg.bind(6, nlohmann::json(message.translations).dump());
  if (message.send_at) {
    ins_msg.bind(7, *message.send_at);
  } else {
    ins_msg.bind(7);
  }
  ins_msg.bind(8, now);
  ins_msg.bind(9, message.legally_required ? 1 : 0);
  ins_msg.exec();

  AcceptedMessage accepted{message, {}};
  SQLite::Statement ins(db,
                        "INSERT INTO deliveries (id, message_id, guardian_id, channel, address, "
                        "language, state, next_attempt_at, created_at, updated_at, digest, "
                        "school_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''))");
  for (auto& p : *planned) {
    std::string id = new_id("dlv_");
    ins.bind(1, id);
    ins.bind(2, message.id);
    ins.bind(3, p.guardian_id);
    ins.bind(4, p.channel);
    ins.bind(5, p.address);
    ins.bind(6, p.language);
    ins.bind(7, state_name(p.state));
    ins.bind(8, std::max(now, p.not_before));
    ins.bind(9, now);
    ins.bind(10, now);
    ins.bind(11, p.digest ? 1 : 0);
    ins.bind(12, roster->student.school_id);
    ins.exec();
    ins.reset();
    add_event(db, id, now, p.state, p.detail);
    accepted.deliveries.emplace_back(std::move(id), std::move(p));
  }

  // Every note belongs to its thread (teacher, student, guardian); SMS go from the thread's number.
  link_note_to_threads(db, message, accepted.deliveries, now);

  StoredResponse response = respond(accepted);
  if (idempotency) {
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
  return response;
}

std::optional<MessageView> get_message(SQLite::Database& db, const std::string& id) {
  SQLite::Statement q(db,
                      "SELECT id, student_id, COALESCE(author_staff, ''), category, body, "
                      "translations, send_at, created_at, legally_required FROM messages "
                      "WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  MessageView view;
  auto& m = view.message;
  m.id = q.getColumn(0).getString();
  m.student_id = q.getColumn(1).getString();
  m.author_staff = q.getColumn(2).getString();
  m.category = q.getColumn(3).getString();
  m.body = q.getColumn(4).getString();
  m.translations =
      nlohmann::json::parse(q.getColumn(5).getString()).get<std::map<std::string, std::string>>();
  if (!q.getColumn(6).isNull()) m.send_at = q.getColumn(6).getInt64();
  view.created_at = q.getColumn(7).getInt64();
  m.legally_required = q.getColumn(8).getInt() != 0;

  SQLite::Statement d(db,
                      "SELECT id, guardian_id, channel, address, language, state, attempts, "
                      "next_attempt_at, COALESCE(provider_id, ''), COALESCE(last_error, ''), "
                      "updated_at, COALESCE(segments, 0), COALESCE(fallback_of, '') FROM "
                      "deliveries WHERE message_id = ? "
                      "ORDER BY rowid");
  d.bind(1, id);
  SQLite::Statement e(db,
                      "SELECT at, state, detail FROM delivery_events WHERE delivery_id = ? "
                      "ORDER BY id");
  while (d.executeStep()) {
    DeliveryView v;
    v.id = d.getColumn(0).getString();
    v.guardian_id = d.getColumn(1).getString();
    v.channel = d.getColumn(2).getString();
    v.address = d.getColumn(3).getString();
    v.language = d.getColumn(4).getString();
    v.state = parse_state(d.getColumn(5).getString()).value_or(DeliveryState::kQueued);
    v.attempts = d.getColumn(6).getInt();
    v.next_attempt_at = d.getColumn(7).getInt64();
    v.provider_id = d.getColumn(8).getString();
    v.last_error = d.getColumn(9).getString();
    v.updated_at = d.getColumn(10).getInt64();
    v.segments = d.getColumn(11).getInt();
    v.fallback_of = d.getColumn(12).getString();
    e.bind(1, v.id);
    while (e.executeStep()) {
      v.events.push_back(
          {e.getColumn(0).getInt64(), e.getColumn(1).getString(), e.getColumn(2).getString()});
    }
    e.reset();
    view.deliveries.push_back(std::move(v));
  }
  return view;
}

}  // namespace homeroom::store
