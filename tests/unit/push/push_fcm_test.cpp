// push_fcm, loaded as the real plugin: through a fake host (exact token and send requests, the
// RS256 JWT, token caching and expiry, one token request at a time, every mapping row, secrets
// kept out of logs); and end to end over loopback against tests/peers/fcm_fake.js, which verifies
// the JWT with the service account's public key, through a small libcurl host in this test.
#include <curl/curl.h>
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
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
using nlohmann::json;

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A service account with an RSA key made by `openssl genpkey` for this test run (never committed).
struct ServiceAccount {
  homeroom::testing::TempDir dir;
  std::string private_pem;
  std::string json_text;
  std::filesystem::path json_file;
  std::filesystem::path public_pem_file;
  std::string client_email = "homeroom-push@lincoln-sd.iam.gserviceaccount.com";

  ServiceAccount() {
    auto [code, out] = homeroom::testing::run_command(
        {"/usr/bin/openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
         "-out", (dir / "sa.pem").string()},
        dir / "log");
    if (code != 0) throw std::runtime_error("openssl genpkey: " + out);
    std::tie(code, out) = homeroom::testing::run_command(
        {"/usr/bin/openssl", "pkey", "-in", (dir / "sa.pem").string(), "-pubout", "-out",
         (dir / "sa.pub.pem").string()},
        dir / "log");
    if (code != 0) throw std::runtime_error("openssl pkey: " + out);
    private_pem = read_file(dir / "sa.pem");
    public_pem_file = dir / "sa.pub.pem";
    json_text = json{{"type", "service_account"},
                     {"project_id", "lincoln-sd"},
                     {"client_email", client_email},
                     {"private_key", private_pem},
                     {"token_uri", "https://oauth2.googleapis.com/token"}}
                    .dump();
    json_file = dir / "sa.json";
    std::ofstream(json_file) << json_text;
  }
};

const ServiceAccount& service_account() {
  static const ServiceAccount sa;
  return sa;
}

bool rs256_verifies(const std::string& jwt, const std::string& private_pem) {
  const auto dot2 = jwt.rfind('.');
  const std::string input = jwt.substr(0, dot2);
  const std::string sig = push::base64url_decode(jwt.substr(dot2 + 1)).value_or("");
  const push::Pkey key = push::private_key_from_pem(private_pem);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, key.get(), nullptr) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

json jwt_part(const std::string& jwt, int part) {
  const auto dot1 = jwt.find('.');
  const auto dot2 = jwt.find('.', dot1 + 1);
  const std::string text = part == 0 ? jwt.substr(0, dot1) : jwt.substr(dot1 + 1, dot2 - dot1 - 1);
  return json::parse(push::base64url_decode(text).value());
}

const char kTokenUrl[] = "https://oauth.example.test/token";
const char kPayload[] =
    R"({"title":"Lincoln Elementary","body":"Field trip tomorrow","category":"reminder","lang":"en","tag":"m1"})";
const char kDevice[] = R"({"fcm_token":"dev-token-1"})";

std::string token_answer(const std::string& token, int expires_in = 3600) {
  return json{{"access_token", token}, {"expires_in", expires_in}, {"token_type", "Bearer"}}.dump();
}

std::string fcm_error(int code, const std::string& status, const std::string& error_code,
                      const std::string& message) {
  json e = {{"code", code}, {"status", status}, {"message", message}};
  if (!error_code.empty()) {
    e["details"] = json::array({{{"@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError"},
                                 {"errorCode", error_code}}});
  }
  return json{{"error", e}}.dump();
}

struct Fixture {
  FakeHost host;
  LoadedPlugin plugin{"push_fcm"};
  Fixture() = default;
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;
  ~Fixture() { host.drain(); }
  std::map<std::string, std::string> settings() const {
    return {{"project_id", "lincoln-sd"},
            {"service_account_file", service_account().json_file.string()},
            {"token_url", kTokenUrl}};
  }
  void create() { REQUIRE(plugin.create(host.api(), settings()).empty()); }
};

}  // namespace

