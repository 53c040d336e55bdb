#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "roster/oneroster.h"
#include "support/temp_dir.h"

using namespace homeroom;

namespace {

const std::string kManifest =
    "propertyName,value\n"
    "manifest.version,1.0\n"
    "oneroster.version,1.1\n"
    "file.academicSessions,absent\n"
    "file.categories,absent\n"
    "file.classes,bulk\n"
    "file.classResources,absent\n"
    "file.courses,absent\n"
    "file.courseResources,absent\n"
    "file.demographics,absent\n"
    "file.enrollments,bulk\n"
    "file.lineItems,absent\n"
    "file.orgs,bulk\n"
    "file.resources,absent\n"
    "file.results,absent\n"
    "file.users,bulk\n"
    "source.systemName,Example SIS\n";

const std::string kOrgs =
    "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
    "d1,,,Riverside Unified,district,0601234,\n"
    "sch-elm,,,Elm Street Elementary,school,0601234-01,d1\n"
    "sch-oak,,,Oak Middle School,school,0601234-02,d1\n";

// Two schools; Maya (grade 4, Elm) and Leo (grade 7, Oak) are siblings who share their mother
// Ana; their father Luis lives apart (his own email and phone, linked from Maya's row only);
// Kim's guardian names Kim from the guardian's side. The columns are not in the spec's order,
// and an extension column the import does not know is ignored.
const std::string kUsers =
    "sourcedId,role,givenName,familyName,status,dateLastModified,enabledUser,orgSourcedIds,"
    "username,userIds,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
    "metadata.language,metadata.favoriteColor\n"
    "t-lee,teacher,Jamie,Lee,,,true,sch-elm,jlee,,,,jlee@Riverside.K12.ca.us,,,,,,,blue\n"
    "t-ng,teacher,Thanh,Ng,,,true,sch-oak,tng,,,,tng@riverside.k12.ca.us,,,,,,,\n"
    "a-diaz,administrator,Marta,Diaz,,,true,\"sch-elm,sch-oak\",mdiaz,,,,"
    "mdiaz@riverside.k12.ca.us,,,,,,,\n"
    "s-maya,student,Maya,Ortiz,,,true,sch-elm,maya.o,,,,,,,\"p-ana,p-luis\",04,,,\n"
    "s-leo,student,Leo,Ortiz,,,true,sch-oak,leo.o,,,,,,,p-ana,07,,,\n"
    "s-kim,student,Kim,Park,,,true,sch-oak,kim.p,,,,,,,,\"07,08\",,,\n"
    "p-ana,parent,Ana,Ortiz,,,true,sch-elm,ana,,,,ana@example.org,(555) 123-4567,"
    "555-000-1111,,,,es,\n"
    "p-luis,parent,Luis,Ortiz,,,true,,luis,,,,luis@example.net,,555-987-6543,,,,,\n"
    "g-park,guardian,Min,Park,,,true,,gpark,,,,,,+1 555 222 3333,s-kim,,,KO,\n";

const std::string kClasses =
    "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n"
    "c-4a,,,Grade 4 Homeroom,04,crs-4,4A,homeroom,Room 12,sch-elm,term-1,,,\n"
    "c-sci7,,,Science 7,07,crs-sci7,SCI7,scheduled,Lab 2,sch-oak,term-1,,,3\n"
    "c-math7,,,Math 7,07,crs-m7,M7,scheduled,,sch-oak,term-1,,,1\n";

const std::string kEnrollments =
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate\n"
    "e1,,,c-4a,sch-elm,t-lee,teacher,true,,\n"
    "e2,,,c-4a,sch-elm,s-maya,student,false,,\n"
    "e3,,,c-sci7,sch-oak,t-ng,teacher,true,,\n"
    "e4,,,c-sci7,sch-oak,s-leo,student,,,\n"
    "e5,,,c-sci7,sch-oak,s-kim,student,,,\n"
    "e6,,,c-math7,sch-oak,a-diaz,teacher,,,\n"
    "e7,,,c-math7,sch-oak,s-leo,student,,,\n";

std::map<std::string, std::string> district() {
  return {{"manifest.csv", kManifest},
          {"orgs.csv", kOrgs},
          {"users.csv", kUsers},
          {"classes.csv", kClasses},
          {"enrollments.csv", kEnrollments}};
}

// The manifest with `file.<name>` set to `mode`.
std::string manifest_with(const std::string& name, const std::string& mode) {
  std::string out = kManifest;
  const std::string key = "file." + name + ",";
  const auto at = out.find(key);
  REQUIRE(at != std::string::npos);
  const auto end = out.find('\n', at);
  out.replace(at, end - at, key + mode);
  return out;
}

// An export with only `files` (name without ".csv" -> {mode, content}); the others absent.
std::map<std::string, std::string> export_of(
    const std::map<std::string, std::pair<std::string, std::string>>& files) {
  std::string manifest = "propertyName,value\noneroster.version,1.1\n";
  std::map<std::string, std::string> out;
  for (const char* name : {"orgs", "users", "classes", "enrollments", "demographics"}) {
    auto it = files.find(name);
    manifest += std::string("file.") + name + "," +
                (it == files.end() ? "absent" : it->second.first) + "\n";
    if (it != files.end()) out[std::string(name) + ".csv"] = it->second.second;
  }
  out["manifest.csv"] = manifest;
  return out;
}

std::vector<std::string> formatted_errors(const std::map<std::string, std::string>& files) {
  std::vector<CsvError> errors;
  auto result = parse_oneroster(files, &errors);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == Code::kInvalidArgument);
  CHECK(result.status().field() == "oneroster");
  REQUIRE_FALSE(errors.empty());
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(format_csv_error(e));
  return out;
}

