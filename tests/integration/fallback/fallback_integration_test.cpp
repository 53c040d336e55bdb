// Fallback end to end: the real homeroomd, the real sms_twilio and email_smtp plugins, Twilio's
// API faked by tests/peers/twilio_fake.js and a real SMTP server (tests/peers/smtp_server.py).
// An SMS that fails for good (21610: the number opted out; or an `undelivered` status callback
// signed by npm twilio) is followed by an email the SMTP peer receives, and the message shows
// the chain per guardian. The reach report names the families nobody reached.
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "daemon_harness.h"
#include "peers.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

constexpr const char* kSid = "ACtest00000000000000000000000000000";
constexpr const char* kToken = "fallback-token";
constexpr const char* kStopped = "+15550009999";      // opted out at Twilio: 21610
constexpr const char* kStoppedOnly = "+15550009998";  // a guardian with no other channel
constexpr const char* kWorking = "+15551230002";

std::string channels(int twilio_port, int smtp_port) {
  return "[queue]\npoll_interval_ms = 20\n"
         "[email]\nfrom_address = \"office@lincoln.example.org\"\n"
         "reply_domain = \"reply.lincoln.example.org\"\n"
         "[channels.sms]\nplugin = \"sms_twilio\"\nchannel = \"sms\"\n"
         "[channels.sms.settings]\naccount_sid = \"" +
         std::string(kSid) + "\"\nauth_token = \"" + kToken +
         "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" + std::to_string(twilio_port) +
         "\"\n[channels.email]\nplugin = \"email_smtp\"\nchannel = \"email\"\n"
         "[channels.email.settings]\nurl = \"smtp://127.0.0.1:" +
         std::to_string(smtp_port) + "\"\nrequire_tls = false  # loopback test peer\n";
}

struct SchoolFixture {
  TempDir dir;
  TwilioFake twilio;
  SmtpServer smtp;
  Daemon daemon;
  std::string public_url, admin, lee, kim;

  SchoolFixture()
      : twilio(dir, kSid, kToken, {"--stopped", std::string(kStopped) + "," + kStoppedOnly}),
        smtp(dir, {}),
        daemon(dir, channels(twilio.port, smtp.port)) {
    public_url = daemon.pin_public_url();
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/staff/t1", {{"name", "Ms. Lee"}, {"email", "lee@lincoln.example.org"}});
    put("/v1/staff/t2", {{"name", "Mr. Kim"}, {"email", "kim@lincoln.example.org"}});
    // sms first, then email
    guardian("g1", {{{"channel", "sms"}, {"address", kStopped}},
                    {{"channel", "email"}, {"address", "ana@example.net"}}});
    guardian("g2", {{{"channel", "sms"}, {"address", kWorking}},
                    {{"channel", "email"}, {"address", "ben@example.net"}}});
    guardian("g3", {{{"channel", "sms"}, {"address", kStoppedOnly}}});
    guardian("g4", {{{"channel", "email"}, {"address", "dee@example.net"}}});
    student("s1", "t1", "g1");
    student("s2", "t1", "g2");
    student("s3", "t1", "g3");
    student("s4", "t1", "g4");
    student("s5", "t2", "g4");
    lee = daemon.token(Role::kTeacher, "t1");
    kim = daemon.token(Role::kTeacher, "t2");
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(r.body);
    REQUIRE(r.status == 200);
  }
  void guardian(const std::string& id, const json& contacts) {
    json channels = json::array();
    for (const auto& c : contacts) channels.push_back(c["channel"]);
    put("/v1/guardians/" + id, {{"given_name", "Ana"},
                                {"family_name", "Diaz"},
                                {"contacts", contacts},
                                {"preferences", {{"channels", channels}}}});
  }
  void student(const std::string& id, const std::string& teacher, const std::string& g) {
    put("/v1/students/" + id, {{"given_name", "Maya"},
                               {"family_name", "Diaz"},
                               {"staff", {teacher}},
                               {"guardians", {{{"id", g}}}}});
  }

