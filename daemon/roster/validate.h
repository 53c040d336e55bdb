// Field validators shared by every way roster data comes in (CSV import, the HTTP API).
//
// Each validate_* returns ok or Status::invalid(field, message) with the caller's `field` name, so
// a caller reports "guardians[0].email" or a CSV column alike. Messages describe what is expected
// and never echo the value: values are families' contact data and end up in logs.
// Each normalize_* / canonical_* returns the stored form, or nullopt when the input is not valid.
// All functions are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace homeroom {

// A practical address check (not full RFC 5322): one '@', a dot-atom local part of at most 64
// bytes, a domain of at least two dot-separated labels of letters, digits and '-' (or UTF-8),
// at most 254 bytes in all.
Status validate_email(std::string_view field, std::string_view value);
// The stored form of a valid address: the domain lowercased (the local part is kept as written).
std::string normalize_email(std::string_view valid_email);

// Strict E.164: '+', then 8 to 15 digits, the first not 0.
Status validate_e164_phone(std::string_view field, std::string_view value);
// Accepts the common ways people write numbers and returns E.164, or nullopt:
//   "+1 (555) 123-4567", "+44 20 7946 0958", "0044 20 7946 0958" (00 = international prefix),
//   "(555) 123-4567", "555.123.4567" (10 digits: `default_country_code` is prepended),
//   "1-555-123-4567" (11 digits starting with the default country code).
// Spaces, '-', '.', '(' and ')' are ignored; anything else (letters, extensions) is rejected.
std::optional<std::string> normalize_phone(std::string_view input,
                                           std::string_view default_country_code = "1");

// BCP 47 syntax, case-insensitive: a 2-3 letter primary language, then optional script (4
// letters), region (2 letters or 3 digits), variants (5-8 alphanumerics, or a digit and 3),
// extensions ("u-ca-gregory") and private use ("x-..."). '_' is accepted as a separator.
Status validate_language(std::string_view field, std::string_view value);
// Canonical case with '-' separators: "PT_br" -> "pt-BR", "zh-hant-tw" -> "zh-Hant-TW".
std::optional<std::string> canonical_language(std::string_view tag);

// One of known_channels(): "email", "sms", "push".
Status validate_channel(std::string_view field, std::string_view value);

// 1 to 64 characters of [A-Za-z0-9._:-]: the ids that schools choose for staff, students,
// guardians.
Status validate_id(std::string_view field, std::string_view value);

// A person's name or similar free text: not blank, at most 200 bytes, valid UTF-8, no control
// characters.
Status validate_name(std::string_view field, std::string_view value);

// An IANA time zone that exists in the system's tz database ("America/Chicago", "UTC").
Status validate_timezone(std::string_view field, std::string_view value);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace homeroom
