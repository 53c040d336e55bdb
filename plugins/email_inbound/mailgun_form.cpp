#include "mailgun_form.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>

namespace homeroom::email_inbound {
namespace {

// A header value on one line: CR, LF and NUL become spaces.
std::string one_line(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  return out;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

MailgunPost read_mailgun_post(const std::vector<std::pair<std::string, std::string>>& fields) {
  MailgunPost post;
  const std::pair<const char*, std::string*> known[] = {
      {"timestamp", &post.timestamp},
      {"token", &post.token},
      {"signature", &post.signature},
      {"sender", &post.sender},
      {"from", &post.from},
      {"recipient", &post.recipient},
      {"subject", &post.subject},
      {"body-plain", &post.body_plain},
      {"stripped-text", &post.stripped},
      {"Message-Id", &post.message_id},
      {"In-Reply-To", &post.in_reply_to},
      {"References", &post.references},
      {"body-mime", &post.body_mime},
  };
  std::array<bool, std::size(known)> seen{};
  for (const auto& [name, value] : fields) {
    for (std::size_t i = 0; i < std::size(known); ++i) {
      if (!seen[i] && name == known[i].first) {
        *known[i].second = value;
        seen[i] = true;
      }
    }
  }
  return post;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

bool mailgun_signature_ok(std::string_view signing_key, const MailgunPost& post) {
  if (signing_key.empty() || post.timestamp.empty() || post.token.empty()) return false;
  const std::string expected = hmac_sha256_hex(signing_key, post.timestamp + post.token);
  if (post.signature.size() != expected.size()) return false;
  std::string offered = post.signature;
  for (char& c : offered) c = lower(c);
  return CRYPTO_memcmp(offered.data(), expected.data(), expected.size()) == 0;
}

std::string email_from_post(const MailgunPost& post) {
  if (!post.body_mime.empty()) return post.body_mime;
  std::string out;
  const auto header = [&out](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    out += name;
    out += ": ";
    out += one_line(value);
    out += "\r\n";
  };
  header("From", post.from.empty() ? post.sender : post.from);
  header("To", post.recipient);
  header("Subject", post.subject);
  header("Message-ID", post.message_id);
  header("In-Reply-To", post.in_reply_to);
  header("References", post.references);
  out +=
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n";
  out += post.body_plain.empty() ? post.stripped : post.body_plain;
  return out;
}

}  // namespace homeroom::email_inbound
