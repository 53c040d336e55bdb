// The roster as the HTTP API contract writes it (docs/api.md): JSON <-> domain values, with every
// validation error naming its field ("contacts[1].address"). Unknown fields are refused, so a typo
// such as "contact_alowed" can never silently fall back to a default.
#pragma once

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "core/status.h"

namespace homeroom::api {

Result<School> school_from_json(const std::string& id, const nlohmann::json& j);
Result<Staff> staff_from_json(const std::string& id, const nlohmann::json& j);
Result<Guardian> guardian_from_json(const std::string& id, const nlohmann::json& j);
Result<Student> student_from_json(const std::string& id, const nlohmann::json& j);
Result<NewMessage> message_from_json(const nlohmann::json& j);

nlohmann::json to_json(const School& s);
nlohmann::json to_json(const Staff& s);
// Addresses are shown in full: only admins read guardians.
nlohmann::json to_json(const Guardian& g);
nlohmann::json to_json(const Student& s);

}  // namespace homeroom::api
