#include <catch2/catch.hpp>
#include <thread>

#include "daemon_harness.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

struct SchoolFixture {
  TempDir dir;
  Daemon daemon{dir, outbox_channels(dir / "outbox")};
  std::string admin, lee;

  SchoolFixture() {
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/staff/t1", {{"name", "Ms. Lee"}, {"email", "lee@school.example.org"}});
    put("/v1/staff/t2", {{"name", "Mr. Diaz"}, {"role", "teacher"}});
    put("/v1/guardians/g1", {{"given_name", "Ana"},
                             {"family_name", "Diaz"},
                             {"language", "es"},
                             {"timezone", "America/Chicago"},
                             {"contacts",
                              {{{"channel", "email"}, {"address", "ana@example.org"}},
                               {{"channel", "sms"}, {"address", "+15551230001"}}}},
                             {"preferences", {{"channels", {"sms", "email"}}}}});
    put("/v1/guardians/g2",
        {{"given_name", "Ben"},
         {"family_name", "Diaz"},
         {"contacts", {{{"channel", "email"}, {"address", "ben@example.org"}}}}});
    put("/v1/guardians/g3",
        {{"given_name", "Carl"},
         {"family_name", "Diaz"},
         {"contacts", {{{"channel", "email"}, {"address", "carl@example.org"}}}}});
    put("/v1/students/s1",
        {{"given_name", "Maya"},
         {"family_name", "Diaz"},
         {"grade", "7"},
         {"staff", {"t1"}},
         {"guardians",
          {{{"id", "g1"}, {"relationship", "mother"}},
           {{"id", "g2"}, {"relationship", "father"}},
           {{"id", "g3"}, {"relationship", "stepfather"}, {"contact_allowed", false}}}}});
    put("/v1/students/s2", {{"given_name", "Leo"},
                            {"family_name", "Park"},
                            {"staff", {"t2"}},
                            {"guardians", {{{"id", "g2"}}}}});
    lee = daemon.token(Role::kTeacher, "t1");
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

  json note(std::string student = "s1") {
    return {
        {"student_id", student},
        {"category", "note"},
        {"body", "Maya finished her lab report early and helped two classmates."},
        {"translations", {{"es", "Maya terminó su informe temprano y ayudó a dos compañeros."}}}};
  }

  json message(const std::string& id) {
    auto r = daemon.call("GET", "/v1/messages/" + id, admin);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }

  // Waits (bounded) until no delivery of the message is queued or sending.
  json settled(const std::string& id) {
    for (int i = 0; i < 1000; ++i) {
      auto m = message(id);
      bool busy = false;
      for (const auto& d : m["deliveries"]) {
        busy = busy || d["state"] == "queued" || d["state"] == "sending";
      }
      if (!busy) return m;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("deliveries did not settle");
    return {};
  }

  int count_files() {
    int n = 0;
    if (!std::filesystem::exists(dir / "outbox")) return 0;
    for (const auto& e : std::filesystem::directory_iterator(dir / "outbox"))
      n += e.is_regular_file();
    return n;
  }

  std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

}  // namespace

TEST_CASE(
    "a teacher's note reaches each allowed guardian through the outbox, never the restricted one") {
  SchoolFixture s;
  auto r = s.daemon.call("POST", "/v1/messages", s.lee, s.note());
  INFO(r.body);
  REQUIRE(r.status == 202);
  auto accepted = json::parse(r.body);
  REQUIRE(accepted["deliveries"].size() == 2);  // g3 is restricted: not even planned
  CHECK(r.headers["location"] == "/v1/messages/" + accepted["id"].get<std::string>());

  auto m = s.settled(accepted["id"]);
  std::map<std::string, json> by_guardian;
  for (const auto& d : m["deliveries"]) by_guardian[d["guardian_id"]] = d;
  REQUIRE(by_guardian.count("g3") == 0);
  CHECK(by_guardian["g1"]["state"] == "sent");
  CHECK(by_guardian["g1"]["channel"] == "sms");  // her first preference
  CHECK(by_guardian["g1"]["language"] == "es");
  CHECK(by_guardian["g1"]["to"] == "+1******0001");  // masked even in the API
  CHECK(by_guardian["g2"]["state"] == "sent");
  CHECK(by_guardian["g2"]["channel"] == "email");
  CHECK(m["counts"]["sent"] == 2);

  auto sms = s.read_file(s.dir / "outbox" / (by_guardian["g1"]["id"].get<std::string>() + ".json"));
  auto sms_json = json::parse(sms);
  CHECK(sms_json["to"] == "+15551230001");
  CHECK(sms_json["content"] ==
        "Ms. Lee: Maya terminó su informe temprano y ayudó a dos compañeros.");
  auto eml = s.read_file(s.dir / "outbox" / (by_guardian["g2"]["id"].get<std::string>() + ".eml"));
  CHECK(eml.find("To: <ben@example.org>\r\n") != std::string::npos);
  CHECK(eml.find("Subject: Note from Ms. Lee about Maya\r\n") != std::string::npos);
  CHECK(s.count_files() == 2);
  CHECK(s.read_file(s.dir / "outbox" / "x").empty());

  // The log never shows a full address or the body.
  auto log = s.daemon.stop_and_log();
  CHECK(log.find("ben@example.org") == std::string::npos);
  CHECK(log.find("+15551230001") == std::string::npos);
  CHECK(log.find("lab report") == std::string::npos);
  CHECK(log.find(s.lee) == std::string::npos);
}

TEST_CASE("the same Idempotency-Key returns the first answer and creates nothing new") {
  SchoolFixture s;
  auto first = s.daemon.call("POST", "/v1/messages", s.lee, s.note(), {"Idempotency-Key: abc-1"});
  REQUIRE(first.status == 202);
  auto again = s.daemon.call("POST", "/v1/messages", s.lee, s.note(), {"Idempotency-Key: abc-1"});
  CHECK(again.status == 202);
  CHECK(again.body == first.body);
  CHECK(again.headers["idempotent-replayed"] == "true");
  s.settled(json::parse(first.body)["id"]);
  CHECK(s.count_files() == 2);

  auto changed = s.note();
  changed["body"] = "Something else.";
  auto conflict = s.daemon.call("POST", "/v1/messages", s.lee, changed, {"Idempotency-Key: abc-1"});
  CHECK(conflict.status == 409);
  CHECK(conflict.headers["content-type"] == "application/problem+json");
  auto metrics = http_request("GET", s.daemon.url("/metrics"));
  CHECK(metrics.body.find("homeroom_deliveries{state=\"sent\"} 2\n") != std::string::npos);
}

TEST_CASE("bad input gets a clear problem and changes nothing") {
  SchoolFixture s;
  auto post = [&](const std::string& token, const std::string& body,
                  std::vector<std::string> headers = {"Content-Type: application/json"}) {
    headers.push_back("Authorization: Bearer " + token);
    return http_request("POST", s.daemon.url("/v1/messages"), body, headers);
  };
  auto problem = [](const HttpResult& r) {
    INFO(r.body);
    CHECK(r.headers.at("content-type") == "application/problem+json");
    return json::parse(r.body);
  };

  auto malformed = post(s.lee, "{\"student_id\": ");
  CHECK(malformed.status == 400);
  CHECK(problem(malformed)["status"] == 400);

  auto unknown = post(s.lee, s.note("s404").dump());
  CHECK(unknown.status == 422);
  CHECK(problem(unknown)["errors"][0]["field"] == "student_id");

  auto typo = s.note();
  typo["categroy"] = "note";
  auto typo_r = post(s.lee, typo.dump());
  CHECK(typo_r.status == 422);
  CHECK(problem(typo_r)["errors"][0]["field"] == "categroy");

  auto big = s.note();
  big["body"] = std::string(70'000, 'x');
  auto too_large = post(s.lee, big.dump());
  CHECK(too_large.status == 413);
  problem(too_large);

  auto wrong_token = post("hr_not-a-token", s.note().dump());
  CHECK(wrong_token.status == 401);
  CHECK(wrong_token.headers["www-authenticate"] == "Bearer");
  problem(wrong_token);

  auto other_teacher = post(s.lee, s.note("s2").dump());
  CHECK(other_teacher.status == 403);
  problem(other_teacher);

  auto legal = s.note();
  legal["legally_required"] = true;
  auto teacher_legal = post(s.lee, legal.dump());
  CHECK(teacher_legal.status == 403);
  problem(teacher_legal);

  auto bad_digest = s.daemon.call("PUT", "/v1/guardians/g2", s.admin,
                                  {{"given_name", "Ben"},
                                   {"family_name", "Diaz"},
                                   {"preferences", {{"digest_time", "25:00"}}}});
  CHECK(bad_digest.status == 422);
  CHECK(problem(bad_digest)["errors"][0]["field"] == "preferences.digest_time");

  auto teacher_roster = s.daemon.call("PUT", "/v1/staff/t9", s.lee, {{"name", "Eve"}});
  CHECK(teacher_roster.status == 403);

  auto bad_guardian = s.daemon.call("PUT", "/v1/guardians/g9", s.admin,
                                    {{"given_name", "X"},
                                     {"family_name", "Y"},
                                     {"contacts", {{{"channel", "fax"}, {"address", "123"}}}}});
  CHECK(bad_guardian.status == 422);
  CHECK(problem(bad_guardian)["errors"][0]["field"] == "contacts[0].channel");
  CHECK(s.daemon.call("GET", "/v1/guardians/g9", s.admin).status == 404);

  // Nothing was planned, nothing sent.
  auto metrics = http_request("GET", s.daemon.url("/metrics"));
  CHECK(metrics.body.find("homeroom_deliveries{") == std::string::npos);
  CHECK(s.count_files() == 0);
}

TEST_CASE("guardian preferences round-trip through the API") {
  SchoolFixture s;
  json g = {{"given_name", "Dee"},
            {"family_name", "Diaz"},
            {"language", "pt_br"},
            {"timezone", "America/Sao_Paulo"},
            {"do_not_contact", true},
            {"contacts", {{{"channel", "sms"}, {"address", "(555) 123-0009"}}}},
            {"preferences",
             {{"channels", {"sms"}},
              {"quiet_hours", {{"start", "21:00"}, {"end", "06:30"}}},
              {"categories", {{"reminder", "digest"}}},
              {"digest_time", "18:15"}}}};
  auto put = s.daemon.call("PUT", "/v1/guardians/g9", s.admin, g);
  INFO(put.body);
  REQUIRE(put.status == 200);
  auto back = json::parse(s.daemon.call("GET", "/v1/guardians/g9", s.admin).body);
  CHECK(back["language"] == "pt-BR");
  CHECK(back["do_not_contact"] == true);
  CHECK(back["contacts"][0]["address"] == "+15551230009");
  CHECK(back["preferences"]["digest_time"] == "18:15");
  CHECK(back["preferences"]["quiet_hours"]["end"] == "06:30");
  CHECK(back["preferences"]["categories"]["reminder"] == "digest");

  // No time zone stated: the school's stands in (an empty one), not UTC; a GET body PUTs back.
  json unzoned = {{"given_name", "Eva"},
                  {"family_name", "Diaz"},
                  {"contacts", {{{"channel", "email"}, {"address", "eva@example.org"}}}}};
  REQUIRE(s.daemon.call("PUT", "/v1/guardians/g8", s.admin, unzoned).status == 200);
  auto eva = json::parse(s.daemon.call("GET", "/v1/guardians/g8", s.admin).body);
  CHECK(eva["timezone"] == "");
  CHECK(s.daemon.call("PUT", "/v1/guardians/g8", s.admin, eva).status == 200);
  unzoned["timezone"] = "Mars/Olympus_Mons";
  auto bad = s.daemon.call("PUT", "/v1/guardians/g8", s.admin, unzoned);
  CHECK(bad.status == 422);
  CHECK(json::parse(bad.body)["errors"][0]["field"] == "timezone");
}

TEST_CASE("a teacher cannot read messages about another teacher's students") {
  SchoolFixture s;
  auto r = s.daemon.call("POST", "/v1/messages", s.admin, s.note("s2"));
  REQUIRE(r.status == 202);
  auto id = json::parse(r.body)["id"].get<std::string>();
  CHECK(s.daemon.call("GET", "/v1/messages/" + id, s.lee).status == 404);
  CHECK(s.daemon.call("GET", "/v1/messages/" + id, s.admin).status == 200);
}

TEST_CASE("SIGTERM drains and exits 0 - the data is there after a restart") {
  SchoolFixture s;
  auto r = s.daemon.call("POST", "/v1/messages", s.lee, s.note());
  REQUIRE(r.status == 202);
  s.daemon.process().signal(SIGTERM);
  auto code = s.daemon.process().wait_exit(std::chrono::seconds(30));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(s.daemon.process().output().find("homeroomd stopped cleanly") != std::string::npos);
  s.daemon.start();
  auto m = s.settled(json::parse(r.body)["id"]);
  CHECK(m["counts"]["sent"] == 2);
}

TEST_CASE("a bad config exits non-zero naming the key") {
  TempDir dir;
  std::ofstream(dir / "bad.toml") << "[server]\nlisten = \"localhost\"\n"
                                  << outbox_channels(dir / "o");
  auto [code, out] =
      run_command({HOMEROOMD_PATH, "-c", (dir / "bad.toml").string()}, dir / "out.log");
  CHECK(code == 2);
  CHECK(out.find("server.listen") != std::string::npos);

  std::ofstream(dir / "plugin.toml")
      << "[channels.email]\nplugin = \"nosuch\"\nchannel = \"email\"\n"
      << "[store]\npath = \"" << (dir / "h.db").string() << "\"\n";
  auto [code2, out2] =
      run_command({HOMEROOMD_PATH, "-c", (dir / "plugin.toml").string()}, dir / "out2.log");
  CHECK(code2 == 1);
  CHECK(out2.find("nosuch") != std::string::npos);
}

TEST_CASE("SIGHUP reopens the log file after logrotate moved it") {
  TempDir dir;
  const auto log = dir / "homeroomd.log";
  std::ofstream(dir / "hup.toml") << "[server]\nlisten = \"127.0.0.1:0\"\n"
                                  << "[store]\npath = \"" << (dir / "h.db").string() << "\"\n"
                                  << "[log]\nfile = \"" << log.string() << "\"\n"
                                  << "[plugins]\ndir = \"" << HOMEROOM_PLUGIN_DIR << "\"\n"
                                  << outbox_channels(dir / "o");
  Process p({HOMEROOMD_PATH, "-c", (dir / "hup.toml").string()}, dir / "stderr.log");
  auto read = [](const std::filesystem::path& f) {
    std::ifstream in(f);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  for (int i = 0; i < 3000 && read(log).find("listening on") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(read(log).find("listening on") != std::string::npos);
  std::filesystem::rename(log, dir / "homeroomd.log.1");
  p.signal(SIGHUP);
  for (int i = 0; i < 3000 && read(log).find("logs reopened") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(read(log).find("logs reopened") != std::string::npos);
  CHECK(read(dir / "homeroomd.log.1").find("logs reopened") == std::string::npos);
  p.signal(SIGTERM);
  CHECK(p.wait_exit(std::chrono::seconds(30)) == 0);
}
