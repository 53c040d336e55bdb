#include <catch2/catch.hpp>

#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "roster/roster_csv.h"

using namespace homeroom;

namespace {

const std::vector<std::string> kColumns = {"student_id",
                                           "student_given_name",
                                           "student_family_name",
                                           "grade",
                                           "teacher_id",
                                           "guardian_id",
                                           "guardian_given_name",
                                           "guardian_family_name",
                                           "relationship",
                                           "email",
                                           "phone",
                                           "language",
                                           "preferred_channel"};

const std::string kHeader =
    "student_id,student_given_name,student_family_name,grade,teacher_id,guardian_id,"
    "guardian_given_name,guardian_family_name,relationship,email,phone,language,"
    "preferred_channel\n";

// A valid row for kHeader with some columns replaced.
std::string row(std::initializer_list<std::pair<std::string, std::string>> changes = {}) {
  std::map<std::string, std::string> v = {{"student_id", "s1"},
                                          {"student_given_name", "Maya"},
                                          {"student_family_name", "Ortiz"},
                                          {"grade", "5"},
                                          {"teacher_id", "t1"},
                                          {"guardian_id", "g1"},
                                          {"guardian_given_name", "Ana"},
                                          {"guardian_family_name", "Ortiz"},
                                          {"relationship", "mother"},
                                          {"email", "ana@example.org"},
                                          {"phone", "(555) 123-4567"},
                                          {"language", "es"},
                                          {"preferred_channel", "sms"}};
  for (const auto& [k, value] : changes) {
    REQUIRE(v.count(k) == 1);
    v[k] = value;
  }
  std::string out;
  for (const auto& c : kColumns) {
    if (!out.empty()) out += ',';
    out += v[c];
  }
  return out + "\n";
}

struct Parsed {
  Result<RosterImport> result;
  std::vector<CsvError> errors;
};

Parsed parse(const std::string& text) {
  std::vector<CsvError> errors;
  auto result = parse_roster_csv(text, "roster.csv", &errors);
  return {std::move(result), std::move(errors)};
}

RosterImport parse_ok(const std::string& text) {
  auto p = parse(text);
  for (const auto& e : p.errors) UNSCOPED_INFO(format_csv_error("roster.csv", e));
  REQUIRE(p.result.is_ok());
  REQUIRE(p.errors.empty());
  return std::move(p.result).value();
}

std::vector<CsvError> errors_of(const std::string& text) {
  auto p = parse(text);
  REQUIRE_FALSE(p.result.is_ok());
  CHECK(p.result.status().code() == Code::kInvalidArgument);
  REQUIRE_FALSE(p.errors.empty());
  return p.errors;
}

}  // namespace

TEST_CASE("roster csv: one row makes a student, a guardian and a teacher reference") {
  const auto r = parse_ok(kHeader + row());
  REQUIRE(r.students.size() == 1);
  const Student& s = r.students[0];
  CHECK(s.id == "s1");
  CHECK(s.given_name == "Maya");
  CHECK(s.family_name == "Ortiz");
  CHECK(s.grade == "5");
  CHECK(s.staff == std::vector<std::string>{"t1"});
  REQUIRE(s.guardians.size() == 1);
  CHECK(s.guardians[0].guardian_id == "g1");
  CHECK(s.guardians[0].relationship == "mother");
  CHECK(s.guardians[0].contact_allowed);

  REQUIRE(r.guardians.size() == 1);
  const Guardian& g = r.guardians[0];
  CHECK(g.id == "g1");
  CHECK(g.given_name == "Ana");
  CHECK(g.family_name == "Ortiz");
  CHECK(g.language == "es");
  CHECK(g.timezone.empty());  // the school's
  REQUIRE(g.contacts.size() == 2);
  CHECK(g.contacts[0].channel == "sms");
  CHECK(g.contacts[0].address == "+15551234567");
  CHECK(g.contacts[1].channel == "email");
  CHECK(g.contacts[1].address == "ana@example.org");
  CHECK(g.preferences.channels == std::vector<std::string>{"sms", "email"});

  CHECK(r.staff.empty());  // no teacher_name column: the teacher must already exist
  CHECK(r.teacher_first_line == std::map<std::string, int>{{"t1", 2}});
  CHECK(r.student_first_line == std::map<std::string, int>{{"s1", 2}});
  CHECK(r.guardian_first_line == std::map<std::string, int>{{"g1", 2}});
}

