// Roster import from a OneRoster 1.1 CSV export (the IMS Global CSV binding most student
// information systems and district rostering services produce), mapped to the domain types.
//
// Files (by name; anything else is ignored):
//   manifest.csv      required: propertyName,value. "oneroster.version" must be 1.1 when given;
//                     "file.<name>" is bulk, delta or absent (a missing entry means absent).
//   orgs.csv          sourcedId, name, type; optional status, dateLastModified, identifier,
//                     parentSourcedId
//   users.csv         sourcedId, enabledUser, orgSourcedIds, role, username, givenName,
//                     familyName; optional status, dateLastModified, userIds, middleName,
//                     identifier, email, sms, phone, agentSourcedIds, grades, password,
//                     metadata.language / metadata.preferredLanguage (an extension column)
//   classes.csv       sourcedId, title, courseSourcedId, classType, schoolSourcedId,
//                     termSourcedIds; optional grades, classCode, periods (kept), the others
//                     (read by no one)
//   enrollments.csv   sourcedId, classSourcedId, schoolSourcedId, userSourcedId, role; optional
//                     status, dateLastModified, primary, beginDate, endDate (YYYY-MM-DD)
//   demographics.csv  read only for a metadata.language / metadata.preferredLanguage column
//                     (keyed by the user's sourcedId); without one it is not looked at
// Columns are found by header name (case-insensitive), in any order; unknown columns are
// ignored. The listed columns must be in the header (status and dateLastModified too when the
// file is delta). Multi-valued fields (orgSourcedIds, agentSourcedIds, grades) are
// comma-separated inside one quoted field. A file the manifest marks bulk or delta must be given;
// one it marks absent must not be.
//
// Mapping:
//  - orgs of type school and district become OneRosterOrg (department, local, state, national
//    orgs are checked and may be referred to, but not returned).
//  - users by role: teacher -> Staff kTeacher, administrator -> Staff kAdmin (name "given
//    family", email); student -> Student (grade = the first of grades, may be empty); guardian,
//    parent, relative -> Guardian, and that role is the relationship of their links; aide and
//    proctor are valid and skipped. Any other role is an error. Students' contact columns are
//    not read.
//  - Guardian contacts: email; sms (normalized to E.164); phone only when sms is empty, then used
//    as the SMS number too (OneRoster cannot say whether a phone is a mobile: a landline fails
//    at the provider and routing falls back to the next contact). Order: sms, email, then the
//    phone-derived number. preferences are left empty (the family chose nothing, so the school's
//    defaults apply); language from the extension column, else "" (the school's default);
//    timezone "" (the school's). A guardian may have no contact at all.
//  - Guardian links: a student's agentSourcedIds naming guardians, and guardians'
//    agentSourcedIds naming students, merged (the student's own order first), contact_allowed
//    true (OneRoster has no restriction field).
//  - Teachers of a student: every user enrolled as teacher in a class where the student is
//    enrolled as student (enrollment dates are not looked at).
//  - Classes (title, school, grades, course, class code, periods) and enrollments (class, user,
//    role, dates) are returned as read, each with its line, for the caller to keep.
//
// Modes: in a bulk file the rows are the whole truth for that file's entities within the orgs the
// import names (`scope_orgs`; the caller removes what is not in it); a tobedeleted row in a bulk
// file is treated as not being there. In a delta
// file rows are upserts and status "tobedeleted" lists the id in `deleted`. References (to orgs,
// users, classes) are checked against the referred file when that file is bulk; in delta they may
// name what the caller already stores. Naming an id that this import deletes is an error. Links
// and teachers are computed from this import's rows only: with delta files the caller merges them
// with what it stores (classes and enrollments are returned for that).
//
// Errors carry the file, the physical line and the column ("users.csv:17: email: must be an
// email address like name@example.org", see format_csv_error) and never a field value; ids may be
// named. Pure (no I/O), thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/status.h"
#include "roster/csv.h"

namespace homeroom {

enum class OneRosterMode { kAbsent, kBulk, kDelta };
const char* oneroster_mode_name(OneRosterMode mode);  // "absent", "bulk", "delta"

struct OneRosterModes {
  OneRosterMode orgs = OneRosterMode::kAbsent;
  OneRosterMode users = OneRosterMode::kAbsent;
  OneRosterMode classes = OneRosterMode::kAbsent;
  OneRosterMode enrollments = OneRosterMode::kAbsent;
  OneRosterMode demographics = OneRosterMode::kAbsent;
};

// A school or a district.
struct OneRosterOrg {
  std::string id;
  std::string name;
  std::string type;        // "school" | "district"
  std::string identifier;  // e.g. a state or NCES id; may be empty
  std::string parent_id;   // parentSourcedId; may be empty
};

struct OneRosterClass {
  std::string id;
  std::string title;
  std::string school_id;
  std::vector<std::string> grades{};   // as listed, may be empty
  std::string course_id{};             // courseSourcedId; may be empty
  std::string class_code{};            // may be empty
  std::vector<std::string> periods{};  // as listed, may be empty
  int line = 0;                        // in classes.csv
};

struct OneRosterEnrollment {
  std::string id;
  std::string class_id;
  std::string user_id;
  std::string role;          // "student" | "teacher" | "administrator" | "proctor" | "aide"
  std::string begin_date{};  // "YYYY-MM-DD" or ""
  std::string end_date{};    // "YYYY-MM-DD" or ""
  int line = 0;              // in enrollments.csv
};

// Ids that delta files mark tobedeleted.
struct OneRosterDeletions {
  std::vector<std::string> orgs;
  std::vector<std::string> users;  // staff, students or guardians
  std::vector<std::string> classes;
  std::vector<std::string> enrollments;
};

struct OneRosterImport {
  OneRosterModes modes;
  std::vector<OneRosterOrg> orgs;   // schools and districts, in file order
  std::vector<Staff> staff;         // in file order
  std::vector<Student> students;    // in file order, with staff and guardian links
  std::vector<Guardian> guardians;  // in file order
  // Student, staff and guardian id -> their orgSourcedIds (the schools they belong to), as listed.
  std::map<std::string, std::vector<std::string>> user_orgs;
  // Every org id the import names: orgs.csv's rows (tobedeleted ones too), users' orgSourcedIds,
  // classes' and enrollments' schoolSourcedId. A bulk file's omissions are removed within these.
  std::set<std::string> scope_orgs{};
  // Delta imports only: links that guardians of this import declare (their agentSourcedIds) to
  // students that are not in it, student id -> links, for the caller to add to what it stores.
  std::map<std::string, std::vector<GuardianLink>> stored_student_links;
  std::vector<OneRosterClass> classes;           // active classes, in file order
  std::vector<OneRosterEnrollment> enrollments;  // active enrollments, in file order
  OneRosterDeletions deleted;
};

// `files` maps a file name ("users.csv") to its content. On any error returns kInvalidArgument
// ("N bad rows", field "oneroster") and, when `errors` is not null, appends every error with
// its file set: by file (manifest, orgs, users, demographics, classes, enrollments), then line.
// On success `errors` is left untouched.
Result<OneRosterImport> parse_oneroster(const std::map<std::string, std::string>& files,
                                        std::vector<CsvError>* errors);

// Reads the files parse_oneroster looks at from `dir` (those that exist). kNotFound when `dir` is
// not a directory or holds no manifest.csv, kUnavailable when a file cannot be read, kTooLarge
// for a file over 1 GiB.
Result<std::map<std::string, std::string>> read_oneroster_dir(const std::filesystem::path& dir);

}  // namespace homeroom
