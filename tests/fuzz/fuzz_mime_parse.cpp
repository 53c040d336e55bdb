// Fuzzes parse_email and extract_reply: any bytes must give a ParsedEmail or a kMalformed /
// kTooLarge status, never a crash; every string handed on is valid UTF-8 within the limits, and
// the reply is never longer than the text it came from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conversations/html_text.h"
#include "conversations/mime_decode.h"
#include "conversations/mime_parse.h"
#include "conversations/reply_text.h"

namespace {

using homeroom::conversations::is_valid_utf8;

void require(bool condition) {
  if (!condition) std::abort();
}

void require_line(std::string_view s) {
  require(is_valid_utf8(s));
  for (char c : s) require(c == '\t' || static_cast<unsigned char>(c) >= 0x20);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace conv = homeroom::conversations;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);

  conv::MimeLimits limits;
  limits.max_text_bytes = 64 * 1024;
  auto result = conv::parse_email(raw, limits);
  if (!result.is_ok()) {
    require(result.status().code() == homeroom::Code::kMalformed ||
            result.status().code() == homeroom::Code::kTooLarge);
  } else {
    const conv::ParsedEmail& email = *result;
    require(!email.headers.empty());
    for (const auto& field : email.headers) {
      require(!field.name.empty());
      require_line(field.name);
      require_line(field.value);
    }
    require_line(email.subject);
    require_line(email.message_id);
    require_line(email.in_reply_to);
    require_line(email.date);
    for (const auto& id : email.references) require_line(id);
    require_line(email.from.address);
    require_line(email.from.display_name);
    for (const auto& list : {email.to, email.cc}) {
      for (const auto& mailbox : list) {
        require_line(mailbox.address);
        require_line(mailbox.display_name);
        require(!mailbox.address.empty() || !mailbox.display_name.empty());
      }
    }
    for (const auto& attachment : email.attachments) {
      require_line(attachment.content_type);
      require_line(attachment.filename);
    }
    require(email.text.size() <= limits.max_text_bytes);
    require(email.html.size() <= limits.max_text_bytes);
    require(is_valid_utf8(email.text));
    require(is_valid_utf8(email.html));
    require(email.text.find('\r') == std::string::npos);
    require(email.text.find('\0') == std::string::npos);
    require(email.warnings.size() <= 16);

    const std::string reply = conv::extract_reply(email.text);
    require(reply.size() <= email.text.size());
    require(is_valid_utf8(reply));
  }

  // The pieces on their own, on the raw bytes.
  require(conv::extract_reply(raw).size() <= raw.size());
  require(is_valid_utf8(conv::html_to_text(raw)));
  require_line(conv::decode_header_words(raw.substr(0, 4096)));
  return 0;
}
