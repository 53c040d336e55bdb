#include "roster/roster_csv.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "roster/validate.h"

namespace homeroom {
namespace {

constexpr std::array<std::string_view, 13> kRequiredColumns = {"student_id",
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
constexpr std::array<std::string_view, 4> kOptionalColumns = {"teacher_name", "teacher_email",
                                                              "contact_allowed", "timezone"};

// A row that passed field validation, values normalized.
struct Row {
  int line = 0;
  std::string student_id, student_given_name, student_family_name, grade;
  std::string teacher_id, teacher_name, teacher_email;
  std::string guardian_id, guardian_given_name, guardian_family_name, relationship;
  std::string email, phone, language, preferred_channel, timezone;
  bool contact_allowed = true;
};

class RosterBuilder {
 public:
  explicit RosterBuilder(std::vector<CsvError>& errors) : errors_(errors) {}

  void add(const Row& row) {
    add_teacher(row);
    add_guardian(row);
    add_student(row);
  }

  RosterImport take() { return std::move(out_); }

 private:
  void conflict(const Row& row, std::string_view column, std::string_view what, int first_line) {
    errors_.push_back(
        {row.line, std::string(column),
         std::string(what) + " has a different value on line " + std::to_string(first_line)});
  }

  void add_teacher(const Row& row) {
    out_.teacher_first_line.emplace(row.teacher_id, row.line);
    if (row.teacher_name.empty()) return;
    auto [it, inserted] = staff_index_.emplace(row.teacher_id, out_.staff.size());
    if (inserted) {
      out_.staff.push_back({row.teacher_id, row.teacher_name, row.teacher_email, Role::kTeacher});
      staff_line_[row.teacher_id] = row.line;
      return;
    }
    const Staff& staff = out_.staff[it->second];
    const std::string what = "teacher " + row.teacher_id;
    const int first = staff_line_[row.teacher_id];
    if (staff.name != row.teacher_name) conflict(row, "teacher_name", what, first);
    if (staff.email != row.teacher_email) conflict(row, "teacher_email", what, first);
  }

  void add_guardian(const Row& row) {
    auto [it, inserted] = guardian_rows_.emplace(row.guardian_id, row);
    if (!inserted) {
      const Row& first = it->second;
      const std::string what = "guardian " + row.guardian_id;
      const std::pair<std::string_view, bool> fields[] = {
          {"guardian_given_name", first.guardian_given_name == row.guardian_given_name},
          {"guardian_family_name", first.guardian_family_name == row.guardian_family_name},
          {"email", first.email == row.email},
          {"phone", first.phone == row.phone},
          {"language", first.language == row.language},
          {"preferred_channel", first.preferred_channel == row.preferred_channel},
          {"timezone", first.timezone == row.timezone},
      };
      for (const auto& [column, same] : fields) {
        if (!same) conflict(row, column, what, first.line);
      }
      return;
    }
    out_.guardian_first_line.emplace(row.guardian_id, row.line);
    Guardian guardian;
    guardian.id = row.guardian_id;
    guardian.given_name = row.guardian_given_name;
    guardian.family_name = row.guardian_family_name;
    guardian.language = row.language;
    guardian.timezone = row.timezone;
    auto add_contact = [&guardian](const std::string& channel, const std::string& address) {
      guardian.contacts.push_back({channel, address});
      guardian.preferences.channels.push_back(channel);
    };
    if (row.preferred_channel == "email") {
      add_contact("email", row.email);
      if (!row.phone.empty()) add_contact("sms", row.phone);
    } else {
      add_contact("sms", row.phone);
      if (!row.email.empty()) add_contact("email", row.email);
    }
    out_.guardians.push_back(std::move(guardian));
  }

  void add_student(const Row& row) {
    auto [it, inserted] = student_index_.emplace(row.student_id, out_.students.size());
    if (inserted) {
      out_.student_first_line.emplace(row.student_id, row.line);
      Student student;
      student.id = row.student_id;
      student.given_name = row.student_given_name;
      student.family_name = row.student_family_name;
      student.grade = row.grade;
      out_.students.push_back(std::move(student));
    }
    Student& student = out_.students[it->second];
    const int first = out_.student_first_line[row.student_id];
    const std::string what = "student " + row.student_id;
    if (!inserted) {
      if (student.given_name != row.student_given_name) {
        conflict(row, "student_given_name", what, first);
      }
      if (student.family_name != row.student_family_name) {
        conflict(row, "student_family_name", what, first);
      }
      if (student.grade != row.grade) conflict(row, "grade", what, first);
    }
    if (std::find(student.staff.begin(), student.staff.end(), row.teacher_id) ==
        student.staff.end()) {
      student.staff.push_back(row.teacher_id);
    }
    const auto link =
        std::find_if(student.guardians.begin(), student.guardians.end(),
                     [&](const GuardianLink& l) { return l.guardian_id == row.guardian_id; });
    const std::string link_key = row.student_id + '\n' + row.guardian_id;
    if (link == student.guardians.end()) {
      student.guardians.push_back({row.guardian_id, row.relationship, row.contact_allowed});
      link_line_[link_key] = row.line;
      return;
    }
    const std::string link_what = what + " with guardian " + row.guardian_id;
    if (link->relationship != row.relationship) {
      conflict(row, "relationship", link_what, link_line_[link_key]);
    }
    if (link->contact_allowed != row.contact_allowed) {
      conflict(row, "contact_allowed", link_what, link_line_[link_key]);
    }
  }

  std::vector<CsvError>& errors_;
  RosterImport out_;
  std::map<std::string, std::size_t> staff_index_;
  std::map<std::string, int> staff_line_;
  std::map<std::string, std::size_t> student_index_;
  std::map<std::string, Row> guardian_rows_;
  std::map<std::string, int> link_line_;  // "student\nguardian" -> first line
};

class RowReader {
 public:
  RowReader(const CsvColumns& columns, const CsvRecord& record, std::vector<CsvError>& errors)
      : columns_(columns), record_(record), errors_(errors) {}

  // The trimmed value of `column`; empty when the (optional) column is absent.
  std::string get(std::string_view column) const { return csv_field(columns_, record_, column); }

  void check(const Status& status) {
    if (!status) errors_.push_back({record_.line, status.field(), status.message()});
  }

  void fail(std::string_view column, std::string message) {
    errors_.push_back({record_.line, std::string(column), std::move(message)});
  }

  std::optional<Row> read() {
    const std::size_t errors_before = errors_.size();
    Row row;
    row.line = record_.line;
    row.student_id = get("student_id");
    check(validate_id("student_id", row.student_id));
    row.student_given_name = get("student_given_name");
    check(validate_name("student_given_name", row.student_given_name));
    row.student_family_name = get("student_family_name");
    check(validate_name("student_family_name", row.student_family_name));
    row.grade = get("grade");
    check(validate_name("grade", row.grade));

    row.teacher_id = get("teacher_id");
    if (row.teacher_id.find_first_of(";,") != std::string::npos) {
      fail("teacher_id", "one teacher per row: list the student once for each teacher");
    } else {
      check(validate_id("teacher_id", row.teacher_id));
    }
    row.teacher_name = get("teacher_name");
    if (!row.teacher_name.empty()) check(validate_name("teacher_name", row.teacher_name));
    row.teacher_email = get("teacher_email");
    if (!row.teacher_email.empty()) {
      if (auto status = validate_email("teacher_email", row.teacher_email); !status) {
        check(status);
      } else {
        row.teacher_email = normalize_email(row.teacher_email);
      }
      if (row.teacher_name.empty()) fail("teacher_name", "required when teacher_email is given");
    }

    row.guardian_id = get("guardian_id");
    check(validate_id("guardian_id", row.guardian_id));
    row.guardian_given_name = get("guardian_given_name");
    check(validate_name("guardian_given_name", row.guardian_given_name));
    row.guardian_family_name = get("guardian_family_name");
    check(validate_name("guardian_family_name", row.guardian_family_name));
    row.relationship = get("relationship");
    check(validate_name("relationship", row.relationship));

    row.email = get("email");
    if (!row.email.empty()) {
      if (auto status = validate_email("email", row.email); !status) {
        check(status);
      } else {
        row.email = normalize_email(row.email);
      }
    }
    const std::string phone = get("phone");
    if (!phone.empty()) {
      if (auto e164 = normalize_phone(phone)) {
        row.phone = *e164;
      } else {
        fail("phone", "must be a phone number like +15551234567 or (555) 123-4567");
      }
    }
    if (row.email.empty() && phone.empty()) {
      fail("email", "a guardian needs an email address or a phone number");
    }

    const std::string language = get("language");
    if (auto canonical = canonical_language(language)) {
      row.language = *canonical;
    } else {
      check(validate_language("language", language));
    }

    row.preferred_channel = ascii_lowercase(get("preferred_channel"));
    if (row.preferred_channel == "push") {
      fail("preferred_channel",
           "push cannot be set up from a roster (the family subscribes in the app): use email or "
           "sms");
    } else if (row.preferred_channel != "email" && row.preferred_channel != "sms") {
      fail("preferred_channel", "must be email or sms");
    } else if (row.preferred_channel == "email" && row.email.empty()) {
      fail("preferred_channel", "is email but the email column is empty");
    } else if (row.preferred_channel == "sms" && phone.empty()) {
      fail("preferred_channel", "is sms but the phone column is empty");
    }

    const std::string allowed = ascii_lowercase(get("contact_allowed"));
    if (allowed.empty() || allowed == "true" || allowed == "yes" || allowed == "1") {
      row.contact_allowed = true;
    } else if (allowed == "false" || allowed == "no" || allowed == "0") {
      row.contact_allowed = false;
    } else {
      fail("contact_allowed", "must be true, false, yes, no, 1 or 0");
    }

    row.timezone = get("timezone");  // empty: the school's
    if (!row.timezone.empty()) check(validate_timezone("timezone", row.timezone));

    if (errors_.size() != errors_before) return std::nullopt;
    return row;
  }

 private:
  const CsvColumns& columns_;
  const CsvRecord& record_;
  std::vector<CsvError>& errors_;
};

std::vector<CsvColumn> known_columns() {
  std::vector<CsvColumn> known;
  known.reserve(kRequiredColumns.size() + kOptionalColumns.size());
  for (auto name : kRequiredColumns) known.push_back({std::string(name), true});
  for (auto name : kOptionalColumns) known.push_back({std::string(name), false});
  return known;
}

}  // namespace

Result<RosterImport> parse_roster_csv(std::string_view text, std::string_view source_name,
                                      std::vector<CsvError>* errors) {
  std::vector<CsvError> found;
  CsvReader reader(text);
  CsvRecord record;
  RosterImport result;
  if (!reader.next_nonblank(record)) {
    found.push_back({1, "", "the file is empty: expected a header row naming the columns"});
  } else {
    CsvColumns columns;
    const bool usable =
        read_csv_header(record, known_columns(), UnknownCsvColumns::kError, columns, found);
    const std::size_t width = record.fields.size();
    RosterBuilder builder(found);
    while (usable && reader.next_row(width, record, found)) {
      if (auto row = RowReader(columns, record, found).read()) builder.add(*row);
    }
    result = builder.take();
  }

  if (found.empty()) return result;
  return csv_bad_rows(found, source_name, errors);
}

}  // namespace homeroom
