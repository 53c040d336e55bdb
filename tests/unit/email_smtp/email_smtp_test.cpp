// The email_smtp plugin as the daemon sees it: the real module (dlopen), a fake host that records
// each hr_smtp_request and completes it with a canned hr_transfer_result.
#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "homeroom_plugin.h"

namespace {

struct RecordedSmtp {
  std::string url, username, password, ca_file, mail_from, message;
  int require_tls = -1, verify_peer = -1;
  std::vector<std::string> recipients;
  std::uint32_t timeout_ms = 0;
  hr_transfer_done_fn done = nullptr;
  void* user = nullptr;
};

struct Outcome {
  std::uint64_t token = 0;
  int kind = -1;
  std::string provider_id, reason;
};

struct FakeHost {
  hr_host_api api{};
  std::vector<std::string> log_lines;
  std::vector<RecordedSmtp> sends;
  std::vector<Outcome> outcomes;

  FakeHost() {
    api.size = sizeof(hr_host_api);
    api.abi_version = HOMEROOM_PLUGIN_ABI_VERSION;
    api.host = this;
    api.host_log = [](void* h, int32_t, const char* message) {
      static_cast<FakeHost*>(h)->log_lines.emplace_back(message);
    };
    api.host_delivery_done = [](void* h, uint64_t token, const hr_outcome* o) {
      static_cast<FakeHost*>(h)->outcomes.push_back(
          {token, o->kind, o->provider_id ? o->provider_id : "", o->reason ? o->reason : ""});
    };
    api.host_smtp_send = [](void* h, const hr_smtp_request* r, hr_transfer_done_fn done,
                            void* user) {
      RecordedSmtp s;
      s.url = r->url;
      s.username = r->username;
      s.password = r->password;
      s.ca_file = r->ca_file;
      s.mail_from = r->mail_from;
      s.message.assign(r->message, r->message_len);
      s.require_tls = r->require_tls;
      s.verify_peer = r->verify_peer;
      for (size_t i = 0; i < r->recipient_count; ++i) s.recipients.emplace_back(r->recipients[i]);
      s.timeout_ms = r->timeout_ms;
      s.done = done;
      s.user = user;
      static_cast<FakeHost*>(h)->sends.push_back(std::move(s));
    };
  }

  // Completes send `i` as the host's transport would, later and from outside on_send.
  void complete(std::size_t i, int transport_error, int status, const std::string& text,
                const std::string& error_text = "") {
    hr_transfer_result r{};
    r.size = sizeof(hr_transfer_result);
    r.transport_error = transport_error;
    r.error_text = error_text.c_str();
    r.status = status;
    r.body = text.c_str();
    r.body_len = text.size();
    sends.at(i).done(sends.at(i).user, &r);
  }
};

const hr_plugin* plugin() {
  static const hr_plugin* p = [] {
    void* lib = dlopen(HOMEROOM_PLUGIN_DIR "/email_smtp.so", RTLD_NOW | RTLD_LOCAL);
    REQUIRE(lib != nullptr);
    auto entry = reinterpret_cast<hr_plugin_entry_fn>(dlsym(lib, HOMEROOM_PLUGIN_ENTRY_SYMBOL));
    REQUIRE(entry != nullptr);
    return entry(1, 1);
  }();
  return p;
}

// Creates an instance; on failure returns nullptr and the error in *error.
void* create(FakeHost& host, const std::map<std::string, std::string>& settings,
             std::string* error = nullptr) {
  std::vector<hr_kv> kv;
  for (const auto& [k, v] : settings) kv.push_back({k.c_str(), v.c_str()});
  hr_plugin_config config{sizeof(hr_plugin_config), "email", kv.data(), kv.size()};
  void* instance = nullptr;
  char err[512] = {};
  const int rc = plugin()->on_create(&host.api, &config, &instance, err, sizeof err);
  if (error != nullptr) *error = err;
  return rc == 0 ? instance : nullptr;
}

const char* kMessage =
    "From: \"homeroom\" <homeroom@school.example.org>\r\n"
    "To: <ana@example.net>\r\n"
    "Subject: Note\r\n"
    "Message-ID: <dlv_1@school.example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "\r\n"
    "Message-ID: <not-this@body>\r\n";

void send(void* instance, std::uint64_t token, const char* return_path = "bounce+abc@b.example") {
  hr_delivery d{};
  d.size = sizeof(hr_delivery);
  d.delivery_id = "dlv_1";
  d.channel = "email";
  d.to = "ana@example.net";
  d.subject = "Note";
  d.body = "Hi";
  d.content = kMessage;
  d.content_len = std::char_traits<char>::length(kMessage);
  d.language = "en";
  d.category = "note";
  d.attempt = 1;
  d.status_callback_url = "";
  d.return_path = return_path;
  plugin()->on_send(instance, token, &d);
}

const std::map<std::string, std::string> kSettings{
    {"url", "smtps://smtp.example.net:465"},
    {"username", "homeroom"},
    {"password", "s3cr3t-pa55"},
    {"ca_file", "/etc/ssl/school.pem"},
    {"timeout_ms", "12000"},
    {"from", "fallback@school.example.org"},
};

}  // namespace

