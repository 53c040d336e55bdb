#include "store/json_codec.h"

namespace homeroom::store {

nlohmann::json preferences_to_json(const Preferences& p) {
  nlohmann::json j = nlohmann::json::object();
  j["channels"] = p.channels;
  if (p.quiet_hours)
    j["quiet_hours"] = {{"start", p.quiet_hours->start}, {"end", p.quiet_hours->end}};
  j["categories"] = p.categories;
  if (p.digest_time) j["digest_time"] = *p.digest_time;
  return j;
}

Preferences preferences_from_json(const nlohmann::json& j) {
  Preferences p;
  if (j.contains("channels")) p.channels = j.at("channels").get<std::vector<std::string>>();
  if (j.contains("quiet_hours")) {
    const auto& q = j.at("quiet_hours");
    p.quiet_hours = QuietHours{q.at("start").get<std::string>(), q.at("end").get<std::string>()};
  }
  if (j.contains("categories")) {
    p.categories = j.at("categories").get<std::map<std::string, std::string>>();
  }
  if (j.contains("digest_time")) p.digest_time = j.at("digest_time").get<std::string>();
  return p;
}

}  // namespace homeroom::store
