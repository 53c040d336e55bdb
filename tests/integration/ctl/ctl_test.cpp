// homeroomctl as an administrator runs it: the real binary, a config file, a real SQLite database.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "core/ids.h"
#include "integration/ctl/subprocess.h"
#include "store/store.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::ProcessResult;
using homeroom::testing::TempDir;

namespace {

const std::string kHeader =
    "student_id,student_given_name,student_family_name,grade,teacher_id,teacher_name,"
    "guardian_id,guardian_given_name,guardian_family_name,relationship,email,phone,language,"
    "preferred_channel,contact_allowed\n";

// Two siblings sharing their mother; their father may not be contacted about Leo.
const std::string kGoodRows =
    "s1,Maya,Ortiz,5,t1,Ms. Lee,g1,Ana,Ortiz,mother,ana@example.org,+15555550101,es,sms,\n"
    "s2,Leo,Ortiz,3,t1,Ms. Lee,g1,Ana,Ortiz,mother,ana@example.org,+15555550101,es,sms,\n"
    "s2,Leo,Ortiz,3,t1,Ms. Lee,g2,Luis,Ortiz,father,luis@example.org,,en,email,false\n";

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace

namespace homeroom::testing {
// What Catch prints for INFO(result) when a check fails.
std::ostream& operator<<(std::ostream& os, const ProcessResult& r) {
  return os << "homeroomctl exited " << r.exit_code << "\nstdout:\n"
            << r.out << "stderr:\n"
            << r.err;
}
}  // namespace homeroom::testing

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A temporary "install": config/homeroom.toml whose store.path is relative (var/homeroom.db),
// and a channel secret taken from an environment variable that is NOT set for homeroomctl.
struct Ctl {
  TempDir dir;
  FakeClock clock;

  Ctl() {
    std::filesystem::create_directories(dir / "config");
    write_file(dir / "config" / "homeroom.toml",
               "[store]\n"
               "path = \"var/homeroom.db\"\n"
               "[channels.sms]\n"
               "plugin = \"outbox\"\n"
               "channel = \"sms\"\n"
               "[channels.sms.settings]\n"
               "auth_token = \"${env:HOMEROOM_CTL_TEST_UNSET_SECRET}\"\n");
  }

  std::filesystem::path db() const { return dir / "var" / "homeroom.db"; }

