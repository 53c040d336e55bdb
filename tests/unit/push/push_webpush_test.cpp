// push_webpush, loaded as the real plugin and driven through a fake host: the exact request, every
// row of the status mapping, settings errors, secrets kept out of logs; and a real decryption of
// the captured body by npm http_ece (tests/peers/webpush_check.js), which also verifies the VAPID
// JWT.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "fake_host.h"
#include "push_crypto.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "transport_host.h"

namespace push = homeroom::push;
using homeroom::testing::CannedResult;
using homeroom::testing::FakeHost;
using homeroom::testing::LoadedPlugin;

namespace {

struct VapidKeys {
  std::string public_b64;
  std::string private_b64;
};

VapidKeys make_vapid() {
  const push::Pkey key = push::p256_generate();
  return {push::base64url_encode(push::p256_public_point(key.get())),
          push::base64url_encode(push::p256_private_scalar(key.get()))};
}

std::string subscription_json(const std::string& endpoint) {
  const push::Pkey ua = push::p256_generate();
  return nlohmann::json{{"endpoint", endpoint},
                        {"keys",
                         {{"p256dh", push::base64url_encode(push::p256_public_point(ua.get()))},
                          {"auth", push::base64url_encode(push::random_bytes(16))}}}}
      .dump();
}

const char kPayload[] =
    R"({"title":"Lincoln Elementary","body":"Field trip tomorrow","category":"note","lang":"en","tag":"m1"})";
const char kEndpoint[] = "https://push.example.net/wpush/v2/gAAAAABk-sub-42";

struct Fixture {
  FakeHost host;
  LoadedPlugin plugin{"push_webpush"};
  Fixture() = default;
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;
  ~Fixture() { host.drain(); }
  VapidKeys vapid = make_vapid();
  std::map<std::string, std::string> settings() const {
    return {{"vapid_public_key", vapid.public_b64},
            {"vapid_private_key", vapid.private_b64},
            {"subject", "mailto:ops@lincoln.example.org"}};
  }
};

}  // namespace

TEST_CASE("push_webpush refuses bad settings by name", "[push][webpush]") {
  Fixture f;
  auto s = f.settings();
  s["colour"] = "blue";
  CHECK_THAT(f.plugin.create(f.host.api(), s), Catch::Contains("'colour'"));

  LoadedPlugin p2("push_webpush");
  s = f.settings();
  s["vapid_private_key"] = make_vapid().private_b64;  // some other key
  const std::string err = p2.create(f.host.api(), s);
  CHECK_THAT(err, Catch::Contains("vapid_private_key"));
  CHECK_THAT(err, !Catch::Contains(s["vapid_private_key"]));

  LoadedPlugin p3("push_webpush");
  s = f.settings();
  s.erase("subject");
  CHECK_THAT(p3.create(f.host.api(), s), Catch::Contains("'subject'"));

  LoadedPlugin p4("push_webpush");
  s = f.settings();
  s["subject"] = "ops@lincoln.example.org";
  CHECK_THAT(p4.create(f.host.api(), s), Catch::Contains("'subject'"));

  LoadedPlugin p5("push_webpush");
  s = f.settings();
  s["vapid_public_key"] = "not base64!";
  CHECK_THAT(p5.create(f.host.api(), s), Catch::Contains("vapid_public_key"));
}

