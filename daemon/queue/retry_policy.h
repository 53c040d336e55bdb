// What happens after a send: the dispatcher's decisions as pure functions, so the retry taxonomy is
// testable as a table.
#pragma once

#include "channels/channel.h"
#include "core/model.h"
#include "store/store.h"

namespace homeroom::queue {

struct RetryPolicy {
  int max_attempts = 8;
  Millis backoff_base_ms = 2'000;
  Millis backoff_max_ms = 3'600'000;
};

// Exponential backoff with "equal jitter": half the doubled delay is fixed, half is random, so
// retries of a failed batch spread out instead of arriving together. `jitter` is in [0, 1).
Millis backoff_delay(int attempt, const RetryPolicy& policy, double jitter);

// accepted -> sent; retryable/throttled -> queued again after the backoff (or the provider's
// Retry-After, whichever is later), or dead once attempts run out; contact-stopped and permanent ->
// failed with the provider's reason.
store::DeliveryUpdate decide(const LeasedDelivery& delivery, const SendOutcome& outcome, Millis now,
                             const RetryPolicy& policy, double jitter);

}  // namespace homeroom::queue
