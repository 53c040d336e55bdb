// The body of PUT /v1/conferences/{id} (docs/api.md "Conferences"):
//   {"student_id": "s1", "staff_id": "t1", "starts_at": "2026-11-24T15:00:00-06:00",
//    "duration_minutes": 20, "place": "Room 12", "note": "Bring the report card"}
// note is optional. Read-only fields of a GET answer (state, created_at, updated_at,
// cancelled_at, reminders) are ignored, so what GET shows can be PUT back; any other unknown
// field is refused. Pure; fuzzed by tests/fuzz/fuzz_api_json.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/model.h"
#include "core/status.h"

namespace homeroom::api {

// kInvalidArgument naming the field ("starts_at", "duration_minutes", ...). `id` is the path's.
Result<Conference> conference_from_json(const std::string& id, const nlohmann::json& j);
// The slot's own fields, as PUT takes them (starts_at in UTC, RFC 3339).
nlohmann::json to_json(const Conference& c);

}  // namespace homeroom::api