TEST_CASE("push_webpush builds the exact request", "[push][webpush]") {
  Fixture f;
  auto s = f.settings();
  s["ttl_seconds"] = "3600";
  s["timeout_ms"] = "5000";
  REQUIRE(f.plugin.create(f.host.api(), s).empty());

  f.plugin.send(7, subscription_json(kEndpoint), kPayload, "urgent");
  REQUIRE(f.host.requests.size() == 1);
  const auto& r = f.host.requests[0];
  CHECK(r.method == "POST");
  CHECK(r.url == kEndpoint);
  CHECK(r.timeout_ms == 5000);
  CHECK(r.header("TTL") == "3600");
  CHECK(r.header("Content-Encoding") == "aes128gcm");
  CHECK(r.header("Content-Type") == "application/octet-stream");
  CHECK(r.header("Urgency") == "high");
  const std::string auth = r.header("Authorization").value_or("");
  CHECK(auth.rfind("vapid t=", 0) == 0);
  REQUIRE(auth.size() > f.vapid.public_b64.size() + 4);
  CHECK(auth.substr(auth.size() - f.vapid.public_b64.size() - 4) == ", k=" + f.vapid.public_b64);
  // JWT claims (the signature is checked by webpush_check.js below).
  const std::string jwt = auth.substr(8, auth.find(',') - 8);
  const auto dot1 = jwt.find('.');
  const auto dot2 = jwt.find('.', dot1 + 1);
  const auto header = nlohmann::json::parse(push::base64url_decode(jwt.substr(0, dot1)).value());
  const auto claims =
      nlohmann::json::parse(push::base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)).value());
  CHECK(header == nlohmann::json{{"typ", "JWT"}, {"alg", "ES256"}});
  CHECK(claims["aud"] == "https://push.example.net");
  CHECK(claims["exp"] == f.host.now_ms / 1000 + 12 * 3600);
  CHECK(claims["sub"] == "mailto:ops@lincoln.example.org");
  CHECK(push::base64url_decode(jwt.substr(dot2 + 1)).value().size() == 64);
  // Body: salt(16) rs(4) idlen(1) key(65), then one record: plaintext + delimiter + tag.
  REQUIRE(r.body.size() == 86 + sizeof(kPayload) - 1 + 1 + 16);
  CHECK(r.body.substr(16, 5) == std::string("\x00\x00\x10\x00\x41", 5));
  CHECK(r.body[21] == '\x04');
  // Secrets: the private key and the JWT go to the host as secrets and never to the log.
  CHECK(std::find(r.secrets.begin(), r.secrets.end(), f.vapid.private_b64) != r.secrets.end());
  CHECK(std::find(r.secrets.begin(), r.secrets.end(), jwt) != r.secrets.end());
  f.host.complete(0, {201, "", {{"Location", "https://push.example.net/m/abc"}}});
  CHECK_THAT(f.host.all_logs(), !Catch::Contains(f.vapid.private_b64));
  CHECK_THAT(f.host.all_logs(), !Catch::Contains(jwt));

  // Two sends never share an ephemeral key or salt.
  f.plugin.send(8, subscription_json(kEndpoint), kPayload, "note");
  REQUIRE(f.host.requests.size() == 2);
  CHECK(f.host.requests[1].header("Urgency") == "normal");
  CHECK(f.host.requests[1].header("TTL") == "3600");
  CHECK(f.host.requests[1].body.substr(0, 86) != r.body.substr(0, 86));
  f.host.complete(1, {201, ""});
}

TEST_CASE("push_webpush maps every provider answer", "[push][webpush]") {
  struct Row {
    const char* name;
    CannedResult result;
    int32_t kind;
    const char* provider_id;
    const char* reason_has;
    int64_t retry_after_ms;
  };
  const Row rows[] = {
      {"201 Location",
       {201, "", {{"location", "https://push.example.net/m/xyz"}}},
       HR_OUTCOME_ACCEPTED,
       "https://push.example.net/m/xyz",
       "",
       0},
      {"202 no Location", {202, ""}, HR_OUTCOME_ACCEPTED, "gAAAAABk-sub-42", "", 0},
      {"404", {404, "not found"}, HR_OUTCOME_CONTACT_GONE, "", "404", 0},
      {"410", {410, "gone"}, HR_OUTCOME_CONTACT_GONE, "", "410", 0},
      {"413", {413, ""}, HR_OUTCOME_PERMANENT, "", "payload too large", 0},
      {"429", {429, "slow down", {}, 30000}, HR_OUTCOME_THROTTLED, "", "429", 30000},
      {"500", {500, "oops"}, HR_OUTCOME_RETRYABLE, "", "500", 0},
      {"503 Retry-After", {503, "", {}, 12000}, HR_OUTCOME_RETRYABLE, "", "503", 12000},
      {"transport", CannedResult::transport_failure(7, "Couldn't connect to server"),
       HR_OUTCOME_RETRYABLE, "", "Couldn't connect", 0},
      {"400",
       {400, "UnauthorizedRegistration"},
       HR_OUTCOME_PERMANENT,
       "",
       "400: UnauthorizedRegistration",
       0},
      {"403", {403, "bad vapid"}, HR_OUTCOME_PERMANENT, "", "403: bad vapid", 0},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      Fixture f;
      REQUIRE(f.plugin.create(f.host.api(), f.settings()).empty());
      f.plugin.send(42, subscription_json(kEndpoint), kPayload);
      REQUIRE(f.host.requests.size() == 1);
      f.host.complete(0, row.result);
      REQUIRE(f.host.outcomes.size() == 1);
      const auto& o = f.host.outcomes[0];
      CHECK(o.token == 42);
      CHECK(o.kind == row.kind);
      CHECK(o.provider_id == row.provider_id);
      CHECK_THAT(o.reason, Catch::Contains(row.reason_has));
      CHECK(o.retry_after_ms == row.retry_after_ms);
    }
  }
}

