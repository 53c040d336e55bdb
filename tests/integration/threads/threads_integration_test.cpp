// Conversations end to end: the real homeroomd sends notes by SMS through sms_twilio to the Twilio
// fake (tests/peers/twilio_fake.js) from the school's pool numbers; the family's replies come back
// as inbound webhooks signed by the npm `twilio` package and land in the right teacher's thread;
// the teacher's answer goes out from the thread's number.
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
constexpr const char* kToken = "integration-token";
constexpr const char* kPhone = "+15551230001";

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

struct Family {
  TempDir dir;
  TwilioFake fake;
  Daemon daemon;
  std::string admin;
  std::string public_url;
  std::map<std::string, std::string> teacher;  // staff id -> token
  int sequence = 0;

  explicit Family(std::vector<std::string> pool)
      : fake(dir, kSid, kToken, {}, {}),
        daemon(dir,
               "[queue]\npoll_interval_ms = 20\n[channels.sms]\nplugin = \"sms_twilio\"\n"
               "channel = \"sms\"\n[channels.sms.settings]\naccount_sid = \"" +
                   std::string(kSid) + "\"\nauth_token = \"" + kToken +
                   "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" +
                   std::to_string(fake.port) + "\"\n") {
    public_url = daemon.pin_public_url();
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/schools/sch1",
        {{"name", "Lincoln Middle"}, {"contact_line", "Call +1 555 0100"}, {"sms_numbers", pool}});
    std::vector<std::string> staff;
    for (auto [id, name] : {std::pair{"t1", "Ms. Lee"}, {"t2", "Mr. Diaz"}, {"t3", "Mx. Kim"}}) {
      put(std::string("/v1/staff/") + id, {{"name", name},
                                           {"email", std::string(id) + "@school.example.org"},
                                           {"school_id", "sch1"}});
      staff.emplace_back(id);
    }
    put("/v1/guardians/g1", {{"given_name", "Ana"},
                             {"family_name", "Diaz"},
                             {"language", "en"},
                             {"contacts", {{{"channel", "sms"}, {"address", kPhone}}}},
                             {"preferences", {{"channels", {"sms"}}}}});
    put("/v1/students/s1", {{"given_name", "Maya"},
                            {"family_name", "Diaz"},
                            {"school_id", "sch1"},
                            {"staff", staff},
                            {"guardians", {{{"id", "g1"}}}}});
    for (const auto& id : staff) teacher[id] = daemon.token(Role::kTeacher, id);
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

