#include "roster/oneroster.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "roster/validate.h"

namespace homeroom {
namespace {

constexpr const char* kManifest = "manifest.csv";
constexpr const char* kOrgs = "orgs.csv";
constexpr const char* kUsers = "users.csv";
constexpr const char* kDemographics = "demographics.csv";
constexpr const char* kClasses = "classes.csv";
constexpr const char* kEnrollments = "enrollments.csv";
// The files read, in the order their errors are reported.
constexpr std::array<const char*, 6> kFiles = {kManifest,     kOrgs,    kUsers,
                                               kDemographics, kClasses, kEnrollments};
// Extension columns that may carry a guardian's language, first non-empty wins.
constexpr std::array<const char*, 2> kLanguageColumns = {"metadata.language",
                                                         "metadata.preferredLanguage"};

constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;

bool is_guardian_role(const std::string& role) {
  return role == "guardian" || role == "parent" || role == "relative";
}
bool is_staff_role(const std::string& role) { return role == "teacher" || role == "administrator"; }

// "a teacher", "an administrator"
std::string with_article(const std::string& role) {
  const bool vowel = !role.empty() && std::string_view("aeiou").find(role[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + role;
}

// "a, b,,c" -> {"a", "b", "c"}
std::vector<std::string> split_list(std::string_view field) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= field.size()) {
    std::size_t comma = field.find(',', start);
    if (comma == std::string_view::npos) comma = field.size();
    const std::string_view item = trim_csv_field(field.substr(start, comma - start));
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

bool is_valid_id(const std::string& id) { return validate_id("", id).is_ok(); }

// "YYYY-MM-DD", a day that exists.
bool is_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) return false;
  }
  const int year = std::stoi(std::string(text.substr(0, 4)));
  const int month = std::stoi(std::string(text.substr(5, 2)));
  const int day = std::stoi(std::string(text.substr(8, 2)));
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= (month == 2 && !leap ? 28 : kDays[static_cast<std::size_t>(month - 1)]);
}

void append_unique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

// What the import knows about one id of a file: where it is and, for users, their role.
struct Entry {
  int line = 0;
  bool deleted = false;
  std::string role;  // users: the lowercased role; orgs: the type
};

// The agentSourcedIds of a student or guardian, and the users.csv line they are on.
struct Agents {
  std::string user_id;
  int line = 0;
  std::vector<std::string> ids;
};

// A reference from a row to an id of another file, checked once every file is read.
struct Reference {
  const char* from_file;
  int line;
  std::string column;
  std::string id;
};

class OneRosterParser {
 public:
  explicit OneRosterParser(const std::map<std::string, std::string>& files) : files_(files) {}

  Result<OneRosterImport> run(std::vector<CsvError>* errors) {
    if (read_manifest()) {
      read_orgs();
      read_users();
      read_demographics();
      read_classes();
      read_enrollments();
      check_references();
      link_guardians();
      link_teachers();
    }
    std::vector<CsvError> found;
    std::set<std::pair<std::string, int>> bad_lines;
    for (const char* file : kFiles) {
      auto& list = errors_[file];
      std::stable_sort(list.begin(), list.end(),
                       [](const CsvError& a, const CsvError& b) { return a.line < b.line; });
      for (auto& e : list) {
        bad_lines.insert({e.file, e.line});
        found.push_back(std::move(e));
      }
    }
    if (found.empty()) return std::move(out_);
    if (errors != nullptr) errors->insert(errors->end(), found.begin(), found.end());
    const std::size_t bad = bad_lines.size();
    return Status(Code::kInvalidArgument,
                  std::to_string(bad) + (bad == 1 ? " bad row" : " bad rows"), "oneroster");
  }

 private:
  void fail(const char* file, int line, std::string column, std::string message) {
    errors_[file].push_back({line, std::move(column), std::move(message), file});
  }
  void check(const char* file, int line, const Status& status) {
    if (!status) fail(file, line, status.field(), status.message());
  }

  const std::string* content(const char* file) const {
    auto it = files_.find(file);
    return it == files_.end() ? nullptr : &it->second;
  }

