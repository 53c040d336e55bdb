// Building blocks of RFC 5322 / MIME messages. Everything homeroom sends by email is built here,
// not by a provider library, so what reaches a family's mailbox is the same on every transport.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace homeroom::render {

// A header value as RFC 2047 encoded-words ("=?UTF-8?B?...?=") when it is not plain printable
// ASCII; each word at most 75 chars, never splitting a UTF-8 sequence. ASCII text is returned as
// is.
std::string encode_header_words(std::string_view text);
// RFC 2045 quoted-printable with CRLF line ends and lines of at most 76 chars. Line breaks in the
// input (LF or CRLF) become CRLF hard breaks.
std::string quoted_printable(std::string_view text);
// Text made safe for HTML content and attribute values (& < > " ').
std::string escape_html(std::string_view text);
// RFC 5322 date: "Mon, 23 Nov 2026 05:38:09 +0000".
std::string rfc5322_date(Millis t);
// A display name quoted for an address header: "Ms. Lee" <lee@school.org>.
std::string format_mailbox(std::string_view display_name, std::string_view address);

}  // namespace homeroom::render
