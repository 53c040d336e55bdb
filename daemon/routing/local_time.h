// Wall-clock arithmetic in a family's time zone, for quiet hours and digest times. Uses the system
// tz database through howardhinnant date/tz; every function is pure apart from reading it.
// Local times that do not exist (a DST gap) resolve to the transition instant; local times that
// occur twice (a DST overlap) resolve as each function says.
#pragma once

#include <date/tz.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace homeroom::routing {

// "HH:MM" (00:00 to 23:59) as minutes since local midnight; nullopt when it does not parse.
std::optional<int> parse_clock_time(std::string_view text);
std::string format_clock_time(int minute_of_day);

// The zone named `name`, else the one named `fallback`, else UTC. Never null.
const date::time_zone* resolve_zone(const std::string& name, const std::string& fallback);

// Minutes since local midnight of instant `t` in `zone`.
int local_minute(const date::time_zone* zone, Millis t);

// A daily local window [start, end); start > end crosses midnight ("20:00"-"07:00"); start == end
// is empty.
struct LocalWindow {
  int start = 0;
  int end = 0;
  bool contains(int minute_of_day) const;
};

// `t` itself when it is outside the window, else the first instant after `t` that is outside it:
// the end of the window (the last occurrence of the end time when a DST overlap repeats it).
Millis defer_past_window(const date::time_zone* zone, const LocalWindow& window, Millis t);

// The first instant at or after `t` whose local time is `minute_of_day` (or, on a day when that
// time does not exist, the DST transition that skips it).
Millis next_local_time(const date::time_zone* zone, int minute_of_day, Millis t);

}  // namespace homeroom::routing
