// Fuzzes POST /v1/imports/oneroster's reader (api/import_json.h): any JSON must give an upload with
// a manifest.csv and only plain .csv names, or a 422-style error naming a field, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "api/import_json.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  auto r = homeroom::api::oneroster_upload_from_json(j);
  if (!r.is_ok()) {
    require(r.status().code() == homeroom::Code::kInvalidArgument);
    require(!r.status().field().empty());
    return 0;
  }
  require(r->files.count("manifest.csv") == 1);
  for (const auto& [name, content] : r->files) {
    require(name.size() > 4 && name.find('/') == std::string_view::npos);
  }
  return 0;
}
