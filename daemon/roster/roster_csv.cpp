#include "roster/roster_csv.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <utility>

#include "roster/validate.h"

namespace homeroom {
namespace {

// One CSV record: the physical line it starts on, its fields, and a syntax error if any.
struct Record {
  int line = 0;
  std::vector<std::string> fields;
  std::string error;
};

// RFC 4180 reader. Line breaks are "\r\n", "\n" or a lone "\r", inside quotes or not; every one of
// them advances the physical line count.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }

  bool next(Record& record) {
    if (pos_ >= text_.size()) return false;
    record = Record{line_, {}, {}};
    while (true) {
      std::string field;
      const bool ok = at('"') ? read_quoted(field, record) : read_plain(field, record);
      record.fields.push_back(std::move(field));
      if (!ok) {
        skip_line();
        return true;
      }
      if (at(',')) {
        ++pos_;
        continue;
      }
      end_of_line();
      return true;
    }
  }

 private:
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool at_line_end() const { return pos_ >= text_.size() || at('\n') || at('\r'); }

  // Consumes one line break (or nothing at the end of the text).
  void end_of_line() {
    if (at('\r')) {
      ++pos_;
      if (at('\n')) ++pos_;
      ++line_;
    } else if (at('\n')) {
      ++pos_;
      ++line_;
    }
  }

  void skip_line() {
    while (!at_line_end()) ++pos_;
    end_of_line();
  }

  bool read_plain(std::string& field, Record& record) {
    while (!at_line_end() && !at(',')) {
      if (at('"')) {
        record.error =
            "a quote inside an unquoted field (quote the whole field and double the quote)";
        return false;
      }
      field += text_[pos_++];
    }
    return true;
  }

  bool read_quoted(std::string& field, Record& record) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) {
        record.error = "a quoted field is not closed";
        return false;
      }
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          field += '"';
          pos_ += 2;
          continue;
        }
        ++pos_;  // closing quote
        if (at(',') || at_line_end()) return true;
        record.error = "text after the closing quote of a field";
        return false;
      }
      if (c == '\n' || (c == '\r' && !(pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n'))) {
        ++line_;
      }
      field += c;
      ++pos_;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

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
  RowReader(const std::map<std::string, std::size_t>& columns, const Record& record,
            std::vector<CsvError>& errors)
      : columns_(columns), record_(record), errors_(errors) {}

  // The trimmed value of `column`; empty when the (optional) column is absent.
  std::string get(std::string_view column) const {
    auto it = columns_.find(std::string(column));
    if (it == columns_.end()) return {};
    return std::string(trim(record_.fields[it->second]));
  }

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

    row.preferred_channel = lowercase(get("preferred_channel"));
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

    const std::string allowed = lowercase(get("contact_allowed"));
    if (allowed.empty() || allowed == "true" || allowed == "yes" || allowed == "1") {
      row.contact_allowed = true;
    } else if (allowed == "false" || allowed == "no" || allowed == "0") {
      row.contact_allowed = false;
    } else {
      fail("contact_allowed", "must be true, false, yes, no, 1 or 0");
    }

    row.timezone = get("timezone");
    if (row.timezone.empty()) {
      row.timezone = "UTC";
    } else {
      check(validate_timezone("timezone", row.timezone));
    }

    if (errors_.size() != errors_before) return std::nullopt;
    return row;
  }

 private:
  const std::map<std::string, std::size_t>& columns_;
  const Record& record_;
  std::vector<CsvError>& errors_;
};

bool is_blank(const Record& record) {
  return record.error.empty() && std::all_of(record.fields.begin(), record.fields.end(),
                                             [](const std::string& f) { return trim(f).empty(); });
}

// Reads the header into `columns`; false when rows cannot be interpreted.
bool read_header(const Record& header, std::map<std::string, std::size_t>& columns,
                 std::vector<CsvError>& errors) {
  if (!header.error.empty()) {
    errors.push_back({header.line, "", header.error});
    return false;
  }
  bool usable = true;
  for (std::size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = lowercase(trim(header.fields[i]));
    if (name.empty()) {
      errors.push_back({header.line, "", "column " + std::to_string(i + 1) + " has no name"});
      usable = false;
      continue;
    }
    const bool known =
        std::find(kRequiredColumns.begin(), kRequiredColumns.end(), name) !=
            kRequiredColumns.end() ||
        std::find(kOptionalColumns.begin(), kOptionalColumns.end(), name) != kOptionalColumns.end();
    if (!known) {
      errors.push_back({header.line, name, "unknown column"});
      continue;
    }
    if (!columns.emplace(name, i).second) {
      errors.push_back({header.line, name, "duplicate column"});
      usable = false;
    }
  }
  for (auto required : kRequiredColumns) {
    if (columns.count(std::string(required)) == 0) {
      errors.push_back({header.line, std::string(required), "required column is missing"});
      usable = false;
    }
  }
  return usable;
}

}  // namespace

Result<RosterImport> parse_roster_csv(std::string_view text, std::string_view source_name,
                                      std::vector<CsvError>* errors) {
  std::vector<CsvError> found;
  CsvReader reader(text);
  Record record;
  bool have_header = false;
  while (reader.next(record)) {
    if (!is_blank(record)) {
      have_header = true;
      break;
    }
  }

  RosterImport result;
  if (!have_header) {
    found.push_back({1, "", "the file is empty: expected a header row naming the columns"});
  } else {
    std::map<std::string, std::size_t> columns;
    const bool usable = read_header(record, columns, found);
    const std::size_t width = record.fields.size();
    RosterBuilder builder(found);
    while (usable && reader.next(record)) {
      if (is_blank(record)) continue;
      if (!record.error.empty()) {
        found.push_back({record.line, "", record.error});
        continue;
      }
      if (record.fields.size() != width) {
        found.push_back({record.line, "",
                         "expected " + std::to_string(width) + " fields like the header, got " +
                             std::to_string(record.fields.size())});
        continue;
      }
      if (auto row = RowReader(columns, record, found).read()) builder.add(*row);
    }
    result = builder.take();
  }

  if (found.empty()) return result;
  std::set<int> bad_lines;
  for (const auto& e : found) bad_lines.insert(e.line);
  const std::size_t bad = bad_lines.size();
  if (errors != nullptr) errors->insert(errors->end(), found.begin(), found.end());
  return Status(Code::kInvalidArgument, std::to_string(bad) + (bad == 1 ? " bad row" : " bad rows"),
                std::string(source_name));
}

std::string format_csv_error(std::string_view source_name, const CsvError& error) {
  std::string out = std::string(source_name) + ":" + std::to_string(error.line) + ": ";
  if (!error.column.empty()) out += error.column + ": ";
  return out + error.message;
}

}  // namespace homeroom
