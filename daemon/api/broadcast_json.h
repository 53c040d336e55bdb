// POST /v1/broadcasts as the HTTP API contract writes it (docs/api.md), parsed and validated with
// every error naming its field: "audience.grades[2]", "template.es" (a template that does not
// parse, or a variable nobody provides, named in the message), "variables.s7" (a student whose
// variables lack one the templates use). Pure; no store, no HTTP.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace homeroom::api {

struct BroadcastRequest {
  // "all" | "schools" | "grades" | "teachers" | "classes" | "students"
  std::string audience_kind;
  std::vector<std::string> audience_values;
  std::string category = "reminder";
  std::map<std::string, std::string> templates;  // language -> Mustache source
  std::map<std::string, std::string> variables;  // student id -> JSON object (dumped)
  std::set<std::string> needed_variables;        // per-student names the templates use
  std::optional<Millis> send_at;
};

// The names every broadcast template may use besides the per-student variables.
const std::set<std::string>& broadcast_roster_variables();

Result<BroadcastRequest> broadcast_from_json(const nlohmann::json& j);

}  // namespace homeroom::api
