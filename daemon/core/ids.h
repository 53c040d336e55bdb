// Identifiers and secrets. Ids are random, prefixed by kind ("msg_", "dlv_") so a log line or a
// support ticket says what it names; they sort by creation time within a millisecond bucket.
#pragma once

#include <string>
#include <string_view>

namespace homeroom {

// "msg_01JDZ3…": prefix, then 26 Crockford base32 chars (48-bit ms time + 80 random bits, as ULID).
std::string new_id(std::string_view prefix);
// `bytes` random bytes from the OS CSPRNG, base64url without padding.
std::string random_secret(std::size_t bytes = 32);
// `n` raw random bytes from the OS CSPRNG.
std::string random_bytes(std::size_t n);
// Lowercase hex SHA-256 of `data`; how API tokens are stored.
std::string sha256_hex(std::string_view data);
// Constant-time comparison for secrets and signatures.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace homeroom
