#include "queue/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace homeroom::queue {

Millis backoff_delay(int attempt, const RetryPolicy& policy, double jitter) {
  double exp = std::ldexp(static_cast<double>(policy.backoff_base_ms), std::max(0, attempt - 1));
  double capped = std::min(exp, static_cast<double>(policy.backoff_max_ms));
  return static_cast<Millis>(capped / 2 + jitter * capped / 2);
}

store::DeliveryUpdate decide(const LeasedDelivery& delivery, const SendOutcome& outcome, Millis now,
                             const RetryPolicy& policy, double jitter) {
  store::DeliveryUpdate u;
  u.id = delivery.id;
  u.attempt = delivery.attempt;
  switch (outcome.code) {
    case Code::kOk:
      u.state = DeliveryState::kSent;
      u.provider_id = outcome.provider_id;
      return u;
    case Code::kContactStopped:
      u.state = DeliveryState::kFailed;
      u.detail = "contact stopped: " + outcome.reason;
      u.contact_status = "stopped";
      return u;
    case Code::kContactGone:
      u.state = DeliveryState::kFailed;
      u.detail = "contact gone: " + outcome.reason;
      u.contact_status = "gone";
      return u;
    case Code::kRetryable:
    case Code::kThrottled:
    case Code::kUnavailable: {
      const char* what = outcome.code == Code::kThrottled ? "throttled" : "retryable";
      if (delivery.attempt >= policy.max_attempts) {
        u.state = DeliveryState::kDead;
        u.detail = "gave up after " + std::to_string(delivery.attempt) + " attempts: " + what +
                   ": " + outcome.reason;
        return u;
      }
      Millis delay =
          std::max(backoff_delay(delivery.attempt, policy, jitter), outcome.retry_after_ms);
      u.state = DeliveryState::kQueued;
      u.next_attempt_at = now + delay;
      u.detail = std::string(what) + ": " + outcome.reason + "; retry in " +
                 std::to_string((delay + 999) / 1000) + "s";
      return u;
    }
    default:
      u.state = DeliveryState::kFailed;
      u.detail = "permanent: " + outcome.reason;
      return u;
  }
}

}  // namespace homeroom::queue