TEST_CASE("email_smtp: descriptor") {
  REQUIRE(plugin() != nullptr);
  CHECK(std::string(plugin()->name) == "email_smtp");
  CHECK(std::string(plugin()->channels) == "email");
}

TEST_CASE("email_smtp: a delivery becomes exactly this SMTP submission") {
  FakeHost host;
  void* instance = create(host, kSettings);
  REQUIRE(instance != nullptr);
  send(instance, 7);
  REQUIRE(host.sends.size() == 1);
  const RecordedSmtp& s = host.sends[0];
  CHECK(s.url == "smtps://smtp.example.net:465");
  CHECK(s.username == "homeroom");
  CHECK(s.password == "s3cr3t-pa55");
  CHECK(s.require_tls == 1);
  CHECK(s.verify_peer == 1);
  CHECK(s.ca_file == "/etc/ssl/school.pem");
  CHECK(s.mail_from == "bounce+abc@b.example");
  CHECK(s.recipients == std::vector<std::string>{"ana@example.net"});
  CHECK(s.message == kMessage);
  CHECK(s.timeout_ms == 12000);
  CHECK(host.outcomes.empty());  // the outcome waits for the transfer
  host.complete(0, 0, 250, "2.0.0 Ok: queued as 4Xyz\r\n");
  plugin()->on_destroy(instance);
}

TEST_CASE("email_smtp: defaults, and `from` when the delivery has no return path") {
  FakeHost host;
  void* instance =
      create(host, {{"url", "smtp://127.0.0.1:2525"}, {"from", "fallback@school.example.org"}});
  REQUIRE(instance != nullptr);
  send(instance, 1, "");
  REQUIRE(host.sends.size() == 1);
  CHECK(host.sends[0].mail_from == "fallback@school.example.org");
  CHECK(host.sends[0].username.empty());
  CHECK(host.sends[0].require_tls == 1);
  CHECK(host.sends[0].verify_peer == 1);
  CHECK(host.sends[0].timeout_ms == 30000);
  host.complete(0, 0, 250, "ok");
  plugin()->on_destroy(instance);

  FakeHost plain;
  instance = create(
      plain,
      {{"url", "smtp://127.0.0.1:2525"}, {"require_tls", "false"}, {"verify_peer", "false"}});
  REQUIRE(instance != nullptr);
  send(instance, 2, "");  // no return path and no `from`: nothing to send as
  CHECK(plain.sends.empty());
  REQUIRE(plain.outcomes.size() == 1);
  CHECK(plain.outcomes[0].kind == HR_OUTCOME_PERMANENT);
  send(instance, 3);
  REQUIRE(plain.sends.size() == 1);
  CHECK(plain.sends[0].require_tls == 0);
  CHECK(plain.sends[0].verify_peer == 0);
  plain.complete(0, 0, 250, "ok");
  plugin()->on_destroy(instance);
}

TEST_CASE("email_smtp: SMTP replies map to outcomes") {
  struct Row {
    const char* name;
    int transport_error;
    int status;
    std::string text;
    std::string error_text;
    int kind;
    std::string provider_id;
    std::string reason;
  };
  const std::vector<Row> rows{
      {"250 accepted", 0, 250, "2.0.0 Ok: queued as 4Xyz\r\n", "", HR_OUTCOME_ACCEPTED,
       "<dlv_1@school.example.org>", ""},
      {"451 retryable", 0, 451, "4.7.1 Greylisted, try again\r\n", "", HR_OUTCOME_RETRYABLE, "",
       "451 4.7.1 Greylisted, try again"},
      {"421 retryable", 0, 421, "Service not available", "", HR_OUTCOME_RETRYABLE, "",
       "421 Service not available"},
      {"550 permanent", 0, 550, "5.1.1 <ana@example.net>: no such user\r\n", "",
       HR_OUTCOME_PERMANENT, "", "550 5.1.1 <ana@example.net>: no such user"},
      {"554 permanent", 0, 554, "Transaction failed", "", HR_OUTCOME_PERMANENT, "",
       "554 Transaction failed"},
      {"transport error", 7, 0, "", "Failed to connect to smtp.example.net port 465",
       HR_OUTCOME_RETRYABLE, "", "Failed to connect to smtp.example.net port 465"},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      FakeHost host;
      void* instance = create(host, kSettings);
      REQUIRE(instance != nullptr);
      send(instance, 42);
      REQUIRE(host.sends.size() == 1);
      host.complete(0, row.transport_error, row.status, row.text, row.error_text);
      REQUIRE(host.outcomes.size() == 1);
      CHECK(host.outcomes[0].token == 42);
      CHECK(host.outcomes[0].kind == row.kind);
      CHECK(host.outcomes[0].provider_id == row.provider_id);
      CHECK(host.outcomes[0].reason == row.reason);
      plugin()->on_destroy(instance);
    }
  }
}