TEST_CASE("push_fcm refuses bad settings by name", "[push][fcm]") {
  FakeHost host;
  const auto& sa = service_account();
  auto attempt = [&](std::map<std::string, std::string> s) {
    LoadedPlugin plugin("push_fcm");
    return plugin.create(host.api(), s);
  };
  CHECK_THAT(
      attempt({{"project_id", "p"}, {"service_account_json", sa.json_text}, {"colour", "x"}}),
      Catch::Contains("'colour'"));
  CHECK_THAT(attempt({{"service_account_json", sa.json_text}}), Catch::Contains("'project_id'"));
  CHECK_THAT(attempt({{"project_id", "p"}}), Catch::Contains("service_account_file"));
  CHECK_THAT(attempt({{"project_id", "p"},
                      {"service_account_json", sa.json_text},
                      {"service_account_file", sa.json_file.string()}}),
             Catch::Contains("exactly one"));
  CHECK_THAT(attempt({{"project_id", "p"}, {"service_account_file", "/nonexistent/sa.json"}}),
             Catch::Contains("'service_account_file'"));
  const std::string bad_key =
      json{{"client_email", "a@b"}, {"private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n"}}.dump();
  const std::string err = attempt({{"project_id", "p"}, {"service_account_json", bad_key}});
  CHECK_THAT(err, Catch::Contains("private_key"));
  CHECK_THAT(err, !Catch::Contains("AAAA"));
  CHECK(attempt({{"project_id", "p"}, {"service_account_json", sa.json_text}}).empty());
}

TEST_CASE("push_fcm: token request, then the exact send", "[push][fcm]") {
  Fixture f;
  auto s = f.settings();
  s["timeout_ms"] = "4000";
  s["fcm_base_url"] = "https://fcm.example.test/";
  REQUIRE(f.plugin.create(f.host.api(), s).empty());

  f.plugin.send(1, kDevice, kPayload, "urgent");
  REQUIRE(f.host.requests.size() == 1);
  const auto& t = f.host.requests[0];
  CHECK(t.method == "POST");
  CHECK(t.url == kTokenUrl);
  CHECK(t.timeout_ms == 4000);
  CHECK(t.header("Content-Type") == "application/x-www-form-urlencoded");
  const std::string prefix =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
  REQUIRE(t.body.rfind(prefix, 0) == 0);
  const std::string jwt = t.body.substr(prefix.size());
  CHECK(rs256_verifies(jwt, service_account().private_pem));
  CHECK(jwt_part(jwt, 0) == json{{"alg", "RS256"}, {"typ", "JWT"}});
  const int64_t now_s = f.host.now_ms / 1000;
  CHECK(jwt_part(jwt, 1) == json{{"iss", service_account().client_email},
                                 {"scope", "https://www.googleapis.com/auth/firebase.messaging"},
                                 {"aud", kTokenUrl},
                                 {"iat", now_s},
                                 {"exp", now_s + 3600}});
  CHECK(std::find(t.secrets.begin(), t.secrets.end(), jwt) != t.secrets.end());

  f.host.complete(0, {200, token_answer("ya29.access-1")});
  REQUIRE(f.host.requests.size() == 2);
  const auto& m = f.host.requests[1];
  CHECK(m.method == "POST");
  CHECK(m.url == "https://fcm.example.test/v1/projects/lincoln-sd/messages:send");
  CHECK(m.timeout_ms == 4000);
  CHECK(m.header("Authorization") == "Bearer ya29.access-1");
  CHECK(m.header("Content-Type") == "application/json; charset=UTF-8");
  CHECK(std::find(m.secrets.begin(), m.secrets.end(), "ya29.access-1") != m.secrets.end());
  CHECK(json::parse(m.body) ==
        json{{"message",
              {{"token", "dev-token-1"},
               {"notification", {{"title", "Lincoln Elementary"}, {"body", "Field trip tomorrow"}}},
               {"data", {{"category", "reminder"}, {"lang", "en"}, {"tag", "m1"}}},
               {"android", {{"priority", "high"}}}}}});
  f.host.complete(
      1, {200, R"({"name":"projects/lincoln-sd/messages/0:1500415314455276%31bd1c9631bd1c96"})"});
  REQUIRE(f.host.outcomes.size() == 1);
  CHECK(f.host.outcomes[0].token == 1);
  CHECK(f.host.outcomes[0].kind == HR_OUTCOME_ACCEPTED);
  CHECK(f.host.outcomes[0].provider_id ==
        "projects/lincoln-sd/messages/0:1500415314455276%31bd1c9631bd1c96");

  // Secrets never reach the log.
  const std::string logs = f.host.all_logs();
  CHECK_THAT(logs, !Catch::Contains(jwt));
  CHECK_THAT(logs, !Catch::Contains("ya29.access-1"));
  CHECK_THAT(logs, !Catch::Contains("PRIVATE KEY"));
}

