#include "core/status.h"

namespace homeroom {

const char* code_name(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kMalformed:
      return "malformed";
    case Code::kNotFound:
      return "not_found";
    case Code::kConflict:
      return "conflict";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kPermissionDenied:
      return "permission_denied";
    case Code::kTooLarge:
      return "too_large";
    case Code::kRetryable:
      return "retryable";
    case Code::kThrottled:
      return "throttled";
    case Code::kContactStopped:
      return "contact_stopped";
    case Code::kContactGone:
      return "contact_gone";
    case Code::kPermanent:
      return "permanent";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  std::string out = code_name(code_);
  if (!field_.empty()) out += ": " + field_;
  if (!message_.empty()) out += ": " + message_;
  return out;
}

}  // namespace homeroom