TEST_CASE("roster csv: preferences follow preferred_channel and the contacts present") {
  auto r = parse_ok(kHeader + row({{"preferred_channel", "Email"}}));
  CHECK(r.guardians[0].preferences.channels == std::vector<std::string>{"email", "sms"});
  CHECK(r.guardians[0].contacts[0].channel == "email");
  r = parse_ok(kHeader + row({{"preferred_channel", "email"}, {"phone", ""}}));
  CHECK(r.guardians[0].preferences.channels == std::vector<std::string>{"email"});
  r = parse_ok(kHeader + row({{"email", ""}}));
  CHECK(r.guardians[0].preferences.channels == std::vector<std::string>{"sms"});
  REQUIRE(r.guardians[0].contacts.size() == 1);
}

TEST_CASE("roster csv: columns in any order, any case, optional columns") {
  const std::string text =
      "Timezone,guardian_id,GUARDIAN_GIVEN_NAME,guardian_family_name,relationship,email,phone,"
      "language,preferred_channel,contact_allowed,teacher_email,teacher_name,teacher_id,grade,"
      "student_family_name,student_given_name,student_id\n"
      "America/Chicago,g1,Ana,Ortiz,mother,Ana@Example.ORG,+1 555 123 4567,pt-br,email,no,"
      "lee@school.example,Ms. Lee,t1,K,Ortiz,Maya,s1\n";
  const auto r = parse_ok(text);
  CHECK(r.guardians[0].timezone == "America/Chicago");
  CHECK(r.guardians[0].language == "pt-BR");
  CHECK(r.guardians[0].contacts[0].address == "Ana@example.org");
  CHECK(r.guardians[0].contacts[1].address == "+15551234567");
  CHECK_FALSE(r.students[0].guardians[0].contact_allowed);
  CHECK(r.students[0].grade == "K");
  REQUIRE(r.staff.size() == 1);
  CHECK(r.staff[0].id == "t1");
  CHECK(r.staff[0].name == "Ms. Lee");
  CHECK(r.staff[0].email == "lee@school.example");
  CHECK(r.staff[0].role == Role::kTeacher);
}

TEST_CASE("roster csv: contact_allowed spellings") {
  const std::string header = kHeader.substr(0, kHeader.size() - 1) + ",contact_allowed\n";
  auto with = [&](const std::string& value) {
    std::string r = row();
    return header + r.substr(0, r.size() - 1) + "," + value + "\n";
  };
  for (const char* yes : {"true", "TRUE", "yes", "Yes", "1", ""}) {
    INFO(yes);
    CHECK(parse_ok(with(yes)).students[0].guardians[0].contact_allowed);
  }
  for (const char* no : {"false", "No", "0"}) {
    INFO(no);
    CHECK_FALSE(parse_ok(with(no)).students[0].guardians[0].contact_allowed);
  }
  CHECK(errors_of(with("maybe")) ==
        std::vector<CsvError>{{2, "contact_allowed", "must be true, false, yes, no, 1 or 0"}});
}

TEST_CASE("roster csv: RFC 4180 quoting") {
  const std::string text =
      kHeader +
      "s1,\"Maya, Jr.\",\"O\"\"Brien\",5,t1,g1,Ana,\"Ortiz\nLopez\",mother,ana@example.org,,es,"
      "email\n" +
      row({{"student_id", "s2"}, {"guardian_id", "g2"}, {"grade", "\"\"\"6\"\"\""}}) +
      "\"s3\",Leo,Ng,4,t2,\"g3\",Bo,Ng,father,\"\",\"555-123-0000\",\"en\",\"sms\"\n";
  auto p = parse(text);
  // the quoted line break in a name is a control character: rejected, on the row's first line
  REQUIRE(p.errors == std::vector<CsvError>{
                          {2, "guardian_family_name", "must not contain control characters"}});
  CHECK(p.result.status().message() == "1 bad row");

  const std::string ok_text =
      kHeader +
      "s1,\"Maya, Jr.\",\"O\"\"Brien\",5,t1,g1,Ana,\"Ortiz, Lopez\",mother,ana@example.org,,es,"
      "email\n" +
      "\"s3\",Leo,Ng,\"\"\"4\"\"\",t2,\"g3\",Bo,Ng,father,\"\",\"555-123-0000\",\"en\",\"sms\"\n";
  const auto r = parse_ok(ok_text);
  CHECK(r.students[0].given_name == "Maya, Jr.");
  CHECK(r.students[0].family_name == "O\"Brien");
  CHECK(r.guardians[0].family_name == "Ortiz, Lopez");
  CHECK(r.students[1].id == "s3");
  CHECK(r.students[1].grade == "\"4\"");
  CHECK(r.guardians[1].contacts.size() == 1);
}

