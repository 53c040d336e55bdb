// Fuzzes the Mustache templates: any bytes must parse or give a positioned error, never crash;
// a parsed template must render within its limits, the same bytes every time, against a context
// with nested objects and lists (and, after a NUL byte, a JSON context taken from the input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "render/template.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

const nlohmann::json& fixed_context() {
  static const nlohmann::json kContext = nlohmann::json::parse(R"({
    "guardian": {"given_name": "Ana & <Bo>", "family_name": "O'Neil"},
    "student": {"given_name": "Maya", "grade": "5", "absent": false, "empty": ""},
    "staff": {"name": "Ms. \"Lee\""},
    "list": [1, 2.5, "three", null, true, {"x": "y", "list": [[1], [2, 3]]}],
    "nested": {"a": {"b": {"c": [{"d": "e"}, {"d": "f"}]}}},
    "n": 42, "t": true, "f": false, "z": null
  })");
  return kContext;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  const std::string_view source = input.substr(0, nul);
  nlohmann::json context = fixed_context();
  if (nul != std::string_view::npos) {
    auto parsed = nlohmann::json::parse(input.substr(nul + 1), nullptr, false);
    if (!parsed.is_discarded()) context = std::move(parsed);
  }

  auto parsed = homeroom::render::Template::parse(source);
  if (!parsed.is_ok()) {
    require(parsed.status().code() == homeroom::Code::kInvalidArgument);
    require(parsed.status().field() == "template");
    const std::string& message = parsed.status().message();
    const auto colon = message.find(':');
    require(colon != std::string::npos && colon > 0);
    require(message.find(": ", colon + 1) != std::string::npos);  // "line:column: ..."
    return 0;
  }
  const homeroom::render::Template& t = *parsed;
  const std::set<std::string> names = t.variables();
  const auto& refs = t.references();
  for (std::size_t index = 0; index < refs.size(); ++index) {
    const auto& ref = refs[index];
    require(ref.line >= 1 && ref.column >= 1);
    require(ref.name == "." || names.count(ref.name) == 1);
    require(ref.section < static_cast<int>(index));  // sections come before what they hold
    int depth = 0;
    for (int i = ref.section; i >= 0; i = refs[static_cast<std::size_t>(i)].section) {
      require(refs[static_cast<std::size_t>(i)].is_section);
      ++depth;
    }
    require(depth <= homeroom::render::Template::kMaxDepth);
  }
  const std::set<std::string> allowed = {"guardian.given_name", "student.given_name", "vars.*",
                                         "list", "nested.a.b.c"};
  for (const auto& name : homeroom::render::unknown_variables(t, allowed)) {
    require(name == "." || names.count(name) == 1);
    require(allowed.count(name) == 0);
  }

  homeroom::render::RenderLimits limits;
  limits.max_output_bytes = 1 << 16;
  limits.max_steps = 1 << 16;
  for (auto escape : {homeroom::render::Escape::kNone, homeroom::render::Escape::kHtml}) {
    auto first = t.render(context, escape, limits);
    auto second = t.render(context, escape, limits);
    require(first.is_ok() == second.is_ok());
    if (!first.is_ok()) {
      require(first.status().code() == homeroom::Code::kTooLarge);
      continue;
    }
    require(first->size() <= limits.max_output_bytes);
    require(*first == *second);
  }
  return 0;
}
