// A received email (raw RFC 5322 bytes from a raw-MIME webhook, a Mailgun form or an IMAP fetch)
// as the InboundMessage every inbound path hands over: parsed (mime_parse.h), the parent's reply
// cut from quoted history and signature (reply_text.h), the whole message kept as `original`.
//
// Fields:
//  - provider_id: the Message-ID (without angle brackets); when the message has none,
//    "sha256:<hex of the raw bytes>", so a message fetched or posted twice still deduplicates.
//  - from: the first mailbox of From:.
//  - to: `envelope_to` when given (Mailgun's `recipient`); otherwise the first address of To:,
//    Cc:, Delivered-To:, X-Original-To: whose local part starts with "reply+" (the thread's reply
//    token), else the first address of To:.
//  - received_at: `received_at` when non-zero, else the Date: header, else 0.
//
// kMalformed / kTooLarge as parse_email reports them. Pure function, no I/O, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "conversations/inbound.h"
#include "core/status.h"

namespace homeroom::conversations {

Result<InboundMessage> inbound_from_email(std::string_view raw, std::string source,
                                          std::string_view envelope_to, Millis received_at);

}  // namespace homeroom::conversations
