// Builders shared by the routing tests: rosters, messages and instants written as local wall-clock
// times, so each table row reads like the case it checks.
#pragma once

#include <date/tz.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/model.h"

namespace homeroom::routing_test {

// The instant of a local wall-clock time in `zone` (earliest reading in a DST overlap).
inline Millis at(const std::string& zone, int y, unsigned m, unsigned d, int hh, int mm) {
  const auto local = date::local_days{date::year{y} / date::month{m} / date::day{d}} +
                     std::chrono::hours{hh} + std::chrono::minutes{mm};
  const auto sys = date::locate_zone(zone)->to_sys(local, date::choose::earliest);
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

inline Millis utc(int y, unsigned m, unsigned d, int hh, int mm) {
  return at("UTC", y, m, d, hh, mm);
}

// "YYYY-MM-DD HH:MM" local to `zone`.
inline std::string local_text(const std::string& zone, Millis t) {
  const date::zoned_time<std::chrono::milliseconds> z{
      zone, date::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{t}}};
  return date::format("%Y-%m-%d %H:%M", date::floor<std::chrono::minutes>(z.get_local_time()));
}

inline Guardian guardian(std::string id, std::vector<ContactPoint> contacts,
                         std::string timezone = "UTC", std::string language = "en") {
  Guardian g;
  g.id = std::move(id);
  g.given_name = "G";
  g.family_name = "F";
  g.language = std::move(language);
  g.timezone = std::move(timezone);
  g.contacts = std::move(contacts);
  return g;
}

inline StudentRoster student(std::string id, std::vector<std::pair<Guardian, bool>> guardians) {
  StudentRoster r;
  r.student.id = std::move(id);
  for (auto& [g, allowed] : guardians) {
    r.student.guardians.push_back({g.id, "parent", allowed});
    r.guardians.push_back(g);
  }
  return r;
}

inline NewMessage message(std::string category = "note") {
  NewMessage m;
  m.id = "msg_1";
  m.category = std::move(category);
  m.body = "Maya finished her lab report early.";
  return m;
}

}  // namespace homeroom::routing_test
