// Fuzzes parse_choice (the answer to "Reply 1 for Ms. Lee, 2 for Mr. Diaz") and the texts built
// around it: any bytes, never a crash; a choice is always within 1..choices, and surrounding
// ASCII spaces do not change it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "conversations/auto_text.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace conv = homeroom::conversations;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (int choices : {0, 1, 2, 3, 9, 12}) {
    auto choice = conv::parse_choice(text, choices);
    if (choice) require(*choice >= 1 && *choice <= choices);
    if (text.size() + 2 <= 64)
      require(conv::parse_choice(" " + std::string(text) + " ", choices) == choice);
  }
  const std::vector<std::string> names{std::string(text), "Ms. Lee"};
  require(!conv::choice_question(text, names).empty());
  require(!conv::stop_confirmation(text, text).empty());
  require(!conv::help_answer(text, text, text).empty());
  return 0;
}
