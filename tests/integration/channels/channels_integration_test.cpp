// One homeroomd with every real channel at once, and one family with an email address, a phone
// number and a Web Push subscription. The family's preferred channel changes between notes; each
// note must arrive at the peer of that channel only, as the peer reads it: aiosmtpd + npm
// mailparser (email), the Twilio fake's recorded form (sms), the loopback push service that
// decrypts with npm http_ece (push). Then homeroomd's log must hold none of the three secrets
// (at info and at debug, where the request traces are) and, at info, none of the family's full
// addresses.
#include <catch2/catch.hpp>
#include <thread>

#include "daemon_harness.h"
#include "push_crypto.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

constexpr const char* kSmtpUser = "homeroom";
constexpr const char* kSmtpPassword = "sm7p-Pa55w0rd-all-channels";
constexpr const char* kTwilioSid = "ACchan00000000000000000000000000000";
constexpr const char* kTwilioToken = "twilio-auth-token-all-channels";
constexpr const char* kPushSubject = "mailto:office@lincoln.example.org";
constexpr const char* kEmail = "ana.diaz@example.net";
constexpr const char* kPhone = "+15551230001";
constexpr const char* kPushPath = "/sub/ana-7f3c9e";

// Starts a peer that writes its port to `<name>.port` once it listens; waits (bounded: 20 s).
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

// JSON lines from `file`, keeping those `keep` accepts; waits (bounded: 10 s) for `n` of them.
template <typename Keep>
std::vector<json> read_lines(const std::filesystem::path& file, std::size_t n, Keep keep) {
  std::vector<json> out;
  for (int i = 0; i < 1000; ++i) {
    out.clear();
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line);
      if (keep(j)) out.push_back(std::move(j));
    }
    if (out.size() >= n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return out;
}

struct Peers {
  std::unique_ptr<Process> smtp, twilio, webpush;
  int smtp_port = 0, twilio_port = 0, webpush_port = 0;
  std::filesystem::path mail_dir, sms_record, push_record;
  json push_keys;
  std::string vapid_public, vapid_private;

  explicit Peers(const TempDir& dir) {
    mail_dir = dir / "mail";
    std::filesystem::create_directories(mail_dir);
    smtp_port = start_peer(
        smtp,
        {"/usr/bin/python3", HOMEROOM_SOURCE_DIR "/tests/peers/smtp_server.py", "--out-dir",
         mail_dir.string(), "--auth", std::string(kSmtpUser) + ":" + kSmtpPassword},
        dir, "smtp");
    sms_record = dir / "sms.jsonl";
    twilio_port =
        start_peer(twilio,
                   {HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/twilio_fake.js", "--record",
                    sms_record.string(), "--sid", kTwilioSid, "--token", kTwilioToken},
                   dir, "twilio");
    const std::string script = HOMEROOM_SOURCE_DIR "/tests/peers/webpush_check.js";
    auto [code, out] =
        run_command({HOMEROOM_NODE, script, "keygen", "--out", (dir / "keys.json").string()},
                    dir / "keygen.log");
    INFO(out);
    REQUIRE(code == 0);
    std::ifstream in(dir / "keys.json");
    push_keys = json::parse(in);
    const push::Pkey vapid = push::p256_generate();
    vapid_public = push::base64url_encode(push::p256_public_point(vapid.get()));
    vapid_private = push::base64url_encode(push::p256_private_scalar(vapid.get()));
    push_record = dir / "push.jsonl";
    // The plugin signs exp from the daemon's real clock: the service accepts any in (now, now+24h].
    webpush_port =
        start_peer(webpush,
                   {HOMEROOM_NODE, script, "serve", "--keys", (dir / "keys.json").string(),
                    "--vapid-public-key", vapid_public, "--sub", kPushSubject, "--exp", "any",
                    "--record", push_record.string()},
                   dir, "webpush");
  }

  std::string push_endpoint() const {
    return "http://127.0.0.1:" + std::to_string(webpush_port) + kPushPath;
  }

