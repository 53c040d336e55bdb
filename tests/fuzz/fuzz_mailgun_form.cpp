// Fuzzes the Mailgun inbound post -> email mapping (plugins/email_inbound/mailgun_form.h) and what
// the host does with the result (inbound_from_email): any form body, never a crash; the made-up
// message never gains a header from a field value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "conversations/inbound_email.h"
#include "http/message.h"
#include "mailgun_form.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace homeroom::email_inbound;
  const MailgunPost post = read_mailgun_post(homeroom::http::parse_form(body));
  (void)mailgun_signature_ok("key", post);
  const std::string raw = email_from_post(post);
  if (post.body_mime.empty()) {
    // Header lines are only the ones email_from_post writes.
    const std::size_t end = raw.find("\r\n\r\n");
    if (end == std::string::npos) std::abort();
    std::size_t lines = 0;
    for (std::size_t i = 0; i < end; ++i) lines += raw[i] == '\n' ? 1 : 0;
    if (lines > 9) std::abort();
  }
  (void)homeroom::conversations::inbound_from_email(raw, "fuzz", post.recipient, 0);
  return 0;
}
