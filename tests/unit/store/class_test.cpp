// Classes and enrollments from OneRoster in a real SQLite file: kept by the import (in place on a
// re-import), removed by bulk files that leave them out (within the import's orgs) and by delta
// tobedeleted rows, a student's teachers derived from them, and broadcasts to a class audience.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "roster/oneroster.h"
#include "routing/delivery_planner.h"
#include "store/store.h"
#include "support/store_wait.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::TempDir;
using homeroom::testing::wait_for;
using homeroom::testing::wait_status;
using Files = std::map<std::string, std::string>;

namespace {

std::string manifest(const std::string& mode) {
  return "propertyName,value\noneroster.version,1.1\nfile.orgs," + mode + "\nfile.users," + mode +
         "\nfile.classes," + mode + "\nfile.enrollments," + mode + "\nfile.demographics,absent\n";
}

const std::string kOrgsHeader =
    "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n";
const std::string kUsersHeader =
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,"
    "familyName,email,sms,agentSourcedIds,grades\n";
const std::string kClassesHeader =
    "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n";
const std::string kEnrollmentsHeader =
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate\n";

// District d1, one school: Maya and Leo are siblings (their mother Ana, by email) in Art; Sam (his
// father Bob, by SMS) in Art too; Leo and Ivy (Cleo, by email) in Math. t-ann is also an aide in
// Math (not kept).
Files district_one() {
  return {
      {"manifest.csv", manifest("bulk")},
      {"orgs.csv", kOrgsHeader + "d1,,,Riverside Unified,district,,\n"
                                 "sch-a,,,Adams Elementary,school,,d1\n"},
      {"users.csv", kUsersHeader +
                        "t-ann,,,true,sch-a,teacher,ann,Ann,Avery,ann@a.example.org,,,\n"
                        "t-bo,,,true,sch-a,teacher,bo,Bo,Brown,bo@a.example.org,,,\n"
                        "s-maya,,,true,sch-a,student,maya,Maya,Ortiz,,,p-ana,03\n"
                        "s-leo,,,true,sch-a,student,leo,Leo,Ortiz,,,p-ana,03\n"
                        "s-sam,,,true,sch-a,student,sam,Sam,Lee,,,p-bob,03\n"
                        "s-ivy,,,true,sch-a,student,ivy,Ivy,Chen,,,p-cleo,04\n"
                        "p-ana,,,true,sch-a,parent,ana,Ana,Ortiz,ana@example.org,,,\n"
                        "p-bob,,,true,sch-a,parent,bob,Bob,Lee,,+15551230002,,\n"
                        "p-cleo,,,true,sch-a,guardian,cleo,Cleo,Chen,cleo@example.org,,,\n"},
      {"classes.csv", kClassesHeader +
                          "c-art,,,Art 3,03,crs-art,ART3,scheduled,,sch-a,term-1,,,2\n"
                          "c-math,,,\"Math 3, 4\",\"03,04\",crs-math,M34,scheduled,,sch-a,term-1,,,"
                          "\"1,5\"\n"},
      {"enrollments.csv", kEnrollmentsHeader + "e-art-ann,,,c-art,sch-a,t-ann,teacher,true,,\n"
                                               "e-art-maya,,,c-art,sch-a,s-maya,student,,"
                                               "2025-08-20,2026-06-10\n"
                                               "e-art-leo,,,c-art,sch-a,s-leo,student,,,\n"
                                               "e-art-sam,,,c-art,sch-a,s-sam,student,,,\n"
                                               "e-math-bo,,,c-math,sch-a,t-bo,teacher,true,,\n"
                                               "e-math-leo,,,c-math,sch-a,s-leo,student,,,\n"
                                               "e-math-ivy,,,c-math,sch-a,s-ivy,student,,,\n"
                                               "e-math-ann,,,c-math,sch-a,t-ann,aide,,,\n"},
  };
}

// Another district, imported on its own.
Files district_two() {
  return {
      {"manifest.csv", manifest("bulk")},
      {"orgs.csv", kOrgsHeader + "d2,,,Hill County,district,,\nsch-z,,,Zion Middle,school,,d2\n"},
      {"users.csv", kUsersHeader + "t-zed,,,true,sch-z,teacher,zed,Zed,Zane,zed@z.example.org,,,\n"
                                   "s-zoe,,,true,sch-z,student,zoe,Zoe,Zane,,,p-zia,07\n"
                                   "p-zia,,,true,sch-z,parent,zia,Zia,Zane,zia@example.org,,,\n"},
      {"classes.csv", kClassesHeader + "c-z,,,Band,07,crs-band,B7,scheduled,,sch-z,term-1,,,\n"},
      {"enrollments.csv", kEnrollmentsHeader + "e-z-t,,,c-z,sch-z,t-zed,teacher,,,\n"
                                               "e-z-s,,,c-z,sch-z,s-zoe,student,,,\n"},
  };
}

// `text` with its first `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// `text` without its lines that start with `prefix`.
std::string without(const std::string& text, const std::string& prefix) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    end = end == std::string::npos ? text.size() : end + 1;
    if (text.compare(start, prefix.size(), prefix) != 0) out += text.substr(start, end - start);
    start = end;
  }
  return out;
}