  // Reads `file`'s header and calls `row` for each well-formed data row; false when the file is
  // empty or its header unusable (reported).
  bool for_each_row(const char* file, const std::vector<CsvColumn>& known, CsvColumns& columns,
                    const std::function<void(const CsvRecord&)>& row) {
    const std::string* text = content(file);
    if (text == nullptr) return false;
    CsvReader reader(*text);
    CsvRecord record;
    if (!reader.next_nonblank(record)) {
      fail(file, 1, "", "the file is empty: expected a header row naming the columns");
      return false;
    }
    std::vector<CsvError> found;
    const bool usable = read_csv_header(record, known, UnknownCsvColumns::kIgnore, columns, found);
    const std::size_t width = record.fields.size();
    while (usable && reader.next_row(width, record, found)) {
      for (auto& e : found) fail(file, e.line, std::move(e.column), std::move(e.message));
      found.clear();
      row(record);
    }
    for (auto& e : found) fail(file, e.line, std::move(e.column), std::move(e.message));
    return usable;
  }

  // The columns every OneRoster data file has; status and dateLastModified are required in
  // delta files.
  static std::vector<CsvColumn> columns_with_status(OneRosterMode mode,
                                                    std::initializer_list<CsvColumn> others) {
    const bool delta = mode == OneRosterMode::kDelta;
    std::vector<CsvColumn> known{
        {"sourcedId", true}, {"status", delta}, {"dateLastModified", delta}};
    known.insert(known.end(), others.begin(), others.end());
    return known;
  }

  // The row's sourcedId, validated and not seen before in the file, and whether the row is
  // tobedeleted; nullopt when the row is unusable (reported).
  std::optional<std::pair<std::string, bool>> read_key(const char* file,
                                                       std::map<std::string, Entry>& index,
                                                       const CsvColumns& columns,
                                                       const CsvRecord& record) {
    const std::string id = csv_field(columns, record, "sourcedId");
    const std::string status = ascii_lowercase(csv_field(columns, record, "status"));
    bool ok = true;
    if (Status s = validate_id("sourcedId", id); !s) {
      check(file, record.line, s);
      ok = false;
    }
    bool deleted = false;
    if (status == "tobedeleted") {
      deleted = true;
    } else if (!status.empty() && status != "active") {
      fail(file, record.line, "status", "must be active or tobedeleted");
      ok = false;
    }
    if (!ok) return std::nullopt;
    auto [it, inserted] = index.emplace(id, Entry{record.line, deleted, {}});
    if (!inserted) {
      fail(file, record.line, "sourcedId",
           "the same id is on line " + std::to_string(it->second.line));
      return std::nullopt;
    }
    return std::make_pair(id, deleted);
  }

  bool read_manifest() {
    const std::string* text = content(kManifest);
    if (text == nullptr) {
      fail(kManifest, 1, "", "required file is missing (it says which files are bulk or delta)");
      return false;
    }
    std::map<std::string, std::pair<std::string, int>> properties;  // lowercase name -> value
    CsvColumns columns;
    const bool usable = for_each_row(
        kManifest, {{"propertyName", true}, {"value", true}}, columns, [&](const CsvRecord& r) {
          const std::string name = ascii_lowercase(csv_field(columns, r, "propertyName"));
          auto [it, inserted] =
              properties.emplace(name, std::make_pair(csv_field(columns, r, "value"), r.line));
          if (!inserted) {
            fail(kManifest, r.line, "propertyName",
                 "the same property is on line " + std::to_string(it->second.second));
          }
        });
    if (!usable) return false;
    if (auto it = properties.find("oneroster.version");
        it != properties.end() && it->second.first != "1.1") {
      fail(kManifest, it->second.second, "oneroster.version", "only OneRoster 1.1 is supported");
      return false;
    }
    const std::pair<const char*, OneRosterMode*> entries[] = {
        {kOrgs, &out_.modes.orgs},
        {kUsers, &out_.modes.users},
        {kClasses, &out_.modes.classes},
        {kEnrollments, &out_.modes.enrollments},
        {kDemographics, &out_.modes.demographics},
    };
    bool ok = true;
    for (const auto& [file, mode] : entries) {
      const std::string stem(file, std::string_view(file).find('.'));
      const std::string property = "file." + stem;
      auto it = properties.find(ascii_lowercase(property));
      const int line = it == properties.end() ? 1 : it->second.second;
      const std::string value = it == properties.end() ? "" : ascii_lowercase(it->second.first);
      if (value == "bulk") {
        *mode = OneRosterMode::kBulk;
      } else if (value == "delta") {
        *mode = OneRosterMode::kDelta;
      } else if (value == "absent" || it == properties.end()) {
        *mode = OneRosterMode::kAbsent;
      } else {
        fail(kManifest, line, property, "must be bulk, delta or absent");
        ok = false;
        continue;
      }
      const bool given = files_.count(file) != 0;
      if (*mode == OneRosterMode::kAbsent && given) {
        fail(kManifest, line, property,
             std::string(it == properties.end() ? "not listed" : "absent") + ", but " + file +
                 " was given");
        ok = false;
      } else if (*mode != OneRosterMode::kAbsent && !given) {
        fail(kManifest, line, property,
             std::string(oneroster_mode_name(*mode)) + ", but " + file + " was not given");
        ok = false;
      }
    }
    return ok;
  }