TEST_CASE("roster csv: physical line numbers count line breaks inside quotes") {
  // The first data row spans lines 2-4 (a quoted relationship with two line breaks); the next
  // row starts on line 5 and has a bad email.
  const std::string text = kHeader +
                           "s1,Maya,Ortiz,5,t1,g1,Ana,Ortiz,\"step\r\nmother\r\n\",,5551234567,es,"
                           "sms\r\n" +
                           row({{"student_id", "s2"}, {"guardian_id", "g2"}, {"email", "bad"}});
  const auto errors = errors_of(text);
  CHECK(errors ==
        std::vector<CsvError>{{2, "relationship", "must not contain control characters"},
                              {5, "email", "must be an email address like name@example.org"}});
}

TEST_CASE("roster csv: BOM, CRLF, blank lines and trailing spaces") {
  std::string text = "\xEF\xBB\xBF" + kHeader + "\n" + row() + " , , , \n" +
                     row({{"guardian_id", " g2 "}, {"email", " bob@example.org "}}) + "\n";
  // CRLF everywhere
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  for (const auto& t : {text, crlf}) {
    const auto r = parse_ok(t);
    REQUIRE(r.guardians.size() == 2);
    CHECK(r.guardians[1].id == "g2");
    CHECK(r.guardians[1].contacts[1].address == "bob@example.org");
    CHECK(r.guardian_first_line.at("g2") == 5);
  }
  // no final line break
  const std::string last = row();
  CHECK(parse_ok(kHeader + last.substr(0, last.size() - 1)).students.size() == 1);
}

TEST_CASE("roster csv: merges students, guardians and teachers across rows") {
  const std::string text = kHeader + row() +  // s1 g1 t1
                           row({{"guardian_id", "g2"},
                                {"guardian_given_name", "Luis"},
                                {"relationship", "father"},
                                {"email", ""},
                                {"phone", "555 987 6543"}}) +  // s1 g2
                           row({{"student_id", "s2"},
                                {"student_given_name", "Leo"},
                                {"grade", "2"},
                                {"teacher_id", "t2"}}) +  // s2 g1 t2
                           row({{"teacher_id", "t3"}}) +  // s1 g1 t3
                           row();                         // exact repeat
  const auto r = parse_ok(text);
  REQUIRE(r.students.size() == 2);
  CHECK(r.students[0].staff == std::vector<std::string>{"t1", "t3"});
  REQUIRE(r.students[0].guardians.size() == 2);
  CHECK(r.students[0].guardians[1].guardian_id == "g2");
  CHECK(r.students[0].guardians[1].relationship == "father");
  CHECK(r.students[1].staff == std::vector<std::string>{"t2"});
  REQUIRE(r.students[1].guardians.size() == 1);
  CHECK(r.students[1].guardians[0].guardian_id == "g1");
  REQUIRE(r.guardians.size() == 2);
  CHECK(r.guardians[1].contacts.size() == 1);
  CHECK(r.guardians[1].contacts[0].address == "+15559876543");
  CHECK(r.teacher_first_line == std::map<std::string, int>{{"t1", 2}, {"t2", 4}, {"t3", 5}});
  CHECK(r.student_first_line == std::map<std::string, int>{{"s1", 2}, {"s2", 4}});
  CHECK(r.guardian_first_line == std::map<std::string, int>{{"g1", 2}, {"g2", 3}});
}

TEST_CASE("roster csv: the same phone written two ways is not a conflict") {
  const auto r = parse_ok(kHeader + row() +
                          row({{"student_id", "s2"},
                               {"phone", "+1 555-123-4567"},
                               {"email", "ana@EXAMPLE.org"},
                               {"language", "ES"}}));
  CHECK(r.guardians.size() == 1);
}

