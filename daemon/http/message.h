// The HTTP request and response as the rest of homeroomd sees them: plain values with no Beast
// types, so API handlers are pure functions from Request to Response that tests call without a
// socket. Only server.cpp includes Beast (it is slow to compile).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace homeroom::http {

struct Request {
  std::string method;  // "GET", "POST", ... exactly as sent (methods are case-sensitive)
  std::string path;    // raw, NOT percent-decoded, without the query: "/v1/messages/msg_1"
  std::string query;   // raw query string without '?': "limit=10&cursor=abc"
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order
  std::string body;
  std::string remote_address;  // "127.0.0.1", "::1"

  // Value of the first header with this name (case-insensitive); "" when absent.
  std::string header(std::string_view name) const;
  // First value of this query parameter, '+' and %XX decoded (names are decoded before being
  // compared); std::nullopt when absent, "" for "?flag" or "?flag=". Invalid %-escapes are kept
  // literally.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers. The server sets Content-Type, Content-Length, Server and Connection itself
  // (extra ones with those names are ignored) and Cache-Control: no-store unless a Cache-Control is
  // given here; a header whose name is not a token or whose value holds CR, LF or NUL is dropped.
  std::vector<std::pair<std::string, std::string>> headers;
};

Response json_response(unsigned status, const nlohmann::json& body);

// "%41+b" -> "A b". Invalid escapes are kept as they are. Used for query strings and form bodies.
std::string form_decode(std::string_view encoded);
// Every field of an application/x-www-form-urlencoded body (or query string), in order, duplicates
// kept, names and values form_decode'd: "a=1&b&a=%32" -> {a,1} {b,""} {a,2}. Empty pairs ("&&")
// are skipped. Provider webhooks (Twilio posts forms) and the preferences page read forms with it.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);

}  // namespace homeroom::http