TEST_CASE("push_fcm caches the token until 60 s before expiry", "[push][fcm]") {
  Fixture f;
  f.create();
  f.plugin.send(1, kDevice, kPayload, "note");
  f.host.complete(0, {200, token_answer("tok-A", 3600)});
  f.host.complete(1, {200, R"({"name":"n1"})"});
  CHECK(json::parse(f.host.requests[1].body)["message"]["android"]["priority"] == "normal");

  f.host.now_ms += (3600 - 61) * 1000;  // still fresh
  f.plugin.send(2, kDevice, kPayload);
  REQUIRE(f.host.requests.size() == 3);
  CHECK(f.host.requests[2].header("Authorization") == "Bearer tok-A");
  f.host.complete(2, {200, R"({"name":"n2"})"});

  f.host.now_ms += 2000;  // inside the last minute: a new token first
  f.plugin.send(3, kDevice, kPayload);
  REQUIRE(f.host.requests.size() == 4);
  CHECK(f.host.requests[3].url == kTokenUrl);
  const std::string prefix =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
  CHECK(jwt_part(f.host.requests[3].body.substr(prefix.size()), 1)["iat"] == f.host.now_ms / 1000);
  f.host.complete(3, {200, token_answer("tok-B")});
  REQUIRE(f.host.requests.size() == 5);
  CHECK(f.host.requests[4].header("Authorization") == "Bearer tok-B");
  f.host.complete(4, {200, R"({"name":"n3"})"});
  CHECK(f.host.outcomes.size() == 3);
  for (const auto& o : f.host.outcomes) CHECK(o.kind == HR_OUTCOME_ACCEPTED);
}

