#include "render/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
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

}  // namespace

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