TEST_CASE("roster csv: conflicts across rows are errors on the later line naming the column") {
  const std::string text =
      kHeader + row() +
      row({{"student_id", "s2"}, {"guardian_given_name", "Anna"}, {"phone", "555-000-1111"}}) +
      row({{"student_family_name", "Ortis"}, {"guardian_id", "g5"}}) +
      row({{"relationship", "aunt"}});
  const auto errors = errors_of(text);
  CHECK(errors ==
        std::vector<CsvError>{
            {3, "guardian_given_name", "guardian g1 has a different value on line 2"},
            {3, "phone", "guardian g1 has a different value on line 2"},
            {4, "student_family_name", "student s1 has a different value on line 2"},
            {5, "relationship", "student s1 with guardian g1 has a different value on line 2"}});
  CHECK(parse(text).result.status().message() == "3 bad rows");
  CHECK(parse(text).result.status().field() == "roster.csv");
}

TEST_CASE("roster csv: teachers named on rows become staff and must agree") {
  const std::string header =
      kHeader.substr(0, kHeader.size() - 1) + ",teacher_name,teacher_email\n";
  auto with = [&](const std::string& r, const std::string& name, const std::string& email) {
    return r.substr(0, r.size() - 1) + "," + name + "," + email + "\n";
  };
  const auto r = parse_ok(header + with(row(), "Ms. Lee", "lee@school.example") +
                          with(row({{"student_id", "s2"}}), "", "") +
                          with(row({{"student_id", "s3"}, {"teacher_id", "t2"}}), "Mr. Ng", ""));
  REQUIRE(r.staff.size() == 2);
  CHECK(r.staff[0].name == "Ms. Lee");
  CHECK(r.staff[1].id == "t2");
  CHECK(r.staff[1].email.empty());

  CHECK(errors_of(header + with(row(), "Ms. Lee", "lee@school.example") +
                  with(row({{"student_id", "s2"}}), "Ms. Li", "lee@school.example")) ==
        std::vector<CsvError>{{3, "teacher_name", "teacher t1 has a different value on line 2"}});
  CHECK(errors_of(header + with(row(), "", "lee@school.example")) ==
        std::vector<CsvError>{{2, "teacher_name", "required when teacher_email is given"}});
  CHECK(errors_of(header + with(row(), "Ms. Lee", "lee@")) ==
        std::vector<CsvError>{
            {2, "teacher_email", "must be an email address like name@example.org"}});
}

TEST_CASE("roster csv: every bad field of every row is reported") {
  const std::string text =
      kHeader +
      row({{"student_id", "s 1"}, {"email", "nope"}, {"phone", "12"}, {"language", "english"}}) +
      row({{"student_id", "s2"}}) + row({{"student_id", "s3"}, {"email", ""}, {"phone", ""}}) +
      row({{"student_id", "s4"}, {"preferred_channel", "push"}}) +
      row({{"student_id", "s5"}, {"preferred_channel", "email"}, {"email", ""}}) +
      row({{"student_id", "s6"}, {"preferred_channel", "sms"}, {"phone", ""}}) +
      row({{"student_id", "s7"}, {"preferred_channel", "fax"}}) +
      row({{"student_id", "s8"}, {"teacher_id", "t1;t2"}, {"guardian_given_name", ""}}) +
      row({{"student_id", "s9"}, {"grade", ""}, {"relationship", ""}, {"guardian_id", ""}});
  const auto errors = errors_of(text);
  const std::vector<CsvError> expected = {
      {2, "student_id", "must be 1 to 64 characters of letters, digits, '.', '_', ':' and '-'"},
      {2, "email", "must be an email address like name@example.org"},
      {2, "phone", "must be a phone number like +15551234567 or (555) 123-4567"},
      {2, "language", "must be a BCP 47 language tag like en, es, pt-BR or zh-Hant-TW"},
      {4, "email", "a guardian needs an email address or a phone number"},
      {4, "preferred_channel", "is sms but the phone column is empty"},
      {5, "preferred_channel",
       "push cannot be set up from a roster (the family subscribes in the app): use email or "
       "sms"},
      {6, "preferred_channel", "is email but the email column is empty"},
      {7, "preferred_channel", "is sms but the phone column is empty"},
      {8, "preferred_channel", "must be email or sms"},
      {9, "teacher_id", "one teacher per row: list the student once for each teacher"},
      {9, "guardian_given_name", "must not be empty"},
      {10, "grade", "must not be empty"},
      {10, "guardian_id", "must be 1 to 64 characters of letters, digits, '.', '_', ':' and '-'"},
      {10, "relationship", "must not be empty"},
  };
  CHECK(errors == expected);
  CHECK(parse(text).result.status().message() == "8 bad rows");
  CHECK(format_csv_error("roster.csv", errors[1]) ==
        "roster.csv:2: email: must be an email address like name@example.org");
}

