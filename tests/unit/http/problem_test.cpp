#include "http/problem.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace homeroom::http {
namespace {

std::string header_of(const Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

TEST_CASE("http_status_for maps every code", "[http]") {
  CHECK(http_status_for(Code::kOk) == 200);
  CHECK(http_status_for(Code::kInvalidArgument) == 422);
  CHECK(http_status_for(Code::kMalformed) == 400);
  CHECK(http_status_for(Code::kNotFound) == 404);
  CHECK(http_status_for(Code::kConflict) == 409);
  CHECK(http_status_for(Code::kUnauthenticated) == 401);
  CHECK(http_status_for(Code::kPermissionDenied) == 403);
  CHECK(http_status_for(Code::kTooLarge) == 413);
  CHECK(http_status_for(Code::kRetryable) == 503);
  CHECK(http_status_for(Code::kThrottled) == 503);
  CHECK(http_status_for(Code::kUnavailable) == 503);
  CHECK(http_status_for(Code::kContactStopped) == 500);
  CHECK(http_status_for(Code::kPermanent) == 500);
  CHECK(http_status_for(Code::kInternal) == 500);
}

TEST_CASE("problem of a field error names the field in errors[]", "[http]") {
  const Response response = problem(Status::invalid("guardians[0].id", "unknown guardian"));
  CHECK(response.status == 422);
  CHECK(response.content_type == "application/problem+json");
  CHECK(nlohmann::json::parse(response.body) == nlohmann::json::parse(R"({
    "type": "about:blank", "title": "Unprocessable Content", "status": 422,
    "detail": "unknown guardian",
    "errors": [{"field": "guardians[0].id", "message": "unknown guardian"}]})"));
}

TEST_CASE("problem without a field has no errors[]", "[http]") {
  const Response response = problem(Status::not_found("no message msg_9"));
  CHECK(response.status == 404);
  CHECK(
      nlohmann::json::parse(response.body) ==
      nlohmann::json::parse(
          R"({"type":"about:blank","title":"Not Found","status":404,"detail":"no message msg_9"})"));
  CHECK(response.headers.empty());
}

TEST_CASE("problem never leaks the message of a 500", "[http]") {
  for (const Status& status :
       {Status::internal("sqlite: disk I/O error at /var/lib/homeroom/db"),
        Status(Code::kPermanent, "provider said: account 42 suspended"), Status::ok()}) {
    const Response response = problem(status);
    CHECK(response.status == 500);
    CHECK(nlohmann::json::parse(response.body) ==
          nlohmann::json::parse(R"({"type":"about:blank","title":"Internal Server Error",
                                    "status":500,"detail":"internal error"})"));
  }
}

TEST_CASE("a 401 problem asks for a bearer token", "[http]") {
  const Response response = problem(Status::unauthenticated("missing token"));
  CHECK(response.status == 401);
  CHECK(header_of(response, "WWW-Authenticate") == "Bearer");
  CHECK(nlohmann::json::parse(response.body)["title"] == "Unauthorized");
  CHECK(header_of(problem(Status::forbidden("no")), "WWW-Authenticate").empty());
}

TEST_CASE("problem with an explicit status", "[http]") {
  const Response response = problem(431, "request header exceeds 1024 bytes");
  CHECK(response.status == 431);
  CHECK(response.content_type == "application/problem+json");
  CHECK(nlohmann::json::parse(response.body) ==
        nlohmann::json::parse(R"({"type":"about:blank","title":"Request Header Fields Too Large",
                                  "status":431,"detail":"request header exceeds 1024 bytes"})"));
  CHECK(reason_phrase(413) == "Content Too Large");
  CHECK(reason_phrase(799) == "Unknown");
}

}  // namespace
}  // namespace homeroom::http
