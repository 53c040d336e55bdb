#include "http/problem.h"

#include <nlohmann/json.hpp>

namespace homeroom::http {
namespace {

Response make_problem(unsigned http_status, std::string detail, const std::string& field) {
  nlohmann::json body = {
      {"type", "about:blank"},
      {"title", std::string(reason_phrase(http_status))},
      {"status", http_status},
      {"detail", detail},
  };
  if (!field.empty()) {
    body["errors"] = nlohmann::json::array({{{"field", field}, {"message", std::move(detail)}}});
  }
  Response response = json_response(http_status, body);
  response.content_type = std::string(kProblemContentType);
  if (http_status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

}  // namespace

unsigned http_status_for(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 422;
    case Code::kMalformed:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kTooLarge:
      return 413;
    case Code::kUnavailable:
    case Code::kRetryable:
    case Code::kThrottled:
      return 503;
    case Code::kContactStopped:
    case Code::kContactGone:
    case Code::kPermanent:
    case Code::kInternal:
      return 500;
  }
  return 500;
}

std::string_view reason_phrase(unsigned http_status) {
  switch (http_status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

Response problem(const Status& status) {
  const unsigned http_status = http_status_for(status.code());
  // A 500 (kInternal, kPermanent, kContactStopped, or a problem made of an ok Status by mistake)
  // may carry SQL, paths or provider answers in its message: the caller gets none of it.
  if (http_status == 500 || status.is_ok()) return make_problem(500, "internal error", {});
  return make_problem(http_status, status.message(), status.field());
}

Response problem(unsigned http_status, std::string detail) {
  return make_problem(http_status, std::move(detail), {});
}

}  // namespace homeroom::http
