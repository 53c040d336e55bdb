// A received email (RFC 5322 + MIME), as the raw bytes an IMAP fetch or a raw-MIME webhook hands
// over, parsed into what thread matching and the teacher's inbox need: who wrote, the ids that tie
// it to a thread, and the text the parent wrote (see reply_text.h for cutting quoted history).
//
// Lenient by design: mail in the wild is often slightly wrong, so anything short of "this is not a
// message at all" gives a best-effort ParsedEmail, and what was odd about it is listed in
// `warnings` (short fixed phrases, never message content). Handled: CRLF or LF line ends, header
// unfolding, RFC 2047 encoded-words, RFC 2231 parameters, multipart/* nested (alternative: the
// plain text and the richest HTML; related: its root part; mixed and others: the inline text parts
// in order), preamble and epilogue, a missing final boundary, quoted-printable, base64, 7bit, 8bit
// and binary, format=flowed text, any charset iconv knows (see to_utf8 in mime_decode.h). When
// there is no text/plain part the text is derived from the HTML (html_text.h).
//
// Limits against hostile input (MimeLimits): input size, multipart nesting depth, number of parts,
// and the size of `text` and `html`. Work is linear in the input size times the nesting depth.
// Never throws.
//
// Pure function, no I/O, thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace homeroom::conversations {

struct Mailbox {
  std::string address;       // "ana@example.org" as written (case kept), "" when none was given
  std::string display_name;  // decoded UTF-8 ("Ana Ortiz"), "" when none

  bool operator==(const Mailbox&) const = default;
};

struct HeaderField {
  std::string name;   // as written ("Content-Type")
  std::string value;  // unfolded and trimmed, NOT RFC 2047-decoded; invalid UTF-8 replaced

  bool operator==(const HeaderField&) const = default;
};

// A part that is not body text (a file, an image, a forwarded message). Metadata only.
struct AttachmentInfo {
  std::string content_type;         // "image/jpeg", lower case
  std::string filename;             // decoded UTF-8 (RFC 2231 or 2047), "" when none
  bool inline_disposition = false;  // Content-Disposition: inline (an image in the HTML)
  std::size_t size = 0;             // decoded size in bytes
};

struct ParsedEmail {
  Mailbox from;  // the first mailbox of From:
  std::vector<Mailbox> to;
  std::vector<Mailbox> cc;
  std::string subject;                  // decoded UTF-8, control characters as spaces
  std::string message_id;               // without angle brackets: "abc@mail.example.org"
  std::string in_reply_to;              // the first id of In-Reply-To:, without angle brackets
  std::vector<std::string> references;  // ids of References:, oldest first, no angle brackets
  std::string date;                     // the Date: header as written
  std::optional<Millis> date_time;      // Date: parsed (RFC 5322 and its obsolete forms)
  std::string text;                     // the best plain text body, UTF-8, LF line ends
  bool text_from_html = false;  // `text` was derived from `html` (there was no text/plain part)
  std::string html;             // the HTML body, UTF-8, "" when none
  std::vector<AttachmentInfo> attachments;
  std::vector<HeaderField> headers;   // the message's own header fields, in order
  std::vector<std::string> warnings;  // "missing final boundary", "text truncated", ...

  // The value of the first header field with this name (case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
};

struct MimeLimits {
  std::size_t max_input_bytes = 32U << 20;  // larger input: kTooLarge
  int max_depth = 20;                       // deeper multiparts are skipped (with a warning)
  int max_parts = 500;                      // parts past this many are skipped
  std::size_t max_text_bytes = 1U << 20;    // `text` and `html` are each cut at this size
  std::size_t max_header_fields = 1000;     // per entity; more are skipped
};

// kTooLarge when `raw` is larger than limits.max_input_bytes; kMalformed when it does not start
// with a header section (no "Name: value" field before the body). Anything else parses.
Result<ParsedEmail> parse_email(std::string_view raw, const MimeLimits& limits = {});

// The mailboxes of an address-list header value (From, To, Cc, Reply-To), raw as in HeaderField:
// "Ana <ana@example.org>, bob@example.org (Bob), Team: c@x.org, d@x.org;" -> 4 mailboxes. Groups
// are flattened; quoted names unquoted; encoded-words in names decoded; entries with neither an
// address nor a name are skipped.
std::vector<Mailbox> parse_address_list(std::string_view value);

// An RFC 5322 date ("Tue, 3 Mar 2026 16:05:00 -0800", also without the weekday or seconds, with
// two-digit years, obsolete zone names like "EST" or "GMT", and a trailing "(PST)" comment), as
// Unix milliseconds; std::nullopt when it does not parse.
std::optional<Millis> parse_email_date(std::string_view value);

}  // namespace homeroom::conversations
