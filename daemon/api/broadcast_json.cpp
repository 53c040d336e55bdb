#include "api/broadcast_json.h"

#include "render/template.h"
#include "roster/validate.h"

namespace homeroom::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxTemplateBytes = 16 * 1024;

#define RETURN_IF_ERROR(expr)                       \
  do {                                              \
    if (Status s_ = (expr); !s_.is_ok()) return s_; \
  } while (0)

bool is_roster_head(const std::string& name) {
  return name == "guardian" || name == "student" || name == "staff" || name == "school";
}

std::string head_of(const std::string& name) { return name.substr(0, name.find('.')); }

Result<std::vector<std::string>> string_list(const json& j, const std::string& field) {
  if (!j.is_array() || j.empty()) return Status::invalid(field, "expected a non-empty array");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    if (!j[i].is_string() || j[i].get<std::string>().empty()) {
      return Status::invalid(at, "expected a non-empty string");
    }
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

Status read_audience(const json& j, BroadcastRequest& out) {
  if (!j.is_object() || j.size() != 1) {
    return Status::invalid("audience",
                           "expected one of {\"all\": true}, {\"schools\": [...]}, "
                           "{\"grades\": [...]}, {\"teachers\": [...]}, {\"classes\": [...]}, "
                           "{\"students\": [...]}");
  }
  const std::string key = j.begin().key();
  const json& value = j.begin().value();
  const std::string field = "audience." + key;
  if (key == "all") {
    if (!value.is_boolean() || !value.get<bool>()) return Status::invalid(field, "expected true");
    out.audience_kind = "all";
    return Status{};
  }
  if (key != "schools" && key != "grades" && key != "teachers" && key != "classes" &&
      key != "students") {
    return Status::invalid(
        field, "unknown audience; use all, schools, grades, teachers, classes or students");
  }
  auto values = string_list(value, field);
  if (!values.is_ok()) return values.status();
  if (key != "grades") {
    for (std::size_t i = 0; i < values->size(); ++i) {
      RETURN_IF_ERROR(validate_id(field + "[" + std::to_string(i) + "]", (*values)[i]));
    }
  }
  out.audience_kind = key;
  out.audience_values = std::move(*values);
  return Status{};
}

}  // namespace

const std::set<std::string>& broadcast_roster_variables() {
  static const std::set<std::string> kNames{
      "guardian.given_name", "guardian.family_name", "student.given_name", "student.family_name",
      "student.grade",       "staff.name",           "school.name"};
  return kNames;
}

Result<BroadcastRequest> broadcast_from_json(const json& j) {
  if (!j.is_object()) return Status::invalid("body", "expected a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "audience" && key != "category" && key != "template" && key != "variables" &&
        key != "send_at") {
      return Status::invalid(key.empty() ? "\"\"" : key, "unknown field");
    }
  }
  BroadcastRequest out;
  auto audience = j.find("audience");
  if (audience == j.end()) return Status::invalid("audience", "required");
  RETURN_IF_ERROR(read_audience(*audience, out));

  if (auto it = j.find("category"); it != j.end()) {
    if (!it->is_string()) return Status::invalid("category", "expected a string");
    out.category = it->get<std::string>();
    if (out.category != "note" && out.category != "reminder" && out.category != "urgent") {
      return Status::invalid("category", "expected \"note\", \"reminder\" or \"urgent\"");
    }
  }

  // Per-student variables first: their names are what the templates may use besides the roster's.
  std::set<std::string> allowed = broadcast_roster_variables();
  std::map<std::string, json> variables;
  if (auto it = j.find("variables"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Status::invalid("variables", "expected an object by student id");
    for (const auto& [student, vars] : it->items()) {
      const std::string field = "variables." + student;
      RETURN_IF_ERROR(validate_id(field, student));
      if (!vars.is_object()) return Status::invalid(field, "expected an object of variables");
      for (const auto& [name, value] : vars.items()) {
        if (name.empty() || name.find('.') != std::string::npos || is_roster_head(name)) {
          return Status::invalid(field + "." + name,
                                 "a variable name must be non-empty, without '.', and not "
                                 "guardian, student, staff or school");
        }
        if (value.is_null() || (value.is_string() && value.get<std::string>().empty())) {
          return Status::invalid(field + "." + name, "empty: a family would see a blank");
        }
        allowed.insert(name);
        if (value.is_object()) allowed.insert(name + ".*");
      }
      variables[student] = vars;
    }
  }

  auto tmpl = j.find("template");
  if (tmpl == j.end()) return Status::invalid("template", "required");
  if (!tmpl->is_object() || tmpl->empty()) {
    return Status::invalid("template", "expected an object of templates by language");
  }
  for (const auto& [language, source] : tmpl->items()) {
    const std::string field = "template." + language;
    RETURN_IF_ERROR(validate_language(field, language));
    if (!source.is_string() || source.get<std::string>().empty()) {
      return Status::invalid(field, "expected a non-empty string");
    }
    const std::string& text = source.get_ref<const std::string&>();
    if (text.size() > kMaxTemplateBytes) {
      return Status::invalid(field, "at most " + std::to_string(kMaxTemplateBytes) + " bytes");
    }
    auto parsed = render::Template::parse(text);
    if (!parsed.is_ok()) return Status::invalid(field, parsed.status().message());
    auto unknown = render::unknown_variables(*parsed, allowed);
    if (!unknown.empty()) {
      std::string names;
      for (const auto& n : unknown) names += (names.empty() ? "{{" : ", {{") + n + "}}";
      return Status::invalid(field, "unknown variable " + names +
                                        "; known: the roster's (guardian.given_name, "
                                        "student.given_name, staff.name, ...) and the keys of "
                                        "\"variables\"");
    }
    for (const auto& name : parsed->variables()) {
      if (!is_roster_head(head_of(name)) && allowed.count(head_of(name))) {
        out.needed_variables.insert(head_of(name));
      }
    }
    out.templates[language] = text;
  }
  for (const auto& [student, vars] : variables) {
    for (const auto& name : out.needed_variables) {
      if (!vars.contains(name)) {
        return Status::invalid("variables." + student,
                               "no value for " + name + ", which the template uses");
      }
    }
    out.variables[student] = vars.dump();
  }

  if (auto it = j.find("send_at"); it != j.end() && !it->is_null()) {
    Millis t = 0;
    if (!it->is_string() || !parse_rfc3339(it->get<std::string>(), t)) {
      return Status::invalid("send_at", "expected an RFC 3339 time, e.g. 2026-11-23T17:30:00Z");
    }
    out.send_at = t;
  }
  return out;
}

}  // namespace homeroom::api
