// Twilio's wire format, as pure functions: form encoding, Basic auth, the request signature, and
// the mapping of a Messages API answer to a delivery outcome. No I/O, no state; safe from any
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "homeroom_plugin.h"

namespace homeroom::sms_twilio {

using FormParams = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded (WHATWG): alphanumerics and *-._ stay, space is '+', every
// other byte is %XX.
std::string form_encode(const FormParams& params);
// The reverse; malformed escapes are kept literally.
FormParams form_decode(std::string_view body);

std::string base64(std::string_view bytes);
std::string basic_auth(std::string_view user, std::string_view password);

// X-Twilio-Signature: base64(HMAC-SHA1(auth_token, url + key1 + value1 + ...)) over the params
// sorted by key; a repeated key contributes each distinct value once, values sorted.
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const FormParams& params);
// Constant-time comparison of an offered signature with the expected one.
bool signature_matches(std::string_view offered, std::string_view expected);

// What one Messages API answer means for the delivery.
struct SendOutcome {
  hr_outcome_kind kind = HR_OUTCOME_RETRYABLE;
  std::string provider_id;  // the message sid, on ACCEPTED
  std::string reason;       // "<code>: <message>", the HTTP status, or the transport error
  std::int64_t retry_after_ms = 0;
};
// `status` 0 with `transport_error` set means no answer arrived.
SendOutcome classify_send_response(bool transport_error, std::string_view error_text, int status,
                                   std::string_view body, std::int64_t retry_after_ms);

// A status callback's MessageStatus (+ ErrorCode) as a provider status; 0 when it is to be ignored
// (queued, accepted, sending, unknown).
int status_from_callback(std::string_view message_status, std::string_view error_code);

}  // namespace homeroom::sms_twilio