struct Fixture {
  TempDir dir;
  FakeClock clock;  // 2026-01-01
  std::unique_ptr<store::Store> store;

  Fixture() {
    auto opened = store::Store::open(dir / "homeroom.db", clock);
    REQUIRE(opened.is_ok());
    store = std::move(*opened);
  }

  Result<store::OneRosterSummary> import(const Files& files) {
    std::vector<CsvError> errors;
    auto parsed = parse_oneroster(files, &errors);
    std::string found;
    for (const auto& e : errors) found += format_csv_error(e) + "\n";
    INFO(found);
    REQUIRE(parsed.is_ok());
    return wait_for<store::OneRosterSummary>(
        [&](auto done) { store->import_oneroster(std::move(*parsed), false, nullptr, done); });
  }
  store::OneRosterSummary imported(const Files& files) {
    auto summary = import(files);
    INFO(summary.status().to_string());
    REQUIRE(summary.is_ok());
    return *summary;
  }

  // One value of a query on the database file.
  std::string value(const std::string& sql) {
    SQLite::Database db((dir / "homeroom.db").string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, sql);
    REQUIRE(q.executeStep());
    return q.getColumn(0).isNull() ? "NULL" : q.getColumn(0).getString();
  }
  std::vector<std::string> column(const std::string& sql) {
    SQLite::Database db((dir / "homeroom.db").string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, sql);
    std::vector<std::string> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
  }

  std::vector<std::string> teachers(const std::string& student) {
    auto s = store->get_student(student);
    REQUIRE(s.is_ok());
    return s->staff;
  }

  Result<store::StoredResponse> broadcast(const std::string& id, const std::string& kind,
                                          std::vector<std::string> values) {
    store::NewBroadcast b;
    b.id = id;
    b.category = "reminder";
    b.templates = {
        {"en", "Hello {{guardian.given_name}}: conferences for {{student.given_name}}."}};
    b.audience_kind = kind;
    b.audience_values = std::move(values);
    b.audience_json = nlohmann::json{{kind, b.audience_values}}.dump();
    return wait_for<store::StoredResponse>([&](auto done) {
      store->accept_broadcast(
          b, std::nullopt,
          [](const std::string& bid, std::int64_t students) {
            return store::StoredResponse{202, bid + ":" + std::to_string(students), false};
          },
          done);
    });
  }

