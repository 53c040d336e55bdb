// Email one-click unsubscribe (RFC 8058) in the store: finding what an unsubscribe token names,
// and recording that a family stopped a category on a channel (migration 0011).
//
// Tokens (render/tokens.h) carry no ids: unsubscribe_token(guardian, category, channel) is an
// HMAC. The store keeps an index of every token it may have issued (unsubscribe_tokens), filled
// lazily: when a token is not found, the (guardian, category, channel) triples of the deliveries
// created since the last fill (a rowid high-water mark) get their tokens computed and indexed, and
// the lookup is tried once more. So an unknown or forged token costs one pass over the new
// deliveries at most, never a scan of the roster; a found candidate is still checked with
// verify_unsubscribe_token (constant time). "urgent" is never indexed: urgent email carries no
// List-Unsubscribe and cannot be stopped.
//
// Unsubscribing records a per-(guardian, channel, category) opt-out (channel_opt_outs) that the
// planner and a fallback respect (Guardian::unsubscribed), suppresses that guardian's deliveries
// of the category on the channel that are not yet handed to a provider, and adds a consent_events
// row (source "email-unsubscribe"). Doing it twice changes nothing the second time.
//
// Thread-safe: everything runs as jobs of the store's writer.
#pragma once

#include <SQLiteCpp/Database.h>

#include <functional>
#include <optional>
#include <string>

#include "store/store.h"

namespace homeroom::store {

struct UnsubscribeTarget {
  std::string guardian_id;
  std::string category;
  std::string channel;
  std::string language;  // the guardian's, for the confirmation page
};

// render::unsubscribe_token with the daemon's token secret, and its verify_ counterpart.
struct UnsubscribeTokens {
  std::function<std::string(const std::string& guardian_id, const std::string& category,
                            const std::string& channel)>
      make;
  std::function<bool(const std::string& token, const std::string& guardian_id,
                     const std::string& category, const std::string& channel)>
      verify;
};

// "unsubscribe+TOKEN@domain" (any case) -> "token"; "" otherwise.
std::string unsubscribe_token_of_address(const std::string& to);

// Inside a write transaction: what `token` names (index refreshed if needed); nullopt: unknown.
std::optional<UnsubscribeTarget> find_unsubscribe_target(SQLite::Database& db,
                                                         const std::string& token,
                                                         const UnsubscribeTokens& tokens);
// Inside a write transaction: records the opt-out (see above). `address` is where the request
// came from, when known (the mailto: sender), else the guardian's address on that channel. True
// when something changed.
bool record_unsubscribe(SQLite::Database& db, const UnsubscribeTarget& target,
                        const std::string& address, Millis now);
// Fills guardian.unsubscribed from channel_opt_outs.
void load_unsubscribed(SQLite::Database& db, Guardian& guardian);

class UnsubscribeStore {
 public:
  UnsubscribeStore(Store& store, const Clock& clock, UnsubscribeTokens tokens);

  // What `token` names, without changing anything the family chose (GET /u/: the page).
  void find(std::string token, Done<std::optional<UnsubscribeTarget>> done);
  // Unsubscribes what `token` names (POST /u/); nullopt: unknown token, nothing changed.
  void unsubscribe(std::string token, Done<std::optional<UnsubscribeTarget>> done);

 private:
  Store& store_;
  const Clock& clock_;
  UnsubscribeTokens tokens_;
};

}  // namespace homeroom::store
