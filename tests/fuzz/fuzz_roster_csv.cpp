// Fuzzes parse_roster_csv: any bytes must give a roster or a list of errors, never a crash, and
// an accepted roster must be one the store can take as is.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "roster/roster_csv.h"
#include "roster/validate.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<homeroom::CsvError> errors;
  auto result = homeroom::parse_roster_csv(text, "fuzz.csv", &errors);
  if (!result.is_ok()) {
    require(result.status().code() == homeroom::Code::kInvalidArgument);
    require(!errors.empty());
    int previous = 0;
    for (const auto& e : errors) {
      require(e.line >= 1 && e.line >= previous);  // in line order
      require(!e.message.empty());
      previous = e.line;
    }
    return 0;
  }
  require(errors.empty());
  const homeroom::RosterImport& roster = *result;
  for (const auto& guardian : roster.guardians) {
    require(homeroom::validate_id("id", guardian.id).is_ok());
    require(!guardian.contacts.empty());
    require(guardian.contacts.size() == guardian.preferences.channels.size());
    for (const auto& contact : guardian.contacts) {
      if (contact.channel == "sms") {
        require(homeroom::validate_e164_phone("phone", contact.address).is_ok());
      } else {
        require(contact.channel == "email");
        require(homeroom::validate_email("email", contact.address).is_ok());
      }
    }
    require(homeroom::canonical_language(guardian.language) == guardian.language);
    require(roster.guardian_first_line.count(guardian.id) == 1);
  }
  for (const auto& student : roster.students) {
    require(!student.staff.empty() && !student.guardians.empty());
    for (const auto& teacher : student.staff) {
      require(roster.teacher_first_line.count(teacher) == 1);
    }
  }
  return 0;
}
