#include "http/message.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace homeroom::http {
namespace {

TEST_CASE("Request::header is case-insensitive and empty when absent", "[http]") {
  Request request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Twilio-Signature", "abc="}};
  CHECK(request.header("content-type") == "application/json");
  CHECK(request.header("X-TWILIO-SIGNATURE") == "abc=");
  CHECK(request.header("Authorization").empty());
  CHECK(request.header("Content-Typ").empty());
}

TEST_CASE("Request::query_param decodes percent escapes and plus", "[http]") {
  Request request;
  request.query = "a=1&b=hello+world&c=%41%42%2b%2F&flag&empty=&x%20y=sp&bad=%zz%4&a=second";
  CHECK(request.query_param("a") == "1");  // first value wins
  CHECK(request.query_param("b") == "hello world");
  CHECK(request.query_param("c") == "AB+/");
  CHECK(request.query_param("flag") == "");
  CHECK(request.query_param("empty") == "");
  CHECK(request.query_param("x y") == "sp");
  CHECK(request.query_param("bad") == "%zz%4");
  CHECK_FALSE(request.query_param("missing").has_value());
  CHECK_FALSE(request.query_param("").has_value());

  Request no_query;
  CHECK_FALSE(no_query.query_param("a").has_value());
}

TEST_CASE("form_decode keeps invalid escapes and decodes UTF-8 bytes", "[http]") {
  CHECK(form_decode("caf%C3%A9+au+lait") == "caf\xC3\xA9 au lait");
  CHECK(form_decode("%") == "%");
  CHECK(form_decode("%4") == "%4");
  CHECK(form_decode("100%") == "100%");
  CHECK(form_decode("%00").size() == 1);
}

TEST_CASE("json_response serializes the body with application/json", "[http]") {
  const Response response = json_response(201, {{"id", "msg_1"}});
  CHECK(response.status == 201);
  CHECK(response.content_type == "application/json");
  CHECK(response.body == R"({"id":"msg_1"})");
  CHECK(response.headers.empty());

  // Invalid UTF-8 from a caller must not throw out of a response builder.
  const Response replaced = json_response(200, {{"s", std::string("a\xFF")}});
  CHECK(replaced.body == "{\"s\":\"a\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace homeroom::http
