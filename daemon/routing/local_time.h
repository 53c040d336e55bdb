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

// `t` itself when it is outside the window, else one minute before the start of the window that
// holds `t` (its last start at or before `t`; on a day when the start time does not exist, the
// DST transition that skips it): the latest moment before `t` outside the window, for what must
// come before an event rather than after the night.
Millis advance_before_window(const date::time_zone* zone, const LocalWindow& window, Millis t);

// The same local wall-clock time `days` days before `t` ("3 days before 15:00" is 15:00 three
// local days earlier, 71 or 73 hours before across a DST change). A time that does not exist that
// day resolves to the transition; one that occurs twice, to the earlier.
Millis local_days_before(const date::time_zone* zone, Millis t, int days);

// Instant `t` as a calendar reads it in `zone`.
struct LocalDateTime {
  int year = 0;
  int month = 0;    // 1..12
  int day = 0;      // 1..31
  int weekday = 0;  // 0 = Sunday .. 6 = Saturday
  int minute_of_day = 0;
  std::string abbreviation;  // "CST", "CEST", "UTC", "-03"
};
LocalDateTime local_date_time(const date::time_zone* zone, Millis t);

}  // namespace homeroom::routing
