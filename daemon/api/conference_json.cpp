#include "api/conference_json.h"

#include <set>

#include "roster/conference_csv.h"

namespace homeroom::api {
namespace {

using nlohmann::json;

Status read_text(const json& j, const char* key, std::string& out, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? Status::invalid(key, "is required") : Status{};
  }
  if (!it->is_string()) return Status::invalid(key, "expected a string");
  out = it->get<std::string>();
  return {};
}

}  // namespace

Result<Conference> conference_from_json(const std::string& id, const json& j) {
  if (!j.is_object()) return Status::invalid("body", "expected a JSON object");
  static const std::set<std::string> kFields{
      "id", "student_id", "staff_id", "starts_at", "duration_minutes", "place", "note"};
  static const std::set<std::string> kReadOnly{"state", "created_at", "updated_at", "cancelled_at",
                                               "reminders"};
  for (const auto& [key, _] : j.items()) {
    if (!kFields.count(key) && !kReadOnly.count(key)) {
      return Status::invalid(key.empty() ? "\"\"" : key, "unknown field");
    }
  }
  if (auto it = j.find("id"); it != j.end() && (!it->is_string() || *it != id)) {
    return Status::invalid("id", "does not match the id in the path");
  }
  Conference c;
  c.id = id;
  if (Status s = read_text(j, "student_id", c.student_id, true); !s) return s;
  if (Status s = read_text(j, "staff_id", c.staff_id, true); !s) return s;
  std::string starts_at;
  if (Status s = read_text(j, "starts_at", starts_at, true); !s) return s;
  if (!parse_rfc3339(starts_at, c.starts_at)) {
    return Status::invalid("starts_at",
                           "expected an RFC 3339 time with its offset, e.g. "
                           "2026-11-24T15:00:00-06:00");
  }
  auto minutes = j.find("duration_minutes");
  if (minutes == j.end() || minutes->is_null()) {
    return Status::invalid("duration_minutes", "is required");
  }
  if (!minutes->is_number_integer() || minutes->get<std::int64_t>() < 1 ||
      minutes->get<std::int64_t>() > kMaxConferenceMinutes) {
    return Status::invalid("duration_minutes", "expected whole minutes from 1 to 480");
  }
  c.duration_minutes = minutes->get<int>();
  if (Status s = read_text(j, "place", c.place, true); !s) return s;
  if (Status s = read_text(j, "note", c.note, false); !s) return s;
  if (Status s = validate_conference(c); !s) return s;
  return c;
}

json to_json(const Conference& c) {
  json out = {{"id", c.id},
              {"student_id", c.student_id},
              {"staff_id", c.staff_id},
              {"starts_at", format_rfc3339(c.starts_at)},
              {"duration_minutes", c.duration_minutes},
              {"place", c.place}};
  if (!c.note.empty()) out["note"] = c.note;
  return out;
}

}  // namespace homeroom::api
