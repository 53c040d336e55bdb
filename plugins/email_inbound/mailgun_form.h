// Mailgun's inbound-route webhook, as pure functions: the form's fields, the signature check and
// the email the host parses. No I/O, no state; safe from any thread. Fuzzed by
// tests/fuzz/fuzz_mailgun_form.cpp.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace homeroom::email_inbound {

// The fields of one Mailgun post (form names in comments); "" when absent.
struct MailgunPost {
  std::string timestamp;    // timestamp: Unix seconds
  std::string token;        // token: 50 random characters, once per post
  std::string signature;    // signature: hex HMAC-SHA256(signing key, timestamp + token)
  std::string sender;       // sender: the envelope sender
  std::string from;         // from: the From header ("Ana <ana@example.org>")
  std::string recipient;    // recipient: the envelope recipient (reply+TOKEN@domain)
  std::string subject;      // subject
  std::string body_plain;   // body-plain: the whole text, quoted history included
  std::string stripped;     // stripped-text: Mailgun's own cut (used when body-plain is empty)
  std::string message_id;   // Message-Id
  std::string in_reply_to;  // In-Reply-To
  std::string references;   // References
  std::string body_mime;    // body-mime: the whole message, when the route keeps MIME
};

// The first value of each known field (form names are case-sensitive, as Mailgun sends them).
MailgunPost read_mailgun_post(const std::vector<std::pair<std::string, std::string>>& fields);

// Lower-case hex HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// True when post.signature is the HMAC of timestamp + token under `signing_key` (compared in
// constant time; hex case-insensitive).
bool mailgun_signature_ok(std::string_view signing_key, const MailgunPost& post);

// The message the host parses: body-mime when present; otherwise an RFC 5322 message made from
// the fields (From, To, Subject, Message-ID, In-Reply-To, References, a UTF-8 text body), with
// CR, LF and NUL in header values turned into spaces so no field can add a header.
std::string email_from_post(const MailgunPost& post);

}  // namespace homeroom::email_inbound
