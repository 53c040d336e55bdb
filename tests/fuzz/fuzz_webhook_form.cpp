// Fuzzes http::parse_form, which reads provider webhooks (Twilio posts forms), and the keyword
// match the inbound SMS path runs on its Body field: any bytes, never a crash; the fields hold no
// more than the body did.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "conversations/keywords.h"
#include "http/message.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto fields = homeroom::http::parse_form(body);
  std::size_t ampersands = 0;
  for (char c : body) ampersands += c == '&' ? 1 : 0;
  require(fields.size() <= ampersands + 1);
  std::size_t total = 0;
  for (const auto& [name, value] : fields) {
    total += name.size() + value.size();
    if (name == "Body") {
      const auto match = homeroom::conversations::match_keyword(value);
      require((match.kind == homeroom::conversations::Keyword::kNone) == match.language.empty());
    }
  }
  require(total <= body.size());
  return 0;
}