OneRosterImport parsed(const std::map<std::string, std::string>& files) {
  std::vector<CsvError> errors;
  auto result = parse_oneroster(files, &errors);
  for (const auto& e : errors) UNSCOPED_INFO(format_csv_error(e));
  REQUIRE(result.is_ok());
  CHECK(errors.empty());
  return *result;
}

template <typename T>
const T& by_id(const std::vector<T>& list, const std::string& id) {
  auto it = std::find_if(list.begin(), list.end(), [&](const T& x) { return x.id == id; });
  REQUIRE(it != list.end());
  return *it;
}

std::vector<std::string> link_ids(const Student& s) {
  std::vector<std::string> ids;
  for (const auto& link : s.guardians) ids.push_back(link.guardian_id);
  return ids;
}

}  // namespace

TEST_CASE("a district export maps to staff, students, guardians and schools") {
  const OneRosterImport r = parsed(district());
  CHECK(r.modes.users == OneRosterMode::kBulk);
  CHECK(r.modes.orgs == OneRosterMode::kBulk);
  CHECK(r.modes.demographics == OneRosterMode::kAbsent);

  REQUIRE(r.orgs.size() == 3);
  CHECK(r.orgs[0].type == "district");
  CHECK(r.orgs[1].id == "sch-elm");
  CHECK(r.orgs[1].name == "Elm Street Elementary");
  CHECK(r.orgs[1].parent_id == "d1");
  CHECK(r.orgs[2].identifier == "0601234-02");

  REQUIRE(r.staff.size() == 3);
  CHECK(r.staff[0].id == "t-lee");
  CHECK(r.staff[0].name == "Jamie Lee");
  CHECK(r.staff[0].email == "jlee@riverside.k12.ca.us");  // the domain lowercased
  CHECK(r.staff[0].role == Role::kTeacher);
  CHECK(by_id(r.staff, "a-diaz").role == Role::kAdmin);
  CHECK(r.user_orgs.at("a-diaz") == std::vector<std::string>{"sch-elm", "sch-oak"});
  CHECK(r.user_orgs.at("s-maya") == std::vector<std::string>{"sch-elm"});

  REQUIRE(r.students.size() == 3);
  const Student& maya = by_id(r.students, "s-maya");
  CHECK(maya.given_name == "Maya");
  CHECK(maya.grade == "04");
  CHECK(maya.staff == std::vector<std::string>{"t-lee"});
  CHECK(link_ids(maya) == std::vector<std::string>{"p-ana", "p-luis"});
  CHECK(maya.guardians[0].relationship == "parent");
  CHECK(maya.guardians[1].contact_allowed);
  const Student& leo = by_id(r.students, "s-leo");
  CHECK(leo.staff == std::vector<std::string>{"t-ng", "a-diaz"});
  CHECK(link_ids(leo) == std::vector<std::string>{"p-ana"});  // the shared mother
  const Student& kim = by_id(r.students, "s-kim");
  CHECK(kim.grade == "07");  // the first of several grades
  CHECK(kim.staff == std::vector<std::string>{"t-ng"});
  REQUIRE(link_ids(kim) == std::vector<std::string>{"g-park"});  // from the guardian's side
  CHECK(kim.guardians[0].relationship == "guardian");

  REQUIRE(r.guardians.size() == 3);
  const Guardian& ana = by_id(r.guardians, "p-ana");
  CHECK(ana.language == "es");
  CHECK(ana.timezone.empty());
  CHECK(ana.preferences.channels.empty());
  REQUIRE(ana.contacts.size() == 2);  // sms given: the phone column is not used
  CHECK(ana.contacts[0].channel == "sms");
  CHECK(ana.contacts[0].address == "+15551234567");
  CHECK(ana.contacts[1].channel == "email");
  CHECK(ana.contacts[1].address == "ana@example.org");
  const Guardian& luis = by_id(r.guardians, "p-luis");
  CHECK(luis.language.empty());  // the school's default
  REQUIRE(luis.contacts.size() == 2);
  CHECK(luis.contacts[0].channel == "email");
  CHECK(luis.contacts[1].channel == "sms");  // no sms: the phone, last
  CHECK(luis.contacts[1].address == "+15559876543");
  const Guardian& park = by_id(r.guardians, "g-park");
  CHECK(park.language == "ko");
  REQUIRE(park.contacts.size() == 1);
  CHECK(park.contacts[0].address == "+15552223333");

  CHECK(r.classes.size() == 3);
  CHECK(r.enrollments.size() == 7);
  CHECK(r.deleted.users.empty());
  CHECK(r.stored_student_links.empty());
}

