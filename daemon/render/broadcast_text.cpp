#include "render/broadcast_text.h"

#include <nlohmann/json.hpp>

#include "render/template.h"

namespace homeroom::render {
namespace {

bool is_roster_name(const std::string& key) {
  return key == "guardian" || key == "student" || key == "staff" || key == "school";
}

// Whether the template uses a name that one of the contexts provides as a per-student variable.
bool uses_student_variables(const Template& t, const nlohmann::json& contexts) {
  for (const auto& name : t.variables()) {
    const std::string head = name.substr(0, name.find('.'));
    if (is_roster_name(head)) continue;
    for (const auto& c : contexts) {
      if (c.is_object() && c.contains(head)) return true;
    }
  }
  return false;
}

}  // namespace

Result<std::string> fill_broadcast_text(const LeasedDelivery& d, const std::string& school_name) {
  auto t = Template::parse(d.text);
  if (!t.is_ok()) return t.status();
  auto contexts = nlohmann::json::parse(d.template_contexts, nullptr, /*allow_exceptions=*/false);
  if (!contexts.is_array() || contexts.empty()) {
    return Status::invalid("template_contexts", "no student to name in this copy");
  }
  for (auto& c : contexts) {
    if (!c.is_object()) return Status::invalid("template_contexts", "not an object");
    auto& school = c["school"];
    if (!school.is_object()) school = nlohmann::json::object();
    if (school.value("name", "").empty()) school["name"] = school_name;
  }
  if (contexts.size() == 1 || !uses_student_variables(*t, contexts)) {
    nlohmann::json context = contexts.front();
    context["student"]["given_name"] = d.student_given_name;
    return t->render(context, Escape::kNone);
  }
  std::string out;
  for (const auto& c : contexts) {
    auto text = t->render(c, Escape::kNone);
    if (!text.is_ok()) return text.status();
    while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
    if (!out.empty()) out += "\n\n";
    out += *text;
  }
  return out;
}

}  // namespace homeroom::render