  std::string note(const std::string& student) {
    auto r = daemon.call(
        "POST", "/v1/messages", lee,
        {{"student_id", student}, {"category", "note"}, {"body", "Maya helped two classmates."}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    return json::parse(r.body)["id"].get<std::string>();
  }

  json message(const std::string& id) {
    auto r = daemon.call("GET", "/v1/messages/" + id, lee);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }

  // The message once its only guardian's chain has `steps` deliveries and none is still on its
  // way (bounded: 30 s).
  json settled(const std::string& id, std::size_t steps) {
    for (int i = 0; i < 3000; ++i) {
      auto m = message(id);
      if (m["guardians"].size() == 1 && m["guardians"][0]["chain"].size() == steps &&
          m["guardians"][0]["outcome"] != "pending") {
        return m;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("the chain did not settle:\n" << message(id).dump(2) << "\n" << daemon.process().output());
    return {};
  }
};

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}
bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TEST_CASE("fallback: a stopped SMS number falls back to email and the chain shows it") {
  SchoolFixture s;
  const std::string id = s.note("s1");
  const json m = s.settled(id, 2);
  INFO(m.dump(2));
  const auto& g = m["guardians"][0];
  CHECK(g["guardian_id"] == "g1");
  CHECK(g["outcome"] == "reached");
  const std::string summary = g["summary"];
  CHECK(starts_with(summary, "sms failed (contact stopped"));
  CHECK(summary.find("21610") != std::string::npos);
  CHECK(ends_with(summary, ") -> email sent"));
  const auto& chain = g["chain"];
  CHECK(chain[0]["channel"] == "sms");
  CHECK(chain[0]["state"] == "failed");
  CHECK(chain[1]["channel"] == "email");
  CHECK(chain[1]["state"] == "sent");
  CHECK(chain[1]["reason"] == "");
  CHECK(m["deliveries"][1]["fallback_of"] == chain[0]["delivery_id"]);

  // Twilio was asked once (21610 is not retried); the email reached the SMTP peer.
  CHECK(s.twilio.requests(1).size() == 1);
  auto mailed = s.smtp.messages(1);
  REQUIRE(mailed.size() == 1);
  CHECK(mailed[0].dump().find("ana@example.net") != std::string::npos);
  // The stopped number is marked, so the next note starts with email.
  auto guardian = json::parse(s.daemon.call("GET", "/v1/guardians/g1", s.admin).body);
  CHECK(guardian["contacts"][0]["status"] == "stopped");
}

TEST_CASE("fallback: an undelivered status callback on a sent SMS falls back to email") {
  SchoolFixture s;
  const std::string id = s.note("s2");
  json sent;
  for (int i = 0; i < 3000; ++i) {
    sent = s.message(id)["deliveries"][0];
    if (sent["state"] == "sent") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(sent["state"] == "sent");
  const std::string sid = sent["provider_id"];
  const std::string hook = s.public_url + "/hooks/sms/status";
  const json params = {{"MessageSid", sid},
                       {"MessageStatus", "undelivered"},
                       {"ErrorCode", "30003"},
                       {"AccountSid", kSid}};
  const std::string form =
      "MessageSid=" + sid + "&MessageStatus=undelivered&ErrorCode=30003&AccountSid=" + kSid;
  const std::string signature = twilio_signature(s.dir, kToken, hook, params);
  auto post = [&] {
    return http_request(
        "POST", s.daemon.url("/hooks/sms/status"), form,
        {"Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: " + signature});
  };
  REQUIRE(post().status == 204);
  const json m = s.settled(id, 2);
  INFO(m.dump(2));
  const std::string summary = m["guardians"][0]["summary"];
  CHECK(starts_with(summary, "sms failed (undelivered"));
  CHECK(ends_with(summary, ") -> email sent"));
  auto mailed = s.smtp.messages(1);
  REQUIRE(mailed.size() == 1);
  CHECK(mailed[0].dump().find("ben@example.net") != std::string::npos);

  // Twilio retries its callbacks: the same report again creates no second fallback.
  REQUIRE(post().status == 204);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(s.message(id)["deliveries"].size() == 2);
  CHECK(s.smtp.messages(2).size() == 1);
}

TEST_CASE("reach report: unreached families and families with no message in the period") {
  SchoolFixture s;
  const std::string id = s.note("s3");  // g3 has only the stopped number
  const json m = s.settled(id, 1);
  REQUIRE(m["guardians"][0]["outcome"] == "unreached");

  auto r = s.daemon.call("GET", "/v1/reports/reach?since=2000-01-01T00:00:00Z", s.lee);
  INFO(r.body);
  REQUIRE(r.status == 200);
  const json report = json::parse(r.body);
  REQUIRE(report["teachers"].size() == 1);  // a teacher sees only their own
  const auto& t = report["teachers"][0];
  CHECK(t["staff_id"] == "t1");
  CHECK(t["name"] == "Ms. Lee");
  REQUIRE(t["unreached"].size() == 1);
  CHECK(t["unreached"][0]["guardian_id"] == "g3");
  CHECK(t["unreached"][0]["student_id"] == "s3");
  CHECK(t["unreached"][0]["message_id"] == id);
  CHECK(t["unreached"][0]["last_channel"] == "sms");
  CHECK(starts_with(t["unreached"][0]["last_reason"], "contact stopped"));
  std::set<std::string> silent;
  for (const auto& f : t["no_message"])
    silent.insert(f["guardian_id"].get<std::string>() + "/" + f["student_id"].get<std::string>());
  // Nobody reached in the period: all four of Ms. Lee's families (g3's only note failed).
  CHECK(silent == std::set<std::string>{"g1/s1", "g2/s2", "g3/s3", "g4/s4"});

  // The admin sees every teacher: Mr. Kim has sent nothing to g4 about s5.
  r = s.daemon.call("GET", "/v1/reports/reach?since=2000-01-01T00:00:00Z", s.admin);
  REQUIRE(r.status == 200);
  const json all = json::parse(r.body);
  REQUIRE(all["teachers"].size() == 2);
  CHECK(all["teachers"][1]["staff_id"] == "t2");
  REQUIRE(all["teachers"][1]["no_message"].size() == 1);
  CHECK(all["teachers"][1]["no_message"][0]["student_id"] == "s5");
  CHECK(all["teachers"][1]["unreached"].empty());

  // A period that starts after the note: nothing unreached in it.
  r = s.daemon.call("GET", "/v1/reports/reach?since=2999-01-01T00:00:00Z", s.lee);
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["teachers"][0]["unreached"].empty());

  r = s.daemon.call("GET", "/v1/reports/reach?since=last-week", s.lee);
  CHECK(r.status == 422);
  CHECK(r.body.find("since") != std::string::npos);
  CHECK(s.daemon.call("GET", "/v1/reports/reach", s.lee).status == 422);
}
