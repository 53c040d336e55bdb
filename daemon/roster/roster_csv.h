// Roster import from a CSV export of a student information system.
//
// Format: RFC 4180 CSV (quoted fields, "" inside quotes, commas and line breaks inside quotes, CRLF
// or LF, a UTF-8 byte order mark is skipped). Fields are trimmed of surrounding spaces and tabs;
// rows whose fields are all empty are skipped. The first row names the columns, in any order
// (names are case-insensitive):
//   required: student_id, student_given_name, student_family_name, grade, teacher_id,
//             guardian_id, guardian_given_name, guardian_family_name, relationship, email, phone,
//             language, preferred_channel
//   optional: teacher_name, teacher_email, contact_allowed, timezone
//
// One row per (student, guardian, teacher): a student with two guardians has two rows; a guardian
// of two students appears in two rows; a student with several teachers is listed once per teacher
// (teacher_id holds exactly one id). Rows about the same student, guardian or teacher are merged
// and must agree: a different value on a later row is an error on that row naming the column.
//  - Staff: a teacher with a teacher_name (and optionally teacher_email) on some row becomes a
//    Staff entry with role teacher. Teachers referenced without a name are expected to exist
//    already; that check is the store's (teacher_first_line says where each id was first used).
//  - Guardians: at least one of email and phone; phone is normalized to E.164 (normalize_phone,
//    default country +1); language is validated and canonicalized ("pt-br" -> "pt-BR");
//    preferred_channel is email or sms and needs that contact. contacts and preferences.channels
//    are [preferred channel, then the other one if present]. An empty timezone is the school's.
//  - contact_allowed: true/false/yes/no/1/0 (any case), empty or absent means true.
//
// Line numbers are physical line numbers (1-based) of the start of a row in the file, so a quoted
// line break makes later rows start further down. Errors never echo field values.
//
// Pure (no I/O, no database), thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/status.h"
#include "roster/csv.h"  // CsvError, format_csv_error

namespace homeroom {

struct RosterImport {
  std::vector<Staff> staff;  // teachers the file names (teacher_name present), in first-seen order
  std::vector<Student> students;    // in first-seen order
  std::vector<Guardian> guardians;  // in first-seen order
  // id -> line where it first appears; teacher_first_line has every teacher_id used.
  std::map<std::string, int> teacher_first_line;
  std::map<std::string, int> student_first_line;
  std::map<std::string, int> guardian_first_line;
};

// Parses and validates the whole file. On any error returns kInvalidArgument with the message
// "N bad rows" ("1 bad row"), `field()` = source_name, and when `errors` is not null appends every
// error found, in line order. On success `errors` is left untouched.
Result<RosterImport> parse_roster_csv(std::string_view text, std::string_view source_name,
                                      std::vector<CsvError>* errors);

}  // namespace homeroom