  std::string config() const {
    const std::string email =
        std::string("[email]\nfrom_address = \"office@lincoln.example.org\"\n") +
        "from_name = \"Escuela Lincoln\"\nreply_domain = \"reply.lincoln.example.org\"\n" +
        "[channels.email]\nplugin = \"email_smtp\"\nchannel = \"email\"\n" +
        "[channels.email.settings]\nurl = \"smtp://127.0.0.1:" + std::to_string(smtp_port) +
        "\"\nrequire_tls = false  # loopback test peer without TLS\nusername = \"" + kSmtpUser +
        "\"\npassword = \"" + kSmtpPassword + "\"\ntimeout_ms = 10000\n";
    const std::string sms =
        std::string("[channels.sms]\nplugin = \"sms_twilio\"\n") +
        "channel = \"sms\"\n[channels.sms.settings]\naccount_sid = \"" + kTwilioSid +
        "\"\nauth_token = \"" + kTwilioToken +
        "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" + std::to_string(twilio_port) +
        "\"\n";
    const std::string push =
        "[channels.push]\nplugin = \"push_webpush\"\nchannel = \"push\"\n"
        "[channels.push.settings]\nvapid_public_key = \"" +
        vapid_public + "\"\nvapid_private_key = \"" + vapid_private + "\"\nsubject = \"" +
        kPushSubject + "\"\nttl_seconds = \"3600\"\ntimeout_ms = \"10000\"\n";
    return email + sms + push;
  }

  std::vector<json> mails(std::size_t n) const {
    return read_lines(mail_dir / "sessions.jsonl", n,
                      [](const json& e) { return e["event"] == "message"; });
  }
  std::vector<json> sms(std::size_t n) const {
    return read_lines(sms_record, n, [](const json&) { return true; });
  }
  std::vector<json> pushes(std::size_t n) const {
    return read_lines(push_record, n, [](const json&) { return true; });
  }
};

struct SchoolFixture {
  TempDir dir;
  Peers peers{dir};
  Daemon daemon;
  std::string admin, lee;

  explicit SchoolFixture(const std::string& log_level) : daemon(dir, peers.config()) {
    if (log_level != "info") set_log_level(log_level);
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/staff/t1", {{"name", "Sra. Núñez"}, {"email", "nunez@lincoln.example.org"}});
    family({"sms", "email", "push"});
    put("/v1/students/s1", {{"given_name", "Maya"},
                            {"family_name", "Díaz"},
                            {"staff", {"t1"}},
                            {"guardians", {{{"id", "g1"}}}}});
    lee = daemon.token(Role::kTeacher, "t1");
  }

  // The harness writes level "info"; the [log] table cannot be reopened by appending.
  void set_log_level(const std::string& level) {
    const auto path = dir / "homeroom.toml";
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string info = "[log]\nlevel = \"info\"\n";
    const auto at = text.find(info);
    REQUIRE(at != std::string::npos);
    text.replace(at, info.size(), "[log]\nlevel = \"" + level + "\"\n");
    std::ofstream(path) << text;
  }

