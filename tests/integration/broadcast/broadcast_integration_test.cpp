// Broadcasts end to end: the real homeroomd plans a broadcast in chunks and sends it by SMS
// through the real sms_twilio plugin to tests/peers/twilio_fake.js, which records every request
// with the time it arrived. Checks one message per household naming its own conference slot(s)
// in its language, the 422s for unknown and missing variables, cancellation before send_at, the
// throttle (rate_per_second) with a teacher's note going ahead of the remaining bulk, two schools'
// broadcasts taking turns, and a copy that fails for good on SMS falling back to email (the real
// email_smtp plugin and tests/peers/smtp_server.py).
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

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

// homeroomd's channels: SMS through the fake, and email through the SMTP peer when there is one.
std::string channels(const std::string& sms_extra, int twilio_port, const SmtpServer* smtp) {
  std::string out =
      "[queue]\npoll_interval_ms = 20\n[channels.sms]\nplugin = \"sms_twilio\"\n"
      "channel = \"sms\"\n" +
      sms_extra + "[channels.sms.settings]\naccount_sid = \"" + kSid + "\"\nauth_token = \"" +
      kToken +
      "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" + std::to_string(twilio_port) +
      "\"\n";
  if (smtp != nullptr) {
    out +=
        "[email]\nfrom_address = \"office@district.example.org\"\n"
        "reply_domain = \"reply.district.example.org\"\n"
        "[channels.email]\nplugin = \"email_smtp\"\nchannel = \"email\"\n"
        "[channels.email.settings]\nurl = \"smtp://127.0.0.1:" +
        std::to_string(smtp->port) + "\"\nrequire_tls = false  # loopback test peer\n";
  }
  return out;
}

struct District {
  TempDir dir;
  TwilioFake fake;
  std::unique_ptr<SmtpServer> smtp;  // with_email only
  Daemon daemon;
  std::string admin, lee;

