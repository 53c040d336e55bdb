// Time for the whole daemon. Everything that schedules, leases or timestamps asks a Clock, so tests
// replace the real one with FakeClock and never read the wall clock. Times are Unix milliseconds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace homeroom {

using Millis = std::int64_t;  // milliseconds since the Unix epoch, UTC

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis now() const override;
};

// Thread-safe: tests advance it from one thread while the code under test reads it from another.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start = 1'767'225'600'000) : now_(start) {}  // 2026-01-01T00:00:00Z
  Millis now() const override { return now_.load(); }
  void set(Millis t) { now_.store(t); }
  void advance(std::chrono::milliseconds d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<Millis> now_;
};

// RFC 3339 UTC with milliseconds: "2026-11-23T05:38:09.123Z".
std::string format_rfc3339(Millis t);
// Parses RFC 3339 with a 'Z' or a numeric offset; false when it does not parse.
bool parse_rfc3339(const std::string& text, Millis& out);

}  // namespace homeroom