  void read_orgs() {
    if (out_.modes.orgs == OneRosterMode::kAbsent) return;
    CsvColumns columns;
    auto known = columns_with_status(
        out_.modes.orgs,
        {{"name", true}, {"type", true}, {"identifier", false}, {"parentSourcedId", false}});
    for_each_row(kOrgs, known, columns, [&](const CsvRecord& r) {
      auto key = read_key(kOrgs, orgs_, columns, r);
      if (!key) return;
      const auto& [id, deleted] = *key;
      out_.scope_orgs.insert(id);
      if (deleted) {
        if (out_.modes.orgs == OneRosterMode::kDelta) out_.deleted.orgs.push_back(id);
        return;
      }
      OneRosterOrg org;
      org.id = id;
      org.name = csv_field(columns, r, "name");
      check(kOrgs, r.line, validate_name("name", org.name));
      org.type = ascii_lowercase(csv_field(columns, r, "type"));
      static const std::set<std::string> kTypes = {"school", "district", "department",
                                                   "local",  "state",    "national"};
      if (kTypes.count(org.type) == 0) {
        fail(kOrgs, r.line, "type",
             "must be school, district, department, local, state or national");
      }
      orgs_[id].role = org.type;
      org.identifier = csv_field(columns, r, "identifier");
      org.parent_id = csv_field(columns, r, "parentSourcedId");
      if (!org.parent_id.empty()) {
        if (Status s = validate_id("parentSourcedId", org.parent_id); !s) {
          check(kOrgs, r.line, s);
        } else {
          references_.push_back({kOrgs, r.line, "parentSourcedId", org.parent_id});
        }
      }
      if (org.type == "school" || org.type == "district") out_.orgs.push_back(std::move(org));
    });
  }

  // The guardian's language from one of kLanguageColumns; "" when none has one.
  std::string read_language(const char* file, const CsvColumns& columns, const CsvRecord& r) {
    for (const char* column : kLanguageColumns) {
      const std::string value = csv_field(columns, r, column);
      if (value.empty()) continue;
      if (auto canonical = canonical_language(value)) return *canonical;
      check(file, r.line, validate_language(column, value));
      return {};
    }
    return {};
  }

  // Contact points from the email, sms and phone columns (see the header for the rules).
  void read_contacts(const CsvColumns& columns, const CsvRecord& r, Guardian& guardian) {
    const std::string email = csv_field(columns, r, "email");
    std::string sms;
    if (const std::string value = csv_field(columns, r, "sms"); !value.empty()) {
      if (auto e164 = normalize_phone(value)) {
        sms = *e164;
      } else {
        fail(kUsers, r.line, "sms", "must be a phone number like +15551234567 or (555) 123-4567");
      }
    }
    if (!sms.empty()) guardian.contacts.push_back({"sms", sms});
    if (!email.empty()) {
      if (Status s = validate_email("email", email); !s) {
        check(kUsers, r.line, s);
      } else {
        guardian.contacts.push_back({"email", normalize_email(email)});
      }
    }
    const std::string phone = csv_field(columns, r, "phone");
    if (!phone.empty() && csv_field(columns, r, "sms").empty()) {
      if (auto e164 = normalize_phone(phone)) {
        guardian.contacts.push_back({"sms", *e164});
      } else {
        fail(kUsers, r.line, "phone", "must be a phone number like +15551234567 or (555) 123-4567");
      }
    }
  }

