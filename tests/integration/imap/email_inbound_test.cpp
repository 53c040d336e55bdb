// The email_inbound plugin inside the real homeroomd, driven over HTTP: Mailgun posts signed with
// the signing key (HMAC-SHA256 computed here with OpenSSL, independently of the plugin) and raw
// MIME posts with the URL secret. Until a reply handler is configured in the daemon, a verified
// post is answered 503 "replies are not configured" (so the provider keeps it); what must hold
// regardless: forged, stale and wrongly-keyed posts get 403, verified ones never do.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>
#include <ctime>

#include "daemon_harness.h"

using namespace homeroom;
using namespace homeroom::testing;

namespace {

constexpr const char* kKey = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
constexpr const char* kMimeSecret = "mime-secret-0123456789abcdef";

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

std::string mailgun_form(long timestamp, const std::string& token, const std::string& signature) {
  return "timestamp=" + std::to_string(timestamp) + "&token=" + token + "&signature=" + signature +
         "&sender=ana%40example.org&from=Ana+%3Cana%40example.org%3E"
         "&recipient=reply%2Btok1%40reply.example.org&subject=Re%3A+Maya"
         "&body-plain=Thanks%21%0A%0AOn+Mon%2C+Ms.+Lee+wrote%3A%0A%3E+hello"
         "&Message-Id=%3Cm1%40mail.example.org%3E";
}

const std::vector<std::string> kForm = {"Content-Type: application/x-www-form-urlencoded"};

}  // namespace

TEST_CASE("email_inbound in homeroomd: Mailgun and raw MIME posts are verified") {
  TempDir dir;
  Daemon daemon(dir, outbox_channels(dir.path() / "outbox") + R"(
[channels.email_in]
plugin = "email_inbound"
channel = "email"
receive_only = true
[channels.email_in.settings]
signing_key = ")" + std::string(kKey) +
                         R"("
mime_secret = ")" + std::string(kMimeSecret) +
                         R"("
max_age_seconds = 300
)");
  daemon.start();
  const long now = static_cast<long>(std::time(nullptr));
  const std::string token = "tok" + random_secret(8);
  const std::string good_sig = hmac_hex(kKey, std::to_string(now) + token);

  // Forged: signed with another key; tampered timestamp; stale (signed, but an hour old).
  const long old = now - 3600;
  struct Row {
    const char* name;
    std::string body;
  };
  const std::vector<Row> refused = {
      {"other key", mailgun_form(now, token, hmac_hex("other-key", std::to_string(now) + token))},
      {"timestamp changed", mailgun_form(now - 1, token, good_sig)},
      {"stale", mailgun_form(old, token, hmac_hex(kKey, std::to_string(old) + token))},
      {"no signature", mailgun_form(now, token, "")},
  };
  for (const Row& row : refused) {
    INFO(row.name);
    auto r = http_request("POST", daemon.url("/hooks/email_in/mailgun"), row.body, kForm);
    CHECK(r.status == 403);
  }
  auto ok = http_request("POST", daemon.url("/hooks/email_in/mailgun"),
                         mailgun_form(now, token, good_sig), kForm);
  CHECK((ok.status == 200 || ok.status == 503));
  if (ok.status == 503) CHECK_THAT(ok.body, Catch::Contains("replies are not configured"));
  if (ok.status == 200) {  // taken: the same token again is a replay
    CHECK(http_request("POST", daemon.url("/hooks/email_in/mailgun"),
                       mailgun_form(now, token, good_sig), kForm)
              .status == 403);
  }

  const std::string mime =
      "From: Ana <ana@example.org>\r\nTo: reply+tok1@reply.example.org\r\n"
      "Subject: Re: Maya\r\nMessage-ID: <m2@mail.example.org>\r\n\r\nThanks!\r\n";
  const std::vector<std::string> rfc822 = {"Content-Type: message/rfc822"};
  CHECK(
      http_request("POST", daemon.url("/hooks/email_in/mime/wrong-secret-0123456789"), mime, rfc822)
          .status == 403);
  CHECK(http_request("POST", daemon.url("/hooks/email_in/mime/"), mime, rfc822).status == 403);
  auto taken = http_request("POST", daemon.url(std::string("/hooks/email_in/mime/") + kMimeSecret),
                            mime, rfc822);
  CHECK((taken.status == 200 || taken.status == 503));
  auto not_mail = http_request(
      "POST", daemon.url(std::string("/hooks/email_in/mime/") + kMimeSecret), "hello", rfc822);
  CHECK(not_mail.status == 400);

  // Secrets never reach the log.
  const std::string log = daemon.stop_and_log();
  CHECK_THAT(log, !Catch::Contains(kKey));
  CHECK_THAT(log, !Catch::Contains(kMimeSecret));
}
