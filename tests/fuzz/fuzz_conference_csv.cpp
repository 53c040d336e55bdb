// Fuzzes parse_conference_csv: any bytes must give slots or a list of errors, never a crash, and
// every accepted slot must pass the rules PUT /v1/conferences applies (validate_conference), with
// each conference_id once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>
#include <vector>

#include "roster/conference_csv.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<homeroom::CsvError> errors;
  auto result = homeroom::parse_conference_csv(text, "fuzz.csv", &errors);
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
  std::set<std::string> ids;
  int previous = 0;
  for (const auto& row : *result) {
    require(row.line > previous);
    previous = row.line;
    require(homeroom::validate_conference(row.conference).is_ok());
    require(ids.insert(row.conference.id).second);
  }
  return 0;
}