TEST_CASE("classes and enrollments are returned with their lines, and the orgs named") {
  std::map<std::string, std::string> files = district();
  files["enrollments.csv"] += "e8,,,c-4a,sch-elm,s-maya,student,,2025-08-20,2026-06-12\n";
  const OneRosterImport r = parsed(files);
  const OneRosterClass& sci = by_id(r.classes, "c-sci7");
  CHECK(sci.title == "Science 7");
  CHECK(sci.school_id == "sch-oak");
  CHECK(sci.grades == std::vector<std::string>{"07"});
  CHECK(sci.course_id == "crs-sci7");
  CHECK(sci.class_code == "SCI7");
  CHECK(sci.periods == std::vector<std::string>{"3"});
  CHECK(sci.line == 3);
  CHECK(by_id(r.classes, "c-4a").periods.empty());
  const OneRosterEnrollment& e8 = by_id(r.enrollments, "e8");
  CHECK(e8.class_id == "c-4a");
  CHECK(e8.user_id == "s-maya");
  CHECK(e8.role == "student");
  CHECK(e8.begin_date == "2025-08-20");
  CHECK(e8.end_date == "2026-06-12");
  CHECK(e8.line == 9);
  CHECK(by_id(r.enrollments, "e1").begin_date.empty());
  CHECK(r.scope_orgs == std::set<std::string>{"d1", "sch-elm", "sch-oak"});
  CHECK(r.user_orgs.at("p-ana") == std::vector<std::string>{"sch-elm"});
  CHECK(r.user_orgs.count("p-luis") == 0);  // no orgs listed
}

TEST_CASE("enrollment dates must be days that exist, the end not before the beginning") {
  std::map<std::string, std::string> files = district();
  files["enrollments.csv"] +=
      "e8,,,c-4a,sch-elm,s-maya,student,,2025-02-29,\n"
      "e9,,,c-4a,sch-elm,s-maya,student,,,26-06-12\n"
      "e10,,,c-4a,sch-elm,s-maya,student,,2026-01-10,2025-12-20\n"
      "e11,,,c-4a,sch-elm,s-maya,student,,2024-02-29,2024-12-31\n";
  CHECK(formatted_errors(files) ==
        std::vector<std::string>{
            "enrollments.csv:9: beginDate: must be a date like 2026-08-24",
            "enrollments.csv:10: endDate: must be a date like 2026-08-24",
            "enrollments.csv:11: endDate: is before beginDate",
        });
}

