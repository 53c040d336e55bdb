#include <catch2/catch.hpp>

#include <set>

#include "core/clock.h"
#include "core/ids.h"
#include "core/redact.h"
#include "core/status.h"

using namespace homeroom;

TEST_CASE("ids are prefixed, unique and 26 chars after the prefix") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = new_id("msg_");
    REQUIRE(id.rfind("msg_", 0) == 0);
    REQUIRE(id.size() == 4 + 26);
    REQUIRE(seen.insert(id).second);
  }
}

TEST_CASE("sha256_hex matches the known vector") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(random_secret(32).size() == 43);
  CHECK(random_secret() != random_secret());
}

TEST_CASE("constant_time_equal") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
}

TEST_CASE("masking keeps no full phone number or email address") {
  CHECK(mask_phone("+15551234567") == "+1******4567");
  CHECK(mask_phone("12345") == "*****");
  CHECK(mask_email("maya.parent@example.org") == "m***@e***.org");
  CHECK(mask_email("nobody") == "***");
  CHECK(mask_address("https://push.example/abc/def") == "https://push.example/***");
  CHECK(mask_address("a@b.co") == "a***@b***.co");
}

TEST_CASE("RFC 3339 round trip") {
  Millis t = 0;
  REQUIRE(parse_rfc3339("2026-11-23T05:38:09Z", t));
  CHECK(format_rfc3339(t) == "2026-11-23T05:38:09.000Z");
  REQUIRE(parse_rfc3339("2026-11-23T06:38:09+01:00", t));
  CHECK(format_rfc3339(t) == "2026-11-23T05:38:09.000Z");
  CHECK_FALSE(parse_rfc3339("yesterday", t));
  CHECK_FALSE(parse_rfc3339("2026-11-23T05:38:09Zjunk", t));
  REQUIRE(parse_rfc3339("2026-11-23T05:38:09.5Z", t));
  CHECK(format_rfc3339(t) == "2026-11-23T05:38:09.500Z");
  REQUIRE(parse_rfc3339("2026-11-23t00:30:00-05:30", t));
  CHECK(format_rfc3339(t) == "2026-11-23T06:00:00.000Z");
  REQUIRE(parse_rfc3339("6572-11-24T15:00:00-06:00", t));  // far future: no int overflow
  CHECK(format_rfc3339(t) == "6572-11-24T21:00:00.000Z");
  REQUIRE(parse_rfc3339("1969-12-31T23:59:59Z", t));
  CHECK(t == -1000);
  for (const char* bad : {"0056-11-24T15:00:[0506:00", "2026-02-30T00:00:00Z",
                          "2026-11-23T24:00:00Z", "2026-11-23T05:38:09", "2026-11-23 05:38:09Z",
                          "2026-11-23T05:38:09.Z", "2026-11-23T05:38:09+5:00", "", "T"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad, t));
  }
}

TEST_CASE("Status carries code, field and message") {
  auto s = Status::invalid("student_id", "unknown student");
  CHECK_FALSE(s.is_ok());
  CHECK(s.to_string() == "invalid_argument: student_id: unknown student");
  Result<int> r = 7;
  CHECK(r.is_ok());
  CHECK(*r == 7);
  Result<int> e = Status::not_found("x");
  CHECK(e.status().code() == Code::kNotFound);
}
