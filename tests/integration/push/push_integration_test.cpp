// The real homeroomd delivers push notifications. Web Push: the real push_webpush plugin asks the
// daemon's transport to POST to a loopback push service (tests/peers/webpush_check.js serve) that
// checks the VAPID JWT and decrypts the body with npm http_ece, as a browser would; a subscription
// the service reports gone (410) fails the delivery as "contact gone". FCM: the real push_fcm
// plugin signs in to a loopback fake (tests/peers/fcm_fake.js) that verifies its RS256 JWT with
// the service account's public key, then sends; an unregistered token fails as "contact gone".
#include <curl/curl.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <thread>

#include "daemon_harness.h"
#include "push_crypto.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

const char kSubject[] = "mailto:office@lincoln.example.org";

// A node peer that writes its port to a file; waits for it.
int start_peer(std::unique_ptr<Process>& process, std::vector<std::string> argv, const TempDir& dir,
               const std::string& name) {
  const auto port_file = dir / (name + ".port");
  argv.insert(argv.end(), {"--port-file", port_file.string()});
  process = std::make_unique<Process>(argv, dir / (name + ".log"));
  for (int i = 0; i < 2000 && !std::filesystem::exists(port_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  INFO(process->output());
  REQUIRE(std::filesystem::exists(port_file));
  int port = 0;
  std::ifstream(port_file) >> port;
  return port;
}

struct SchoolFixture {
  TempDir dir;
  std::unique_ptr<Daemon> daemon;
  std::string admin, lee;

  void start(const std::string& channel_config, const json& push_contact) {
    daemon = std::make_unique<Daemon>(dir, channel_config);
    admin = daemon->token(Role::kAdmin);
    daemon->start();
    put("/v1/staff/t1", {{"name", "Sra. Núñez"}, {"email", "nunez@lincoln.example.org"}});
    put("/v1/guardians/g1", {{"given_name", "Ana"},
                             {"family_name", "Díaz"},
                             {"language", "es"},
                             {"contacts", {push_contact}},
                             {"preferences", {{"channels", {"push"}}}}});
    put("/v1/students/s1", {{"given_name", "Maya"},
                            {"family_name", "Díaz"},
                            {"staff", {"t1"}},
                            {"guardians", {{{"id", "g1"}}}}});
    lee = daemon->token(Role::kTeacher, "t1");
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon->call("PUT", path, admin, body);
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

  std::string message(const std::string& category, const std::string& es_body) {
    auto r = daemon->call("POST", "/v1/messages", lee,
                          {{"student_id", "s1"},
                           {"category", category},
                           {"body", "Maya helped two classmates."},
                           {"translations", {{"es", es_body}}}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    return json::parse(r.body)["id"].get<std::string>();
  }

  // The guardian's one push contact as the API shows it (status "gone" once the host stops using
  // it).
  json push_contact() {
    auto r = daemon->call("GET", "/v1/guardians/g1", admin);
    REQUIRE(r.status == 200);
    INFO(r.body);
    const auto g = json::parse(r.body);
    REQUIRE(g["contacts"].size() == 1);
    return g["contacts"][0];
  }

  json settled_delivery(const std::string& id) {
    for (int i = 0; i < 3000; ++i) {
      auto r = daemon->call("GET", "/v1/messages/" + id, admin);
      REQUIRE(r.status == 200);
      auto m = json::parse(r.body);
      REQUIRE(m["deliveries"].size() == 1);
      const auto& d = m["deliveries"][0];
      if (d["state"] != "queued" && d["state"] != "sending" && d["state"] != "planned") return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("delivery did not settle:\n" << daemon->process().output());
    return {};
  }
};

struct WebPushPeer {
  std::unique_ptr<Process> process;
  json keys;
  std::string vapid_public, vapid_private;
  int port = 0;
  std::filesystem::path record;

  explicit WebPushPeer(const TempDir& dir) {
    const std::string script = HOMEROOM_SOURCE_DIR "/tests/peers/webpush_check.js";
    auto [code, out] =
        run_command({HOMEROOM_NODE, script, "keygen", "--out", (dir / "keys.json").string()},
                    dir / "keygen.log");
    INFO(out);
    REQUIRE(code == 0);
    std::ifstream in(dir / "keys.json");
    keys = json::parse(in);
    const push::Pkey vapid = push::p256_generate();
    vapid_public = push::base64url_encode(push::p256_public_point(vapid.get()));
    vapid_private = push::base64url_encode(push::p256_private_scalar(vapid.get()));
    record = dir / "received.jsonl";
    // exp is checked against the daemon's real clock by the plugin: accept any (see below).
    port = start_peer(process,
                      {HOMEROOM_NODE, script, "serve", "--keys", (dir / "keys.json").string(),
                       "--vapid-public-key", vapid_public, "--sub", kSubject, "--exp", "any",
                       "--record", record.string(), "--gone", "/sub/expired"},
                      dir, "webpush");
  }

  json contact(const std::string& path) const {
    return {{"channel", "push"},
            {"subscription",
             {{"endpoint", "http://127.0.0.1:" + std::to_string(port) + path},
              {"keys", {{"p256dh", keys["p256dh"]}, {"auth", keys["auth"]}}}}}};
  }

  std::string config() const {
    return "[channels.push]\nplugin = \"push_webpush\"\nchannel = \"push\"\n"
           "[channels.push.settings]\nvapid_public_key = \"" +
           vapid_public + "\"\nvapid_private_key = \"" + vapid_private + "\"\nsubject = \"" +
           kSubject + "\"\nttl_seconds = \"3600\"\ntimeout_ms = \"10000\"\n";
  }

  std::vector<json> received(std::size_t n) const {
    std::vector<json> out;
    for (int i = 0; i < 1000; ++i) {
      out.clear();
      std::ifstream in(record);
      for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
      if (out.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  }
};

}  // namespace

TEST_CASE("homeroomd delivers a Web Push notification a browser can decrypt", "[push]") {
  SchoolFixture s;
  WebPushPeer peer(s.dir);
  s.start(peer.config(), peer.contact("/sub/ana"));
  const auto d = s.settled_delivery(s.message("urgent", "Salida temprano hoy a las 12:30."));
  INFO(s.daemon->process().output() << "\n" << peer.process->output());
  CHECK(d["state"] == "sent");
  CHECK_THAT(d.value("provider_id", ""),
             Catch::StartsWith("http://127.0.0.1:" + std::to_string(peer.port) + "/m/"));
  const auto got = peer.received(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0]["path"] == "/sub/ana");
  CHECK(got[0]["urgency"] == "high");
  CHECK(got[0]["ttl"] == "3600");
  const json payload = json::parse(got[0]["plaintext"].get<std::string>());
  CHECK(payload["body"] == "Salida temprano hoy a las 12:30.");
  CHECK(payload["category"] == "urgent");
  CHECK(payload["lang"] == "es");
  CHECK(payload["title"].is_string());
  CHECK(s.daemon->stop_and_log().find(peer.vapid_private) == std::string::npos);
}

TEST_CASE("homeroomd: a push subscription the service reports gone fails as contact gone",
          "[push]") {
  SchoolFixture s;
  WebPushPeer peer(s.dir);
  s.start(peer.config(), peer.contact("/sub/expired"));
  const auto d = s.settled_delivery(s.message("note", "Maya ayudó a dos compañeras."));
  INFO(s.daemon->process().output());
  CHECK(d["state"] == "failed");
  CHECK_THAT(d.value("last_error", ""), Catch::Contains("contact gone"));
  CHECK(s.push_contact().value("status", "active") == "gone");
  CHECK(peer.received(0).empty());
}

TEST_CASE("homeroomd delivers through FCM, signing in with the service account", "[push]") {
  SchoolFixture s;
  auto [code, out] = run_command({"/usr/bin/openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                                  "rsa_keygen_bits:2048", "-out", (s.dir / "sa.pem").string()},
                                 s.dir / "openssl.log");
  REQUIRE(code == 0);
  std::tie(code, out) = run_command({"/usr/bin/openssl", "pkey", "-in", (s.dir / "sa.pem").string(),
                                     "-pubout", "-out", (s.dir / "sa.pub.pem").string()},
                                    s.dir / "openssl.log");
  REQUIRE(code == 0);
  std::ifstream pem_in(s.dir / "sa.pem");
  const std::string pem((std::istreambuf_iterator<char>(pem_in)), std::istreambuf_iterator<char>());
  const std::string email = "homeroom@lincoln-sd.iam.gserviceaccount.com";
  std::ofstream(s.dir / "sa.json") << json{{"type", "service_account"},
                                           {"client_email", email},
                                           {"private_key", pem},
                                           {"token_uri", "https://oauth2.googleapis.com/token"}}
                                          .dump();
  std::unique_ptr<Process> fake;
  const int port = start_peer(fake,
                              {HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/fcm_fake.js",
                               "--public-key", (s.dir / "sa.pub.pem").string(), "--client-email",
                               email, "--project", "lincoln-sd", "--unregistered", "dev-gone"},
                              s.dir, "fcm");
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string config =
      "[channels.push]\nplugin = \"push_fcm\"\nchannel = \"push\"\n"
      "[channels.push.settings]\nproject_id = \"lincoln-sd\"\n"
      "service_account_file = \"" +
      (s.dir / "sa.json").string() + "\"\ntoken_url = \"" + base + "/token\"\nfcm_base_url = \"" +
      base + "\"\n";

  SECTION("a registered token: sent, after one verified token request") {
    s.start(config, {{"channel", "push"}, {"fcm_token", "dev-ana"}});
    const auto d = s.settled_delivery(s.message("note", "Maya ayudó a dos compañeras."));
    INFO(s.daemon->process().output() << "\n" << fake->output());
    CHECK(d["state"] == "sent");
    // The fake's own record of what it verified and received.
    std::string body;
    CURL* curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, (base + "/stats").c_str());
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* user) {
          static_cast<std::string*>(user)->append(data, size * n);
          return size * n;
        });
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    REQUIRE(curl_easy_perform(curl) == CURLE_OK);
    curl_easy_cleanup(curl);
    INFO(body);
    const json j = json::parse(body);
    CHECK(j["token_requests"] == 1);
    CHECK(j["errors"].empty());
    REQUIRE(j["messages"].size() == 1);
    CHECK(j["messages"][0]["token"] == "dev-ana");
    CHECK(j["messages"][0]["notification"]["body"] == "Maya ayudó a dos compañeras.");
    CHECK(j["messages"][0]["data"]["lang"] == "es");
    CHECK(s.daemon->stop_and_log().find("PRIVATE KEY") == std::string::npos);
  }
  SECTION("an unregistered token fails as contact gone") {
    s.start(config, {{"channel", "push"}, {"fcm_token", "dev-gone"}});
    const auto d = s.settled_delivery(s.message("note", "Maya ayudó a dos compañeras."));
    INFO(s.daemon->process().output());
    CHECK(d["state"] == "failed");
    CHECK_THAT(d.value("last_error", ""), Catch::Contains("contact gone"));
    CHECK(s.push_contact().value("status", "active") == "gone");
  }
}