  // Plans every delivery of broadcast `id` and waits until it is planned.
  void fan_out(const std::string& id) {
    store->fan_out(
        id, 2000,
        [](const std::vector<StudentRoster>& audience, const NewMessage& m, Millis now) {
          static const routing::PlannerOptions kOptions;
          return routing::plan_send(audience, m, now, kOptions);
        },
        nullptr);
    for (int i = 0; i < 500; ++i) {
      auto view = store->get_broadcast(id);
      REQUIRE(view.is_ok());
      if (view->state == "planned") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("broadcast " << id << " was not planned");
  }

  // (guardian, channel, students the copy is about) of every copy that is not suppressed.
  std::set<std::string> copies(const std::string& id) {
    std::set<std::string> out;
    for (const auto& row :
         column("SELECT guardian_id || ' ' || channel || ' ' || about FROM deliveries WHERE "
                "message_id = '" +
                id + "' AND state != 'suppressed'")) {
      out.insert(row);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("a OneRoster import keeps classes and enrollments - teachers are the classes'") {
  Fixture f;
  const auto summary = f.imported(district_one());
  CHECK(summary.classes.created == 2);
  CHECK(summary.enrollments.created == 7);  // the aide's enrollment is not kept
  CHECK(summary.students.created == 4);

  CHECK(f.value("SELECT school_id || '|' || title || '|' || grades || '|' || course_id || '|' || "
                "class_code || '|' || periods FROM classes WHERE id = 'c-math'") ==
        "sch-a|Math 3, 4|[\"03\",\"04\"]|crs-math|M34|[\"1\",\"5\"]");
  CHECK(f.value("SELECT role || '|' || student_id || '|' || begin_date || '|' || end_date FROM "
                "enrollments WHERE id = 'e-art-maya'") == "student|s-maya|2025-08-20|2026-06-10");
  CHECK(f.value("SELECT staff_id FROM enrollments WHERE id = 'e-math-bo'") == "t-bo");
  CHECK(f.value("SELECT COUNT(*) FROM enrollments WHERE id = 'e-math-ann'") == "0");
  CHECK(f.teachers("s-leo") == std::vector<std::string>{"t-ann", "t-bo"});
  CHECK(f.teachers("s-ivy") == std::vector<std::string>{"t-bo"});
  CHECK(*f.store->teaches("t-ann", "s-sam"));
  CHECK_FALSE(*f.store->teaches("t-ann", "s-ivy"));
}

TEST_CASE("re-importing updates classes and enrollments in place and never duplicates") {
  Fixture f;
  f.imported(district_one());
  auto again = f.imported(district_one());
  CHECK(again.classes.unchanged == 2);
  CHECK(again.classes.created + again.classes.updated + again.classes.deleted == 0);
  CHECK(again.enrollments.unchanged == 7);
  CHECK(again.enrollments.created + again.enrollments.updated + again.enrollments.deleted == 0);
  CHECK(again.students.unchanged == 4);

  // Art is renamed and Sam's enrollment moves to Math (the same sourcedId).
  Files changed = district_one();
  changed["classes.csv"] = replaced(changed["classes.csv"], "Art 3", "Art and Design 3");
  changed["enrollments.csv"] =
      replaced(changed["enrollments.csv"], "e-art-sam,,,c-art", "e-art-sam,,,c-math");
  auto third = f.imported(changed);
  CHECK(third.classes.updated == 1);
  CHECK(third.classes.unchanged == 1);
  CHECK(third.enrollments.updated == 1);
  CHECK(third.enrollments.unchanged == 6);
  CHECK(third.students.updated == 1);  // Sam's teacher
  CHECK(third.students.unchanged == 3);
  CHECK(f.value("SELECT title FROM classes WHERE id = 'c-art'") == "Art and Design 3");
  CHECK(f.value("SELECT COUNT(*) FROM classes") == "2");
  CHECK(f.value("SELECT COUNT(*) FROM enrollments") == "7");
  CHECK(f.value("SELECT class_id FROM enrollments WHERE id = 'e-art-sam'") == "c-math");
  CHECK(f.teachers("s-sam") == std::vector<std::string>{"t-bo"});
}

TEST_CASE("a class naming a school homeroom does not know names classes.csv and its line") {
  Fixture f;
  Files files = district_one();
  files["manifest.csv"] =
      "propertyName,value\nfile.orgs,absent\nfile.users,absent\nfile.classes,delta\n"
      "file.enrollments,absent\n";
  files.erase("orgs.csv");
  files.erase("users.csv");
  files.erase("enrollments.csv");
  auto summary = f.import(files);
  REQUIRE_FALSE(summary.is_ok());
  CHECK(summary.status().field() == "classes.csv:2 schoolSourcedId");
  CHECK(f.value("SELECT COUNT(*) FROM classes") == "0");
}

TEST_CASE("a bulk set removes what it leaves out within its orgs, and keeps history readable") {
  Fixture f;
  f.imported(district_one());
  f.imported(district_two());
  // A student the school added by hand (not from OneRoster) in the same school.
  REQUIRE(wait_status([&](auto done) {
            f.store->put_student(
                {"s-hand", "Hana", "Ito", "03", {"t-ann"}, {{"p-ana", "mother", true}}, "sch-a"},
                done);
          }).is_ok());
  // Sam has a message on record, so Bob has deliveries.
  NewMessage note;
  note.id = "msg_sam";
  note.student_id = "s-sam";
  note.category = "note";
  note.body = "Sam read a whole chapter aloud today.";
  auto sent = wait_for<store::StoredResponse>([&](auto done) {
    f.store->accept_message(
        note, std::nullopt,
        [](const StudentRoster& r, const NewMessage& m,
           Millis now) -> Result<std::vector<PlannedDelivery>> {
          static const routing::PlannerOptions kOptions;
          return routing::plan_message(r, m, now, kOptions);
        },
        [](const store::AcceptedMessage& a) {
          return store::StoredResponse{202, a.message.id};
        },
        done);
  });
  REQUIRE(sent.is_ok());

  // The SIS no longer lists Sam, Bob, Ivy, Cleo, Bo, Math and their enrollments.
  Files next = district_one();
  for (const char* id : {"s-sam", "p-bob", "s-ivy", "p-cleo", "t-bo"}) {
    next["users.csv"] = without(next["users.csv"], std::string(id) + ",");
  }
  next["classes.csv"] = without(next["classes.csv"], "c-math,");
  next["enrollments.csv"] = without(without(next["enrollments.csv"], "e-math-"), "e-art-sam,");
  const auto summary = f.imported(next);

  CHECK(summary.enrollments.deleted == 4);  // e-art-sam, and Math's three of students and teacher
  CHECK(summary.classes.deleted == 1);
  CHECK(summary.students.deleted == 1);    // Ivy
  CHECK(summary.students.unlinked == 1);   // Sam: messages on record
  CHECK(summary.guardians.deleted == 1);   // Cleo
  CHECK(summary.guardians.unlinked == 1);  // Bob: deliveries on record
  CHECK(summary.staff.deleted == 1);       // Bo
  CHECK(summary.students.unchanged == 1);  // Maya
  CHECK(summary.students.updated == 1);    // Leo lost Bo

  CHECK(f.store->get_student("s-ivy").status().code() == Code::kNotFound);
  CHECK(f.store->get_guardian("p-cleo").status().code() == Code::kNotFound);
  CHECK(f.store->get_staff("t-bo").status().code() == Code::kNotFound);
  CHECK(f.value("SELECT COUNT(*) FROM classes WHERE id = 'c-math'") == "0");
  CHECK(f.teachers("s-leo") == std::vector<std::string>{"t-ann"});
  // Sam and Bob stay for their history, unlinked; what was sent is still readable.
  auto sam = f.store->get_student("s-sam");
  REQUIRE(sam.is_ok());
  CHECK(sam->guardians.empty());
  CHECK(sam->staff.empty());
  CHECK(f.value("SELECT deactivated_at FROM students WHERE id = 's-sam'") ==
        std::to_string(f.clock.now()));
  CHECK(f.store->get_guardian("p-bob").is_ok());
  auto message = f.store->get_message("msg_sam");
  REQUIRE(message.is_ok());
  REQUIRE(message->deliveries.size() == 1);
  CHECK(message->deliveries[0].guardian_id == "p-bob");
  // The other district and the hand-made student are untouched.
  CHECK(f.store->get_student("s-zoe").is_ok());
  CHECK(f.teachers("s-zoe") == std::vector<std::string>{"t-zed"});
  CHECK(f.value("SELECT COUNT(*) FROM enrollments WHERE class_id = 'c-z'") == "2");
  CHECK(f.store->get_student("s-hand").is_ok());

  // Sam is in no audience any more.
  auto all = f.broadcast("bc_all", "all", {});
  REQUIRE(all.is_ok());
  CHECK(all->body == "bc_all:4");  // Maya, Leo, Hana, Zoe
  auto named = f.broadcast("bc_sam", "students", {"s-maya", "s-sam"});
  REQUIRE_FALSE(named.is_ok());
  CHECK(named.status().field() == "audience.students[1]");

  SECTION("the same bulk set again changes nothing and counts nothing removed") {
    const auto again = f.imported(next);
    CHECK(again.students.unlinked == 0);
    CHECK(again.guardians.unlinked == 0);
    CHECK(again.enrollments.deleted == 0);
  }
  SECTION("listed again, a deactivated student is back") {
    const auto back = f.imported(district_one());
    CHECK(back.students.updated >= 1);
    CHECK(f.value("SELECT deactivated_at FROM students WHERE id = 's-sam'") == "NULL");
    CHECK(f.store->get_student("s-sam")->guardians.size() == 1);
    CHECK(f.teachers("s-sam") == std::vector<std::string>{"t-ann"});
  }
}

TEST_CASE("a delta set deletes the classes, enrollments and users it marks tobedeleted") {
  Fixture f;
  f.imported(district_one());
  Files delta = {
      {"manifest.csv",
       "propertyName,value\nfile.orgs,absent\nfile.users,delta\nfile.classes,delta\n"
       "file.enrollments,delta\n"},
      {"users.csv",
       kUsersHeader + "s-ivy,tobedeleted,2026-01-01,true,sch-a,student,ivy,Ivy,Chen,,,,04\n"},
      {"classes.csv",
       kClassesHeader +
           "c-math,tobedeleted,2026-01-01,Math,04,crs-math,M34,scheduled,,sch-a,t1,,,\n"},
      {"enrollments.csv",
       kEnrollmentsHeader + "e-art-leo,tobedeleted,2026-01-01,c-art,sch-a,s-leo,student,,,\n"},
  };
  const auto summary = f.imported(delta);
  CHECK(summary.enrollments.deleted == 1);
  CHECK(summary.classes.deleted == 1);
  CHECK(summary.students.deleted == 1);
  CHECK(summary.students.updated == 1);  // Leo: in neither class now
  CHECK(f.teachers("s-leo").empty());
  CHECK(f.value("SELECT COUNT(*) FROM enrollments WHERE class_id = 'c-math'") == "0");
  CHECK(f.store->get_student("s-ivy").status().code() == Code::kNotFound);
  CHECK(f.value("SELECT COUNT(*) FROM enrollments") == "3");  // Art: Ann, Maya, Sam
  // Delta leaves what it does not name.
  CHECK(f.teachers("s-maya") == std::vector<std::string>{"t-ann"});
}

TEST_CASE("a broadcast to a class reaches its students' families once per household") {
  Fixture f;
  f.imported(district_one());
  auto art = f.broadcast("bc_art", "classes", {"c-art"});
  INFO(art.status().to_string());
  REQUIRE(art.is_ok());
  CHECK(art->body == "bc_art:3");  // Maya, Leo, Sam
  f.fan_out("bc_art");
  // Ana once, about both her children; Bob; nobody from Math alone (Cleo).
  CHECK(f.copies("bc_art") ==
        std::set<std::string>{"p-ana email [\"s-leo\",\"s-maya\"]", "p-bob sms [\"s-sam\"]"});

  auto math = f.broadcast("bc_math", "classes", {"c-math"});
  REQUIRE(math.is_ok());
  f.fan_out("bc_math");
  CHECK(f.copies("bc_math") ==
        std::set<std::string>{"p-ana email [\"s-leo\"]", "p-cleo email [\"s-ivy\"]"});

  auto unknown = f.broadcast("bc_x", "classes", {"c-art", "c-nope"});
  REQUIRE_FALSE(unknown.is_ok());
  CHECK(unknown.status().code() == Code::kInvalidArgument);
  CHECK(unknown.status().field() == "audience.classes[1]");
  CHECK(unknown.status().message() == "unknown class c-nope");
}

TEST_CASE("a class audience leaves out enrollments that ended or have not begun") {
  Fixture f;  // today is 2026-01-01
  Files files = district_one();
  auto& enrollments = files["enrollments.csv"];
  enrollments =
      replaced(enrollments, "s-leo,student,,,\n", "s-leo,student,,2025-08-20,2025-12-31\n");
  enrollments = replaced(enrollments, "s-sam,student,,,\n", "s-sam,student,,2026-01-02,\n");
  f.imported(files);
  auto art = f.broadcast("bc_art", "classes", {"c-art"});
  REQUIRE(art.is_ok());
  CHECK(art->body == "bc_art:1");  // Maya (2025-08-20 to 2026-06-10)
}
