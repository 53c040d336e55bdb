// A token bucket for one channel instance's provider limit (messages or SMS segments per second),
// which slows down when the provider says "too many requests" (429): each throttle halves the
// rate (never below a tenth of the configured rate), and every second without one gives back a
// tenth of the configured rate until it is whole again (additive increase, multiplicative
// decrease). The bucket holds at most one second of tokens. The balance may go negative: a send
// that costs more than what was left (a long SMS) is paid back before the next one.
//
// Times are the caller's clock (Millis), so tests drive it with a fake clock. Thread-safe.
#pragma once

#include <mutex>

#include "core/clock.h"

namespace homeroom::queue {

class TokenBucket {
 public:
  // rate_per_second <= 0: unlimited (every call says yes).
  TokenBucket(double rate_per_second, Millis now);

  bool unlimited() const { return configured_ <= 0; }
  // Whole tokens available now (0 when empty or in debt); a large number when unlimited.
  int available(Millis now);
  void take(double tokens, Millis now);
  // Milliseconds until one whole token is available (0 when one is).
  Millis wait_ms(Millis now);
  void on_throttled(Millis now);
  double rate(Millis now);

 private:
  void refill(Millis now);

  const double configured_;
  std::mutex mu_;
  double rate_;
  double tokens_;
  Millis last_ = 0;
  Millis last_step_ = 0;  // last throttle or recovery step
};

}  // namespace homeroom::queue