  // `channel_extra`: more [channels.sms] settings (a throttle); `twilio_switches`: the fake's.
  explicit District(const std::string& channel_extra = "",
                    const std::vector<std::string>& twilio_switches = {}, bool with_email = false)
      : fake(dir, kSid, kToken, twilio_switches),
        smtp(with_email ? std::make_unique<SmtpServer>(dir, std::vector<std::string>{}) : nullptr),
        daemon(dir, channels(channel_extra, fake.port, smtp.get())) {
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/staff/t1", {{"name", "Ms. Lee"}, {"email", "lee@school.example.org"}});
    lee = daemon.token(Role::kTeacher, "t1");
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(path << " " << r.body);
    REQUIRE(r.status == 200);
  }
  void guardian(const std::string& id, const std::string& name, const std::string& language,
                const std::string& number) {
    put("/v1/guardians/" + id, {{"given_name", name},
                                {"family_name", "Diaz"},
                                {"language", language},
                                {"contacts", {{{"channel", "sms"}, {"address", number}}}},
                                {"preferences", {{"channels", {"sms"}}}}});
  }
  void student(const std::string& id, const std::string& name, const std::string& grade,
               const std::vector<std::string>& guardians, const std::string& school = "") {
    json links = json::array();
    for (const auto& g : guardians) links.push_back({{"id", g}});
    json body = {{"given_name", name},
                 {"family_name", "Diaz"},
                 {"grade", grade},
                 {"staff", {"t1"}},
                 {"guardians", links}};
    if (!school.empty()) body["school_id"] = school;
    put("/v1/students/" + id, body);
  }
  HttpResult post(const json& body, const std::string& token = "") {
    return daemon.call("POST", "/v1/broadcasts", token.empty() ? admin : token, body);
  }
  json get(const std::string& id) {
    auto r = daemon.call("GET", "/v1/broadcasts/" + id, admin);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  // Polls GET until `done` says yes (bounded: 10 s).
  json wait_for(const std::string& id, const std::function<bool(const json&)>& done) {
    json view;
    for (int i = 0; i < 500; ++i) {
      view = get(id);
      if (done(view)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return view;
  }
};

std::string body_to(const std::vector<json>& requests, const std::string& to) {
  std::string out;
  int n = 0;
  for (const auto& r : requests) {
    if (r["form"]["To"] == to) {
      out = r["form"]["Body"].get<std::string>();
      ++n;
    }
  }
  return n == 1 ? out : "(" + std::to_string(n) + " messages)";
}

}  // namespace

TEST_CASE("a conference broadcast reaches each household once, in its language, with its slots",
          "[broadcast][integration]") {
  District d;
  d.guardian("g1", "Ana", "es", "+15551230001");   // mother of the siblings s1, s2
  d.guardian("g2", "Bob", "en", "+15551230002");   // father of s3
  d.guardian("g3", "Cleo", "en", "+15551230003");  // s4's guardians share one phone
  d.guardian("g4", "Dan", "en", "+15551230003");
  d.student("s1", "Maya", "3", {"g1"});
  d.student("s2", "Leo", "5", {"g1"});
  d.student("s3", "Sam", "3", {"g2"});
  d.student("s4", "Ivy", "4", {"g3", "g4"});
  d.student("s5", "Zed", "4", {"g2"});  // not in the audience

  auto r =
      d.post({{"audience", {{"students", {"s1", "s2", "s3", "s4"}}}},
              {"category", "reminder"},
              {"template",
               {{"en",
                 "Hello {{guardian.given_name}}: {{student.given_name}} meets {{staff.name}} at "
                 "{{slot}}."},
                {"es",
                 "Hola {{guardian.given_name}}: {{student.given_name}} ve a {{staff.name}} a las "
                 "{{slot}}."}}},
              {"variables",
               {{"s1", {{"slot", "15:00"}}},
                {"s2", {{"slot", "15:20"}}},
                {"s3", {{"slot", "16:00"}}},
                {"s4", {{"slot", "17:40"}}}}}},
             "");
  INFO(r.body);
  REQUIRE(r.status == 202);
  const json accepted = json::parse(r.body);
  CHECK(accepted["students"] == 4);
  const std::string id = accepted["id"];
  CHECK(r.headers["location"] == "/v1/broadcasts/" + id);

  const json view = d.wait_for(id, [](const json& v) { return v["counts"]["sent"] == 3; });
  INFO(view.dump(2));
  CHECK(view["state"] == "planned");
  CHECK(view["students"]["planned"] == 4);
  CHECK(view["counts"]["sent"] == 3);
  CHECK(view["counts"]["suppressed"] == 1);  // Dan shares Cleo's phone
  REQUIRE(view["reasons"]["suppressed"].size() == 1);

  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // nothing more may arrive
  const auto requests = d.fake.requests(3);
  CHECK(requests.size() == 3);
  CHECK(body_to(requests, "+15551230001") ==
        "Hola Ana: Maya ve a Ms. Lee a las 15:00.\n\nHola Ana: Leo ve a Ms. Lee a las 15:20.");
  CHECK(body_to(requests, "+15551230002") == "Hello Bob: Sam meets Ms. Lee at 16:00.");
  CHECK(body_to(requests, "+15551230003") == "Hello Cleo: Ivy meets Ms. Lee at 17:40.");
}

TEST_CASE("a broadcast naming an unknown or missing variable is refused with 422 naming it",
          "[broadcast][integration]") {
  District d;
  d.guardian("g1", "Ana", "es", "+15551230001");
  d.student("s1", "Maya", "3", {"g1"});
  d.student("s2", "Leo", "3", {"g1"});

  auto unknown = d.post(
      {{"audience", {{"all", true}}},
       {"template",
        {{"en", "Hi {{guardian.given_name}}"}, {"es", "Hola {{guardian.nickname}} {{room}}"}}}});
  INFO(unknown.body);
  REQUIRE(unknown.status == 422);
  const json problem = json::parse(unknown.body);
  CHECK(problem["errors"][0]["field"] == "template.es");
  CHECK(problem["errors"][0]["message"].get<std::string>().find(
            "{{guardian.nickname}}, {{room}}") != std::string::npos);

  auto missing = d.post(
      {{"audience", {{"grades", {"3"}}}},
       {"template", {{"en", "{{student.given_name}} at {{slot}} in {{room}}"}}},
       {"variables", {{"s1", {{"slot", "15:00"}, {"room", "12"}}}, {"s2", {{"slot", "9:00"}}}}}});
  INFO(missing.body);
  REQUIRE(missing.status == 422);
  CHECK(json::parse(missing.body)["errors"][0]["field"] == "variables.s2");
  CHECK(json::parse(missing.body)["errors"][0]["message"].get<std::string>().find("room") !=
        std::string::npos);

  // A student of the audience without the variables the template uses.
  auto absent = d.post({{"audience", {{"grades", {"3"}}}},
                        {"template", {{"en", "{{slot}}"}}},
                        {"variables", {{"s1", {{"slot", "15:00"}}}}}});
  REQUIRE(absent.status == 422);
  CHECK(json::parse(absent.body)["errors"][0]["field"] == "variables.s2");

  auto unknown_student =
      d.post({{"audience", {{"students", {"s1", "nobody"}}}}, {"template", {{"en", "Hi"}}}});
  REQUIRE(unknown_student.status == 422);
  CHECK(json::parse(unknown_student.body)["errors"][0]["field"] == "audience.students[1]");

  auto teacher = d.post({{"audience", {{"all", true}}}, {"template", {{"en", "Hi"}}}}, d.lee);
  CHECK(teacher.status == 403);

  // Nothing was sent or recorded by any refused request.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(d.fake.requests(0).empty());
}

TEST_CASE("an Idempotency-Key replays the first answer and a DELETE before send_at cancels",
          "[broadcast][integration]") {
  District d;
  d.guardian("g1", "Ana", "en", "+15551230001");
  d.guardian("g2", "Bob", "en", "+15551230002");
  d.student("s1", "Maya", "3", {"g1"});
  d.student("s2", "Sam", "3", {"g2"});

  const json body = {{"audience", {{"all", true}}},
                     {"template", {{"en", "School is closed tomorrow, {{guardian.given_name}}."}}},
                     {"send_at", format_rfc3339(SystemClock().now() + 3'600'000)}};
  auto first = d.daemon.call("POST", "/v1/broadcasts", d.admin, body, {"Idempotency-Key: k1"});
  auto again = d.daemon.call("POST", "/v1/broadcasts", d.admin, body, {"Idempotency-Key: k1"});
  REQUIRE(first.status == 202);
  REQUIRE(again.status == 202);
  CHECK(again.body == first.body);
  CHECK(again.headers["idempotent-replayed"] == "true");
  const std::string id = json::parse(first.body)["id"];

  json view = d.wait_for(id, [](const json& v) { return v["state"] == "planned"; });
  CHECK(view["counts"]["scheduled"] == 2);

  auto cancelled = d.daemon.call("DELETE", "/v1/broadcasts/" + id, d.admin);
  INFO(cancelled.body);
  REQUIRE(cancelled.status == 200);
  view = json::parse(cancelled.body);
  CHECK(view["state"] == "cancelled");
  CHECK(view["counts"]["scheduled"] == 0);
  CHECK(view["counts"]["suppressed"] == 2);
  CHECK(view["reasons"]["suppressed"][0] == json({{"reason", "cancelled"}, {"count", 2}}));
  CHECK(d.daemon.call("DELETE", "/v1/broadcasts/nope", d.admin).status == 404);
  CHECK(d.daemon.call("GET", "/v1/broadcasts/" + id, d.lee).status == 403);
}

TEST_CASE("with rate_per_second = 5, bulk SMS take seconds and a note overtakes the rest",
          "[broadcast][integration][throttle]") {
  District d("rate_per_second = 5\n");
  for (int i = 0; i < 20; ++i) {
    const std::string n = std::to_string(10 + i);
    d.guardian("g" + n, "P" + n, "en", "+155512300" + n);
    d.student("s" + n, "K" + n, "2", {"g" + n});
  }
  const auto start = std::chrono::steady_clock::now();
  auto r = d.post({{"audience", {{"grades", {"2"}}}},
                   {"template", {{"en", "Field trip on Friday for {{student.given_name}}."}}}});
  REQUIRE(r.status == 202);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto note = d.daemon.call("POST", "/v1/messages", d.lee,
                            {{"student_id", "s10"}, {"category", "note"}, {"body", "NOTE-1"}});
  INFO(note.body);
  REQUIRE(note.status == 202);
  const auto posted_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();

  std::vector<json> requests;
  for (int i = 0; i < 100 && requests.size() < 21; ++i) {
    requests = d.fake.requests(21);
  }
  REQUIRE(requests.size() == 21);
  std::size_t note_at = requests.size();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (requests[i]["form"]["Body"].get<std::string>().find("NOTE-1") != std::string::npos) {
      note_at = i;
    }
  }
  REQUIRE(note_at < requests.size());
  const std::int64_t first = requests.front()["at"];
  const std::int64_t last = requests.back()["at"];
  const std::int64_t note_time = requests[note_at]["at"];
  INFO("note posted at " << posted_ms << " ms, sent at index " << note_at << ", "
                         << note_time - first << " ms after the first bulk SMS; last at "
                         << last - first << " ms");
  // 5 at once (one second of tokens), then 5/s: the 20 bulk and the note need about 3.2 s.
  CHECK(last - first >= 2800);
  // The note waited for one token at most, not for the bulk queued before it.
  CHECK(note_at < 15);
  CHECK(last - note_time >= 1000);
}

TEST_CASE("two schools broadcasting at once take turns, and a note goes ahead of both",
          "[broadcast][integration][throttle][fairness]") {
  District d("rate_per_second = 5\n");
  d.put("/v1/schools/north", {{"name", "North High"}});
  d.put("/v1/schools/south", {{"name", "South Elementary"}});
  for (int i = 0; i < 300; ++i) {
    const std::string n = std::to_string(1000 + i);
    d.guardian("gn" + n, "P" + n, "en", "+1555301" + n);
    d.student("sn" + n, "K" + n, "9", {"gn" + n}, "north");
  }
  for (int i = 0; i < 10; ++i) {
    const std::string n = std::to_string(1000 + i);
    d.guardian("gs" + n, "Q" + n, "en", "+1555302" + n);
    d.student("ss" + n, "L" + n, "2", {"gs" + n}, "south");
  }
  // North's 300 first, South's 10 right after: in due order South would wait for all of North.
  auto north = d.post({{"audience", {{"schools", {"north"}}}},
                       {"template", {{"en", "NORTH: picture day for {{student.given_name}}."}}}});
  auto south = d.post({{"audience", {{"schools", {"south"}}}},
                       {"template", {{"en", "SOUTH: field trip for {{student.given_name}}."}}}});
  REQUIRE(north.status == 202);
  REQUIRE(south.status == 202);
  for (const auto* r : {&north, &south}) {
    const std::string id = json::parse(r->body)["id"];
    CHECK(d.wait_for(id, [](const json& v) { return v["state"] == "planned"; })["state"] ==
          "planned");
  }
  // Past the first second's burst, a teacher's note about a South student.
  REQUIRE(d.fake.requests(6).size() >= 6);
  const Millis posted_at = SystemClock().now();
  auto note = d.daemon.call("POST", "/v1/messages", d.lee,
                            {{"student_id", "ss1003"}, {"category", "note"}, {"body", "NOTE-1"}});
  INFO(note.body);
  REQUIRE(note.status == 202);

  constexpr std::size_t kFirst = 40;  // of 311
  std::vector<json> requests;
  for (int i = 0; i < 100 && requests.size() < kFirst; ++i) requests = d.fake.requests(kFirst);
  REQUIRE(requests.size() >= kFirst);
  requests.resize(kFirst);
  std::string order;  // N, S or * (the note), in the order the fake received them
  std::vector<std::size_t> south_at;
  std::size_t note_at = kFirst, before_note = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const std::string body = requests[i]["form"]["Body"];
    if (body.find("SOUTH") != std::string::npos) {
      south_at.push_back(i);
      order += 'S';
    } else if (body.find("NOTE-1") != std::string::npos) {
      note_at = i;
      order += '*';
    } else {
      order += 'N';
    }
    if (requests[i]["at"].get<Millis>() < posted_at) ++before_note;
  }
  INFO("the first " << kFirst << " SMS: " << order << "; " << before_note
                    << " arrived before the note was posted");
  // Every one of South's 10 is among the first 40 of the 311 (alternating with North's).
  CHECK(south_at.size() == 10);
  // The note went with the next token or the one after (one bulk SMS may have been in flight),
  // ahead of the rest of both broadcasts.
  REQUIRE(note_at < kFirst);
  CHECK(note_at <= before_note + 2);
  REQUIRE_FALSE(south_at.empty());
  CHECK(note_at < south_at.back());
}

