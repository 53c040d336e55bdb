#include "routing/local_time.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>

namespace homeroom::routing {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using LocalMs = date::local_time<milliseconds>;

date::sys_time<milliseconds> to_sys_time(Millis t) {
  return date::sys_time<milliseconds>{milliseconds{t}};
}
Millis to_millis(date::sys_time<milliseconds> t) { return t.time_since_epoch().count(); }

const date::time_zone* find_zone(const std::string& name) {
  if (name.empty()) return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;  // not in the tz database: the caller falls back
  }
}

// The instant of local `day` + `minute_of_day` in `zone`, for each way of reading it.
Millis at_local(const date::time_zone* zone, date::local_days day, int minute_of_day,
                date::choose choose) {
  const LocalMs local{day + minutes{minute_of_day}};
  return to_millis(date::floor<milliseconds>(zone->to_sys(local, choose)));
}

date::local_days local_day(const date::time_zone* zone, Millis t) {
  return date::floor<date::days>(zone->to_local(to_sys_time(t)));
}

}  // namespace

std::optional<int> parse_clock_time(std::string_view text) {
  auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4)) {
    return std::nullopt;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int mins = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 23 || mins > 59) return std::nullopt;
  return hours * 60 + mins;
}

std::string format_clock_time(int minute_of_day) {
  std::array<char, 8> buf{};
  std::snprintf(buf.data(), buf.size(), "%02d:%02d", (minute_of_day / 60) % 24, minute_of_day % 60);
  return buf.data();
}

const date::time_zone* resolve_zone(const std::string& name, const std::string& fallback) {
  if (const auto* zone = find_zone(name)) return zone;
  if (const auto* zone = find_zone(fallback)) return zone;
  return date::locate_zone("UTC");
}

int local_minute(const date::time_zone* zone, Millis t) {
  const auto local = zone->to_local(to_sys_time(t));
  const auto since_midnight = local - date::floor<date::days>(local);
  return static_cast<int>(date::floor<minutes>(since_midnight).count());
}

bool LocalWindow::contains(int minute_of_day) const {
  if (start == end) return false;
  if (start < end) return minute_of_day >= start && minute_of_day < end;
  return minute_of_day >= start || minute_of_day < end;
}

Millis defer_past_window(const date::time_zone* zone, const LocalWindow& window, Millis t) {
  // Each step moves to the next end of the window strictly after t; one step is enough except
  // where a DST change lands the end time back inside a window, hence the small bound.
  for (int step = 0; step < 4 && window.contains(local_minute(zone, t)); ++step) {
    const auto day = local_day(zone, t);
    Millis next = t;
    for (int d = 0; d <= 2 && next <= t; ++d) {
      next = at_local(zone, day + date::days{d}, window.end, date::choose::latest);
    }
    if (next <= t) break;  // cannot happen in a real zone; keep t rather than loop
    t = next;
  }
  return t;
}

Millis next_local_time(const date::time_zone* zone, int minute_of_day, Millis t) {
  const auto day = local_day(zone, t);
  for (int d = -1; d <= 2; ++d) {
    for (auto choose : {date::choose::earliest, date::choose::latest}) {
      const Millis candidate = at_local(zone, day + date::days{d}, minute_of_day, choose);
      if (candidate >= t) return candidate;
    }
  }
  return t;  // unreachable for a real zone: a local time recurs every day
}

Millis advance_before_window(const date::time_zone* zone, const LocalWindow& window, Millis t) {
  // Each step moves to just before the start of the window holding t; one step is enough except
  // where a DST change puts that minute inside a window too, hence the small bound.
  for (int step = 0; step < 4 && window.contains(local_minute(zone, t)); ++step) {
    const auto day = local_day(zone, t);
    std::optional<Millis> start;
    for (int d = 0; d >= -2 && !start; --d) {
      for (auto choose : {date::choose::latest, date::choose::earliest}) {
        const Millis candidate = at_local(zone, day + date::days{d}, window.start, choose);
        if (candidate <= t) {
          start = candidate;
          break;
        }
      }
    }
    if (!start) break;  // cannot happen in a real zone; keep t rather than loop
    t = *start - std::chrono::duration_cast<milliseconds>(minutes{1}).count();
  }
  return t;
}

Millis local_days_before(const date::time_zone* zone, Millis t, int days) {
  const auto local = zone->to_local(to_sys_time(t)) - date::days{days};
  return to_millis(date::floor<milliseconds>(zone->to_sys(local, date::choose::earliest)));
}

LocalDateTime local_date_time(const date::time_zone* zone, Millis t) {
  const auto sys = to_sys_time(t);
  const auto local = zone->to_local(sys);
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  LocalDateTime out;
  out.year = static_cast<int>(ymd.year());
  out.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  out.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  out.weekday = static_cast<int>(date::weekday{day}.c_encoding());
  out.minute_of_day = static_cast<int>(date::floor<minutes>(local - day).count());
  out.abbreviation = zone->get_info(date::floor<std::chrono::seconds>(sys)).abbrev;
  return out;
}

}  // namespace homeroom::routing