  void read_users() {
    if (out_.modes.users == OneRosterMode::kAbsent) return;
    CsvColumns columns;
    auto known = columns_with_status(out_.modes.users, {{"enabledUser", true},
                                                        {"orgSourcedIds", true},
                                                        {"role", true},
                                                        {"username", true},
                                                        {"givenName", true},
                                                        {"familyName", true},
                                                        {"email", false},
                                                        {"sms", false},
                                                        {"phone", false},
                                                        {"agentSourcedIds", false},
                                                        {"grades", false}});
    for (const char* column : kLanguageColumns) known.push_back({column, false});
    for_each_row(kUsers, known, columns, [&](const CsvRecord& r) { read_user(columns, r); });
  }

  void read_user(const CsvColumns& columns, const CsvRecord& r) {
    auto key = read_key(kUsers, users_, columns, r);
    if (!key) return;
    const auto& [id, deleted] = *key;
    if (deleted) {
      if (out_.modes.users == OneRosterMode::kDelta) out_.deleted.users.push_back(id);
      return;
    }
    const std::string role = ascii_lowercase(csv_field(columns, r, "role"));
    users_[id].role = role;
    const bool student = role == "student";
    if (!student && !is_staff_role(role) && !is_guardian_role(role)) {
      if (role != "aide" && role != "proctor") {
        fail(kUsers, r.line, "role",
             "must be student, teacher, administrator, guardian, parent, relative, aide or "
             "proctor");
      }
      return;
    }
    const std::string given_name = csv_field(columns, r, "givenName");
    const std::string family_name = csv_field(columns, r, "familyName");
    check(kUsers, r.line, validate_name("givenName", given_name));
    check(kUsers, r.line, validate_name("familyName", family_name));

    std::vector<std::string> orgs = split_list(csv_field(columns, r, "orgSourcedIds"));
    for (const auto& org : orgs) {
      if (Status s = validate_id("orgSourcedIds", org); !s) {
        check(kUsers, r.line, s);
      } else {
        references_.push_back({kUsers, r.line, "orgSourcedIds", org});
        out_.scope_orgs.insert(org);
      }
    }
    std::vector<std::string> agents;
    if (student || is_guardian_role(role)) {
      agents = split_list(csv_field(columns, r, "agentSourcedIds"));
      for (const auto& agent : agents) check(kUsers, r.line, validate_id("agentSourcedIds", agent));
    }

    if (is_staff_role(role)) {
      Staff staff;
      staff.id = id;
      staff.name = given_name + " " + family_name;
      staff.role = role == "teacher" ? Role::kTeacher : Role::kAdmin;
      staff.email = csv_field(columns, r, "email");
      if (!staff.email.empty()) {
        if (Status s = validate_email("email", staff.email); !s) {
          check(kUsers, r.line, s);
        } else {
          staff.email = normalize_email(staff.email);
        }
      }
      if (!orgs.empty()) out_.user_orgs[id] = std::move(orgs);
      out_.staff.push_back(std::move(staff));
    } else if (student) {
      Student s;
      s.id = id;
      s.given_name = given_name;
      s.family_name = family_name;
      const auto grades = split_list(csv_field(columns, r, "grades"));
      if (!grades.empty()) {
        s.grade = grades.front();
        check(kUsers, r.line, validate_name("grades", s.grade));
      }
      if (!orgs.empty()) out_.user_orgs[id] = std::move(orgs);
      student_index_[id] = out_.students.size();
      out_.students.push_back(std::move(s));
      student_agents_.push_back({id, r.line, std::move(agents)});
    } else {
      Guardian g;
      g.id = id;
      g.given_name = given_name;
      g.family_name = family_name;
      g.language = read_language(kUsers, columns, r);
      read_contacts(columns, r, g);
      if (!orgs.empty()) out_.user_orgs[id] = std::move(orgs);
      guardian_index_[id] = out_.guardians.size();
      out_.guardians.push_back(std::move(g));
      guardian_agents_.push_back({id, r.line, std::move(agents)});
    }
  }

