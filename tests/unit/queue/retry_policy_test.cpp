#include <catch2/catch.hpp>

#include "queue/retry_policy.h"

using namespace homeroom;
using namespace homeroom::queue;

namespace {
LeasedDelivery leased(int attempt) {
  LeasedDelivery d;
  d.id = "dlv_1";
  d.attempt = attempt;
  return d;
}
}  // namespace

TEST_CASE("backoff doubles per attempt, is capped, and jitter spans the upper half") {
  RetryPolicy p{8, 1000, 10'000};
  CHECK(backoff_delay(1, p, 0.0) == 500);
  CHECK(backoff_delay(1, p, 0.999) == 999);
  CHECK(backoff_delay(2, p, 0.0) == 1000);
  CHECK(backoff_delay(3, p, 0.0) == 2000);
  CHECK(backoff_delay(10, p, 0.0) == 5000);  // capped at 10 s
  CHECK(backoff_delay(60, p, 0.5) == 7500);  // no overflow far out
}

TEST_CASE("the outcome taxonomy decides the next state") {
  RetryPolicy p{3, 1000, 60'000};
  const Millis now = 1'000'000;

  auto sent = decide(leased(1), {Code::kOk, "SM123", "", 0}, now, p, 0);
  CHECK(sent.state == DeliveryState::kSent);
  CHECK(sent.provider_id == "SM123");
  CHECK(sent.attempt == 1);

  auto retry = decide(leased(1), {Code::kRetryable, "", "503 from provider", 0}, now, p, 0);
  CHECK(retry.state == DeliveryState::kQueued);
  CHECK(retry.next_attempt_at == now + 500);
  CHECK(retry.detail == "retryable: 503 from provider; retry in 1s");

  auto throttled = decide(leased(2), {Code::kThrottled, "", "429", 30'000}, now, p, 0);
  CHECK(throttled.state == DeliveryState::kQueued);
  CHECK(throttled.next_attempt_at == now + 30'000);  // Retry-After beats the shorter backoff

  auto dead = decide(leased(3), {Code::kRetryable, "", "timeout", 0}, now, p, 0);
  CHECK(dead.state == DeliveryState::kDead);
  CHECK(dead.detail == "gave up after 3 attempts: retryable: timeout");

  auto stopped = decide(leased(1), {Code::kContactStopped, "", "21610 unsubscribed", 0}, now, p, 0);
  CHECK(stopped.state == DeliveryState::kFailed);
  CHECK(stopped.detail == "contact stopped: 21610 unsubscribed");
  CHECK(stopped.contact_status == "stopped");

  auto gone = decide(leased(1), {Code::kContactGone, "", "410 Gone", 0}, now, p, 0);
  CHECK(gone.state == DeliveryState::kFailed);
  CHECK(gone.contact_status == "gone");

  auto permanent = decide(leased(1), {Code::kPermanent, "", "550 no such user", 0}, now, p, 0);
  CHECK(permanent.state == DeliveryState::kFailed);
  CHECK(permanent.detail == "permanent: 550 no such user");
  CHECK(permanent.contact_status.empty());
}
