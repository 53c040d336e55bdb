// OneRoster end to end: the test writes a OneRoster 1.1 CSV set (a district with two schools,
// three classes, siblings in different schools sharing a Spanish-speaking mother reachable by SMS
// only, an English father by email only, another family by SMS), imports it with the real
// homeroomctl into the database the real homeroomd uses, and sends a conference broadcast with
// each student's slot (time, place, teacher). Each household gets one message naming its own
// slots, in its language. Re-importing changes nothing and keeps a family's choice; a set with a
// bad email names users.csv and the line, through homeroomctl and the admin API, importing nothing.
// A broadcast to one class reaches only its families; a bulk set that leaves a student and a class
// out removes them (the student kept for his history, in no audience).
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

const std::map<std::string, std::string> kSet = {
    {"manifest.csv",
     "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,bulk\n"
     "file.users,bulk\nfile.classes,bulk\nfile.enrollments,bulk\nfile.demographics,absent\n"},
    {"orgs.csv",
     "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
     "d1,,,Riverside Unified,district,,\n"
     "sch-adams,,,Adams Elementary,school,,d1\n"
     "sch-baker,,,Baker Middle,school,,d1\n"},
    // Line numbers matter: p-bob is on line 9.
    {"users.csv",
     "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName,email,sms,phone,"
     "agentSourcedIds,grades,metadata.language\n"
     "t-adams,true,sch-adams,teacher,adams,Ada,Adams,adams@riverside.example.org,,,,,\n"
     "t-baker,true,sch-baker,teacher,baker,Ben,Baker,baker@riverside.example.org,,,,,\n"
     "s-maya,true,sch-adams,student,maya,Maya,Ortiz,,,,p-ana,03,\n"
     "s-leo,true,sch-baker,student,leo,Leo,Ortiz,,,,p-ana,07,\n"
     "s-sam,true,sch-adams,student,sam,Sam,Lee,,,,p-bob,03,\n"
     "s-ivy,true,sch-baker,student,ivy,Ivy,Chen,,,,p-cleo,07,\n"
     "p-ana,true,sch-adams,parent,ana,Ana,Ortiz,,(555) 123-0001,,\"s-maya,s-leo\",,es\n"
     "p-bob,true,sch-adams,parent,bob,Bob,Lee,bob@example.net,,,s-sam,,en\n"
     "p-cleo,true,sch-baker,guardian,cleo,Cleo,Chen,,,555-123-0003,s-ivy,,\n"},
    {"classes.csv",
     "sourcedId,title,courseSourcedId,classType,schoolSourcedId,termSourcedIds\n"
     "c-3a,Grade 3 Homeroom,crs-3,homeroom,sch-adams,term-1\n"
     "c-7a,Grade 7 Homeroom,crs-7,homeroom,sch-baker,term-1\n"
     "c-sci7,Science 7,crs-sci7,scheduled,sch-baker,term-1\n"},
    {"enrollments.csv",
     "sourcedId,classSourcedId,schoolSourcedId,userSourcedId,role\n"
     "e1,c-3a,sch-adams,t-adams,teacher\n"
     "e2,c-3a,sch-adams,s-maya,student\n"
     "e3,c-3a,sch-adams,s-sam,student\n"
     "e4,c-7a,sch-baker,t-baker,teacher\n"
     "e5,c-7a,sch-baker,s-leo,student\n"
     "e6,c-sci7,sch-baker,t-baker,teacher\n"
     "e7,c-sci7,sch-baker,s-ivy,student\n"},
};

std::string channels(int twilio_port, int smtp_port) {
  return "[queue]\npoll_interval_ms = 20\n"
         "[email]\nfrom_address = \"office@riverside.example.org\"\n"
         "reply_domain = \"reply.riverside.example.org\"\n"
         "[channels.sms]\nplugin = \"sms_twilio\"\nchannel = \"sms\"\n"
         "[channels.sms.settings]\naccount_sid = \"" +
         std::string(kSid) + "\"\nauth_token = \"" + kToken +
         "\"\nfrom = \"+15557654321\"\nbase = \"http://127.0.0.1:" + std::to_string(twilio_port) +
         "\"\n[channels.email]\nplugin = \"email_smtp\"\nchannel = \"email\"\n"
         "[channels.email.settings]\nurl = \"smtp://127.0.0.1:" +
         std::to_string(smtp_port) + "\"\nrequire_tls = false  # loopback test peer\n";
}