  void read_demographics() {
    if (out_.modes.demographics == OneRosterMode::kAbsent) return;
    const std::string* text = content(kDemographics);
    // Only the language extension is of use; without it the file (children's personal data) is
    // not read at all.
    CsvReader reader(*text);
    CsvRecord header;
    if (!reader.next_nonblank(header) || !header.error.empty()) return;
    bool has_language = false;
    for (const auto& field : header.fields) {
      for (const char* column : kLanguageColumns) {
        if (ascii_lowercase(trim_csv_field(field)) == ascii_lowercase(column)) has_language = true;
      }
    }
    if (!has_language) return;
    CsvColumns columns;
    std::vector<CsvColumn> known{{"sourcedId", true}, {"status", false}};
    for (const char* column : kLanguageColumns) known.push_back({column, false});
    for_each_row(kDemographics, known, columns, [&](const CsvRecord& r) {
      const std::string id = csv_field(columns, r, "sourcedId");
      if (ascii_lowercase(csv_field(columns, r, "status")) == "tobedeleted") return;
      auto it = guardian_index_.find(id);
      if (it == guardian_index_.end()) return;  // only guardians' languages are used
      Guardian& guardian = out_.guardians[it->second];
      if (!guardian.language.empty()) return;  // users.csv said it
      guardian.language = read_language(kDemographics, columns, r);
    });
  }

  void read_classes() {
    if (out_.modes.classes == OneRosterMode::kAbsent) return;
    CsvColumns columns;
    auto known = columns_with_status(out_.modes.classes, {{"title", true},
                                                          {"courseSourcedId", true},
                                                          {"classType", true},
                                                          {"schoolSourcedId", true},
                                                          {"termSourcedIds", true},
                                                          {"grades", false},
                                                          {"classCode", false},
                                                          {"periods", false}});
    for_each_row(kClasses, known, columns, [&](const CsvRecord& r) {
      auto key = read_key(kClasses, classes_, columns, r);
      if (!key) return;
      const auto& [id, deleted] = *key;
      if (deleted) {
        if (out_.modes.classes == OneRosterMode::kDelta) out_.deleted.classes.push_back(id);
        return;
      }
      OneRosterClass c;
      c.id = id;
      c.line = r.line;
      c.title = csv_field(columns, r, "title");
      check(kClasses, r.line, validate_name("title", c.title));
      c.school_id = csv_field(columns, r, "schoolSourcedId");
      if (Status s = validate_id("schoolSourcedId", c.school_id); !s) {
        check(kClasses, r.line, s);
      } else {
        references_.push_back({kClasses, r.line, "schoolSourcedId", c.school_id});
        out_.scope_orgs.insert(c.school_id);
      }
      c.course_id = csv_field(columns, r, "courseSourcedId");
      if (!c.course_id.empty()) {
        check(kClasses, r.line, validate_id("courseSourcedId", c.course_id));
      }
      c.class_code = csv_field(columns, r, "classCode");
      if (!c.class_code.empty()) check(kClasses, r.line, validate_name("classCode", c.class_code));
      c.grades = split_list(csv_field(columns, r, "grades"));
      for (const auto& grade : c.grades) check(kClasses, r.line, validate_name("grades", grade));
      c.periods = split_list(csv_field(columns, r, "periods"));
      for (const auto& period : c.periods) {
        check(kClasses, r.line, validate_name("periods", period));
      }
      out_.classes.push_back(std::move(c));
    });
  }

