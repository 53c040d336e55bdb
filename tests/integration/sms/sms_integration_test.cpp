// The real homeroomd delivers notes by SMS through the real sms_twilio plugin to a loopback fake of
// Twilio's Messages API (tests/peers/twilio_fake.js), which records every form it receives.
#include <catch2/catch.hpp>
#include <thread>

#include "daemon_harness.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

constexpr const char* kSid = "ACtest00000000000000000000000000000";
constexpr const char* kToken = "integration-token";
constexpr const char* kStopped = "+15550009999";

// The fake, on port 0, with the switches a test asks for.
struct TwilioFake {
  std::unique_ptr<Process> process;
  int port = 0;
  std::filesystem::path record;

  TwilioFake(const TempDir& dir, std::vector<std::string> switches) {
    const auto port_file = dir / "fake.port";
    record = dir / "fake.jsonl";
    std::vector<std::string> argv = {
        HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/twilio_fake.js",
        "--port-file", port_file.string(),
        "--record",    record.string(),
        "--sid",       kSid,
        "--token",     kToken,
        "--stopped",   kStopped};
    argv.insert(argv.end(), switches.begin(), switches.end());
    process = std::make_unique<Process>(argv, dir / "fake.log");
    for (int i = 0; i < 2000 && !std::filesystem::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(std::filesystem::exists(port_file));
    std::ifstream(port_file) >> port;
  }

  // The recorded requests, waiting (bounded) for at least `n`.
  std::vector<json> requests(std::size_t n) {
    std::vector<json> out;
    for (int i = 0; i < 500; ++i) {
      out.clear();
      std::ifstream in(record);
      for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
      if (out.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  }
};

std::string sms_channel(int fake_port) {
  return std::string("[channels.sms]\nplugin = \"sms_twilio\"\nchannel = \"sms\"\n") +
         "[channels.sms.settings]\naccount_sid = \"" + kSid + "\"\nauth_token = \"" + kToken +
         "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" + std::to_string(fake_port) +
         "\"\n";
}

struct School {
  TempDir dir;
  TwilioFake fake;
  Daemon daemon;
  std::string admin, lee;

  explicit School(std::vector<std::string> fake_switches = {})
      : fake(dir, std::move(fake_switches)), daemon(dir, sms_channel(fake.port)) {
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/staff/t1", {{"name", "Ms. Lee"}, {"email", "lee@school.example.org"}});
    guardian("g1", "+15551230001");
    guardian("g2", kStopped);
    student("s1", "g1");
    student("s2", "g2");
    lee = daemon.token(Role::kTeacher, "t1");
  }

  void guardian(const std::string& id, const std::string& number) {
    put("/v1/guardians/" + id, {{"given_name", "Ana"},
                                {"family_name", "Diaz"},
                                {"language", "es"},
                                {"contacts", {{{"channel", "sms"}, {"address", number}}}},
                                {"preferences", {{"channels", {"sms"}}}}});
  }
  void student(const std::string& id, const std::string& guardian_id) {
    put("/v1/students/" + id, {{"given_name", "Maya"},
                               {"family_name", "Diaz"},
                               {"staff", {"t1"}},
                               {"guardians", {{{"id", guardian_id}}}}});
  }
  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

  // Posts a note about `student`; returns the message id.
  std::string note(const std::string& student) {
    auto r = daemon.call("POST", "/v1/messages", lee,
                         {{"student_id", student},
                          {"category", "note"},
                          {"body", "Maya helped two classmates."},
                          {"translations", {{"es", "Maya ayudó a dos compañeros & más."}}}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    return json::parse(r.body)["id"].get<std::string>();
  }

  // The message's only delivery once it is no longer queued or sending (bounded: 60 s).
  json settled_delivery(const std::string& id) {
    for (int i = 0; i < 6000; ++i) {
      auto r = daemon.call("GET", "/v1/messages/" + id, admin);
      REQUIRE(r.status == 200);
      auto m = json::parse(r.body);
      REQUIRE(m["deliveries"].size() == 1);
      const auto& d = m["deliveries"][0];
      if (d["state"] != "queued" && d["state"] != "sending" && d["state"] != "planned") return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("delivery did not settle");
    return {};
  }
};

}  // namespace

TEST_CASE("a note reaches the Twilio fake as the exact form request") {
  School s;
  const auto d = s.settled_delivery(s.note("s1"));
  CHECK(d["state"] == "sent");
  const auto requests = s.fake.requests(1);
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r["path"] == std::string("/2010-04-01/Accounts/") + kSid + "/Messages.json");
  CHECK(r["content_type"] == "application/x-www-form-urlencoded");
  CHECK(r["form"]["To"] == "+15551230001");
  CHECK(r["form"]["From"] == "+15557654321");
  CHECK(r["form"]["Body"] == "Maya ayudó a dos compañeros & más.");
  CHECK(r["raw"].get<std::string>().rfind(
            "To=%2B15551230001&From=%2B15557654321&Body=Maya+ayud%C3%B3+a+dos+compa%C3%B1eros+%26+"
            "m%C3%A1s.",
            0) == 0);
  // The auth token is in no log line.
  CHECK(s.daemon.process().output().find(kToken) == std::string::npos);
}

TEST_CASE("Twilio 21610 fails the delivery as contact stopped") {
  School s;
  const auto d = s.settled_delivery(s.note("s2"));
  INFO(d.dump());
  CHECK(d["state"] == "failed");
  std::string text = d.dump();
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK((text.find("contact stopped") != std::string::npos ||
         text.find("contact_stopped") != std::string::npos));
  CHECK(s.fake.requests(1).size() == 1);  // not retried
}

TEST_CASE("429 with Retry-After, then success: retried and sent") {
  School s({"--throttle-first", "1"});
  const auto d = s.settled_delivery(s.note("s1"));
  CHECK(d["state"] == "sent");
  CHECK(s.fake.requests(2).size() == 2);
}

TEST_CASE("500, then success: retried and sent") {
  School s({"--fail-first", "1"});
  const auto d = s.settled_delivery(s.note("s1"));
  CHECK(d["state"] == "sent");
  CHECK(s.fake.requests(2).size() == 2);
}