TEST_CASE("push_webpush refuses malformed contacts without a request", "[push][webpush]") {
  const std::string good_key =
      push::base64url_encode(push::p256_public_point(push::p256_generate().get()));
  const std::string auth = push::base64url_encode(push::random_bytes(16));
  struct Row {
    std::string to;
    const char* reason_has;
  };
  const Row rows[] = {
      {"not json", "not a JSON object"},
      {R"({"fcm_token":"abc"})", "not a Web Push subscription"},
      {R"({"endpoint":"https://p.example/x"})", "malformed"},
      {nlohmann::json{{"endpoint", "ftp://p.example/x"},
                      {"keys", {{"p256dh", good_key}, {"auth", auth}}}}
           .dump(),
       "https"},
      {nlohmann::json{{"endpoint", "http://p.example/x"},
                      {"keys", {{"p256dh", good_key}, {"auth", auth}}}}
           .dump(),
       "https"},
      {nlohmann::json{{"endpoint", kEndpoint}, {"keys", {{"p256dh", "AAAA"}, {"auth", auth}}}}
           .dump(),
       "p256dh"},
      {nlohmann::json{{"endpoint", kEndpoint}, {"keys", {{"p256dh", good_key}, {"auth", "AAAA"}}}}
           .dump(),
       "auth"},
  };
  Fixture f;
  REQUIRE(f.plugin.create(f.host.api(), f.settings()).empty());
  uint64_t token = 1;
  for (const Row& row : rows) {
    f.plugin.send(token, row.to, kPayload);
    REQUIRE(f.host.outcomes.size() == token);
    CHECK(f.host.outcomes.back().kind == HR_OUTCOME_PERMANENT);
    CHECK_THAT(f.host.outcomes.back().reason, Catch::Contains(row.reason_has));
    ++token;
  }
  f.plugin.send(token, subscription_json(kEndpoint), std::string(4000, 'x'));
  CHECK(f.host.outcomes.back().kind == HR_OUTCOME_PERMANENT);
  CHECK_THAT(f.host.outcomes.back().reason, Catch::Contains("payload too large"));
  CHECK(f.host.requests.empty());
}

TEST_CASE("push_webpush body decrypts with http_ece and its VAPID JWT verifies in node",
          "[push][webpush][node]") {
  homeroom::testing::TempDir dir;
  const std::string script = std::string(HOMEROOM_SOURCE_DIR) + "/tests/peers/webpush_check.js";
  auto [code, out] = homeroom::testing::run_command(
      {"/usr/bin/node", script, "keygen", "--out", (dir / "keys.json").string()}, dir / "log");
  REQUIRE(code == 0);
  std::ifstream keys_in(dir / "keys.json");
  const auto keys = nlohmann::json::parse(keys_in);
  const std::string to =
      nlohmann::json{{"endpoint", "https://updates.push.services.mozilla.com:443/wpush/v2/abc"},
                     {"keys", {{"p256dh", keys["p256dh"]}, {"auth", keys["auth"]}}}}
          .dump();

  Fixture f;
  REQUIRE(f.plugin.create(f.host.api(), f.settings()).empty());
  // Non-ASCII on purpose: the payload is bytes, not text, to the cipher.
  const std::string payload =
      R"({"title":"Escuela Lincoln","body":"Excursión mañana — 学校","category":"urgent","lang":"es","tag":"m9"})";
  f.plugin.send(1, to, payload, "urgent");
  REQUIRE(f.host.requests.size() == 1);
  const auto& r = f.host.requests[0];
  {
    std::ofstream body(dir / "body.bin", std::ios::binary);
    body << r.body;
  }
  std::tie(code, out) = homeroom::testing::run_command(
      {"/usr/bin/node", script, "check", "--keys", (dir / "keys.json").string(), "--body",
       (dir / "body.bin").string(), "--authorization", r.header("Authorization").value_or(""),
       "--vapid-public-key", f.vapid.public_b64, "--aud",
       "https://updates.push.services.mozilla.com", "--exp",
       std::to_string(f.host.now_ms / 1000 + 12 * 3600), "--sub", "mailto:ops@lincoln.example.org",
       "--out", (dir / "plain.txt").string()},
      dir / "log");
  INFO(out);
  REQUIRE(code == 0);
  std::ifstream plain_in(dir / "plain.txt", std::ios::binary);
  const std::string plaintext((std::istreambuf_iterator<char>(plain_in)),
                              std::istreambuf_iterator<char>());
  CHECK(plaintext == payload);
  f.host.complete(0, {201, ""});

  SECTION("a tampered body does not decrypt (the check can fail)") {
    std::string bad = r.body;
    bad[bad.size() - 3] = static_cast<char>(bad[bad.size() - 3] ^ 0x40);
    {
      std::ofstream body(dir / "body.bin", std::ios::binary | std::ios::trunc);
      body << bad;
    }
    std::tie(code, out) = homeroom::testing::run_command(
        {"/usr/bin/node", script, "check", "--keys", (dir / "keys.json").string(), "--body",
         (dir / "body.bin").string(), "--authorization", r.header("Authorization").value_or(""),
         "--vapid-public-key", f.vapid.public_b64, "--aud",
         "https://updates.push.services.mozilla.com", "--exp",
         std::to_string(f.host.now_ms / 1000 + 12 * 3600), "--sub",
         "mailto:ops@lincoln.example.org", "--out", (dir / "plain2.txt").string()},
        dir / "log");
    CHECK(code != 0);
  }
}

TEST_CASE("push_webpush through the real Transport to a loopback push service that decrypts",
          "[push][webpush][node]") {
  homeroom::testing::TempDir dir;
  const std::string script = std::string(HOMEROOM_SOURCE_DIR) + "/tests/peers/webpush_check.js";
  auto [code, out] = homeroom::testing::run_command(
      {"/usr/bin/node", script, "keygen", "--out", (dir / "keys.json").string()}, dir / "log");
  REQUIRE(code == 0);
  std::ifstream keys_in(dir / "keys.json");
  const auto keys = nlohmann::json::parse(keys_in);
  const VapidKeys vapid = make_vapid();

  LoadedPlugin plugin("push_webpush");
  homeroom::testing::TransportHost host;
  const auto port_file = dir / "port";
  homeroom::testing::Process service(
      {"/usr/bin/node", script, "serve", "--port-file", port_file.string(), "--keys",
       (dir / "keys.json").string(), "--vapid-public-key", vapid.public_b64, "--sub",
       "https://lincoln.example.org/contact", "--exp",
       std::to_string(host.now() / 1000 + 12 * 3600), "--record", (dir / "record.jsonl").string(),
       "--gone", "/sub/expired"},
      dir / "service.log");
  for (int i = 0; i < 1000 && !std::filesystem::exists(port_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(std::filesystem::exists(port_file));
  std::ifstream port_in(port_file);
  std::string port;
  port_in >> port;
  const std::string base = "http://127.0.0.1:" + port;
  auto to = [&](const std::string& path) {
    return nlohmann::json{{"endpoint", base + path},
                          {"keys", {{"p256dh", keys["p256dh"]}, {"auth", keys["auth"]}}}}
        .dump();
  };

  REQUIRE(plugin
              .create(host.api(), {{"vapid_public_key", vapid.public_b64},
                                   {"vapid_private_key", vapid.private_b64},
                                   {"subject", "https://lincoln.example.org/contact"},
                                   {"ttl_seconds", "600"}})
              .empty());
  const std::string urgent =
      R"({"title":"Lincoln","body":"Early dismissal 12:30","category":"urgent","lang":"en","tag":"u1"})";
  host.call([&] {
    plugin.send(1, to("/sub/a"), kPayload, "note");
    plugin.send(2, to("/sub/b"), urgent, "urgent");
    plugin.send(3, to("/sub/expired"), kPayload, "note");
  });
  auto outcomes = host.wait_outcomes(3);
  const std::string logs = host.all_logs();
  host.stop();
  INFO(service.output());
  REQUIRE(outcomes.size() == 3);
  std::sort(outcomes.begin(), outcomes.end(),
            [](const auto& a, const auto& b) { return a.token < b.token; });
  CHECK(outcomes[0].kind == HR_OUTCOME_ACCEPTED);
  CHECK(outcomes[0].provider_id.rfind(base + "/m/", 0) == 0);
  CHECK(outcomes[1].kind == HR_OUTCOME_ACCEPTED);
  CHECK(outcomes[2].kind == HR_OUTCOME_CONTACT_GONE);
  CHECK_THAT(logs, !Catch::Contains(vapid.private_b64));

  std::map<std::string, nlohmann::json> received;
  std::ifstream record(dir / "record.jsonl");
  for (std::string line; std::getline(record, line);) {
    const auto entry = nlohmann::json::parse(line);
    received[entry["path"]] = entry;
  }
  REQUIRE(received.size() == 2);
  CHECK(received["/sub/a"]["plaintext"] == kPayload);
  CHECK(received["/sub/a"]["urgency"] == "normal");
  CHECK(received["/sub/a"]["ttl"] == "600");
  CHECK(received["/sub/b"]["plaintext"] == urgent);
  CHECK(received["/sub/b"]["urgency"] == "high");
}
