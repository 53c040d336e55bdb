// Conference reminders end to end, on the real clock: the real homeroomd plans a slot's reminders
// from the school's rules (visible through GET /v1/conferences/{id}), a moved slot cancels them
// and plans new ones for the new time, the reminder is sent through the real sms_twilio plugin to
// tests/peers/twilio_fake.js (Spanish, the family's zone) and through email_smtp to aiosmtpd
// (English, another zone), naming the new time and place; a cancelled slot's reminder never goes.
// The school's rules are [60, 1] minutes so that a slot a minute away is reminded within seconds.
// The real homeroomctl imports a conferences CSV into the same database: a bad line is named by
// file and line and nothing is imported.
#include <date/tz.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "daemon_harness.h"
#include "peers.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

constexpr const char* kSid = "ACtest00000000000000000000000000000";
constexpr const char* kToken = "integration-token";
constexpr const char* kChicago = "America/Chicago";
constexpr const char* kNewYork = "America/New_York";
constexpr Millis kMinute = 60'000;

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

date::zoned_time<std::chrono::minutes> zoned(const std::string& zone, Millis t) {
  return {zone, date::floor<std::chrono::minutes>(
                    date::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{t}})};
}

// The time of day as the reminder names it: "15:05 CST" (Spanish), "3:05 PM CST" (English).
std::string clock_text(const std::string& zone, Millis t, bool twelve_hour) {
  const auto z = zoned(zone, t);
  const std::string hhmm = date::format("%H:%M", z.get_local_time());
  const int h = std::stoi(hhmm.substr(0, 2));
  const std::string clock =
      twelve_hour ? std::to_string((h + 11) % 12 + 1) + hhmm.substr(2) + (h < 12 ? " AM" : " PM")
                  : hhmm;
  return clock + " " + z.get_info().abbrev;
}

// RFC 3339 with the zone's offset: "2026-11-24T15:00:00-06:00".
std::string with_offset(const std::string& zone, Millis t) {
  const date::zoned_time<std::chrono::seconds> z{
      zone, date::floor<std::chrono::seconds>(
                date::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{t}})};
  return date::format("%FT%T%Ez", z);
}

struct SchoolFixture {
  TempDir dir;
  TwilioFake twilio;
  SmtpServer smtp;
  Daemon daemon;
  std::string admin, lee, diaz;

  SchoolFixture()
      : twilio(dir, kSid, kToken, {}),
        smtp(dir, {}),
        daemon(dir, channels(twilio.port, smtp.port)) {
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/schools/lincoln",
        {{"name", "Lincoln Middle"}, {"timezone", kChicago}, {"conference_reminders", {60, 1}}});
    put("/v1/staff/t1", {{"name", "Ms. Lee"}, {"school_id", "lincoln"}});
    put("/v1/staff/t2", {{"name", "Mr. Diaz"}, {"school_id", "lincoln"}});
    guardian("g1", "Ana", "es", kChicago, {{"channel", "sms"}, {"address", "+15551230001"}});
    guardian("g2", "Ben", "en", kNewYork, {{"channel", "email"}, {"address", "ben@example.net"}});
    guardian("g3", "Cleo", "en", kChicago, {{"channel", "sms"}, {"address", "+15551230003"}});
    student("s1", "Maya", {"g1", "g2"});
    student("s2", "Leo", {"g3"});
    lee = daemon.token(Role::kTeacher, "t1");
    diaz = daemon.token(Role::kTeacher, "t2");
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(path << " " << r.body);
    REQUIRE(r.status == 200);
  }
  void guardian(const std::string& id, const std::string& name, const std::string& language,
                const std::string& zone, const json& contact) {
    put("/v1/guardians/" + id, {{"given_name", name},
                                {"family_name", "Diaz"},
                                {"language", language},
                                {"timezone", zone},
                                {"contacts", {contact}}});
  }
  void student(const std::string& id, const std::string& name,
               const std::vector<std::string>& guardians) {
    json links = json::array();
    for (const auto& g : guardians) links.push_back({{"id", g}});
    put("/v1/students/" + id, {{"given_name", name},
                               {"family_name", "Diaz"},
                               {"school_id", "lincoln"},
                               {"staff", {"t1"}},
                               {"guardians", links}});
  }

  HttpResult put_slot(const std::string& id, const json& body, const std::string& token = "") {
    return daemon.call("PUT", "/v1/conferences/" + id, token.empty() ? admin : token, body);
  }
  json slot(const std::string& id) {
    auto r = daemon.call("GET", "/v1/conferences/" + id, admin);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  // The field the first error of a 422 names.
  static std::string refused_field(const HttpResult& r) {
    INFO(r.body);
    REQUIRE(r.status == 422);
    return json::parse(r.body)["errors"][0]["field"];
  }

  // SMS requests the fake recorded, waiting (bounded: 30 s) for at least `n`.
  std::vector<json> sms(std::size_t n) {
    std::vector<json> out;
    for (int i = 0; i < 6 && out.size() < n; ++i) out = twilio.requests(n);
    return out;
  }

  // homeroomctl against the daemon's database and config: (exit code, stdout and stderr).
  std::pair<int, std::string> import(const std::string& csv, const std::string& name) {
    const auto file = dir / name;
    std::ofstream(file) << csv;
    return run_command({HOMEROOMCTL_PATH, "-c", (dir / "homeroom.toml").string(), "--db",
                        (dir / "homeroom.db").string(), "import", "conferences", file.string()},
                       dir / "ctl.log");
  }
};