  ProcessResult run(std::vector<std::string> args,
                    const std::map<std::string, std::string>& env = {}) const {
    testing::ProcessSpec spec;
    spec.env = env;
    spec.program = HOMEROOMCTL_PATH;
    spec.args = std::move(args);
    spec.cwd = dir.path();
    for (const char* name : {"PATH", "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
      if (const char* value = std::getenv(name)) spec.env[name] = value;
    }
    return testing::run_process(spec);
  }

  std::unique_ptr<store::Store> open_store() {
    auto opened = store::Store::open(db(), clock);
    REQUIRE(opened.is_ok());
    return std::move(*opened);
  }

  void put_staff(const Staff& staff) {
    auto store = open_store();
    std::promise<Status> done;
    store->put_staff(staff, [&done](Status s) { done.set_value(std::move(s)); });
    REQUIRE(done.get_future().get().is_ok());
  }

  // Every byte SQLite keeps for the database: the file and any -wal / -journal beside it.
  std::string database_bytes() const {
    std::string bytes;
    for (const auto& entry : std::filesystem::directory_iterator(db().parent_path())) {
      if (entry.path().filename().string().rfind("homeroom.db", 0) == 0) {
        bytes += testing::read_all(entry.path());
      }
    }
    return bytes;
  }
};

}  // namespace

TEST_CASE("token create prints one token once and stores only its hash", "[ctl]") {
  Ctl ctl;
  auto r = ctl.run({"token", "create", "--role", "admin"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 1);
  const std::string token = lines[0];
  CHECK(token.rfind("hr_", 0) == 0);
  CHECK(token.size() == 3 + 43);  // base64url of 32 bytes, no padding
  CHECK(r.out == token + "\n");
  CHECK(contains(r.err, "token tok_"));
  CHECK(contains(r.err, "created for role admin"));
  CHECK(contains(r.err, "shown only this once"));
  CHECK_FALSE(contains(r.err, token));

  {
    auto store = ctl.open_store();
    auto principal = store->find_token(sha256_hex(token));
    REQUIRE(principal.is_ok());
    CHECK(principal->role == Role::kAdmin);
    CHECK(principal->staff_id.empty());
    CHECK(contains(r.err, principal->token_id));
    CHECK_FALSE(store->find_token(sha256_hex(token + "x")).is_ok());
  }
  const std::string bytes = ctl.database_bytes();
  CHECK(contains(bytes, sha256_hex(token)));  // proves the search below reads the right bytes
  CHECK_FALSE(contains(bytes, token));
  CHECK_FALSE(contains(bytes, token.substr(3)));

  // A second token is a different one.
  auto again = ctl.run({"token", "create", "--role", "admin"});
  INFO(again);
  REQUIRE(again.exit_code == 0);
  CHECK(lines_of(again.out) != lines);
}

TEST_CASE("a teacher token needs an existing staff member", "[ctl]") {
  Ctl ctl;

  SECTION("without --staff it is a usage error naming --staff") {
    auto r = ctl.run({"token", "create", "--role", "teacher"});
    INFO(r);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "--staff"));
    CHECK(r.out.empty());
  }
  SECTION("an unknown staff id is refused, naming --staff and the id") {
    auto r = ctl.run({"token", "create", "--role", "teacher", "--staff", "t9"});
    INFO(r);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "--staff"));
    CHECK(contains(r.err, "t9"));
    CHECK(r.out.empty());
  }
  SECTION("a known staff id gets a teacher token") {
    ctl.put_staff({"t1", "Ms. Lee", "lee@example.org", Role::kTeacher});
    auto r = ctl.run({"token", "create", "--role", "teacher", "--staff", "t1"});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    const auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 1);
    CHECK(contains(r.err, "created for role teacher (staff t1)"));
    auto principal = ctl.open_store()->find_token(sha256_hex(lines[0]));
    REQUIRE(principal.is_ok());
    CHECK(principal->role == Role::kTeacher);
    CHECK(principal->staff_id == "t1");
  }
  SECTION("an unknown role is a usage error") {
    auto r = ctl.run({"token", "create", "--role", "principal"});
    INFO(r);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
  }
}

TEST_CASE("the database is --db, else the store.path of the config homeroomd would read", "[ctl]") {
  Ctl ctl;
  SECTION("--db overrides the config") {
    auto r =
        ctl.run({"--db", (ctl.dir / "other.db").string(), "token", "create", "--role", "admin"});
    REQUIRE(r.exit_code == 0);
    CHECK(std::filesystem::exists(ctl.dir / "other.db"));
    CHECK_FALSE(std::filesystem::exists(ctl.db()));
  }
  SECTION("-c names a config whose relative store.path is resolved against the working dir") {
    write_file(ctl.dir / "alt.toml",
               "[store]\npath = \"alt/alt.db\"\n"
               "[channels.email]\nplugin = \"outbox\"\nchannel = \"email\"\n");
    auto r = ctl.run({"-c", "alt.toml", "token", "create", "--role", "admin"});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    CHECK(std::filesystem::exists(ctl.dir / "alt" / "alt.db"));
  }
  SECTION("$HOMEROOM_CONFIG wins over config/homeroom.toml; -c wins over both") {
    write_file(ctl.dir / "env.toml",
               "[store]\npath = \"env.db\"\n"
               "[channels.email]\nplugin = \"outbox\"\nchannel = \"email\"\n");
    const std::map<std::string, std::string> env{{"HOMEROOM_CONFIG", "env.toml"}};
    REQUIRE(ctl.run({"token", "create", "--role", "admin"}, env).exit_code == 0);
    CHECK(std::filesystem::exists(ctl.dir / "env.db"));
    CHECK_FALSE(std::filesystem::exists(ctl.db()));
    REQUIRE(ctl.run({"-c", "config/homeroom.toml", "token", "create", "--role", "admin"}, env)
                .exit_code == 0);
    CHECK(std::filesystem::exists(ctl.db()));
  }
  SECTION("a missing config file is an error naming it") {
    auto r = ctl.run({"-c", "nope.toml", "token", "create", "--role", "admin"});
    INFO(r);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "nope.toml"));
    CHECK(r.out.empty());
  }
}

