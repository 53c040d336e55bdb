// `homeroomctl broadcast watch` against the real homeroomd sending a broadcast by SMS through
// sms_twilio to tests/peers/twilio_fake.js (throttled, so that the watch sees it progress). The
// output is a file, not a terminal: one line per change, then the summary.
#include <catch2/catch.hpp>
#include <thread>

#include "daemon_harness.h"
#include "peers.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

constexpr const char* kSid = "ACtest00000000000000000000000000000";
constexpr const char* kToken = "watch-token";

struct Watched {
  TempDir dir;
  TwilioFake fake;
  Daemon daemon;
  std::string admin;
  int runs = 0;

  Watched()
      : fake(dir, kSid, kToken, {}),
        daemon(dir, std::string("[queue]\npoll_interval_ms = 20\n[channels.sms]\n"
                                "plugin = \"sms_twilio\"\nchannel = \"sms\"\n"
                                "rate_per_second = 10\n[channels.sms.settings]\n"
                                "account_sid = \"") +
                        kSid + "\"\nauth_token = \"" + kToken +
                        "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" +
                        std::to_string(fake.port) + "\"\n") {
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/staff/t1", {{"name", "Ms. Lee"}});
    for (int i = 0; i < 20; ++i) {
      const std::string n = std::to_string(10 + i);
      put("/v1/guardians/g" + n,
          {{"given_name", "P" + n},
           {"family_name", "Diaz"},
           {"contacts", {{{"channel", "sms"}, {"address", "+155512300" + n}}}},
           {"preferences", {{"channels", {"sms"}}}}});
      put("/v1/students/s" + n, {{"given_name", "K" + n},
                                 {"family_name", "Diaz"},
                                 {"staff", {"t1"}},
                                 {"guardians", {{{"id", "g" + n}}}}});
    }
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(path << " " << r.body);
    REQUIRE(r.status == 200);
  }

  std::string broadcast(const json& extra = json::object()) {
    json body = {{"audience", {{"all", true}}},
                 {"template", {{"en", "Picture day on Friday for {{student.given_name}}."}}}};
    body.update(extra);
    auto r = daemon.call("POST", "/v1/broadcasts", admin, body);
    INFO(r.body);
    REQUIRE(r.status == 202);
    return json::parse(r.body)["id"];
  }

  // homeroomctl broadcast watch ID ... as a child process (not on a terminal), started now.
  std::unique_ptr<Process> watch(const std::string& id, std::vector<std::string> more) {
    std::vector<std::string> argv = {HOMEROOMCTL_PATH, "broadcast", "watch", id};
    argv.insert(argv.end(), more.begin(), more.end());
    return std::make_unique<Process>(argv, dir / ("watch-" + std::to_string(++runs) + ".log"));
  }
  std::vector<std::string> with_token(const std::string& token) const {
    return {"--url", daemon.url(""), "--token", token, "--interval", "0.1"};
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("broadcast watch prints a line per change and exits 0 once every delivery is final",
          "[ctl][broadcast][integration]") {
  Watched w;
  const std::string id = w.broadcast();
  auto watch = w.watch(id, w.with_token(w.admin));
  const auto code = watch->wait_exit(std::chrono::seconds(60));
  const std::string out = watch->output();
  INFO(out);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  const auto lines = lines_of(out);
  REQUIRE(lines.size() >= 4);
  // 20 SMS at 10 a second take about a second: the watch saw several steps, each line once.
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) CHECK(lines[i] != lines[i - 1]);
  CHECK(contains(lines.front(), "planned 0, scheduled 0"));
  CHECK(lines[lines.size() - 2] ==
        "broadcast planned, 20/20 deliveries final: planned 0, scheduled 0, queued 0, sending 0, "
        "sent 20, delivered 0, failed 0, suppressed 0");
  CHECK(lines.back() == "broadcast " + id +
                            " finished: 20 deliveries: planned 0, scheduled 0, queued 0, "
                            "sending 0, sent 20, delivered 0, failed 0, suppressed 0");
  // Somewhere in between, part of it was out and part still waiting for the throttle.
  bool partway = false;
  for (const auto& line : lines) {
    const auto at = line.find(", sent ");
    if (at == std::string::npos) continue;
    const int sent = std::stoi(line.substr(at + 7));
    if (sent > 0 && sent < 20) partway = true;
  }
  CHECK(partway);
  CHECK_FALSE(contains(out, "\r"));  // no progress bar without a terminal
  CHECK(w.fake.requests(20).size() == 20);
}

TEST_CASE("broadcast watch ends with 0 when the broadcast is cancelled",
          "[ctl][broadcast][integration]") {
  Watched w;
  const std::string id =
      w.broadcast({{"send_at", format_rfc3339(SystemClock().now() + 3'600'000)}});
  auto watch = w.watch(id, w.with_token(w.admin));
  // It is watching (the scheduled deliveries are planned) and does not end on its own.
  REQUIRE(watch->wait_for_output("scheduled 20", std::chrono::seconds(20)));
  CHECK_FALSE(watch->wait_exit(std::chrono::milliseconds(500)).has_value());
  REQUIRE(w.daemon.call("DELETE", "/v1/broadcasts/" + id, w.admin).status == 200);
  const auto code = watch->wait_exit(std::chrono::seconds(20));
  INFO(watch->output());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(lines_of(watch->output()).back() ==
        "broadcast " + id +
            " was cancelled: 20 deliveries: planned 0, scheduled 0, queued 0, sending 0, sent 0, "
            "delivered 0, failed 0, suppressed 20");
}

TEST_CASE("broadcast watch names what is wrong and exits non-zero",
          "[ctl][broadcast][integration]") {
  Watched w;
  const std::string teacher = w.daemon.token(Role::kTeacher, "t1");
  const std::string id = w.broadcast();
  struct Case {
    std::string id;
    std::vector<std::string> args;
    int code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"bc_nope", w.with_token(w.admin), 1, "homeroomctl: broadcast bc_nope not found"},
      {id, w.with_token("hr_not-a-token"), 1, "homeroomd refused the token (401)"},
      {id, w.with_token(teacher), 1, "the token is not an admin's (403)"},
      {id,
       {"--url", "http://127.0.0.1:1", "--token", w.admin},
       1,
       "cannot reach homeroomd at http://127.0.0.1:1/v1/broadcasts/" + id},
      {id, {"--url", "ftp://127.0.0.1:1", "--token", w.admin}, 1, "expected http://HOST:PORT"},
      {id, {"--url", w.daemon.url(""), "--token", w.admin, "--interval", "0"}, 2, "--interval"},
  };
  for (const auto& c : cases) {
    auto watch = w.watch(c.id, c.args);
    const auto code = watch->wait_exit(std::chrono::seconds(20));
    INFO(c.message << "\n" << watch->output());
    REQUIRE(code.has_value());
    CHECK(*code == c.code);
    CHECK(contains(watch->output(), c.message));
    // Never the token itself.
    CHECK_FALSE(contains(watch->output(), w.admin));
  }
}