  // PUTs the one guardian, with all three contacts and `channels` as the preference.
  void family(const std::vector<std::string>& channels) {
    put("/v1/guardians/g1",
        {{"given_name", "Ana"},
         {"family_name", "Díaz"},
         {"language", "es"},
         {"contacts",
          {{{"channel", "email"}, {"address", kEmail}},
           {{"channel", "sms"}, {"address", kPhone}},
           {{"channel", "push"},
            {"subscription",
             {{"endpoint", peers.push_endpoint()},
              {"keys",
               {{"p256dh", peers.push_keys["p256dh"]}, {"auth", peers.push_keys["auth"]}}}}}}}},
         {"preferences", {{"channels", channels}}}});
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

  // Posts a note and waits (bounded: 30 s) for its only delivery to settle; returns it.
  json note(const std::string& es_body) {
    auto r = daemon.call("POST", "/v1/messages", lee,
                         {{"student_id", "s1"},
                          {"category", "note"},
                          {"body", "Maya helped two classmates."},
                          {"translations", {{"es", es_body}}}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    const std::string id = json::parse(r.body)["id"];
    for (int i = 0; i < 3000; ++i) {
      auto g = daemon.call("GET", "/v1/messages/" + id, admin);
      REQUIRE(g.status == 200);
      auto m = json::parse(g.body);
      REQUIRE(m["deliveries"].size() == 1);
      const auto& d = m["deliveries"][0];
      if (d["state"] != "queued" && d["state"] != "sending" && d["state"] != "planned") return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("delivery did not settle:\n" << daemon.process().output());
    return {};
  }

  json parse_with_mailparser(const std::string& file) {
    auto [code, output] =
        run_command({HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/parse_mail.js",
                     (peers.mail_dir / file).string()},
                    dir / "parse.log");
    INFO(output);
    REQUIRE(code == 0);
    return json::parse(output);
  }
};

}  // namespace

TEST_CASE("channels: one family, sms then email then push, each at its real peer") {
  const std::string level = GENERATE(as<std::string>{}, "info", "debug");
  INFO("log level " << level);
  SchoolFixture s(level);

  const std::string sms_text = "Maya ayudó a dos compañeros.";
  const auto by_sms = s.note(sms_text);
  INFO(s.daemon.process().output());
  CHECK(by_sms["channel"] == "sms");
  CHECK(by_sms["state"] == "sent");
  const auto forms = s.peers.sms(1);
  REQUIRE(forms.size() == 1);
  CHECK(forms[0]["form"]["To"] == kPhone);
  CHECK(forms[0]["form"]["From"] == "+15557654321");
  CHECK(forms[0]["form"]["Body"] == "Sra. Núñez: " + sms_text);  // SMS are signed

  s.family({"email", "sms", "push"});
  const std::string email_text = "Maya terminó su informe <temprano> & leyó.";
  const auto by_email = s.note(email_text);
  CHECK(by_email["channel"] == "email");
  CHECK(by_email["state"] == "sent");
  const auto mails = s.peers.mails(1);
  REQUIRE(mails.size() == 1);
  CHECK(mails[0]["rcpt_tos"] == json::array({kEmail}));
  CHECK(mails[0]["auth"] == kSmtpUser);
  const auto mail = s.parse_with_mailparser(mails[0]["file"]);
  CHECK(mail["text"].get<std::string>().rfind(email_text, 0) == 0);
  CHECK(mail["subject"] == "Nota de Sra. Núñez sobre Maya");

  s.family({"push", "email", "sms"});
  const std::string push_text = "Salida temprano hoy a las 12:30.";
  const auto by_push = s.note(push_text);
  CHECK(by_push["channel"] == "push");
  CHECK(by_push["state"] == "sent");
  const auto pushes = s.peers.pushes(1);
  REQUIRE(pushes.size() == 1);
  CHECK(pushes[0]["path"] == kPushPath);
  const json payload = json::parse(pushes[0]["plaintext"].get<std::string>());
  CHECK(payload["body"] == push_text);
  CHECK(payload["lang"] == "es");

  // Each note reached its own peer only. All three have settled, and each peer records before it
  // answers (the Twilio fake flushes within 50 ms): read once, without waiting for more.
  CHECK(s.peers.sms(0).size() == 1);
  CHECK(s.peers.mails(0).size() == 1);
  CHECK(s.peers.pushes(0).size() == 1);

  const std::string log = s.daemon.stop_and_log();
  for (const std::string& secret :
       {std::string(kSmtpPassword), std::string(kTwilioToken), s.peers.vapid_private}) {
    INFO("secret " << secret);
    CHECK(log.find(secret) == std::string::npos);
  }
  if (level == "info") {
    // The log does speak of the family, masked (docs/operations.md, Privacy).
    CHECK(log.find("+1******0001") != std::string::npos);
    for (const std::string& address :
         {std::string(kEmail), std::string(kPhone), s.peers.push_endpoint(), std::string(kPushPath),
          s.peers.push_keys["p256dh"].get<std::string>(),
          s.peers.push_keys["auth"].get<std::string>()}) {
      INFO("address " << address);
      CHECK(log.find(address) == std::string::npos);
    }
  } else {
    // The request traces are there, with their credentials masked.
    CHECK(log.find("transfer POST") != std::string::npos);
    CHECK(log.find("Authorization: ***") != std::string::npos);
  }
}
