// Signed tokens that homeroom puts into the addresses and links of the email it sends, so that
// what comes back (a reply, an unsubscribe click, a bounce) can be trusted without keeping a
// secret per message:
//
//   reply+TOKEN@reply_domain        reply_token(author_staff, student_id, guardian_id): the thread
//   https://PUBLIC_URL/u/TOKEN      unsubscribe_token(guardian_id, category, channel)
//   mailto:unsubscribe+TOKEN@...    (the same token)
//   bounce+TOKEN@bounce_domain      bounce_token(delivery_id)
//   https://PUBLIC_URL/p/TOKEN      preferences_token(guardian_id, expires_at): the family's page
//
// A token is the lowercase, unpadded base32 of the first 15 bytes of
// HMAC-SHA256(secret, "<kind>|field|field..."): always 24 characters of [a-z2-7], safe in an
// email local part whatever case an MTA applies, and unforgeable without the secret. It carries
// no ids: it is deterministic, so the side that receives it finds what it names by recomputing it
// for the candidates (or by an index of the tokens it issued), then checks it with verify_*.
// The kinds are domain-separated, so a reply token is never a valid bounce token.
//
// A preferences token is different: it carries its guardian and expiry, because the page it opens
// must find the guardian from the link alone. It is
//   base64url(guardian_id "|" expiry_unix_seconds) "." base64url(first 16 bytes of
//   HMAC-SHA256(secret, "preferences|" guardian_id "|" expiry_unix_seconds))
// (unpadded base64url; the "preferences|" prefix keeps it apart from the other kinds). Anyone who
// holds the link can change that one guardian's preferences until it expires: it is a capability,
// so it must never be logged.
//
// `secret` is raw bytes (any length; 32 random bytes is what the store keeps). Pure functions,
// safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace homeroom::render {

// The name of the store's persistent secret (Store::secret) that keys every token: the daemon
// renders with it, and whatever verifies a token (reply matching, /u/ unsubscribe, bounces) reads
// the same one.
inline constexpr const char* kTokenSecretName = "email_tokens";

std::string reply_token(std::string_view secret, std::string_view author_staff,
                        std::string_view student_id, std::string_view guardian_id);
std::string unsubscribe_token(std::string_view secret, std::string_view guardian_id,
                              std::string_view category, std::string_view channel);
std::string bounce_token(std::string_view secret, std::string_view delivery_id);

// True when `token` is the token of these fields; compares in constant time, and accepts the
// token in any letter case (local parts may come back upper-cased).
bool verify_reply_token(std::string_view secret, std::string_view token,
                        std::string_view author_staff, std::string_view student_id,
                        std::string_view guardian_id);
bool verify_unsubscribe_token(std::string_view secret, std::string_view token,
                              std::string_view guardian_id, std::string_view category,
                              std::string_view channel);
bool verify_bounce_token(std::string_view secret, std::string_view token,
                         std::string_view delivery_id);

// How long a preferences link in a message works, unless the daemon is told otherwise.
inline constexpr Millis kPreferencesLinkLifetime = 30LL * 24 * 60 * 60 * 1000;

// The token of https://PUBLIC_URL/p/TOKEN for `guardian_id` (a roster id: no '|'), valid until
// `expires_at` (rounded down to a whole second).
std::string preferences_token(std::string_view secret, std::string_view guardian_id,
                              Millis expires_at);

// What a preferences token says once its signature checks out (in constant time).
struct PreferencesTokenClaims {
  std::string guardian_id;
  bool expired = false;  // signed by us, but `now` is past its expiry: the page says so (410)
};
// nullopt when the token is malformed or its signature is wrong (tampered, or another secret).
std::optional<PreferencesTokenClaims> check_preferences_token(std::string_view secret,
                                                              std::string_view token, Millis now);
// The guardian a valid, unexpired token names; nullopt otherwise.
std::optional<std::string> verify_preferences_token(std::string_view secret, std::string_view token,
                                                    Millis now);

}  // namespace homeroom::render
