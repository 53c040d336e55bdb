// What a family sent back, as every inbound path hands it over: an SMS webhook, an email webhook
// (Mailgun-style form or raw MIME) or the IMAP poller. One shape for all, so thread matching,
// keywords and deduplication live in one place (InboundHandler) whatever the path.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace homeroom::conversations {

struct InboundMessage {
  std::string channel;      // "sms" | "email"
  std::string source;       // where it came from: the channel instance name, or "imap"
  std::string provider_id;  // the provider's id (MessageSid, Message-ID): the deduplication key
  std::string from;         // the family's E.164 number or email address
  std::string to;           // homeroom's number, or the address written to (reply+TOKEN@domain)
  std::string text;         // what the family wrote: the SMS body, or the email's extracted reply
  std::string original;     // kept for the record: the SMS body, or the whole email as received
  // Email only: for matching a thread when the reply token is missing.
  std::string subject;
  std::string in_reply_to;
  std::vector<std::string> references;
  Millis received_at = 0;
};

// Records an inbound message durably and acts on it (thread, keywords, automatic answers). `done`
// runs once the message is durable, or with an error: then the caller must not acknowledge it
// (a webhook answers 503 so the provider retries; the IMAP poller keeps the message unseen). A
// message whose (source, provider_id) was recorded before is acknowledged and changes nothing.
// Implementations are thread-safe.
class InboundHandler {
 public:
  virtual ~InboundHandler() = default;
  virtual void handle(InboundMessage message, std::function<void(Status)> done) = 0;
};

}  // namespace homeroom::conversations
