#include "render/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>

namespace homeroom::render {
namespace {

constexpr std::size_t kTokenBytes = 15;  // 120 bits: 24 base32 characters, no padding

std::string base32_lower(const unsigned char* data, std::size_t len) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string make_token(std::string_view secret, std::string_view kind,
                       std::initializer_list<std::string_view> fields) {
  std::string input(kind);
  for (std::string_view f : fields) {
    input += '|';
    input += f;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  // HMAC() with a NULL key pointer and length 0 is valid; the key is never empty in the daemon.
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(),
           &mac_len) == nullptr ||
      mac_len < kTokenBytes) {
    throw std::runtime_error("HMAC-SHA256 failed");  // a broken libcrypto: nothing to recover
  }
  return base32_lower(mac.data(), kTokenBytes);
}

bool same_token(const std::string& expected, std::string_view given) {
  if (given.size() != expected.size()) return false;
  std::string lowered(given);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return CRYPTO_memcmp(expected.data(), lowered.data(), expected.size()) == 0;
}

constexpr std::size_t kPreferencesMacBytes = 16;
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view data) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : data) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Url[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kBase64Url[(buffer << (6 - bits)) & 63];
  return out;
}

// Strict unpadded base64url: nullopt on any other character or on non-zero trailing bits, so one
// payload has exactly one encoding.
std::optional<std::string> unbase64url(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '-') v = 62;
    if (c == '_') v = 63;
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  if (bits >= 6 || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string preferences_mac(std::string_view secret, std::string_view payload) {
  const std::string input = "preferences|" + std::string(payload);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(),
           &mac_len) == nullptr ||
      mac_len < kPreferencesMacBytes) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return base64url(
      std::string_view(reinterpret_cast<const char*>(mac.data()), kPreferencesMacBytes));
}

}  // namespace

std::string preferences_token(std::string_view secret, std::string_view guardian_id,
                              Millis expires_at) {
  const std::string payload = std::string(guardian_id) + "|" + std::to_string(expires_at / 1000);
  return base64url(payload) + "." + preferences_mac(secret, payload);
}

std::optional<PreferencesTokenClaims> check_preferences_token(std::string_view secret,
                                                              std::string_view token, Millis now) {
  constexpr std::size_t kMaxToken = 256;  // a 64-byte id and a 10-digit expiry fit with room
  const auto dot = token.find('.');
  if (token.size() > kMaxToken || dot == std::string_view::npos) return std::nullopt;
  const std::string_view encoded = token.substr(0, dot);
  const std::string given_mac(token.substr(dot + 1));
  auto payload = unbase64url(encoded);
  if (!payload) return std::nullopt;
  // Compared before anything in the payload is believed.
  const std::string expected = preferences_mac(secret, *payload);
  if (given_mac.size() != expected.size() ||
      CRYPTO_memcmp(expected.data(), given_mac.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  const auto bar = payload->rfind('|');
  if (bar == std::string::npos || bar == 0) return std::nullopt;
  long long expiry_seconds = 0;
  const char* first = payload->data() + bar + 1;
  const char* last = payload->data() + payload->size();
  auto [end, ec] = std::from_chars(first, last, expiry_seconds);
  if (ec != std::errc() || end != last || first == last) return std::nullopt;
  PreferencesTokenClaims claims;
  claims.guardian_id = payload->substr(0, bar);
  claims.expired = now >= expiry_seconds * 1000;
  return claims;
}

std::optional<std::string> verify_preferences_token(std::string_view secret, std::string_view token,
                                                    Millis now) {
  auto claims = check_preferences_token(secret, token, now);
  if (!claims || claims->expired) return std::nullopt;
  return std::move(claims->guardian_id);
}

std::string reply_token(std::string_view secret, std::string_view author_staff,
                        std::string_view student_id, std::string_view guardian_id) {
  return make_token(secret, "reply", {author_staff, student_id, guardian_id});
}

std::string unsubscribe_token(std::string_view secret, std::string_view guardian_id,
                              std::string_view category, std::string_view channel) {
  return make_token(secret, "unsubscribe", {guardian_id, category, channel});
}

std::string bounce_token(std::string_view secret, std::string_view delivery_id) {
  return make_token(secret, "bounce", {delivery_id});
}

bool verify_reply_token(std::string_view secret, std::string_view token,
                        std::string_view author_staff, std::string_view student_id,
                        std::string_view guardian_id) {
  return same_token(reply_token(secret, author_staff, student_id, guardian_id), token);
}

bool verify_unsubscribe_token(std::string_view secret, std::string_view token,
                              std::string_view guardian_id, std::string_view category,
                              std::string_view channel) {
  return same_token(unsubscribe_token(secret, guardian_id, category, channel), token);
}

bool verify_bounce_token(std::string_view secret, std::string_view token,
                         std::string_view delivery_id) {
  return same_token(bounce_token(secret, delivery_id), token);
}

}  // namespace homeroom::render