TEST_CASE("email_smtp: several sends in flight complete in any order") {
  FakeHost host;
  void* instance = create(host, kSettings);
  REQUIRE(instance != nullptr);
  send(instance, 1);
  send(instance, 2);
  send(instance, 3);
  REQUIRE(host.sends.size() == 3);
  host.complete(2, 0, 550, "no");
  host.complete(0, 0, 250, "ok");
  host.complete(1, 0, 451, "later");
  REQUIRE(host.outcomes.size() == 3);
  CHECK(host.outcomes[0].token == 3);
  CHECK(host.outcomes[0].kind == HR_OUTCOME_PERMANENT);
  CHECK(host.outcomes[1].token == 1);
  CHECK(host.outcomes[1].kind == HR_OUTCOME_ACCEPTED);
  CHECK(host.outcomes[2].token == 2);
  CHECK(host.outcomes[2].kind == HR_OUTCOME_RETRYABLE);
  plugin()->on_destroy(instance);
}

TEST_CASE("email_smtp: settings are checked, errors name the key") {
  struct Row {
    std::map<std::string, std::string> settings;
    std::string error_part;
  };
  const std::vector<Row> rows{
      {{}, "'url' is required"},
      {{{"url", "http://smtp.example.net:25"}}, "'url'"},
      {{{"url", "smtp://smtp.example.net"}}, "'url'"},
      {{{"url", "smtp://user:pw@smtp.example.net:25"}}, "'url'"},
      {{{"url", "smtp://smtp.example.net:99999"}}, "'url'"},
      {{{"url", "smtp://smtp.example.net:25"}, {"passwd", "x"}}, "unknown setting 'passwd'"},
      {{{"url", "smtp://smtp.example.net:25"}, {"require_tls", "no"}}, "'require_tls'"},
      {{{"url", "smtp://smtp.example.net:25"}, {"verify_peer", "1"}}, "'verify_peer'"},
      {{{"url", "smtp://smtp.example.net:25"}, {"timeout_ms", "0"}}, "'timeout_ms'"},
      {{{"url", "smtp://smtp.example.net:25"}, {"timeout_ms", "10s"}}, "'timeout_ms'"},
      {{{"url", "smtp://smtp.example.net:25"}, {"password", "pw"}}, "'password' needs 'username'"},
  };
  for (const Row& row : rows) {
    FakeHost host;
    std::string error;
    INFO(row.error_part);
    void* instance = create(host, row.settings, &error);
    CHECK(instance == nullptr);
    CHECK(error.find(row.error_part) != std::string::npos);
    CHECK(error.find("user:pw") == std::string::npos);  // a URL with credentials is not echoed
  }
  FakeHost host;
  void* v6 = create(host, {{"url", "smtp://[::1]:2525"}});
  CHECK(v6 != nullptr);
  if (v6 != nullptr) plugin()->on_destroy(v6);
}

TEST_CASE("email_smtp: the password never reaches the host's log") {
  FakeHost host;
  void* instance = create(host, kSettings);
  REQUIRE(instance != nullptr);
  send(instance, 1);
  host.complete(0, 0, 535, "5.7.8 Authentication failed");
  send(instance, 2);
  host.complete(1, 1, 0, "", "Login denied");
  send(instance, 3);
  host.complete(2, 0, 250, "ok");
  plugin()->on_destroy(instance);
  std::string error;
  auto bad = kSettings;
  bad["bogus"] = "s3cr3t-pa55";
  CHECK(create(host, bad, &error) == nullptr);
  CHECK(error.find("s3cr3t-pa55") == std::string::npos);
  for (const auto& line : host.log_lines) CHECK(line.find("s3cr3t-pa55") == std::string::npos);
  for (const auto& o : host.outcomes) CHECK(o.reason.find("s3cr3t-pa55") == std::string::npos);
}
