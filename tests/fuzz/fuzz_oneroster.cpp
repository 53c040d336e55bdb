// Fuzzes parse_oneroster: the input is split at NUL bytes into manifest.csv, orgs.csv, users.csv,
// classes.csv, enrollments.csv and demographics.csv (an empty part: the file is not given). Any
// input must give an import or errors, never a crash; errors are in file then line order, and an
// accepted import must hold only what the store can take (valid ids and names, dates as
// YYYY-MM-DD with the end not before the beginning, each class's school among the orgs named).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "roster/oneroster.h"
#include "roster/validate.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

constexpr const char* kNames[] = {"manifest.csv", "orgs.csv",        "users.csv",
                                  "classes.csv",  "enrollments.csv", "demographics.csv"};
constexpr std::size_t kFileCount = sizeof(kNames) / sizeof(kNames[0]);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> files;
  for (std::size_t i = 0; i < kFileCount; ++i) {
    const auto nul = input.find('\0');
    const std::string_view part = input.substr(0, nul);
    if (!part.empty()) files.emplace(kNames[i], std::string(part));
    if (nul == std::string_view::npos) break;
    input.remove_prefix(nul + 1);
  }

  std::vector<homeroom::CsvError> errors;
  auto result = homeroom::parse_oneroster(files, &errors);
  if (!result.is_ok()) {
    require(result.status().code() == homeroom::Code::kInvalidArgument);
    require(!errors.empty());
    const std::vector<std::string> order = {"manifest.csv",     "orgs.csv",    "users.csv",
                                            "demographics.csv", "classes.csv", "enrollments.csv"};
    std::size_t file_rank = 0;
    int previous_line = 0;
    for (const auto& e : errors) {
      require(e.line >= 1 && !e.message.empty());
      std::size_t rank = 0;
      while (rank < order.size() && order[rank] != e.file) ++rank;
      require(rank < order.size() && rank >= file_rank);
      if (rank != file_rank) previous_line = 0;
      require(e.line >= previous_line);
      file_rank = rank;
      previous_line = e.line;
    }
    return 0;
  }
  require(errors.empty());
  const homeroom::OneRosterImport& r = *result;
  std::set<std::string> guardian_ids;
  for (const auto& g : r.guardians) {
    require(homeroom::validate_id("id", g.id).is_ok());
    require(homeroom::validate_name("n", g.given_name).is_ok());
    require(guardian_ids.insert(g.id).second);
    require(g.language.empty() || homeroom::canonical_language(g.language) == g.language);
    for (const auto& c : g.contacts) {
      if (c.channel == "sms") {
        require(homeroom::validate_e164_phone("sms", c.address).is_ok());
      } else {
        require(c.channel == "email");
        require(homeroom::validate_email("email", c.address).is_ok());
      }
    }
  }
  std::set<std::string> student_ids;
  for (const auto& s : r.students) {
    require(homeroom::validate_id("id", s.id).is_ok());
    require(student_ids.insert(s.id).second);
    std::set<std::string> linked;
    for (const auto& link : s.guardians) {
      require(linked.insert(link.guardian_id).second);
      require(link.contact_allowed);
      if (r.modes.users == homeroom::OneRosterMode::kBulk) {
        require(guardian_ids.count(link.guardian_id) == 1);
      }
    }
    require(std::set<std::string>(s.staff.begin(), s.staff.end()).size() == s.staff.size());
  }
  for (const auto& st : r.staff) {
    require(homeroom::validate_id("id", st.id).is_ok());
    require(st.email.empty() || homeroom::validate_email("email", st.email).is_ok());
  }
  std::set<std::string> class_ids;
  for (const auto& c : r.classes) {
    require(homeroom::validate_id("id", c.id).is_ok() && class_ids.insert(c.id).second);
    require(homeroom::validate_id("school", c.school_id).is_ok());
    require(homeroom::validate_name("title", c.title).is_ok() && c.line >= 2);
    require(r.scope_orgs.count(c.school_id) == 1);
    for (const auto& g : c.grades) require(homeroom::validate_name("grades", g).is_ok());
    for (const auto& p : c.periods) require(homeroom::validate_name("periods", p).is_ok());
  }
  for (const auto& e : r.enrollments) {
    require(homeroom::validate_id("id", e.id).is_ok() && e.line >= 2);
    require(homeroom::validate_id("class", e.class_id).is_ok());
    require(homeroom::validate_id("user", e.user_id).is_ok());
    for (const std::string* date : {&e.begin_date, &e.end_date}) {
      require(date->empty() || (date->size() == 10 && (*date)[4] == '-' && (*date)[7] == '-'));
    }
    require(e.begin_date.empty() || e.end_date.empty() || e.begin_date <= e.end_date);
  }
  return 0;
}