TEST_CASE("the orgs a delta import names come from every file") {
  const auto files = export_of(
      {{"users",
        {"delta",
         "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,"
         "familyName\nt1,active,2026-01-01,true,\"sch-1,sch-2\",teacher,t1,Tess,Ng\n"}},
       {"classes",
        {"delta",
         "sourcedId,status,dateLastModified,title,courseSourcedId,classType,schoolSourcedId,"
         "termSourcedIds\nc1,tobedeleted,2026-01-01,Band,crs,scheduled,sch-3,t\n"}}});
  const OneRosterImport r = parsed(files);
  CHECK(r.scope_orgs == std::set<std::string>{"sch-1", "sch-2"});  // a deleted row names none
  CHECK(r.deleted.classes == std::vector<std::string>{"c1"});
}

TEST_CASE("header names are matched without regard to case") {
  auto files = district();
  auto& users = files["users.csv"];
  users.replace(0, std::string("sourcedId,role").size(), "SOURCEDID,Role");
  CHECK(parsed(files).students.size() == 3);
}

TEST_CASE("a delta import lists tobedeleted ids and upserts the rest") {
  const std::string users =
      "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,"
      "familyName,email,agentSourcedIds\n"
      "s-maya,active,2024-09-01T10:00:00Z,true,sch-elm,student,maya.o,Maya,Ortiz-Reyes,,p-ana\n"
      "p-old,tobedeleted,2024-09-01T10:00:00Z,,,,,,,,\n"
      "p-new,active,2024-09-01T10:00:00Z,true,sch-elm,guardian,pn,Rosa,Reyes,rosa@example.org,"
      "\"s-maya,s-stored\"\n";
  const std::string enrollments =
      "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\n"
      "e2,tobedeleted,2024-09-01T10:00:00Z,c-4a,sch-elm,s-maya,student\n"
      "e9,active,2024-09-01T10:00:00Z,c-4b,sch-elm,s-maya,student\n";
  const OneRosterImport r =
      parsed(export_of({{"users", {"delta", users}}, {"enrollments", {"delta", enrollments}}}));
  CHECK(r.modes.users == OneRosterMode::kDelta);
  CHECK(r.modes.classes == OneRosterMode::kAbsent);
  CHECK(r.deleted.users == std::vector<std::string>{"p-old"});
  CHECK(r.deleted.enrollments == std::vector<std::string>{"e2"});
  REQUIRE(r.students.size() == 1);
  // p-ana is not in this delta: a guardian the caller already stores, relationship unknown.
  CHECK(link_ids(r.students[0]) == std::vector<std::string>{"p-ana", "p-new"});
  CHECK(r.students[0].guardians[0].relationship.empty());
  CHECK(r.students[0].guardians[1].relationship == "guardian");
  CHECK(r.students[0].staff.empty());  // class c-4b's teachers are not in this import
  REQUIRE(r.guardians.size() == 1);
  REQUIRE(r.stored_student_links.count("s-stored") == 1);
  CHECK(r.stored_student_links.at("s-stored").at(0).guardian_id == "p-new");
  REQUIRE(r.enrollments.size() == 1);
  CHECK(r.enrollments[0].class_id == "c-4b");
}

TEST_CASE("a delta file needs the status column and may not name what it deletes") {
  const std::string no_status =
      "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName\n"
      "p-1,true,sch-elm,parent,u1,Ana,Ortiz\n";
  CHECK(formatted_errors(export_of({{"users", {"delta", no_status}}})) ==
        std::vector<std::string>{"users.csv:1: status: required column is missing",
                                 "users.csv:1: dateLastModified: required column is missing"});
  const std::string names_deleted =
      "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,"
      "familyName,agentSourcedIds\n"
      "p-old,tobedeleted,,,,,,,,\n"
      "s-1,active,,true,sch-elm,student,s1,Maya,Ortiz,p-old\n";
  CHECK(formatted_errors(export_of({{"users", {"delta", names_deleted}}})) ==
        std::vector<std::string>{
            "users.csv:3: agentSourcedIds: user p-old is tobedeleted in users.csv"});
}

TEST_CASE("a tobedeleted row in a bulk file is not there") {
  const std::string users =
      "sourcedId,status,enabledUser,orgSourcedIds,role,username,givenName,familyName\n"
      "p-1,active,true,sch-elm,parent,u1,Ana,Ortiz\n"
      "p-9,tobedeleted,true,sch-elm,parent,u9,Old,Entry\n";
  const OneRosterImport r = parsed(export_of({{"users", {"bulk", users}}}));
  REQUIRE(r.guardians.size() == 1);
  CHECK(r.guardians[0].id == "p-1");
  CHECK(r.deleted.users.empty());
}

