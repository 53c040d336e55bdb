#include "core/clock.h"

#include <date/date.h>

#include <algorithm>

namespace homeroom {

Millis SystemClock::now() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339(Millis t) {
  using namespace std::chrono;
  sys_time<milliseconds> tp{milliseconds{t}};
  return date::format("%Y-%m-%dT%H:%M:%SZ", tp);
}

// Strict and by hand: date::parse reads an uninitialized value on some malformed input (found by
// fuzzing), and an API parser must never do that.
bool parse_rfc3339(const std::string& text, Millis& out) {
  std::size_t i = 0;
  auto number = [&](int digits, int& value) {
    value = 0;
    for (int k = 0; k < digits; ++k, ++i) {
      if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
      value = value * 10 + (text[i] - '0');
    }
    return true;
  };
  auto expect = [&](char c) { return i < text.size() && (text[i++] == c); };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, year) || !expect('-') || !number(2, month) || !expect('-') || !number(2, day)) {
    return false;
  }
  if (i >= text.size() || (text[i] != 'T' && text[i] != 't')) return false;
  ++i;
  if (!number(2, hour) || !expect(':') || !number(2, minute) || !expect(':') ||
      !number(2, second)) {
    return false;
  }
  Millis fraction_ms = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      if (digits < 3) fraction_ms = fraction_ms * 10 + (text[i] - '0');
    }
    if (digits == 0) return false;
    for (; digits < 3; ++digits) fraction_ms *= 10;
  }
  Millis offset_ms = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const int sign = text[i++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!number(2, oh) || !expect(':') || !number(2, om) || oh > 23 || om > 59) return false;
    offset_ms = sign * (oh * 60 + om) * 60'000LL;
  } else {
    return false;
  }
  if (i != text.size()) return false;
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return false;  // 60: leap second
  const Millis days = date::sys_days{ymd}.time_since_epoch().count();
  out = ((days * 24 + hour) * 60 + minute) * 60'000LL + std::min(second, 59) * 1000LL +
        fraction_ms - offset_ms;
  return true;
}

}  // namespace homeroom
