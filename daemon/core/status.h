// Errors as values. A Status carries a code whose meaning the caller acts on (the API maps it to an
// HTTP status, the dispatcher to retry / fall back / give up), a human message, and for validation
// errors the name of the offending field. Result<T> is either a value or a non-ok Status.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace homeroom {

enum class Code {
  kOk,
  kInvalidArgument,   // the caller sent something wrong; `field` names it (HTTP 422)
  kMalformed,         // the input does not parse at all (HTTP 400)
  kNotFound,          // HTTP 404
  kConflict,          // e.g. an idempotency key reused with another request (HTTP 409)
  kUnauthenticated,   // HTTP 401
  kPermissionDenied,  // HTTP 403
  kTooLarge,          // HTTP 413
  kRetryable,         // transient: try again later (network, 5xx, SMTP 4xx)
  kThrottled,         // the provider asked us to slow down
  kContactStopped,    // the recipient opted out at the provider
  kContactGone,       // the address no longer exists (expired push subscription): stop using it
  kPermanent,         // will never succeed for this recipient
  kUnavailable,       // shutting down, store not ready (HTTP 503)
  kInternal,          // a broken invariant or an unexpected failure (HTTP 500)
};

const char* code_name(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status ok() { return {}; }
  static Status invalid(std::string field, std::string message) {
    return {Code::kInvalidArgument, std::move(message), std::move(field)};
  }
  static Status malformed(std::string message) { return {Code::kMalformed, std::move(message)}; }
  static Status not_found(std::string message) { return {Code::kNotFound, std::move(message)}; }
  static Status conflict(std::string message) { return {Code::kConflict, std::move(message)}; }
  static Status forbidden(std::string message) {
    return {Code::kPermissionDenied, std::move(message)};
  }
  static Status unauthenticated(std::string message) {
    return {Code::kUnauthenticated, std::move(message)};
  }
  static Status internal(std::string message) { return {Code::kInternal, std::move(message)}; }
  static Status unavailable(std::string message) {
    return {Code::kUnavailable, std::move(message)};
  }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  // "invalid_argument: guardians[0].id: unknown guardian"
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string field_;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).is_ok());
  }

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace homeroom
