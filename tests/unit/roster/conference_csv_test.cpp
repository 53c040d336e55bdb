// The conference slot CSV (roster/conference_csv.h): good files, and bad rows named by line and
// column without their values.
#include <catch2/catch.hpp>

#include "roster/conference_csv.h"

using namespace homeroom;

namespace {

constexpr const char* kHeader =
    "conference_id,student_id,staff_id,starts_at,duration_minutes,place\n";

std::vector<CsvError> errors_of(const std::string& text) {
  std::vector<CsvError> errors;
  auto parsed = parse_conference_csv(text, "slots.csv", &errors);
  CHECK_FALSE(parsed.is_ok());
  CHECK(parsed.status().field() == "slots.csv");
  return errors;
}

}  // namespace

TEST_CASE("conference csv - a good file, columns in any order, BOM, CRLF, quotes, a note") {
  const std::string text =
      "\xEF\xBB\xBFPlace,Conference_ID,student_id,staff_id,starts_at,duration_minutes,note\r\n"
      "\"Room 12, east door\",c1,s1,t1,2026-11-24T15:00:00-06:00,20,\r\n"
      "\r\n"
      "Library,c2,s2,t1,2026-11-24T21:20:00Z, 15 ,\"Bring the report card\nand questions\"\r\n";
  std::vector<CsvError> errors;
  auto parsed = parse_conference_csv(text, "slots.csv", &errors);
  INFO((errors.empty() ? "" : format_csv_error("slots.csv", errors.front())));
  REQUIRE(parsed.is_ok());
  REQUIRE(parsed->size() == 2);
  const auto& c1 = (*parsed)[0];
  CHECK(c1.line == 2);
  CHECK(c1.conference.id == "c1");
  CHECK(c1.conference.student_id == "s1");
  CHECK(c1.conference.staff_id == "t1");
  CHECK(format_rfc3339(c1.conference.starts_at) == "2026-11-24T21:00:00.000Z");
  CHECK(c1.conference.duration_minutes == 20);
  CHECK(c1.conference.place == "Room 12, east door");
  CHECK(c1.conference.note.empty());
  const auto& c2 = (*parsed)[1];
  CHECK(c2.line == 4);
  CHECK(c2.conference.duration_minutes == 15);
  CHECK(c2.conference.note == "Bring the report card\nand questions");
}

TEST_CASE("conference csv - every bad row is named by line and column, never its value") {
  const std::string text = std::string(kHeader) +
                           "c1,s1,t1,2026-11-24T15:00:00-06:00,20,Room 12\n"   // 2: good
                           "c2,s 2,t1,2026-11-24T15:00:00-06:00,20,Room 12\n"  // 3: bad id
                           "c3,s3,t1,next tuesday,20,Room 12\n"                // 4: bad time
                           "c4,s4,t1,2026-11-24T15:00:00,20,Room 12\n"         // 5: no offset
                           "c5,s5,t1,2026-11-24T15:00:00Z,0,Room 12\n"         // 6: 0 minutes
                           "c6,s6,t1,2026-11-24T15:00:00Z,20 min,Room 12\n"    // 7: not a number
                           "c7,s7,t1,2026-11-24T15:00:00Z,20,\n"               // 8: no place
                           "c1,s8,t1,2026-11-24T15:00:00Z,20,Room 12\n"        // 9: c1 again
                           "c9,s9,t1,2026-11-24T15:00:00Z,20\n"                // 10: short row
                           "c10,s10,t1,2026-11-24T15:00:00Z,481,Room 12\n";    // 11: too long
  const auto errors = errors_of(text);
  std::vector<std::pair<int, std::string>> where;
  for (const auto& e : errors) where.emplace_back(e.line, e.column);
  CHECK(where == std::vector<std::pair<int, std::string>>{{3, "student_id"},
                                                          {4, "starts_at"},
                                                          {5, "starts_at"},
                                                          {6, "duration_minutes"},
                                                          {7, "duration_minutes"},
                                                          {8, "place"},
                                                          {9, "conference_id"},
                                                          {10, ""},
                                                          {11, "duration_minutes"}});
  CHECK(errors[6].message == "listed twice (first on line 2)");
  for (const auto& e : errors) {
    CHECK(e.message.find("next tuesday") == std::string::npos);
    CHECK(e.message.find("s 2") == std::string::npos);
  }
  CHECK(format_csv_error("slots.csv", errors[1]) ==
        "slots.csv:4: starts_at: expected an RFC 3339 time with its offset, e.g. "
        "2026-11-24T15:00:00-06:00");
}

TEST_CASE("conference csv - the header: missing and unknown columns, an empty file") {
  auto missing = errors_of("conference_id,student_id,staff_id,starts_at,place\n");
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].line == 1);
  CHECK(missing[0].column == "duration_minutes");

  auto unknown = errors_of(std::string("room,") + kHeader);
  REQUIRE_FALSE(unknown.empty());
  CHECK(unknown[0].column == "room");

  auto empty = errors_of("\n\n");
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].message.find("empty") != std::string::npos);

  std::vector<CsvError> none;
  auto header_only = parse_conference_csv(kHeader, "slots.csv", &none);
  REQUIRE(header_only.is_ok());
  CHECK(header_only->empty());
}

TEST_CASE("conference fields - the rules PUT /v1/conferences shares") {
  Conference c{"c1", "s1", "t1", 0, 20, "Room 12"};
  CHECK(validate_conference(c).is_ok());
  c.note = "Line one\nline two";
  CHECK(validate_conference(c).is_ok());
  c.note = std::string("bell\x07", 5);
  CHECK(validate_conference(c).field() == "note");
  c.note = std::string(501, 'x');
  CHECK(validate_conference(c).field() == "note");
  c.note.clear();
  c.place = "";
  CHECK(validate_conference(c).field() == "place");
  c.place = "Room 12";
  c.id = "c/1";
  CHECK(validate_conference(c).field() == "id");
  CHECK(validate_conference(c, "conference_id").field() == "conference_id");
}
