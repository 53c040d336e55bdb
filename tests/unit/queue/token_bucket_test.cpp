// The provider throttle: a second of tokens at most, refilled at the rate, halved by a 429 and
// given back a tenth per quiet second. Times are plain numbers: no clock is read.
#include "queue/token_bucket.h"

#include <catch2/catch.hpp>

using homeroom::queue::TokenBucket;

TEST_CASE("a token bucket holds one second of tokens and refills at its rate", "[throttle]") {
  TokenBucket b(5, 0);
  CHECK(b.available(0) == 5);
  b.take(5, 0);
  CHECK(b.available(0) == 0);
  CHECK(b.wait_ms(0) == 200);
  CHECK(b.available(199) == 0);
  CHECK(b.available(200) == 1);
  CHECK(b.available(10'000) == 5);  // never more than a second's worth
}

TEST_CASE("a send costing more than is left is paid back first", "[throttle]") {
  TokenBucket b(10, 0);
  b.take(13, 0);  // e.g. 13 SMS segments
  CHECK(b.available(0) == 0);
  CHECK(b.available(300) == 0);  // -3 + 3
  CHECK(b.available(400) == 1);
}

TEST_CASE("a 429 halves the rate, which recovers a tenth per second", "[throttle]") {
  TokenBucket b(100, 0);
  b.on_throttled(0);
  CHECK(b.rate(0) == Approx(50));
  b.on_throttled(0);
  CHECK(b.rate(0) == Approx(25));
  for (int i = 0; i < 10; ++i) b.on_throttled(0);
  CHECK(b.rate(0) == Approx(10));  // never below a tenth
  CHECK(b.rate(1'000) == Approx(20));
  CHECK(b.rate(3'500) == Approx(40));
  CHECK(b.rate(60'000) == Approx(100));  // whole again, not beyond
}

TEST_CASE("a bucket with no rate never limits", "[throttle]") {
  TokenBucket b(0, 0);
  CHECK(b.unlimited());
  b.take(1e9, 0);
  CHECK(b.available(0) > 1'000'000);
  CHECK(b.wait_ms(0) == 0);
}