TEST_CASE("push_fcm: one token request at a time, and its failure fails the waiters",
          "[push][fcm]") {
  Fixture f;
  f.create();
  f.plugin.send(1, kDevice, kPayload);
  f.plugin.send(2, R"({"fcm_token":"dev-token-2"})", kPayload);
  f.plugin.send(3, kDevice, kPayload);
  REQUIRE(f.host.requests.size() == 1);  // one token request for three sends

  SECTION("success releases all waiters") {
    f.host.complete(0, {200, token_answer("tok")});
    REQUIRE(f.host.requests.size() == 4);
    CHECK(json::parse(f.host.requests[2].body)["message"]["token"] == "dev-token-2");
    for (size_t i = 1; i < 4; ++i) f.host.complete(i, {200, R"({"name":"n"})"});
    CHECK(f.host.outcomes.size() == 3);
  }
  SECTION("failure fails them RETRYABLE; the next send tries again") {
    f.host.complete(
        0, {400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"});
    REQUIRE(f.host.outcomes.size() == 3);
    for (const auto& o : f.host.outcomes) {
      CHECK(o.kind == HR_OUTCOME_RETRYABLE);
      CHECK_THAT(o.reason, Catch::Contains("invalid_grant"));
    }
    f.plugin.send(4, kDevice, kPayload);
    REQUIRE(f.host.requests.size() == 2);
    CHECK(f.host.requests[1].url == kTokenUrl);
    f.host.complete(1, CannedResult::transport_failure(28, "Timeout was reached"));
    CHECK(f.host.outcomes.back().kind == HR_OUTCOME_RETRYABLE);
    CHECK_THAT(f.host.outcomes.back().reason, Catch::Contains("Timeout"));
  }
  SECTION("a host that completes at once (re-entrantly) works too") {
    f.host.on_request = [&](size_t i) {
      if (f.host.requests[i].url == kTokenUrl) return;
      f.host.complete(i, {200, R"({"name":"n"})"});
    };
    f.host.complete(0, {200, token_answer("tok")});
    CHECK(f.host.outcomes.size() == 3);
    CHECK(f.host.open_requests() == 0);
  }
}

TEST_CASE("push_fcm maps every provider answer", "[push][fcm]") {
  struct Row {
    const char* name;
    CannedResult result;
    int32_t kind;
    const char* reason_has;
    int64_t retry_after_ms;
  };
  const Row rows[] = {
      {"404",
       {404, fcm_error(404, "NOT_FOUND", "", "Requested entity was not found.")},
       HR_OUTCOME_CONTACT_GONE,
       "404",
       0},
      {"UNREGISTERED",
       {400, fcm_error(400, "INVALID_ARGUMENT", "UNREGISTERED", "gone")},
       HR_OUTCOME_CONTACT_GONE,
       "UNREGISTERED",
       0},
      {"429",
       {429, fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "quota"), {}, 60000},
       HR_OUTCOME_THROTTLED,
       "QUOTA_EXCEEDED",
       60000},
      {"QUOTA_EXCEEDED",
       {403, fcm_error(403, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "q"), {}, 5000},
       HR_OUTCOME_THROTTLED,
       "quota",
       5000},
      {"500",
       {500, fcm_error(500, "INTERNAL", "INTERNAL", "boom")},
       HR_OUTCOME_RETRYABLE,
       "boom",
       0},
      {"503",
       {503, fcm_error(503, "UNAVAILABLE", "UNAVAILABLE", "later")},
       HR_OUTCOME_RETRYABLE,
       "UNAVAILABLE",
       0},
      {"transport", CannedResult::transport_failure(7, "Couldn't connect to server"),
       HR_OUTCOME_RETRYABLE, "Couldn't connect", 0},
      {"400 INVALID_ARGUMENT",
       {400, fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                       "The registration token is not a valid FCM registration token")},
       HR_OUTCOME_PERMANENT,
       "not a valid FCM registration token",
       0},
      {"403 SENDER_ID_MISMATCH",
       {403, fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "x")},
       HR_OUTCOME_PERMANENT,
       "SENDER_ID_MISMATCH",
       0},
      {"401",
       {401, fcm_error(401, "UNAUTHENTICATED", "", "expired")},
       HR_OUTCOME_RETRYABLE,
       "401",
       0},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      Fixture f;
      f.create();
      f.plugin.send(9, kDevice, kPayload);
      f.host.complete(0, {200, token_answer("tok-1")});
      REQUIRE(f.host.requests.size() == 2);
      f.host.complete(1, row.result);
      REQUIRE(f.host.outcomes.size() == 1);
      CHECK(f.host.outcomes[0].token == 9);
      CHECK(f.host.outcomes[0].kind == row.kind);
      CHECK_THAT(f.host.outcomes[0].reason,
                 Catch::Contains(row.reason_has, Catch::CaseSensitive::No));
      CHECK(f.host.outcomes[0].retry_after_ms == row.retry_after_ms);
      // Only a 401 drops the cached token.
      f.plugin.send(10, kDevice, kPayload);
      REQUIRE(f.host.requests.size() == 3);
      const bool refetched = f.host.requests[2].url == kTokenUrl;
      CHECK(refetched == (row.result.status == 401));
    }
  }
}

TEST_CASE("push_fcm refuses contacts that are not FCM tokens", "[push][fcm]") {
  Fixture f;
  f.create();
  f.plugin.send(1, R"({"endpoint":"https://push.example.net/x","keys":{"p256dh":"B","auth":"a"}})",
                kPayload);
  f.plugin.send(2, "not json", kPayload);
  f.plugin.send(3, R"({"fcm_token":""})", kPayload);
  f.plugin.send(4, kDevice, "not json");
  REQUIRE(f.host.outcomes.size() == 4);
  CHECK_THAT(f.host.outcomes[0].reason, Catch::Contains("not an FCM token"));
  for (const auto& o : f.host.outcomes) CHECK(o.kind == HR_OUTCOME_PERMANENT);
  CHECK(f.host.requests.empty());
}

