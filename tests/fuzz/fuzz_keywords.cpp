// Fuzzes match_keyword: any bytes, never a crash; a match always names its language, and the
// result does not change with surrounding spaces, ASCII case or the guardian's language (which
// only picks among rows of the same word).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conversations/keywords.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace conv = homeroom::conversations;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const conv::KeywordMatch match = conv::match_keyword(body);
  require((match.kind == conv::Keyword::kNone) == match.language.empty());
  if (body.size() + 2 <= 1024) {
    require(conv::match_keyword(" " + std::string(body) + "\n") == match);
  }
  std::string upper(body);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  require(conv::match_keyword(upper) == match);
  for (const char* language : {"pt", "fr", "es-MX", "zz"}) {
    require(conv::match_keyword(body, language).kind == match.kind);
  }
  return 0;
}
