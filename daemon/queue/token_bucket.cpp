#include "queue/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace homeroom::queue {

TokenBucket::TokenBucket(double rate_per_second, Millis now)
    : configured_(rate_per_second),
      rate_(rate_per_second),
      tokens_(std::max(1.0, rate_per_second)),
      last_(now),
      last_step_(now) {}

void TokenBucket::refill(Millis now) {
  if (now <= last_) return;
  // Recovery: a tenth of the configured rate back per whole second without a throttle.
  if (rate_ < configured_ && now - last_step_ >= 1000) {
    const auto steps = static_cast<double>((now - last_step_) / 1000);
    rate_ = std::min(configured_, rate_ + steps * configured_ / 10);
    last_step_ += static_cast<Millis>(steps) * 1000;
  }
  tokens_ =
      std::min(std::max(1.0, rate_), tokens_ + static_cast<double>(now - last_) * rate_ / 1000.0);
  last_ = now;
}

int TokenBucket::available(Millis now) {
  if (unlimited()) return 1 << 30;
  std::lock_guard lock(mu_);
  refill(now);
  return tokens_ < 1 ? 0 : static_cast<int>(std::floor(tokens_));
}

void TokenBucket::take(double tokens, Millis now) {
  if (unlimited()) return;
  std::lock_guard lock(mu_);
  refill(now);
  tokens_ -= tokens;
}

Millis TokenBucket::wait_ms(Millis now) {
  if (unlimited()) return 0;
  std::lock_guard lock(mu_);
  refill(now);
  if (tokens_ >= 1) return 0;
  return static_cast<Millis>(std::ceil((1 - tokens_) * 1000.0 / rate_));
}

void TokenBucket::on_throttled(Millis now) {
  if (unlimited()) return;
  std::lock_guard lock(mu_);
  refill(now);
  rate_ = std::max(configured_ / 10, rate_ / 2);
  tokens_ = std::min(tokens_, std::max(1.0, rate_));
  last_step_ = now;
}

double TokenBucket::rate(Millis now) {
  if (unlimited()) return 0;
  std::lock_guard lock(mu_);
  refill(now);
  return rate_;
}

}  // namespace homeroom::queue