  std::string note(const std::string& staff, const std::string& body,
                   const std::string& category = "note") {
    auto r = daemon.call("POST", "/v1/messages", teacher[staff],
                         {{"student_id", "s1"}, {"category", category}, {"body", body}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    return json::parse(r.body)["id"].get<std::string>();
  }

  // The fake's recorded form requests once there are `n`.
  std::vector<json> sent(std::size_t n) { return fake.requests(n); }

  // A signed (or forged) inbound SMS webhook.
  HttpResult inbound(const std::string& to, const std::string& body, const std::string& sid,
                     bool forge = false) {
    const json params = {
        {"MessageSid", sid}, {"AccountSid", kSid}, {"From", kPhone}, {"To", to}, {"Body", body}};
    std::string form;
    for (const auto& [k, v] : params.items()) {
      form += (form.empty() ? "" : "&") + k + "=" + url_encode(v.get<std::string>());
    }
    std::string signature =
        twilio_signature(dir, kToken, public_url + "/hooks/sms/inbound", params);
    if (forge) signature[0] = signature[0] == 'A' ? 'B' : 'A';
    return http_request(
        "POST", daemon.url("/hooks/sms/inbound"), form,
        {"Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: " + signature});
  }

  json threads(const std::string& token) {
    auto r = daemon.call("GET", "/v1/threads", token);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body)["threads"];
  }
  json thread(const std::string& token, const std::string& id) {
    auto r = daemon.call("GET", "/v1/threads/" + id, token);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  std::string thread_id(const std::string& staff) {
    auto list = threads(teacher[staff]);
    REQUIRE(list.size() == 1);
    return list[0]["id"];
  }
  // The From of the fake's request whose Body ends with `text`.
  std::string from_of(const std::vector<json>& requests, const std::string& text) {
    for (const auto& r : requests) {
      const std::string body = r["form"].value("Body", "");
      if (body.size() >= text.size() &&
          body.compare(body.size() - text.size(), text.size(), text) == 0) {
        return r["form"].value("From", "");
      }
    }
    return "";
  }
};

}  // namespace

TEST_CASE(
    "threads: three teachers, three numbers, each reply in its thread, the answer from the "
    "thread's number") {
  Family f({"+15550000001", "+15550000002", "+15550000003"});
  f.note("t1", "Maya finished her lab report.");
  f.note("t2", "Maya read aloud today.");
  f.note("t3", "Maya scored 9 of 10.");
  auto requests = f.sent(3);
  REQUIRE(requests.size() == 3);
  const std::string n1 = f.from_of(requests, "lab report.");
  const std::string n2 = f.from_of(requests, "read aloud today.");
  const std::string n3 = f.from_of(requests, "9 of 10.");
  CHECK(std::set<std::string>{n1, n2, n3}.size() == 3);
  for (const auto& n : {n1, n2, n3}) CHECK(n.rfind("+1555000000", 0) == 0);

  CHECK(f.inbound(n2, "Thank you Mr. Diaz!", "SM0000000000000000000000000000001").status == 200);
  CHECK(f.inbound(n1, "Great news", "SM0000000000000000000000000000002").status == 200);
  CHECK(f.inbound(n3, "Wow", "SM0000000000000000000000000000003").status == 200);
  // The provider sends the same message again: nothing new.
  CHECK(f.inbound(n2, "Thank you Mr. Diaz!", "SM0000000000000000000000000000001").status == 200);
  // A forged signature: 403, nothing recorded.
  CHECK(f.inbound(n2, "forged", "SM0000000000000000000000000000004", true).status == 403);

  const auto t2 = f.thread_id("t2");
  CHECK(f.threads(f.teacher["t2"])[0]["unread"] == 1);
  auto answer = f.daemon.call("POST", "/v1/threads/" + t2 + "/messages", f.teacher["t2"],
                              {{"body", "See you at conferences."}});
  INFO(answer.body);
  REQUIRE(answer.status == 202);
  auto view = f.thread(f.teacher["t2"], t2);
  INFO(view.dump());
  REQUIRE(view["messages"].size() == 3);
  CHECK(view["messages"][0]["direction"] == "out");
  CHECK(view["messages"][0]["body"] == "Maya read aloud today.");
  CHECK(view["messages"][1]["direction"] == "in");
  CHECK(view["messages"][1]["body"] == "Thank you Mr. Diaz!");
  CHECK(view["messages"][2]["direction"] == "out");
  CHECK(view["messages"][2]["body"] == "See you at conferences.");
  CHECK(f.threads(f.teacher["t2"])[0]["unread"] == 0);
  for (const auto* staff : {"t1", "t3"}) {
    auto other = f.thread(f.teacher[staff], f.thread_id(staff));
    REQUIRE(other["messages"].size() == 2);
    CHECK(other["messages"][1]["direction"] == "in");
  }
  // Another teacher may not read it.
  CHECK(f.daemon.call("GET", "/v1/threads/" + t2, f.teacher["t1"]).status == 404);
  requests = f.sent(4);
  REQUIRE(requests.size() == 4);
  CHECK(f.from_of(requests, "See you at conferences.") == n2);
  CHECK(requests[3]["form"]["To"] == kPhone);
}

TEST_CASE("threads: with a pool of one number the question routes the reply") {
  Family f({"+15550000009"});
  f.note("t1", "Note from Lee.");
  f.sent(1);
  f.note("t2", "Note from Diaz.");
  f.sent(2);
  REQUIRE(
      f.inbound("+15550000009", "When is the trip?", "SM0000000000000000000000000000011").status ==
      200);
  auto requests = f.sent(3);
  REQUIRE(requests.size() == 3);
  CHECK(requests[2]["form"]["Body"] == "Reply 1 for Mr. Diaz, 2 for Ms. Lee");
  CHECK(requests[2]["form"]["From"] == "+15550000009");
  REQUIRE(f.inbound("+15550000009", "2", "SM0000000000000000000000000000012").status == 200);
  auto lee = f.thread(f.teacher["t1"], f.thread_id("t1"));
  INFO(lee.dump());
  REQUIRE(lee["messages"].size() == 3);
  CHECK(lee["messages"][1]["body"] == "When is the trip?");
  CHECK(f.thread(f.teacher["t2"], f.thread_id("t2"))["messages"].size() == 1);
}

TEST_CASE("threads: STOP in five languages stops SMS and confirms once each") {
  Family f({"+15550000001"});
  const std::vector<std::pair<std::string, std::string>> stops{
      {"STOP", "You will no longer receive"},
      {"Parar", "Ya no recibirá"},
      {"arrêt", "Vous ne recevrez plus"},
      {"DỪNG", "Bạn sẽ không còn"},
      {"退订", "您将不再收到"}};
  std::size_t expected = 0;
  int sid = 100;
  for (const auto& [word, confirmation] : stops) {
    INFO(word);
    CHECK(f.inbound("+15550000001", word, "SM00000000000000000000000000000" + std::to_string(++sid))
              .status == 200);
    expected += 1;
    auto requests = f.sent(expected);
    REQUIRE(requests.size() == expected);
    CHECK(requests.back()["form"].value("Body", "").rfind(confirmation, 0) == 0);
    // A second STOP while stopped confirms nothing; START resumes (and confirms).
    CHECK(f.inbound("+15550000001", word, "SM00000000000000000000000000000" + std::to_string(++sid))
              .status == 200);
    const auto note = f.note("t1", "Not sent while stopped.");
    auto m = json::parse(f.daemon.call("GET", "/v1/messages/" + note, f.admin).body);
    CHECK(m["counts"].value("queued", 0) == 0);
    CHECK(f.inbound("+15550000001", "START",
                    "SM00000000000000000000000000000" + std::to_string(++sid))
              .status == 200);
    expected += 1;
    REQUIRE(f.sent(expected).size() == expected);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(f.sent(expected + 1).size() == expected);  // nothing more went out
}