// ---- end to end over loopback: the daemon's Transport and tests/peers/fcm_fake.js ----

namespace {

std::string http_get(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* user) {
        static_cast<std::string*>(user)->append(data, size * n);
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) throw std::runtime_error("GET " + url + " failed");
  return body;
}

}  // namespace

TEST_CASE("push_fcm through the real Transport against a loopback FCM fake that verifies the JWT",
          "[push][fcm][node]") {
  homeroom::testing::TempDir dir;
  const auto& sa = service_account();
  const auto port_file = dir / "port";
  homeroom::testing::Process fake(
      {"/usr/bin/node", std::string(HOMEROOM_SOURCE_DIR) + "/tests/peers/fcm_fake.js",
       "--port-file", port_file.string(), "--public-key", sa.public_pem_file.string(),
       "--client-email", sa.client_email, "--project", "lincoln-sd", "--unregistered", "dev-gone"},
      dir / "fake.log");
  for (int i = 0; i < 1000 && !std::filesystem::exists(port_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(std::filesystem::exists(port_file));
  const std::string base = "http://127.0.0.1:" + read_file(port_file);

  // Three sends at once: they share one token request; results arrive on the transport thread.
  auto run = [&](const std::map<std::string, std::string>& settings) {
    LoadedPlugin plugin("push_fcm");
    homeroom::testing::TransportHost host;
    REQUIRE(plugin.create(host.api(), settings).empty());
    host.call([&] {
      plugin.send(1, kDevice, kPayload, "urgent");
      plugin.send(2, R"({"fcm_token":"dev-gone"})", kPayload);
      plugin.send(3, kDevice, kPayload);
    });
    auto outcomes = host.wait_outcomes(3);
    const std::string logs = host.all_logs();
    CHECK_THAT(logs, !Catch::Contains("PRIVATE KEY"));
    host.stop();
    std::sort(outcomes.begin(), outcomes.end(),
              [](const auto& a, const auto& b) { return a.token < b.token; });
    return outcomes;
  };

  SECTION("the right key: accepted, gone, and one token for three sends") {
    const auto outcomes = run({{"project_id", "lincoln-sd"},
                               {"service_account_json", sa.json_text},
                               {"token_url", base + "/token"},
                               {"fcm_base_url", base}});
    INFO(fake.output());
    REQUIRE(outcomes.size() == 3);
    CHECK(outcomes[0].kind == HR_OUTCOME_ACCEPTED);
    CHECK(outcomes[0].provider_id.rfind("projects/lincoln-sd/messages/", 0) == 0);
    CHECK(outcomes[1].kind == HR_OUTCOME_CONTACT_GONE);
    CHECK_THAT(outcomes[1].reason, Catch::Contains("UNREGISTERED"));
    CHECK(outcomes[2].kind == HR_OUTCOME_ACCEPTED);
    const std::string stats_body = http_get(base + "/stats");
    INFO(stats_body);
    const json stats = json::parse(stats_body);
    CHECK(stats["token_requests"] == 1);
    CHECK(stats["sends"] == 3);
    CHECK(stats["errors"].empty());
    CHECK(stats["messages"][0]["android"]["priority"] == "high");
    CHECK(stats["messages"][0]["notification"]["title"] == "Lincoln Elementary");
  }
  SECTION("a JWT the fake refuses (wrong audience): all three sends RETRYABLE") {
    const auto outcomes = run({{"project_id", "lincoln-sd"},
                               {"service_account_file", sa.json_file.string()},
                               {"token_url", base + "/token?aud=other"},
                               {"fcm_base_url", base}});
    REQUIRE(outcomes.size() == 3);
    for (const auto& o : outcomes) {
      CHECK(o.kind == HR_OUTCOME_RETRYABLE);
      CHECK_THAT(o.reason, Catch::Contains("invalid_grant") && Catch::Contains("aud"));
    }
  }
}
