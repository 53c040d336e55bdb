#include "conversations/inbound_email.h"

#include <utility>
#include <vector>

#include "conversations/mime_parse.h"
#include "conversations/reply_text.h"
#include "core/ids.h"

namespace homeroom::conversations {
namespace {

bool is_reply_address(std::string_view address) {
  if (address.size() < 6) return false;
  std::string head(address.substr(0, 6));
  for (char& c : head) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return head == "reply+";
}

// The address the family wrote to: the reply+TOKEN address wherever it appears, else To:.
std::string written_to(const ParsedEmail& email) {
  std::vector<Mailbox> candidates = email.to;
  candidates.insert(candidates.end(), email.cc.begin(), email.cc.end());
  for (const char* name : {"Delivered-To", "X-Original-To"}) {
    for (const auto& field : email.headers) {
      if (field.name.size() != std::string_view(name).size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < field.name.size() && same; ++i) {
        const auto lower = [](char c) {
          return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        };
        same = lower(field.name[i]) == lower(name[i]);
      }
      if (!same) continue;
      for (auto& m : parse_address_list(field.value)) candidates.push_back(std::move(m));
    }
  }
  for (const auto& m : candidates) {
    if (is_reply_address(m.address)) return m.address;
  }
  return email.to.empty() ? std::string() : email.to.front().address;
}

}  // namespace

Result<InboundMessage> inbound_from_email(std::string_view raw, std::string source,
                                          std::string_view envelope_to, Millis received_at) {
  auto parsed = parse_email(raw);
  if (!parsed.is_ok()) return parsed.status();
  ParsedEmail& email = *parsed;
  InboundMessage m;
  m.channel = "email";
  m.source = std::move(source);
  m.provider_id =
      email.message_id.empty() ? "sha256:" + sha256_hex(raw) : std::move(email.message_id);
  m.from = email.from.address;
  m.to = envelope_to.empty() ? written_to(email) : std::string(envelope_to);
  m.text = extract_reply(email.text);
  m.original = std::string(raw);
  m.subject = std::move(email.subject);
  m.in_reply_to = std::move(email.in_reply_to);
  m.references = std::move(email.references);
  m.received_at = received_at != 0 ? received_at : email.date_time.value_or(0);
  return m;
}

}  // namespace homeroom::conversations
