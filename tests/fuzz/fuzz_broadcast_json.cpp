// Fuzzes POST /v1/broadcasts' reader (api/broadcast_json.h): any bytes must give a request or a
// 422-style error naming a field, never a crash; an accepted request has an audience, at least one
// template, and every per-student variable the templates need in each student's variables.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "api/broadcast_json.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  auto r = homeroom::api::broadcast_from_json(j);
  if (!r.is_ok()) {
    require(r.status().code() == homeroom::Code::kInvalidArgument);
    require(!r.status().field().empty());
    return 0;
  }
  require(!r->audience_kind.empty());
  require(!r->templates.empty());
  for (const auto& [student, vars] : r->variables) {
    auto v = nlohmann::json::parse(vars);
    for (const auto& name : r->needed_variables) require(v.contains(name));
  }
  return 0;
}