TEST_CASE("import roster writes a good file and reads back through the store", "[ctl]") {
  Ctl ctl;
  write_file(ctl.dir / "roster.csv", kHeader + kGoodRows);
  auto r = ctl.run({"import", "roster", "roster.csv"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "imported 2 students, 2 guardians, 1 staff from roster.csv\n");
  // Family contact data never reaches the terminal.
  for (const auto& output : {r.out, r.err}) {
    CHECK_FALSE(contains(output, "example.org"));
    CHECK_FALSE(contains(output, "5550101"));
  }

  auto store = ctl.open_store();
  auto lee = store->get_staff("t1");
  REQUIRE(lee.is_ok());
  CHECK(lee->name == "Ms. Lee");
  CHECK(lee->role == Role::kTeacher);

  auto maya = store->get_student("s1");
  REQUIRE(maya.is_ok());
  CHECK(maya->given_name == "Maya");
  CHECK(maya->grade == "5");
  CHECK(maya->staff == std::vector<std::string>{"t1"});
  REQUIRE(maya->guardians.size() == 1);
  CHECK(maya->guardians[0].guardian_id == "g1");

  auto leo = store->get_student("s2");
  REQUIRE(leo.is_ok());
  REQUIRE(leo->guardians.size() == 2);
  CHECK(leo->guardians[0].guardian_id == "g1");  // the mother Maya and Leo share
  CHECK(leo->guardians[0].contact_allowed);
  CHECK(leo->guardians[1].guardian_id == "g2");
  CHECK(leo->guardians[1].relationship == "father");
  CHECK_FALSE(leo->guardians[1].contact_allowed);

  auto ana = store->get_guardian("g1");
  REQUIRE(ana.is_ok());
  CHECK(ana->language == "es");
  CHECK(ana->preferences.channels == std::vector<std::string>{"sms", "email"});
  REQUIRE(ana->contacts.size() == 2);
  CHECK(ana->contacts[0].channel == "sms");
  CHECK(ana->contacts[0].address == "+15555550101");
}

TEST_CASE("a file with bad rows imports nothing and names every bad line", "[ctl]") {
  Ctl ctl;
  write_file(ctl.dir / "bad.csv",
             kHeader +
                 "s1,Maya,Ortiz,5,t1,Ms. Lee,g1,Ana,Ortiz,mother,ana@example.org,,es,sms,\n"  // 2
                 "s2,Leo,Ortiz,3,t1,Ms. Lee,g2,Luis,Ortiz,father,luis@example.org,,en,email,\n"
                 "s3,Sam,Chen,5,t1,Ms. Lee,g3,Wei,Chen,mother,not-an-email,,zh,email,\n");  // 4
  auto r = ctl.run({"import", "roster", "bad.csv"});
  INFO(r);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  const auto lines = lines_of(r.err);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("bad.csv:2: preferred_channel: ", 0) == 0);
  CHECK(lines[1].rfind("bad.csv:4: email: ", 0) == 0);
  CHECK(lines[2] == "nothing was imported: 2 errors");
  CHECK_FALSE(contains(r.err, "not-an-email"));  // values are not echoed

  // The good row in the middle of the same file was not imported either.
  auto store = ctl.open_store();
  CHECK(store->get_student("s2").status().code() == Code::kNotFound);
  CHECK(store->get_guardian("g2").status().code() == Code::kNotFound);
  CHECK(store->get_staff("t1").status().code() == Code::kNotFound);
}

TEST_CASE("an unknown teacher id imports nothing and names its line", "[ctl]") {
  Ctl ctl;
  ctl.put_staff({"t2", "Mr. Park", "", Role::kTeacher});  // the database exists
  // t9 has no teacher_name: it must already exist, and it does not.
  write_file(ctl.dir / "roster.csv",
             kHeader + kGoodRows +
                 "s3,Sam,Chen,5,t9,,g3,Wei,Chen,mother,wei@example.org,,zh,email,\n");  // line 5
  for (const bool dry_run : {false, true}) {
    std::vector<std::string> args{"import", "roster", "roster.csv"};
    if (dry_run) args.emplace_back("--dry-run");
    auto r = ctl.run(args);
    INFO(r);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    const auto lines = lines_of(r.err);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].rfind("roster.csv:5: teacher_id: unknown staff id t9", 0) == 0);
    CHECK(lines[1] == "nothing was imported: 1 error");
  }
  auto store = ctl.open_store();
  CHECK(store->get_student("s1").status().code() == Code::kNotFound);
  CHECK(store->get_student("s3").status().code() == Code::kNotFound);
  CHECK(store->get_guardian("g1").status().code() == Code::kNotFound);
  CHECK(store->get_staff("t1").status().code() == Code::kNotFound);
}