TEST_CASE("a missing required column is named") {
  const std::string users =
      "sourcedId,enabledUser,orgSourcedIds,username,givenName,familyName,email\n"
      "p-1,true,sch-elm,u1,Ana,Ortiz,ana@example.org\n";
  CHECK(formatted_errors(export_of({{"users", {"bulk", users}}})) ==
        std::vector<std::string>{"users.csv:1: role: required column is missing"});
  const std::string classes = "sourcedId,title,classType,schoolSourcedId,termSourcedIds\n";
  CHECK(formatted_errors(export_of({{"classes", {"bulk", classes}}})) ==
        std::vector<std::string>{"classes.csv:1: courseSourcedId: required column is missing"});
}

TEST_CASE("errors give the physical line and the column but never the value") {
  const std::string users =
      "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName,email,phone,notes\n"
      "p-1,true,sch-elm,parent,u1,Ana,Ortiz,ana@example.org,,\"moved in\n"
      "August\"\n"
      "\n"
      "p-2,true,sch-elm,parent,u2,Luis,Ortiz,luis-at-example.net,,\n"
      "p-3,true,sch-elm,parent,u3,Rosa,Reyes,rosa@example.org,12,\n"
      "p-4,true,sch-elm,parent,u4,,Reyes,,,\n";
  const auto errors = formatted_errors(export_of({{"users", {"bulk", users}}}));
  CHECK(errors ==
        std::vector<std::string>{
            "users.csv:5: email: must be an email address like name@example.org",
            "users.csv:6: phone: must be a phone number like +15551234567 or (555) 123-4567",
            "users.csv:7: givenName: must not be empty"});
  for (const auto& e : errors) {
    CHECK(e.find("luis-at") == std::string::npos);
    CHECK(e.find("Rosa") == std::string::npos);
  }
  std::vector<CsvError> raw;
  CHECK(parse_oneroster(export_of({{"users", {"bulk", users}}}), &raw).status().message() ==
        "3 bad rows");
  CHECK(raw.at(0).file == "users.csv");
}

TEST_CASE("an unknown role is an error - aide and proctor are skipped") {
  const std::string users =
      "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName\n"
      "u-1,true,sch-elm,aide,u1,Ana,Ortiz\n"
      "u-2,true,sch-elm,coach,u2,Luis,Ortiz\n"
      "u-3,true,sch-elm,Proctor,u3,Rosa,Reyes\n";
  CHECK(formatted_errors(export_of({{"users", {"bulk", users}}})) ==
        std::vector<std::string>{"users.csv:3: role: must be student, teacher, administrator, "
                                 "guardian, parent, relative, aide or proctor"});
  const std::string without_coach =
      "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName\n"
      "u-1,true,sch-elm,aide,u1,Ana,Ortiz\n";
  const OneRosterImport r = parsed(export_of({{"users", {"bulk", without_coach}}}));
  CHECK(r.staff.empty());
  CHECK(r.guardians.empty());
}

TEST_CASE("references to missing classes and users are errors in bulk files") {
  auto files = district();
  auto& users = files["users.csv"];
  users.replace(users.find("\"p-ana,p-luis\""), 14, "\"p-ana,p-ghost\"");
  files["enrollments.csv"] +=
      "e8,,,c-art,sch-elm,s-maya,student,,,\n"
      "e9,,,c-4a,sch-elm,s-ghost,student,,,\n"
      "e10,,,c-4a,sch-nowhere,s-maya,student,,,\n";
  CHECK(formatted_errors(files) ==
        std::vector<std::string>{
            "users.csv:5: agentSourcedIds: user p-ghost is not in users.csv",
            "enrollments.csv:9: classSourcedId: class c-art is not in classes.csv",
            "enrollments.csv:10: userSourcedId: user s-ghost is not in users.csv",
            "enrollments.csv:11: schoolSourcedId: org sch-nowhere is not in orgs.csv"});
}

TEST_CASE("links and enrollments must name users of the right role") {
  auto files = district();
  auto& users = files["users.csv"];
  users.replace(users.find("p-ana,07"), 8, "\"p-ana,t-ng\",07");
  users.replace(users.find(",s-kim,"), 7, ",t-lee,");
  files["enrollments.csv"] +=
      "e8,,,c-4a,sch-elm,s-maya,teacher,,,\n"
      "e9,,,c-4a,sch-elm,a-diaz,student,,,\n";
  CHECK(formatted_errors(files) ==
        std::vector<std::string>{
            "users.csv:6: agentSourcedIds: user t-ng is a teacher, not a guardian, parent or "
            "relative",
            "users.csv:10: agentSourcedIds: user t-lee is a teacher, not a student",
            "enrollments.csv:9: role: teacher, but user s-maya is a student in users.csv",
            "enrollments.csv:10: role: student, but user a-diaz is an administrator in users.csv"});
}