void write_set(const std::filesystem::path& dir, const std::map<std::string, std::string>& set) {
  std::filesystem::create_directories(dir);
  for (const auto& [name, text] : set) std::ofstream(dir / name) << text;
}

struct District {
  TempDir dir;
  TwilioFake twilio;
  SmtpServer smtp;
  Daemon daemon;
  std::string admin;

  District()
      : twilio(dir, kSid, kToken, {}),
        smtp(dir, {}),
        daemon(dir, channels(twilio.port, smtp.port)) {
    admin = daemon.token(Role::kAdmin);
  }

  // homeroomctl against the daemon's database: (exit code, stdout and stderr).
  std::pair<int, std::string> import(const std::filesystem::path& set, bool dry_run = false) {
    std::vector<std::string> argv = {HOMEROOMCTL_PATH, "--db",      (dir / "homeroom.db").string(),
                                     "import",         "oneroster", set.string()};
    if (dry_run) argv.push_back("--dry-run");
    return run_command(argv, dir / "ctl.log");
  }
  // Writes `files` into dir/NAME and imports them, which must succeed: homeroomctl's output.
  std::string import_set(const std::map<std::string, std::string>& files, const std::string& name) {
    write_set(dir / name, files);
    auto [code, out] = import(dir / name);
    INFO(out);
    REQUIRE(code == 0);
    return out;
  }
  json get(const std::string& path) {
    auto r = daemon.call("GET", path, admin);
    INFO(path << " " << r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  // Waits until `sent` copies of broadcast `id` are sent, then a little longer: nothing more may
  // arrive.
  void wait_sent(const std::string& id, int sent) {
    json view;
    for (int i = 0; i < 500; ++i) {
      view = get("/v1/broadcasts/" + id);
      if (view["counts"]["sent"] == sent) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    INFO(view.dump(2));
    REQUIRE(view["counts"]["sent"] == sent);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  json parse_mail(const std::string& file) {
    auto [code, output] =
        run_command({HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/parse_mail.js",
                     (smtp.out_dir / file).string()},
                    dir / "parse.log");
    INFO(output);
    REQUIRE(code == 0);
    return json::parse(output);
  }
};

std::vector<std::string> bodies_to(const std::vector<json>& requests, const std::string& to) {
  std::vector<std::string> out;
  for (const auto& r : requests) {
    if (r["form"]["To"] == to) out.push_back(r["form"]["Body"]);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "a OneRoster import, then a conference broadcast: each household once, its own slots, "
    "its language",
    "[oneroster][integration]") {
  District d;
  const auto set = d.dir / "sis";
  write_set(set, kSet);

  auto [code, out] = d.import(set);
  INFO(out);
  REQUIRE(code == 0);
  CHECK(out.find("schools:   2 created, 0 updated, 0 unchanged, 0 deleted") != std::string::npos);
  CHECK(out.find("staff:     2 created") != std::string::npos);
  CHECK(out.find("guardians: 3 created") != std::string::npos);
  CHECK(out.find("students:  4 created") != std::string::npos);
  // Nothing from the families' rows reaches the terminal.
  CHECK(out.find("bob@example.net") == std::string::npos);
  CHECK(out.find("1230001") == std::string::npos);

  d.daemon.start();
  const json leo = d.get("/v1/students/s-leo");
  CHECK(leo["school_id"] == "sch-baker");
  CHECK(leo["staff"] == json::array({"t-baker"}));
  CHECK(d.get("/v1/guardians/p-ana")["language"] == "es");
  CHECK(d.get("/v1/schools/sch-adams")["name"] == "Adams Elementary");

  auto r = d.daemon.call(
      "POST", "/v1/broadcasts", d.admin,
      {{"audience", {{"all", true}}},
       {"category", "reminder"},
       {"template",
        {{"en",
          "Hello {{guardian.given_name}}: {{student.given_name}} meets {{teacher}} at {{time}} in "
          "{{place}}."},
         {"es",
          "Hola {{guardian.given_name}}: {{student.given_name}} ve a {{teacher}} a las {{time}} "
          "en {{place}}."}}},
       {"variables",
        {{"s-maya", {{"time", "15:00"}, {"place", "Sala 3"}, {"teacher", "Sra. Adams"}}},
         {"s-leo", {{"time", "15:40"}, {"place", "Sala 7"}, {"teacher", "Sr. Baker"}}},
         {"s-sam", {{"time", "16:00"}, {"place", "Room 3"}, {"teacher", "Ms. Adams"}}},
         {"s-ivy", {{"time", "17:20"}, {"place", "Room 7"}, {"teacher", "Mr. Baker"}}}}}});
  INFO(r.body);
  REQUIRE(r.status == 202);
  const std::string id = json::parse(r.body)["id"];
  d.wait_sent(id, 3);

  const auto sms = d.twilio.requests(2);
  CHECK(sms.size() == 2);
  const auto ana = bodies_to(sms, "+15551230001");
  REQUIRE(ana.size() == 1);
  CHECK(ana[0] ==
        "Hola Ana: Leo ve a Sr. Baker a las 15:40 en Sala 7.\n\n"  // audience "all": by id
        "Hola Ana: Maya ve a Sra. Adams a las 15:00 en Sala 3.");
  const auto cleo = bodies_to(sms, "+15551230003");  // from the phone column
  REQUIRE(cleo.size() == 1);
  CHECK(cleo[0] == "Hello Cleo: Ivy meets Mr. Baker at 17:20 in Room 7.");

  const auto mails = d.smtp.messages(1);
  REQUIRE(mails.size() == 1);
  CHECK(mails[0]["rcpt_tos"] == json::array({"bob@example.net"}));
  const json mail = d.parse_mail(mails[0]["file"]);
  const std::string text = mail["text"];
  INFO(text);
  CHECK(text.find("Hello Bob: Sam meets Ms. Adams at 16:00 in Room 3.") != std::string::npos);
  CHECK(text.find("Maya") == std::string::npos);
  CHECK(text.find("Ivy") == std::string::npos);

  SECTION("re-importing the same set changes nothing and keeps the family's choices") {
    // Bob chose Spanish himself; the SIS says en. His choice stays.
    auto put =
        d.daemon.call("PUT", "/v1/guardians/p-bob", d.admin,
                      {{"given_name", "Bob"},
                       {"family_name", "Lee"},
                       {"language", "es"},
                       {"contacts", {{{"channel", "email"}, {"address", "bob@example.net"}}}}});
    INFO(put.body);
    REQUIRE(put.status == 200);
    // The school restricts Cleo for Ivy; a SIS re-import must not lift it.
    json ivy = d.get("/v1/students/s-ivy");
    ivy["guardians"][0]["contact_allowed"] = false;
    ivy.erase("id");
    put = d.daemon.call("PUT", "/v1/students/s-ivy", d.admin, ivy);
    INFO(put.body);
    REQUIRE(put.status == 200);

    auto [again_code, again] = d.import(set);
    INFO(again);
    REQUIRE(again_code == 0);
    CHECK(again.find("schools:   0 created, 0 updated, 2 unchanged, 0 deleted") !=
          std::string::npos);
    CHECK(again.find("staff:     0 created, 0 updated, 2 unchanged, 0 deleted") !=
          std::string::npos);
    CHECK(again.find("guardians: 0 created, 0 updated, 3 unchanged, 0 deleted") !=
          std::string::npos);
    CHECK(again.find("students:  0 created, 0 updated, 4 unchanged, 0 deleted") !=
          std::string::npos);
    CHECK(d.get("/v1/guardians/p-bob")["language"] == "es");
    CHECK(d.get("/v1/students/s-maya")["guardians"].size() == 1);
    CHECK(d.get("/v1/students/s-ivy")["guardians"][0]["contact_allowed"] == false);

    // The same through the admin API, as a dry run.
    json files = json::object();
    for (const auto& [name, csv] : kSet) files[name] = csv;
    auto api = d.daemon.call("POST", "/v1/imports/oneroster", d.admin,
                             {{"files", files}, {"dry_run", true}});
    INFO(api.body);
    REQUIRE(api.status == 200);
    const json summary = json::parse(api.body);
    CHECK(summary["students"]["unchanged"] == 4);
    CHECK(summary["students"]["created"] == 0);
    CHECK(summary["guardians"]["updated"] == 0);
  }

  SECTION("a set with a bad email names users.csv and its line and imports nothing") {
    auto bad = kSet;
    bad["orgs.csv"] += "sch-cedar,,,Cedar High,school,,d1\n";
    const std::string good_email = "bob@example.net";
    bad["users.csv"].replace(bad["users.csv"].find(good_email), good_email.size(),
                             "bob-at-example.net");
    const auto bad_dir = d.dir / "sis-bad";
    write_set(bad_dir, bad);

    auto [bad_code, bad_out] = d.import(bad_dir);
    INFO(bad_out);
    CHECK(bad_code == 1);
    CHECK(bad_out.find("users.csv:9: email: ") != std::string::npos);
    CHECK(bad_out.find("nothing was imported: 1 error") != std::string::npos);
    CHECK(bad_out.find("bob-at-example.net") == std::string::npos);

    json files = json::object();
    for (const auto& [name, csv] : bad) files[name] = csv;
    auto api = d.daemon.call("POST", "/v1/imports/oneroster", d.admin, {{"files", files}});
    INFO(api.body);
    REQUIRE(api.status == 422);
    const json problem = json::parse(api.body);
    REQUIRE(problem["errors"].size() == 1);
    CHECK(problem["errors"][0]["field"] == "users.csv:9 email");
    CHECK(api.body.find("bob-at-example.net") == std::string::npos);

    CHECK(d.daemon.call("GET", "/v1/schools/sch-cedar", d.admin).status == 404);
    CHECK(d.get("/v1/guardians/p-bob")["contacts"][0]["address"] == good_email);
  }
}

TEST_CASE("a broadcast to one class reaches only that class's families, and a bulk set removes",
          "[oneroster][integration]") {
  District d;
  const std::string out = d.import_set(kSet, "sis");
  INFO(out);
  CHECK(out.find("classes:   3 created") != std::string::npos);
  CHECK(out.find("enrollments: 7 created") != std::string::npos);
  d.daemon.start();

  auto unknown = d.daemon.call("POST", "/v1/broadcasts", d.admin,
                               {{"audience", {{"classes", {"c-3a", "c-9z"}}}},
                                {"template", {{"en", "Hello {{guardian.given_name}}."}}}});
  REQUIRE(unknown.status == 422);
  CHECK(json::parse(unknown.body)["errors"][0]["field"] == "audience.classes[1]");

  // Grade 3 Homeroom: Maya (her mother Ana, Spanish, SMS) and Sam (Bob, email). Ana is also Leo's
  // mother, but Leo is in Grade 7: her message names Maya only. Cleo (Ivy, Science 7) gets nothing.
  auto r = d.daemon.call(
      "POST", "/v1/broadcasts", d.admin,
      {{"audience", {{"classes", {"c-3a"}}}},
       {"template",
        {{"en",
          "Hello {{guardian.given_name}}: {{staff.name}} invites {{student.given_name}} to "
          "the class play."},
         {"es",
          "Hola {{guardian.given_name}}: {{staff.name}} invita a {{student.given_name}} a "
          "la obra de la clase."}}}});
  INFO(r.body);
  REQUIRE(r.status == 202);
  CHECK(json::parse(r.body)["students"] == 2);
  const std::string id = json::parse(r.body)["id"];
  d.wait_sent(id, 2);

  const auto sms = d.twilio.requests(1);
  REQUIRE(sms.size() == 1);
  CHECK(bodies_to(sms, "+15551230001") ==
        std::vector<std::string>{"Hola Ana: Ada Adams invita a Maya a la obra de la clase."});
  const auto mails = d.smtp.messages(1);
  REQUIRE(mails.size() == 1);
  CHECK(mails[0]["rcpt_tos"] == json::array({"bob@example.net"}));
  const std::string text = d.parse_mail(mails[0]["file"])["text"];
  CHECK(text.find("Hello Bob: Ada Adams invites Sam to the class play.") != std::string::npos);

  // A note about Sam puts a message of his own on record.
  auto note = d.daemon.call("POST", "/v1/messages", d.admin,
                            {{"student_id", "s-sam"}, {"body", "Sam read his part beautifully."}});
  INFO(note.body);
  REQUIRE(note.status == 202);
  const std::string note_id = json::parse(note.body)["id"];

  // The SIS drops Sam and the Science class: Sam stays for his history but is in no audience,
  // Science is gone, and Ivy's teacher link with it.
  auto next = kSet;
  const auto drop = [](std::string& csv, const std::string& prefix) {
    const auto at = csv.find("\n" + prefix);
    REQUIRE(at != std::string::npos);
    csv.erase(at + 1, csv.find('\n', at + 1) - at);
  };
  drop(next["users.csv"], "s-sam,");
  auto& users = next["users.csv"];
  users.replace(users.find(",s-sam,,en"), 10, ",,,en");  // Bob lists no child now
  drop(next["enrollments.csv"], "e3,");
  drop(next["classes.csv"], "c-sci7,");
  drop(next["enrollments.csv"], "e6,");
  drop(next["enrollments.csv"], "e7,");
  const std::string next_out = d.import_set(next, "sis-next");
  INFO(next_out);
  CHECK(next_out.find("students:  0 created, 1 updated, 2 unchanged, 0 deleted, 1 unlinked") !=
        std::string::npos);  // Ivy lost Mr. Baker; Sam is kept, unlinked
  CHECK(next_out.find("classes:   0 created, 0 updated, 2 unchanged, 1 deleted") !=
        std::string::npos);
  CHECK(next_out.find("enrollments: 0 created, 0 updated, 4 unchanged, 3 deleted") !=
        std::string::npos);
  CHECK(d.get("/v1/students/s-sam")["guardians"].empty());
  CHECK(d.get("/v1/students/s-ivy")["staff"].empty());
  CHECK(d.get("/v1/broadcasts/" + id)["counts"]["sent"] == 2);  // what was sent stays
  CHECK(d.get("/v1/messages/" + note_id)["deliveries"].size() == 1);
  auto sam = d.daemon.call("POST", "/v1/broadcasts", d.admin,
                           {{"audience", {{"students", {"s-sam"}}}},
                            {"template", {{"en", "Hello {{guardian.given_name}}."}}}});
  CHECK(sam.status == 422);
  auto science = d.daemon.call("POST", "/v1/broadcasts", d.admin,
                               {{"audience", {{"classes", {"c-sci7"}}}},
                                {"template", {{"en", "Hello {{guardian.given_name}}."}}}});
  CHECK(science.status == 422);
  auto grade3 = d.daemon.call("POST", "/v1/broadcasts", d.admin,
                              {{"audience", {{"classes", {"c-3a"}}}},
                               {"template", {{"en", "Hello {{guardian.given_name}}."}}}});
  REQUIRE(grade3.status == 202);
  CHECK(json::parse(grade3.body)["students"] == 1);  // Maya
}

TEST_CASE("the import API is for admins and names a bad body's field", "[oneroster][integration]") {
  District d;
  d.daemon.start();
  auto put = d.daemon.call("PUT", "/v1/staff/t1", d.admin, {{"name", "T"}, {"email", "t@x.org"}});
  REQUIRE(put.status == 200);
  const std::string teacher = d.daemon.token(Role::kTeacher, "t1");
  CHECK(
      d.daemon.call("POST", "/v1/imports/oneroster", teacher, {{"files", json::object()}}).status ==
      403);
  auto no_manifest =
      d.daemon.call("POST", "/v1/imports/oneroster", d.admin, {{"files", {{"users.csv", "x"}}}});
  REQUIRE(no_manifest.status == 422);
  CHECK(json::parse(no_manifest.body)["errors"][0]["field"] == "files.manifest.csv");
  auto bad_name = d.daemon.call("POST", "/v1/imports/oneroster", d.admin,
                                {{"files", {{"../manifest.csv", "x"}}}});
  REQUIRE(bad_name.status == 422);
  CHECK(json::parse(bad_name.body)["errors"][0]["field"] == "files");
}