TEST_CASE("roster csv: a bad timezone names the column") {
  const std::string header = kHeader.substr(0, kHeader.size() - 1) + ",timezone\n";
  const std::string r = row();
  CHECK(errors_of(header + r.substr(0, r.size() - 1) + ",America/Chicgo\n") ==
        std::vector<CsvError>{
            {2, "timezone", "must be an IANA time zone like America/Chicago or UTC"}});
}

TEST_CASE("roster csv: header problems are errors on the header line") {
  SECTION("unknown column; the rows are still checked") {
    const std::string header = kHeader.substr(0, kHeader.size() - 1) + ",homeroom\n";
    const std::string r = row({{"email", "x"}});
    CHECK(errors_of(header + r.substr(0, r.size() - 1) + ",12\n") ==
          std::vector<CsvError>{{1, "homeroom", "unknown column"},
                                {2, "email", "must be an email address like name@example.org"}});
  }
  SECTION("missing required columns are each named, and rows are not checked") {
    auto p = parse(
        "student_id,grade,teacher_id,guardian_id,guardian_given_name,"
        "guardian_family_name,relationship,email,phone,language,preferred_channel\n"
        "s1,5,t1,g1,Ana,Ortiz,mother,bad,,es,email\n");
    REQUIRE_FALSE(p.result.is_ok());
    CHECK(p.errors ==
          std::vector<CsvError>{{1, "student_given_name", "required column is missing"},
                                {1, "student_family_name", "required column is missing"}});
    CHECK(p.result.status().message() == "1 bad row");
  }
  SECTION("duplicate and unnamed columns") {
    CHECK(errors_of("student_id,,Student_ID\n") ==
          std::vector<CsvError>{{1, "", "column 2 has no name"},
                                {1, "student_id", "duplicate column"},
                                {1, "student_given_name", "required column is missing"},
                                {1, "student_family_name", "required column is missing"},
                                {1, "grade", "required column is missing"},
                                {1, "teacher_id", "required column is missing"},
                                {1, "guardian_id", "required column is missing"},
                                {1, "guardian_given_name", "required column is missing"},
                                {1, "guardian_family_name", "required column is missing"},
                                {1, "relationship", "required column is missing"},
                                {1, "email", "required column is missing"},
                                {1, "phone", "required column is missing"},
                                {1, "language", "required column is missing"},
                                {1, "preferred_channel", "required column is missing"}});
  }
  SECTION("empty files") {
    const std::vector<CsvError> empty = {
        {1, "", "the file is empty: expected a header row naming the columns"}};
    CHECK(errors_of("") == empty);
    CHECK(errors_of("\xEF\xBB\xBF") == empty);
    CHECK(errors_of("\n\r\n , \n") == empty);
  }
  SECTION("a header with no rows is an empty roster") {
    const auto r = parse_ok(kHeader);
    CHECK(r.students.empty());
    CHECK(r.guardians.empty());
  }
}

TEST_CASE("roster csv: malformed CSV is reported per row and parsing goes on") {
  const std::string text = kHeader + "s1,Maya,O\"Brien,5\n" + "s1,\"Maya\"x,Ortiz\n" +
                           "s1,Maya,Ortiz,5\n" + row() + "s9,\"never closed\n" + row();
  const auto errors = errors_of(text);
  CHECK(errors == std::vector<CsvError>{
                      {2, "",
                       "a quote inside an unquoted field (quote the whole field and double the "
                       "quote)"},
                      {3, "", "text after the closing quote of a field"},
                      {4, "", "expected 13 fields like the header, got 4"},
                      {6, "", "a quoted field is not closed"}});
  CHECK(parse(text).result.status().message() == "4 bad rows");
}

TEST_CASE("roster csv: errors may be ignored with a null vector, and are appended") {
  auto result = parse_roster_csv(kHeader + row({{"email", "x"}}), "r.csv", nullptr);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().to_string() == "invalid_argument: r.csv: 1 bad row");
  std::vector<CsvError> errors = {{99, "x", "earlier"}};
  CHECK_FALSE(parse_roster_csv(kHeader + row({{"email", "x"}}), "r.csv", &errors).is_ok());
  CHECK(errors.size() == 2);
  CHECK(errors[0].line == 99);
}
