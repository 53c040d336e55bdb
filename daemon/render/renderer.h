// Turns a leased delivery into what a channel sends: the email message, the SMS text or the push
// payload. Pure: the same delivery, options and time always render the same bytes.
//
// Email is a complete RFC 5322 / MIME message built here (multipart/alternative: text/plain and
// an HTML rendering of the same text, both UTF-8 quoted-printable), with:
// - Reply-To "reply+TOKEN@reply_domain" naming the thread (author, student, guardian), only when
//   reply_domain is set;
// - List-Unsubscribe (https://public_url/u/TOKEN and/or mailto:unsubscribe+TOKEN@reply_domain,
//   whichever is configured) and List-Unsubscribe-Post (RFC 8058) for every category but "urgent";
// - the envelope sender "bounce+TOKEN@bounce_domain" (bounce_domain, else reply_domain) in
//   RenderedDelivery.return_path, "" when neither domain is set.
// Tokens are in render/tokens.h.
#pragma once

#include <string>

#include "channels/channel.h"
#include "core/model.h"

namespace homeroom::render {

struct RenderOptions {
  std::string from_address = "homeroom@localhost";
  std::string from_name = "homeroom";
  std::string message_id_domain = "homeroom.localhost";  // Message-ID: <delivery_id@this>
  std::string reply_domain;                              // "" : no Reply-To, no mailto: unsubscribe
  std::string bounce_domain;                             // "" : reply_domain
  std::string public_url;  // "https://homeroom.example.org" (no trailing '/'); "" : no link
  // HMAC key of every token (raw bytes). The daemon sets it from the store's persistent secret;
  // tests use a fixed value. Must not be empty when reply_domain or public_url is set.
  std::string token_secret;
};

// "Note from Ms. Lee about Maya", in the delivery's language where homeroom has the words.
std::string subject_for(const LeasedDelivery& d);
// The text as HTML: &<>"' escaped, paragraphs from blank lines, <br> for single line breaks.
std::string html_paragraphs(const std::string& text);
RenderedDelivery render_delivery(const LeasedDelivery& d, const RenderOptions& options, Millis now);

}  // namespace homeroom::render
