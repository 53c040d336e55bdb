// RFC 9457 problem details (application/problem+json): the one shape every error response of
// homeroomd has, whether it comes from a handler's Status or from the server itself (413, 431...).
//
//   {"type":"about:blank","title":"Unprocessable Content","status":422,"detail":"unknown guardian",
//    "errors":[{"field":"guardians[0].id","message":"unknown guardian"}]}
//
// "errors" is present only when the Status names a field. A Status that maps to 500 (kInternal and
// the dispatch-only codes) never leaks its message: the detail is "internal error" (log the Status
// yourself before answering).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "http/message.h"

namespace homeroom::http {

inline constexpr std::string_view kProblemContentType = "application/problem+json";

// kInvalidArgument 422, kMalformed 400, kNotFound 404, kConflict 409, kUnauthenticated 401,
// kPermissionDenied 403, kTooLarge 413, kUnavailable/kRetryable/kThrottled 503, others 500.
// kOk maps to 200.
unsigned http_status_for(Code code);

// "Not Found"; "Unknown" for codes without a registered phrase.
std::string_view reason_phrase(unsigned http_status);

// A 401 also carries "WWW-Authenticate: Bearer".
Response problem(const Status& status);
Response problem(unsigned http_status, std::string detail);

}  // namespace homeroom::http
