// The pure parts of a Web Push send: the subscription, the encrypted body and the VAPID header.
// No I/O; throws homeroom::push::CryptoError (or std::invalid_argument for bad input).
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace homeroom::push {

struct Subscription {
  std::string endpoint;
  std::string p256dh;  // decoded: 65-byte uncompressed point
  std::string auth;    // decoded: 16-byte auth secret
};

// Parses a contact's `to`. On failure returns nullopt and sets `why` to a reason fit for an
// outcome (it never echoes keys).
std::optional<Subscription> parse_subscription(std::string_view to, std::string& why);

// The origin "https://host[:port]" of an endpoint URL (host lower-cased, default port left out),
// or "" when it is not an absolute http(s) URL.
std::string url_origin(std::string_view url);

// The largest plaintext one 4096-byte record carries (4096 - 16 tag - 1 delimiter - 86 header).
inline constexpr std::size_t kMaxPlaintext = 3993;

// RFC 8291 aes128gcm body: header (salt || rs=4096 || idlen=65 || as_public) then one record.
// `ephemeral` and `salt` are inputs so tests can pin them; production passes fresh ones.
std::string encrypt_aes128gcm(const Subscription& sub, std::string_view plaintext,
                              EVP_PKEY* ephemeral, std::string_view salt16);

// "vapid t=<jwt>, k=<public key>" for `audience`, valid until exp (Unix seconds).
std::string vapid_authorization(std::string_view audience, std::int64_t exp,
                                std::string_view subject, EVP_PKEY* vapid_key,
                                std::string_view public_key_b64url);

}  // namespace homeroom::push