TEST_CASE(
    "a copy failing for good on SMS falls back to email, still bulk, naming the same children",
    "[broadcast][integration][fallback]") {
  constexpr const char* kInvalid = "+15551239999";  // Twilio 21211: not a valid phone number
  District d("", {"--invalid", kInvalid}, /*with_email=*/true);
  d.put("/v1/schools/north", {{"name", "North High"}});
  d.put("/v1/guardians/g1", {{"given_name", "Ana"},
                             {"family_name", "Diaz"},
                             {"contacts",
                              {{{"channel", "sms"}, {"address", kInvalid}},
                               {{"channel", "email"}, {"address", "ana@example.net"}}}},
                             {"preferences", {{"channels", {"sms", "email"}}}}});
  d.guardian("g2", "Bob", "en", "+15551230002");
  d.student("s1", "Maya", "3", {"g1"}, "north");
  d.student("s2", "Leo", "5", {"g1"}, "north");
  d.student("s3", "Sam", "3", {"g2"}, "north");

  auto r = d.post(
      {{"audience", {{"students", {"s1", "s2", "s3"}}}},
       {"template", {{"en", "{{student.given_name}} meets {{staff.name}} at {{slot}}."}}},
       {"variables",
        {{"s1", {{"slot", "15:00"}}}, {"s2", {{"slot", "15:20"}}}, {"s3", {{"slot", "16:00"}}}}}});
  INFO(r.body);
  REQUIRE(r.status == 202);
  const std::string id = json::parse(r.body)["id"];
  const json view = d.wait_for(
      id, [](const json& v) { return v["counts"]["sent"] == 2 && v["counts"]["failed"] == 1; });
  INFO(view.dump(2));
  CHECK(view["counts"]["sent"] == 2);  // Bob's SMS and Ana's email
  CHECK(view["counts"]["failed"] == 1);
  REQUIRE(view["reasons"]["failed"].size() == 1);
  CHECK(view["reasons"]["failed"][0]["reason"].get<std::string>().find("21211") !=
        std::string::npos);

  // Twilio was asked once for Ana (21211 is permanent: no retry) and once for Bob.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(d.fake.requests(2).size() == 2);
  auto mailed = d.smtp->messages(1);
  REQUIRE(mailed.size() == 1);
  CHECK(mailed[0]["rcpt_tos"] == json::array({"ana@example.net"}));
  std::ifstream in(d.smtp->out_dir / mailed[0]["file"].get<std::string>(), std::ios::binary);
  std::string mail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::size_t at; (at = mail.find("=\r\n")) != std::string::npos;) mail.erase(at, 3);
  INFO(mail);
  // Both of Ana's children, each with their own slot, as the SMS would have named them.
  CHECK(mail.find("Maya meets Ms. Lee at 15:00.") != std::string::npos);
  CHECK(mail.find("Leo meets Ms. Lee at 15:20.") != std::string::npos);
  CHECK(mail.find("Sam") == std::string::npos);

  // The email copy is the SMS copy's fallback and keeps its place: bulk (priority 1), the same
  // students, the same school's turn.
  SQLite::Database db((d.dir / "homeroom.db").string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(db,
                      "SELECT id, channel, state, priority, about, COALESCE(fallback_of, ''), "
                      "COALESCE(school_id, '') FROM deliveries WHERE message_id = ? AND "
                      "guardian_id = 'g1' ORDER BY rowid");
  q.bind(1, id);
  std::vector<std::vector<std::string>> rows;
  while (q.executeStep()) {
    std::vector<std::string> row;
    for (int c = 0; c < 7; ++c) row.push_back(q.getColumn(c).getString());
    rows.push_back(std::move(row));
  }
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][1] == "sms");
  CHECK(rows[0][2] == "failed");
  CHECK(rows[1][1] == "email");
  CHECK(rows[1][2] == "sent");
  CHECK(rows[1][5] == rows[0][0]);  // fallback_of
  for (const auto& row : rows) {
    CHECK(row[3] == "1");
    CHECK(json::parse(row[4]) == json::array({"s1", "s2"}));
    CHECK(row[6] == "north");
  }
}