  void read_enrollments() {
    if (out_.modes.enrollments == OneRosterMode::kAbsent) return;
    CsvColumns columns;
    auto known = columns_with_status(out_.modes.enrollments, {{"classSourcedId", true},
                                                              {"schoolSourcedId", true},
                                                              {"userSourcedId", true},
                                                              {"role", true},
                                                              {"beginDate", false},
                                                              {"endDate", false}});
    std::map<std::string, Entry> seen;
    for_each_row(kEnrollments, known, columns, [&](const CsvRecord& r) {
      auto key = read_key(kEnrollments, seen, columns, r);
      if (!key) return;
      const auto& [id, deleted] = *key;
      if (deleted) {
        if (out_.modes.enrollments == OneRosterMode::kDelta) {
          out_.deleted.enrollments.push_back(id);
        }
        return;
      }
      OneRosterEnrollment e;
      e.id = id;
      e.line = r.line;
      e.class_id = csv_field(columns, r, "classSourcedId");
      e.user_id = csv_field(columns, r, "userSourcedId");
      e.role = ascii_lowercase(csv_field(columns, r, "role"));
      const std::string school = csv_field(columns, r, "schoolSourcedId");
      bool ok = true;
      for (const auto& [column, value] :
           {std::pair<const char*, const std::string*>{"classSourcedId", &e.class_id},
            {"userSourcedId", &e.user_id},
            {"schoolSourcedId", &school}}) {
        if (Status s = validate_id(column, *value); !s) {
          check(kEnrollments, r.line, s);
          ok = false;
        } else {
          references_.push_back({kEnrollments, r.line, column, *value});
        }
      }
      if (is_valid_id(school)) out_.scope_orgs.insert(school);
      e.begin_date = csv_field(columns, r, "beginDate");
      e.end_date = csv_field(columns, r, "endDate");
      for (const auto& [column, value] :
           {std::pair<const char*, const std::string*>{"beginDate", &e.begin_date},
            {"endDate", &e.end_date}}) {
        if (!value->empty() && !is_date(*value)) {
          fail(kEnrollments, r.line, column, "must be a date like 2026-08-24");
          ok = false;
        }
      }
      if (ok && !e.begin_date.empty() && !e.end_date.empty() && e.end_date < e.begin_date) {
        fail(kEnrollments, r.line, "endDate", "is before beginDate");
        ok = false;
      }
      static const std::set<std::string> kRoles = {"student", "teacher", "administrator", "proctor",
                                                   "aide"};
      if (kRoles.count(e.role) == 0) {
        fail(kEnrollments, r.line, "role",
             "must be student, teacher, administrator, proctor or aide");
        ok = false;
      }
      if (!ok) return;
      if (auto user = users_.find(e.user_id); user != users_.end() && !user->second.deleted) {
        const std::string& user_role = user->second.role;
        if (e.role == "student" && user_role != "student") {
          fail(kEnrollments, r.line, "role",
               "student, but user " + e.user_id + " is " + with_article(user_role) +
                   " in users.csv");
          return;
        }
        if (e.role == "teacher" && !is_staff_role(user_role)) {
          fail(kEnrollments, r.line, "role",
               "teacher, but user " + e.user_id + " is " + with_article(user_role) +
                   " in users.csv");
          return;
        }
      }
      if (e.role == "student") {
        append_unique(student_classes_[e.user_id], e.class_id);
      } else if (e.role == "teacher") {
        append_unique(class_teachers_[e.class_id], e.user_id);
      }
      out_.enrollments.push_back(std::move(e));
    });
  }

  // Where references of `column` point: the index, its file and mode.
  struct Target {
    const std::map<std::string, Entry>* index;
    const char* file;
    OneRosterMode mode;
    const char* what;
  };
  Target target_of(const std::string& column) const {
    if (column == "classSourcedId") return {&classes_, kClasses, out_.modes.classes, "class"};
    if (column == "userSourcedId" || column == "agentSourcedIds") {
      return {&users_, kUsers, out_.modes.users, "user"};
    }
    return {&orgs_, kOrgs, out_.modes.orgs, "org"};
  }

  // Checks that a referred id exists (when its file is bulk) and is not deleted by this import;
  // the referred entry, or null.
  const Entry* resolve(const Reference& ref) {
    const Target target = target_of(ref.column);
    auto it = target.index->find(ref.id);
    if (it != target.index->end() && it->second.deleted) {
      fail(ref.from_file, ref.line, ref.column,
           std::string(target.what) + " " + ref.id + " is tobedeleted in " + target.file);
      return nullptr;
    }
    if (it == target.index->end()) {
      if (target.mode == OneRosterMode::kBulk) {
        fail(ref.from_file, ref.line, ref.column,
             std::string(target.what) + " " + ref.id + " is not in " + target.file);
      }
      return nullptr;
    }
    return &it->second;
  }

  void check_references() {
    for (const auto& ref : references_) resolve(ref);
  }

