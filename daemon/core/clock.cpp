#include "core/clock.h"

#include <date/date.h>

#include <sstream>

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

bool parse_rfc3339(const std::string& text, Millis& out) {
  using namespace std::chrono;
  for (const char* fmt : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%Ez"}) {
    std::istringstream in(text);
    sys_time<milliseconds> tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) {
      out = tp.time_since_epoch().count();
      return true;
    }
  }
  return false;
}

}  // namespace homeroom