json slot_body(const std::string& student, Millis starts_at, const std::string& place,
               const std::string& staff = "t1") {
  return {{"student_id", student},
          {"staff_id", staff},
          {"starts_at", with_offset(kChicago, starts_at)},
          {"duration_minutes", 20},
          {"place", place}};
}

std::vector<std::string> states(const json& reminder) {
  std::vector<std::string> out;
  for (const auto& d : reminder["deliveries"]) {
    out.push_back(d["guardian_id"].get<std::string>() + " " + d["state"].get<std::string>());
  }
  return out;
}

// "60 g1 scheduled" for every delivery of the slot's reminders that are (not) cancelled, in plan
// order. A family in two time zones has one reminder per zone and rule.
std::vector<std::string> deliveries(const json& view, bool cancelled) {
  std::vector<std::string> out;
  for (const auto& reminder : view["reminders"]) {
    if (reminder.contains("cancelled_at") != cancelled) continue;
    for (const auto& state : states(reminder)) {
      out.push_back(std::to_string(reminder["minutes_before"].get<int>()) + " " + state);
    }
  }
  return out;
}

// The delivery of `guardian` under the reminder rule of `minutes` that is not cancelled.
json delivery_of(const json& view, int minutes, const std::string& guardian) {
  for (const auto& reminder : view["reminders"]) {
    if (reminder.contains("cancelled_at") || reminder["minutes_before"] != minutes) continue;
    for (const auto& d : reminder["deliveries"]) {
      if (d["guardian_id"] == guardian) return d;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE(
    "a slot's reminders are planned, moved with it, sent in the family's language and zone, "
    "and a cancelled slot's never go",
    "[conferences][integration]") {
  SchoolFixture s;
  const Millis now = SystemClock().now();

  // 1. A slot three hours away: one reminder per school rule for each guardian, scheduled.
  const Millis first_time = now + 180 * kMinute;
  auto r = s.put_slot("c1", slot_body("s1", first_time, "Room 12"));
  INFO(r.body);
  REQUIRE(r.status == 200);
  json c1 = json::parse(r.body);
  CHECK(c1["state"] == "scheduled");
  CHECK(c1["place"] == "Room 12");
  CHECK(deliveries(c1, false) == std::vector<std::string>{"60 g1 scheduled", "60 g2 scheduled",
                                                          "1 g1 scheduled", "1 g2 scheduled"});
  REQUIRE(c1["reminders"].size() == 4);  // per rule, one per family time zone
  CHECK(c1["reminders"][0]["timezone"] == kChicago);
  CHECK(c1["reminders"][1]["timezone"] == kNewYork);
  CHECK(delivery_of(c1, 60, "g1")["channel"] == "sms");
  CHECK(delivery_of(c1, 60, "g1")["language"] == "es");
  CHECK(delivery_of(c1, 60, "g2")["channel"] == "email");
  const Millis first_seconds = first_time / 1000 * 1000;  // the API takes whole seconds
  CHECK(delivery_of(c1, 60, "g1")["next_attempt_at"] ==
        format_rfc3339(first_seconds - 60 * kMinute));
  CHECK(delivery_of(c1, 1, "g2")["next_attempt_at"] == format_rfc3339(first_seconds - kMinute));
  CHECK(s.slot("c1") == c1);

  // Refusals name the field and change nothing.
  CHECK(SchoolFixture::refused_field(s.put_slot("c9", slot_body("nobody", first_time, "Room"))) ==
        "student_id");
  CHECK(SchoolFixture::refused_field(
            s.put_slot("c9", slot_body("s1", first_time, "Room", "nobody"))) == "staff_id");
  auto bad_time = slot_body("s1", first_time, "Room");
  bad_time["starts_at"] = "next tuesday at 3";
  CHECK(SchoolFixture::refused_field(s.put_slot("c9", bad_time)) == "starts_at");
  CHECK(SchoolFixture::refused_field(s.put_slot("c9", slot_body("s1", now - kMinute, "Room"))) ==
        "starts_at");
  auto bad_length = slot_body("s1", first_time, "Room");
  bad_length["duration_minutes"] = 0;
  CHECK(SchoolFixture::refused_field(s.put_slot("c9", bad_length)) == "duration_minutes");
  auto unknown = slot_body("s1", first_time, "Room");
  unknown["room"] = "12";
  CHECK(SchoolFixture::refused_field(s.put_slot("c9", unknown)) == "room");
  CHECK(s.daemon.call("GET", "/v1/conferences/c9", s.admin).status == 404);
  // A teacher: their own slots of their own students only; another's is not there for them.
  CHECK(s.daemon.call("GET", "/v1/conferences/c1", s.diaz).status == 404);
  CHECK(s.put_slot("c1", slot_body("s1", first_time, "Gym"), s.diaz).status == 403);
  CHECK(s.daemon.call("GET", "/v1/conferences/c1", s.lee).status == 200);
  CHECK(s.slot("c1") == c1);

  // 2. The slot moves to a minute from now, to the library: the four planned reminders are
  // cancelled; the 60-minute one has passed, the 1-minute one is planned for the new time.
  const Millis moved_time = SystemClock().now() + kMinute + 3'000;
  r = s.put_slot("c1", slot_body("s1", moved_time, "Library"));
  INFO(r.body);
  REQUIRE(r.status == 200);
  c1 = json::parse(r.body);
  CHECK(deliveries(c1, true) == std::vector<std::string>{"60 g1 suppressed", "60 g2 suppressed",
                                                         "1 g1 suppressed", "1 g2 suppressed"});
  CHECK(c1["reminders"][0]["deliveries"][0]["last_error"] == "cancelled: the conference moved");
  CHECK(deliveries(c1, false) == std::vector<std::string>{"1 g1 scheduled", "1 g2 scheduled"});
  for (const auto& reminder : c1["reminders"]) {
    if (reminder.contains("cancelled_at")) continue;
    CHECK(reminder["starts_at"] == format_rfc3339(moved_time / 1000 * 1000));
  }
  CHECK(delivery_of(c1, 1, "g1")["next_attempt_at"] ==
        format_rfc3339(moved_time / 1000 * 1000 - kMinute));

  // 3. Another family's slot, due a few seconds later, is cancelled before its reminder goes.
  const Millis leo_time = SystemClock().now() + kMinute + 6'000;
  REQUIRE(s.put_slot("c2", slot_body("s2", leo_time, "Room 4")).status == 200);
  auto deleted = s.daemon.call("DELETE", "/v1/conferences/c2", s.admin);
  INFO(deleted.body);
  REQUIRE(deleted.status == 200);
  const json c2 = json::parse(deleted.body);
  CHECK(c2["state"] == "cancelled");
  REQUIRE(c2["reminders"].size() == 1);
  CHECK(states(c2["reminders"][0]) == std::vector<std::string>{"g3 suppressed"});
  CHECK(c2["reminders"][0]["deliveries"][0]["last_error"] ==
        "cancelled: the conference was cancelled");

  // 4. The reminder arrives: Ana's SMS in Spanish in Chicago time, Ben's email in English in New
  // York time, both naming the new time and place.
  const auto texts = s.sms(1);
  REQUIRE(texts.size() == 1);
  CHECK(texts[0]["form"]["To"] == "+15551230001");
  const std::string sms = texts[0]["form"]["Body"];
  INFO(sms);
  CHECK(sms.rfind("Ms. Lee: Recordatorio: la reunión de Maya con Ms. Lee es el ", 0) == 0);
  CHECK(sms.find(" a las " + clock_text(kChicago, moved_time, false) +
                 " (20 min).\nLugar: Library") != std::string::npos);
  CHECK(sms.find("Room 12") == std::string::npos);

  const auto mails = s.smtp.messages(1);
  REQUIRE(mails.size() == 1);
  CHECK(mails[0]["rcpt_tos"] == json::array({"ben@example.net"}));
  auto [code, parsed] =
      run_command({HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/parse_mail.js",
                   (s.smtp.out_dir / mails[0]["file"].get<std::string>()).string()},
                  s.dir / "parse.log");
  REQUIRE(code == 0);
  const json mail = json::parse(parsed);
  CHECK(mail["subject"] == "Conference reminder: Maya");
  const std::string text = mail["text"];
  INFO(text);
  CHECK(text.rfind("Reminder: Maya's conference with Ms. Lee is on ", 0) == 0);
  CHECK(text.find(" at " + clock_text(kNewYork, moved_time, true) + " (20 min).\nPlace: Library") !=
        std::string::npos);

  // 5. Past Leo's reminder time, nothing went to Cleo: one SMS in all.
  while (SystemClock().now() < leo_time - kMinute + 2'000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(s.twilio.requests(1).size() == 1);
  CHECK(states(s.slot("c2")["reminders"][0]) == std::vector<std::string>{"g3 suppressed"});
  const json after = s.slot("c1");
  CHECK(deliveries(after, false) == std::vector<std::string>{"1 g1 sent", "1 g2 sent"});
  CHECK(deliveries(after, true) == std::vector<std::string>{"60 g1 suppressed", "60 g2 suppressed",
                                                            "1 g1 suppressed", "1 g2 suppressed"});

  auto listed = s.daemon.call("GET", "/v1/conferences?staff_id=t1", s.admin);
  REQUIRE(listed.status == 200);
  CHECK(json::parse(listed.body)["conferences"].size() == 2);
  CHECK(s.daemon.call("GET", "/v1/conferences", s.lee).status == 200);  // a teacher: their own
}

TEST_CASE("homeroomctl import conferences names a bad line by file and line and imports nothing",
          "[conferences][integration]") {
  SchoolFixture s;
  const Millis later = SystemClock().now() + 2 * 24 * 60 * kMinute;
  const std::string header = "conference_id,student_id,staff_id,starts_at,duration_minutes,place\n";
  const std::string good1 = "c10,s1,t1," + with_offset(kChicago, later) + ",20,Room 12\n";
  const std::string good2 =
      "c11,s2,t1," + with_offset(kChicago, later + 20 * kMinute) + ",20,\"Room 12, east door\"\n";

  // A line that does not parse: named with its column, nothing written.
  auto [code, out] = s.import(header + good1 + "c12,s2,t1,tomorrow,20,Room 12\n", "bad.csv");
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find((s.dir / "bad.csv").string() + ":3: starts_at: expected an RFC 3339 time") !=
        std::string::npos);
  CHECK(out.find("nothing was imported: 1 error") != std::string::npos);
  CHECK(s.daemon.call("GET", "/v1/conferences/c10", s.admin).status == 404);

  // A line the database refuses (an unknown student): the same, all or nothing.
  std::tie(code, out) = s.import(
      header + good1 + "c12,nobody,t1," + with_offset(kChicago, later) + ",20,Room 12\n" + good2,
      "unknown.csv");
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find((s.dir / "unknown.csv").string() + ":3: student_id: unknown student nobody") !=
        std::string::npos);
  CHECK(s.daemon.call("GET", "/v1/conferences/c10", s.admin).status == 404);

  // The good file: two slots, their reminders planned and visible to the running daemon.
  std::tie(code, out) = s.import(header + good1 + good2, "good.csv");
  INFO(out);
  REQUIRE(code == 0);
  CHECK(out.find("2 created, 0 updated, 0 unchanged; 6 reminders planned") != std::string::npos);
  const json c10 = s.slot("c10");
  CHECK(deliveries(c10, false) == std::vector<std::string>{"60 g1 scheduled", "60 g2 scheduled",
                                                           "1 g1 scheduled", "1 g2 scheduled"});
  CHECK(s.slot("c11")["place"] == "Room 12, east door");

  // Again: updated in place, nothing new.
  std::tie(code, out) = s.import(header + good1 + good2, "good.csv");
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("0 created, 0 updated, 2 unchanged; 0 reminders planned") != std::string::npos);
  CHECK(s.slot("c10")["reminders"].size() == 4);

  // The admin API takes the same file.
  auto api = http_request("POST", s.daemon.url("/v1/imports/conferences"),
                          header + "c12,s2,t1," + with_offset(kChicago, later) + ",0,Room 1\n",
                          {"Authorization: Bearer " + s.admin, "Content-Type: text/csv"});
  INFO(api.body);
  REQUIRE(api.status == 422);
  CHECK(json::parse(api.body)["errors"][0]["field"] == "conferences.csv:2 duration_minutes");
  api = http_request("POST", s.daemon.url("/v1/imports/conferences"), header + good1 + good2,
                     {"Authorization: Bearer " + s.admin, "Content-Type: text/csv"});
  INFO(api.body);
  REQUIRE(api.status == 200);
  CHECK(json::parse(api.body)["unchanged"] == 2);
}
