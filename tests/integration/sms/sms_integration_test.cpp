// The real homeroomd delivers notes by SMS through the real sms_twilio plugin to a loopback fake of
// Twilio's Messages API (tests/peers/twilio_fake.js), which records every form it receives. Status
// callbacks come back to homeroomd's /hooks/sms/status signed by the real npm `twilio` package
// (tests/peers/twilio_sign.js).
#include <catch2/catch.hpp>
#include <thread>

#include "daemon_harness.h"
#include "peers.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

constexpr const char* kSid = "ACtest00000000000000000000000000000";
constexpr const char* kToken = "integration-token";
constexpr const char* kStopped = "+15550009999";

std::string sms_channel(int fake_port, const std::string& channel_extra) {
  return std::string("[channels.sms]\nplugin = \"sms_twilio\"\nchannel = \"sms\"\n") +
         channel_extra + "[channels.sms.settings]\naccount_sid = \"" + kSid +
         "\"\nauth_token = \"" + kToken +
         "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" + std::to_string(fake_port) +
         "\"\n";
}

struct SchoolFixture {
  TempDir dir;
  TwilioFake fake;
  Daemon daemon;
  std::string admin, lee;
  std::string public_url;

  // `channel_extra`: keys of [channels.sms] (e.g. max_segments); `with_public_url`:
  // server.public_url = the daemon's own loopback URL.
  explicit SchoolFixture(std::vector<std::string> fake_switches = {},
                         const std::string& channel_extra = "", bool with_public_url = false)
      : fake(dir, kSid, kToken, {"--stopped", kStopped}, fake_switches),
        // backoff_base_seconds = 1: a 500 is retried after a second, not the default two.
        daemon(dir, "[queue]\nbackoff_base_seconds = 1\npoll_interval_ms = 20\n" +
                        sms_channel(fake.port, channel_extra)) {
    if (with_public_url) public_url = daemon.pin_public_url();
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
  std::string note(const std::string& student,
                   const std::string& es_body = "Maya ayudó a dos compañeros & más.") {
    auto r = daemon.call("POST", "/v1/messages", lee,
                         {{"student_id", student},
                          {"category", "note"},
                          {"body", "Maya helped two classmates."},
                          {"translations", {{"es", es_body}}}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    return json::parse(r.body)["id"].get<std::string>();
  }

  json delivery(const std::string& id) {
    auto r = daemon.call("GET", "/v1/messages/" + id, admin);
    REQUIRE(r.status == 200);
    auto m = json::parse(r.body);
    REQUIRE(m["deliveries"].size() == 1);
    return m["deliveries"][0];
  }

  // The message's only delivery once it is no longer queued or sending (bounded: 30 s).
  json settled_delivery(const std::string& id) {
    for (int i = 0; i < 3000; ++i) {
      auto d = delivery(id);
      if (d["state"] != "queued" && d["state"] != "sending" && d["state"] != "planned") return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("delivery did not settle:\n" << daemon.process().output());
    return {};
  }

  // POSTs a status callback form to /hooks/sms/status with `signature` (empty: none).
  HttpResult callback(const std::string& form, const std::string& signature) {
    std::vector<std::string> headers = {"Content-Type: application/x-www-form-urlencoded"};
    if (!signature.empty()) headers.push_back("X-Twilio-Signature: " + signature);
    return http_request("POST", daemon.url("/hooks/sms/status"), form, headers);
  }

  // The signature npm `twilio` computes for `params` posted to `url`.
  std::string twilio_signature(const std::string& url, const json& params) {
    return testing::twilio_signature(dir, kToken, url, params);
  }
};

std::string lowercase(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

TEST_CASE("sms: a note reaches the Twilio fake as the exact form request") {
  SchoolFixture s;
  const auto d = s.settled_delivery(s.note("s1"));
  INFO(d.dump());
  CHECK(d["state"] == "sent");
  CHECK(d["attempts"] == 1);
  // The renderer signs an SMS with its author: 43 characters, UCS-2 (ó and á are not GSM-7).
  CHECK(d["segments"] == 1);
  const auto requests = s.fake.requests(1);
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r["method"] == "POST");
  CHECK(r["path"] == std::string("/2010-04-01/Accounts/") + kSid + "/Messages.json");
  CHECK(r["content_type"] == "application/x-www-form-urlencoded");
  CHECK(r["form"] == json{{"To", "+15551230001"},
                          {"From", "+15557654321"},
                          {"Body", "Ms. Lee: Maya ayudó a dos compañeros & más."}});
  // Without server.public_url there is no URL to call back: no StatusCallback at all.
  CHECK(r["raw"] ==
        "To=%2B15551230001&From=%2B15557654321&Body=Ms.+Lee%3A+Maya+ayud%C3%B3+a+dos+compa%C3%"
        "B1eros+%26+"
        "m%C3%A1s.");
  CHECK(d["provider_id"].get<std::string>().rfind("SM", 0) == 0);
  // The auth token is in no log line.
  CHECK(s.daemon.stop_and_log().find(kToken) == std::string::npos);
}

TEST_CASE("sms: Twilio 21610 fails the delivery as contact stopped and marks the contact") {
  SchoolFixture s;
  const auto d = s.settled_delivery(s.note("s2"));
  INFO(d.dump());
  CHECK(d["state"] == "failed");
  CHECK(d["attempts"] == 1);
  CHECK(lowercase(d["last_error"].get<std::string>()).find("contact stopped") != std::string::npos);
  CHECK(d["last_error"].get<std::string>().find("21610") != std::string::npos);
  CHECK(s.fake.requests(1).size() == 1);  // not retried
  const auto g = s.daemon.call("GET", "/v1/guardians/g2", s.admin);
  REQUIRE(g.status == 200);
  const auto guardian = json::parse(g.body);
  INFO(guardian.dump());
  REQUIRE(guardian["contacts"].size() == 1);
  CHECK(guardian["contacts"][0]["channel"] == "sms");
  CHECK(guardian["contacts"][0]["status"] == "stopped");
  // The other family's contact is untouched.
  const auto other = json::parse(s.daemon.call("GET", "/v1/guardians/g1", s.admin).body);
  CHECK_FALSE(other["contacts"][0].contains("status"));
}

TEST_CASE("sms: 429 with Retry-After, then success: retried and sent") {
  SchoolFixture s({"--throttle-first", "1"});
  const auto d = s.settled_delivery(s.note("s1"));
  INFO(d.dump());
  CHECK(d["state"] == "sent");
  CHECK(d["attempts"] == 2);
  const auto requests = s.fake.requests(2);
  REQUIRE(requests.size() == 2);
  CHECK(requests[0]["raw"] == requests[1]["raw"]);  // the same form, sent again
}

TEST_CASE("sms: 500, then success: retried and sent") {
  SchoolFixture s({"--fail-first", "1"});
  const auto d = s.settled_delivery(s.note("s1"));
  INFO(d.dump());
  CHECK(d["state"] == "sent");
  CHECK(d["attempts"] == 2);
  CHECK(s.fake.requests(2).size() == 2);
}

TEST_CASE("sms: segments are recorded, and a text over max_segments is never sent") {
  SchoolFixture s({}, "max_segments = 2\n");
  // With the 9 characters of "Ms. Lee: " in front: 159 GSM-7 characters are 1 segment, 209 are
  // 2 (153 per part), 409 are 3, over the limit.
  const auto one = s.settled_delivery(s.note("s1", std::string(150, 'a')));
  CHECK(one["state"] == "sent");
  CHECK(one["segments"] == 1);
  const auto two = s.settled_delivery(s.note("s1", std::string(200, 'b')));
  CHECK(two["state"] == "sent");
  CHECK(two["segments"] == 2);
  const auto three = s.settled_delivery(s.note("s1", std::string(400, 'c')));
  INFO(three.dump());
  CHECK(three["state"] == "failed");
  CHECK(three["segments"] == 3);
  CHECK(three["last_error"].get<std::string>().find("segments") != std::string::npos);
  CHECK(s.fake.requests(3).size() == 2);
}

TEST_CASE("sms: signed status callbacks move the delivery forward only") {
  SchoolFixture s({}, "", /*with_public_url=*/true);
  const std::string id = s.note("s1");
  const auto sent = s.settled_delivery(id);
  REQUIRE(sent["state"] == "sent");
  const std::string sid = sent["provider_id"];
  const std::string hook = s.public_url + "/hooks/sms/status";
  const auto requests = s.fake.requests(1);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0]["form"]["StatusCallback"] == hook);

  const json delivered = {{"MessageSid", sid},
                          {"MessageStatus", "delivered"},
                          {"AccountSid", kSid},
                          {"To", "+15551230001"}};
  const std::string delivered_form =
      "MessageSid=" + sid + "&MessageStatus=delivered&AccountSid=" + kSid + "&To=%2B15551230001";
  const std::string signature = s.twilio_signature(hook, delivered);

  SECTION("tampered callbacks are refused and change nothing") {
    std::string forged = signature;
    forged[0] = forged[0] == 'A' ? 'B' : 'A';
    CHECK(s.callback(delivered_form, forged).status == 403);
    CHECK(s.callback(delivered_form, "").status == 403);
    // A genuine signature over other parameters.
    const std::string changed = "MessageSid=" + sid +
                                "&MessageStatus=undelivered&AccountSid=" + kSid +
                                "&To=%2B15551230001";
    CHECK(s.callback(changed, signature).status == 403);
    CHECK(s.delivery(id)["state"] == "sent");
    CHECK(s.delivery(id)["events"] == sent["events"]);
  }
  SECTION("delivered, then undelivered: stays delivered") {
    const auto r = s.callback(delivered_form, signature);
    INFO(r.body);
    CHECK(r.status == 204);
    // Recorded before the answer: no polling needed.
    auto d = s.delivery(id);
    INFO(d.dump());
    CHECK(d["state"] == "delivered");
    CHECK_FALSE(d.contains("last_error"));

    const json undelivered = {{"MessageSid", sid},
                              {"MessageStatus", "undelivered"},
                              {"ErrorCode", "30003"},
                              {"AccountSid", kSid}};
    const std::string form =
        "MessageSid=" + sid + "&MessageStatus=undelivered&ErrorCode=30003&AccountSid=" + kSid;
    CHECK(s.callback(form, s.twilio_signature(hook, undelivered)).status == 204);
    const auto after = s.delivery(id);
    INFO(after.dump());
    CHECK(after["state"] == "delivered");
    CHECK(after["events"] == d["events"]);
  }
  SECTION("a callback for an unknown MessageSid changes nothing") {
    const std::string unknown = "SM00000000000000000000000000000000";
    const json params = {{"MessageSid", unknown}, {"MessageStatus", "delivered"}};
    const auto r = s.callback("MessageSid=" + unknown + "&MessageStatus=delivered",
                              s.twilio_signature(hook, params));
    CHECK(r.status == 204);
    const auto d = s.delivery(id);
    CHECK(d["state"] == "sent");
    CHECK(d["events"] == sent["events"]);
  }
  CHECK(s.daemon.stop_and_log().find(kToken) == std::string::npos);
}