TEST_CASE("the same sourcedId twice in a file is an error") {
  const std::string users =
      "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName\n"
      "p-1,true,sch-elm,parent,u1,Ana,Ortiz\n"
      "p-1,true,sch-elm,parent,u1,Ana,Ortiz\n";
  CHECK(formatted_errors(export_of({{"users", {"bulk", users}}})) ==
        std::vector<std::string>{"users.csv:3: sourcedId: the same id is on line 2"});
}

TEST_CASE("the manifest says which files there are") {
  auto files = district();
  files.erase("manifest.csv");
  CHECK(formatted_errors(files) ==
        std::vector<std::string>{
            "manifest.csv:1: required file is missing (it says which files are bulk or delta)"});

  files = district();
  files.erase("classes.csv");
  CHECK(formatted_errors(files) ==
        std::vector<std::string>{
            "manifest.csv:6: file.classes: bulk, but classes.csv was not given"});

  files = district();
  files["demographics.csv"] = "sourcedId,metadata.language\np-ana,es\n";
  CHECK(formatted_errors(files) ==
        std::vector<std::string>{
            "manifest.csv:10: file.demographics: absent, but demographics.csv was given"});

  files = district();
  files["manifest.csv"] = manifest_with("users", "full");
  CHECK(formatted_errors(files) ==
        std::vector<std::string>{"manifest.csv:16: file.users: must be bulk, delta or absent"});

  files = district();
  auto& manifest = files["manifest.csv"];
  manifest.replace(manifest.find("1.1"), 3, "1.2");
  CHECK(formatted_errors(files) ==
        std::vector<std::string>{
            "manifest.csv:3: oneroster.version: only OneRoster 1.1 is supported"});

  // Nothing but a manifest: an empty, valid import.
  const OneRosterImport empty = parsed(export_of({}));
  CHECK(empty.students.empty());
}

TEST_CASE("a guardian's language may come from demographics") {
  const std::string users =
      "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName,agentSourcedIds\n"
      "s-1,true,sch-elm,student,s1,Maya,Ortiz,p-1\n"
      "p-1,true,sch-elm,parent,u1,Ana,Ortiz,\n";
  const std::string demographics =
      "sourcedId,status,dateLastModified,birthDate,sex,metadata.language\n"
      "s-1,,,2015-01-01,female,not a language\n"  // only guardians' languages are read
      "p-1,,,,,pt_br\n";
  const OneRosterImport r =
      parsed(export_of({{"users", {"bulk", users}}, {"demographics", {"bulk", demographics}}}));
  REQUIRE(r.guardians.size() == 1);
  CHECK(r.guardians[0].language == "pt-BR");

  const std::string bad = "sourcedId,metadata.language\np-1,not a language\n";
  CHECK(formatted_errors(export_of({{"users", {"bulk", users}}, {"demographics", {"bulk", bad}}}))
            .at(0)
            .find("demographics.csv:2: metadata.language: ") == 0);

  // Without a language column the file is not read at all.
  const std::string other = "sourcedId,birthDate\n\"unclosed\n";
  CHECK(parsed(export_of({{"users", {"bulk", users}}, {"demographics", {"bulk", other}}}))
            .guardians[0]
            .language.empty());
}

TEST_CASE("read_oneroster_dir reads the known files of a directory") {
  homeroom::testing::TempDir dir;
  for (const auto& [name, text] : district()) std::ofstream(dir / name) << text;
  std::ofstream(dir / "courses.csv") << "sourcedId\n";
  auto files = read_oneroster_dir(dir.path());
  REQUIRE(files.is_ok());
  CHECK(files->size() == 5);
  CHECK(files->at("users.csv") == kUsers);
  CHECK(parse_oneroster(*files, nullptr).is_ok());

  homeroom::testing::TempDir empty;
  CHECK(read_oneroster_dir(empty.path()).status().code() == Code::kNotFound);
  CHECK(read_oneroster_dir(empty / "nope").status().code() == Code::kNotFound);
}
