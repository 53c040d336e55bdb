// What may appear in a log line at info level. Family data is children's data: phone numbers and
// email addresses are masked, bodies and secrets are never logged above debug.
#pragma once

#include <string>
#include <string_view>

namespace homeroom {

// "+15551234567" -> "+1******4567"; anything shorter than 6 digits is fully masked.
std::string mask_phone(std::string_view phone);
// "maya.parent@example.org" -> "m***@e***.org"
std::string mask_email(std::string_view email);
// Picks mask_email for anything with '@', mask_phone otherwise; push endpoints keep only the host.
std::string mask_address(std::string_view address);

}  // namespace homeroom