  void link_guardians() {
    for (const Agents& student_agents : student_agents_) {
      Student& student = out_.students[student_index_.at(student_agents.user_id)];
      for (const auto& agent : student_agents.ids) {
        if (!is_valid_id(agent)) continue;  // reported
        const Entry* entry = resolve({kUsers, student_agents.line, "agentSourcedIds", agent});
        if (entry == nullptr) {
          // Not in a delta import (rather than deleted by it): a guardian the caller stores.
          if (out_.modes.users != OneRosterMode::kBulk && users_.count(agent) == 0) {
            add_link(student.guardians, agent, "");
          }
          continue;
        }
        if (!is_guardian_role(entry->role)) {
          fail(kUsers, student_agents.line, "agentSourcedIds",
               "user " + agent + " is " + with_article(entry->role) +
                   ", not a guardian, parent or relative");
          continue;
        }
        add_link(student.guardians, agent, entry->role);
      }
    }
    for (const Agents& guardian_agents : guardian_agents_) {
      const std::string& guardian_id = guardian_agents.user_id;
      const std::string& role = users_.at(guardian_id).role;
      for (const auto& agent : guardian_agents.ids) {
        if (!is_valid_id(agent)) continue;  // reported
        const Entry* entry = resolve({kUsers, guardian_agents.line, "agentSourcedIds", agent});
        if (entry == nullptr) {
          if (out_.modes.users != OneRosterMode::kBulk && users_.count(agent) == 0) {
            add_link(out_.stored_student_links[agent], guardian_id, role);
          }
          continue;
        }
        auto student = student_index_.find(agent);
        if (entry->role != "student" || student == student_index_.end()) {
          fail(kUsers, guardian_agents.line, "agentSourcedIds",
               "user " + agent + " is " + with_article(entry->role) + ", not a student");
          continue;
        }
        add_link(out_.students[student->second].guardians, guardian_id, role);
      }
    }
  }

  static void add_link(std::vector<GuardianLink>& links, const std::string& guardian_id,
                       const std::string& relationship) {
    for (const auto& link : links) {
      if (link.guardian_id == guardian_id) return;
    }
    links.push_back({guardian_id, relationship, true});
  }

  void link_teachers() {
    for (Student& student : out_.students) {
      auto classes = student_classes_.find(student.id);
      if (classes == student_classes_.end()) continue;
      for (const auto& class_id : classes->second) {
        auto teachers = class_teachers_.find(class_id);
        if (teachers == class_teachers_.end()) continue;
        for (const auto& teacher : teachers->second) append_unique(student.staff, teacher);
      }
    }
  }

  const std::map<std::string, std::string>& files_;
  OneRosterImport out_;
  std::map<std::string, std::vector<CsvError>> errors_;
  std::map<std::string, Entry> orgs_;
  std::map<std::string, Entry> users_;
  std::map<std::string, Entry> classes_;
  std::map<std::string, std::size_t> student_index_;
  std::map<std::string, std::size_t> guardian_index_;
  std::vector<Agents> student_agents_;                               // in file order
  std::vector<Agents> guardian_agents_;                              // in file order
  std::map<std::string, std::vector<std::string>> student_classes_;  // in enrollment order
  std::map<std::string, std::vector<std::string>> class_teachers_;   // in enrollment order
  std::vector<Reference> references_;
};

}  // namespace

const char* oneroster_mode_name(OneRosterMode mode) {
  switch (mode) {
    case OneRosterMode::kBulk:
      return "bulk";
    case OneRosterMode::kDelta:
      return "delta";
    case OneRosterMode::kAbsent:
      break;
  }
  return "absent";
}

Result<OneRosterImport> parse_oneroster(const std::map<std::string, std::string>& files,
                                        std::vector<CsvError>* errors) {
  return OneRosterParser(files).run(errors);
}

Result<std::map<std::string, std::string>> read_oneroster_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::not_found("not a directory: " + dir.string());
  }
  std::map<std::string, std::string> files;
  for (const char* name : kFiles) {
    const std::filesystem::path path = dir / name;
    if (!std::filesystem::exists(path, ec)) {
      if (std::string_view(name) == kManifest) {
        return Status::not_found("no manifest.csv in " + dir.string());
      }
      continue;
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return Status::unavailable("cannot read " + path.string() + ": " + ec.message());
    if (size > kMaxFileBytes) {
      return Status(Code::kTooLarge, path.string() + " is larger than 1 GiB");
    }
    std::ifstream in(path, std::ios::binary);
    std::string text(static_cast<std::size_t>(size), '\0');
    if (!in || !in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
      return Status::unavailable("cannot read " + path.string());
    }
    files.emplace(name, std::move(text));
  }
  return files;
}

}  // namespace homeroom
