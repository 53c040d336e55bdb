// http::parse_form lives in homeroom_http_message; its tests are here with the inbound-message
// parsers that use it for provider webhooks (Twilio posts application/x-www-form-urlencoded).
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "http/message.h"

namespace homeroom::http {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("parse_form keeps every field in order, duplicates included", "[conversations]") {
  CHECK(parse_form("") == Fields{});
  CHECK(parse_form("a=1&b=2") == Fields{{"a", "1"}, {"b", "2"}});
  CHECK(parse_form("a=1&a=2&a=") == Fields{{"a", "1"}, {"a", "2"}, {"a", ""}});
  CHECK(parse_form("flag&&=v&") == Fields{{"flag", ""}, {"", "v"}});
  CHECK(parse_form("x=a=b") == Fields{{"x", "a=b"}});
  CHECK(parse_form("bad=%zz%4&ok=%41") == Fields{{"bad", "%zz%4"}, {"ok", "A"}});
}

TEST_CASE("parse_form reads a Twilio inbound SMS webhook", "[conversations]") {
  const std::string body =
      "ToCountry=US&ToState=IL&SmsMessageSid=SM0123456789abcdef0123456789abcdef&NumMedia=0"
      "&ToCity=CHICAGO&FromZip=60601&SmsSid=SM0123456789abcdef0123456789abcdef&FromState=IL"
      "&SmsStatus=received&FromCity=CHICAGO&Body=%C2%A1Alto%21+Gracias&FromCountry=US"
      "&To=%2B13125550100&ToZip=60602&NumSegments=1&MessageSid=SM0123456789abcdef0123456789abcdef"
      "&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B13125550123&ApiVersion=2010-04-01";
  const Fields fields = parse_form(body);
  REQUIRE(fields.size() == 19);
  const auto value = [&](const std::string& name) {
    for (const auto& [k, v] : fields) {
      if (k == name) return v;
    }
    return std::string("<absent>");
  };
  CHECK(value("Body") ==
        "\xC2\xA1"
        "Alto! Gracias");
  CHECK(value("From") == "+13125550123");
  CHECK(value("To") == "+13125550100");
  CHECK(value("NumMedia") == "0");
  CHECK(fields.front().first == "ToCountry");
  CHECK(fields.back().first == "ApiVersion");
}

}  // namespace
}  // namespace homeroom::http