TEST_CASE("importing the same file again updates in place", "[ctl]") {
  Ctl ctl;
  write_file(ctl.dir / "roster.csv", kHeader + kGoodRows);
  REQUIRE(ctl.run({"import", "roster", "roster.csv"}).exit_code == 0);

  std::string renamed = kGoodRows;
  for (auto at = renamed.find("Leo"); at != std::string::npos; at = renamed.find("Leo", at)) {
    renamed.replace(at, 3, "Leon");
    at += 4;
  }
  write_file(ctl.dir / "roster.csv", kHeader + renamed);
  auto r = ctl.run({"import", "roster", "roster.csv"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "imported 2 students, 2 guardians, 0 staff from roster.csv\n");

  auto store = ctl.open_store();
  auto leo = store->get_student("s2");
  REQUIRE(leo.is_ok());
  CHECK(leo->given_name == "Leon");
  CHECK(leo->staff == std::vector<std::string>{"t1"});
  CHECK(leo->guardians.size() == 2);
  auto ana = store->get_guardian("g1");
  REQUIRE(ana.is_ok());
  CHECK(ana->contacts.size() == 2);
  auto maya = store->get_student("s1");
  REQUIRE(maya.is_ok());
  CHECK(maya->guardians.size() == 1);
}

TEST_CASE("import with --dry-run checks the file and writes nothing", "[ctl]") {
  Ctl ctl;
  write_file(ctl.dir / "roster.csv", kHeader + kGoodRows);

  SECTION("no database yet: none is created") {
    auto r = ctl.run({"import", "roster", "roster.csv", "--dry-run"});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.out, "2 students, 2 guardians, 1 staff"));
    CHECK(contains(r.out, "nothing was written"));
    CHECK_FALSE(std::filesystem::exists(ctl.db()));
  }
  SECTION("an existing database is left as it was") {
    ctl.put_staff({"t2", "Mr. Park", "", Role::kTeacher});
    auto r = ctl.run({"import", "roster", "roster.csv", "--dry-run"});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    auto store = ctl.open_store();
    CHECK(store->get_student("s1").status().code() == Code::kNotFound);
    CHECK(store->get_guardian("g1").status().code() == Code::kNotFound);
    CHECK(store->get_staff("t1").status().code() == Code::kNotFound);
  }
  SECTION("bad rows fail the dry run too") {
    write_file(ctl.dir / "roster.csv",
               kHeader + "s1,Maya,Ortiz,5,t1,Ms. Lee,g1,Ana,Ortiz,mother,,,es,sms,\n");
    auto r = ctl.run({"import", "roster", "roster.csv", "--dry-run"});
    INFO(r);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "roster.csv:2: "));
    CHECK(contains(r.err, "nothing was imported: "));
  }
}

TEST_CASE("an unreadable file is named", "[ctl]") {
  Ctl ctl;
  auto r = ctl.run({"import", "roster", "missing.csv"});
  INFO(r);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "missing.csv"));
}

TEST_CASE("the README's example roster imports", "[ctl]") {
  Ctl ctl;
  const std::string example = HOMEROOM_SOURCE_DIR "/tests/fixtures/roster/example.csv";
  auto r = ctl.run({"import", "roster", example, "-v"});  // global options may come last
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "imported 3 students, 5 guardians, 1 staff from " + example + "\n");
  CHECK(contains(r.err, "homeroomctl: info: database "));
  CHECK_FALSE(contains(r.err, "example.org"));
  auto store = ctl.open_store();
  auto ana = store->get_guardian("g1");
  REQUIRE(ana.is_ok());
  CHECK(ana->language == "es");
  CHECK(ana->preferences.channels.front() == "sms");
  auto sam = store->get_student("s3");
  REQUIRE(sam.is_ok());
  int restricted = 0;
  for (const auto& link : sam->guardians) restricted += link.contact_allowed ? 0 : 1;
  CHECK(restricted == 1);
  CHECK(store->get_student("s2")->guardians.size() == 2);
}
