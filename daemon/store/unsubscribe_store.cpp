#include "store/unsubscribe_store.h"

#include <SQLiteCpp/Statement.h>

#include <cctype>
#include <memory>
#include <vector>

#include "store/conversation_store.h"
#include "store/queries.h"

namespace homeroom::store {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<UnsubscribeTarget> indexed(SQLite::Database& db, const std::string& token) {
  SQLite::Statement q(db,
                      "SELECT u.guardian_id, u.category, u.channel, g.language FROM "
                      "unsubscribe_tokens u JOIN guardians g ON g.id = u.guardian_id "
                      "WHERE u.token = ?");
  q.bind(1, token);
  if (!q.executeStep()) return std::nullopt;
  return UnsubscribeTarget{q.getColumn(0).getString(), q.getColumn(1).getString(),
                           q.getColumn(2).getString(), q.getColumn(3).getString()};
}

// Indexes the tokens of the deliveries created since the last fill.
void fill_index(SQLite::Database& db, const UnsubscribeTokens& tokens) {
  std::int64_t mark = 0;
  {
    SQLite::Statement q(db, "SELECT last_rowid FROM unsubscribe_token_mark WHERE id = 1");
    if (q.executeStep()) mark = q.getColumn(0).getInt64();
  }
  std::int64_t top = mark;
  {
    SQLite::Statement q(db, "SELECT COALESCE(MAX(rowid), 0) FROM deliveries");
    if (q.executeStep()) top = q.getColumn(0).getInt64();
  }
  if (top <= mark) return;
  SQLite::Statement q(db,
                      "SELECT DISTINCT d.guardian_id, m.category, d.channel FROM deliveries d "
                      "JOIN messages m ON m.id = d.message_id WHERE d.rowid > ? AND "
                      "d.rowid <= ? AND m.category <> 'urgent'");
  q.bind(1, mark);
  q.bind(2, top);
  SQLite::Statement add(db,
                        "INSERT OR IGNORE INTO unsubscribe_tokens (token, guardian_id, category, "
                        "channel) VALUES (?, ?, ?, ?)");
  while (q.executeStep()) {
    const std::string guardian = q.getColumn(0).getString();
    const std::string category = q.getColumn(1).getString();
    const std::string channel = q.getColumn(2).getString();
    add.bind(1, tokens.make(guardian, category, channel));
    add.bind(2, guardian);
    add.bind(3, category);
    add.bind(4, channel);
    add.exec();
    add.reset();
  }
  SQLite::Statement set(db, "UPDATE unsubscribe_token_mark SET last_rowid = ? WHERE id = 1");
  set.bind(1, top);
  set.exec();
}

}  // namespace

std::string unsubscribe_token_of_address(const std::string& to) {
  const std::string address = lower(to);
  const auto at = address.find('@');
  constexpr std::string_view kPrefix = "unsubscribe+";
  if (at == std::string::npos || address.compare(0, kPrefix.size(), kPrefix) != 0 ||
      at <= kPrefix.size()) {
    return {};
  }
  std::string token = address.substr(kPrefix.size(), at - kPrefix.size());
  if (token.size() > 64) return {};
  return token;
}

std::optional<UnsubscribeTarget> find_unsubscribe_target(SQLite::Database& db,
                                                         const std::string& raw_token,
                                                         const UnsubscribeTokens& tokens) {
  const std::string token = lower(raw_token);
  // A token is 24 characters of [a-z2-7] (render/tokens.h): anything else is not one of ours.
  if (token.size() != 24) return std::nullopt;
  for (char c : token) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return std::nullopt;
  }
  auto target = indexed(db, token);
  if (!target) {
    fill_index(db, tokens);
    target = indexed(db, token);
  }
  if (!target || !tokens.verify(token, target->guardian_id, target->category, target->channel)) {
    return std::nullopt;
  }
  return target;
}

bool record_unsubscribe(SQLite::Database& db, const UnsubscribeTarget& target,
                        const std::string& address, Millis now) {
  if (target.category == "urgent") return false;
  SQLite::Statement add(db,
                        "INSERT OR IGNORE INTO channel_opt_outs (guardian_id, channel, category, "
                        "at) VALUES (?, ?, ?, ?)");
  add.bind(1, target.guardian_id);
  add.bind(2, target.channel);
  add.bind(3, target.category);
  add.bind(4, now);
  if (add.exec() == 0) return false;

  std::string where_from = address;
  if (where_from.empty()) {
    SQLite::Statement c(db,
                        "SELECT address FROM contact_points WHERE guardian_id = ? AND channel = ? "
                        "ORDER BY position LIMIT 1");
    c.bind(1, target.guardian_id);
    c.bind(2, target.channel);
    if (c.executeStep()) where_from = c.getColumn(0).getString();
  }
  add_consent_event(db, target.guardian_id, target.channel, where_from, target.category, "stop",
                    "email-unsubscribe", "", now);

  // What is still waiting for this channel and category is not sent either.
  std::vector<std::string> pending;
  {
    SQLite::Statement q(db,
                        "SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.message_id "
                        "WHERE d.guardian_id = ? AND d.channel = ? AND m.category = ? AND "
                        "d.state IN ('planned', 'queued', 'scheduled')");
    q.bind(1, target.guardian_id);
    q.bind(2, target.channel);
    q.bind(3, target.category);
    while (q.executeStep()) pending.push_back(q.getColumn(0).getString());
  }
  SQLite::Statement suppress(
      db, "UPDATE deliveries SET state = 'suppressed', updated_at = ? WHERE id = ?");
  for (const auto& id : pending) {
    suppress.bind(1, now);
    suppress.bind(2, id);
    suppress.exec();
    suppress.reset();
    add_event(db, id, now, DeliveryState::kSuppressed, "unsubscribed from this category by email");
  }
  return true;
}

void load_unsubscribed(SQLite::Database& db, Guardian& guardian) {
  SQLite::Statement q(db, "SELECT channel, category FROM channel_opt_outs WHERE guardian_id = ?");
  q.bind(1, guardian.id);
  while (q.executeStep()) {
    guardian.unsubscribed.emplace(q.getColumn(0).getString(), q.getColumn(1).getString());
  }
}

UnsubscribeStore::UnsubscribeStore(Store& store, const Clock& clock, UnsubscribeTokens tokens)
    : store_(store), clock_(clock), tokens_(std::move(tokens)) {}

void UnsubscribeStore::find(std::string token, Done<std::optional<UnsubscribeTarget>> done) {
  auto result = std::make_shared<std::optional<UnsubscribeTarget>>();
  store_.writer().submit(
      [this, token = std::move(token), result](SQLite::Database& db) {
        *result = find_unsubscribe_target(db, token, tokens_);
        return Status{};
      },
      [result, done = std::move(done)](Status s) {
        if (!s.is_ok()) return done(s);
        done(*result);
      });
}

void UnsubscribeStore::unsubscribe(std::string token, Done<std::optional<UnsubscribeTarget>> done) {
  auto result = std::make_shared<std::optional<UnsubscribeTarget>>();
  store_.writer().submit(
      [this, token = std::move(token), result](SQLite::Database& db) {
        *result = find_unsubscribe_target(db, token, tokens_);
        if (*result) record_unsubscribe(db, **result, "", clock_.now());
        return Status{};
      },
      [result, done = std::move(done)](Status s) {
        if (!s.is_ok()) return done(s);
        done(*result);
      });
}

}  // namespace homeroom::store
