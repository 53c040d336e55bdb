#include "twilio_wire.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace homeroom::sms_twilio {
namespace {

void append_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' ||
        c == '-' || c == '.' || c == '_') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
}

// The fields of a Messages API answer that classify it: "sid" (accepted), "code" and "message"
// (refused). Read with nlohmann's SAX interface, without building the whole document: an answer
// carries some twenty other fields, and this runs once per text sent.
struct AnswerFields : nlohmann::json_sax<nlohmann::json> {
  bool is_object = false;
  std::optional<std::string> sid, message;
  std::optional<long> code;
  // An accepted message needs its sid only: stop reading there (`stopped`), not at the end of
  // Twilio's twenty-odd fields.
  bool stop_at_sid = false;
  bool stopped = false;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t n) override {
    if (at_top() && key_ == "code") code = static_cast<long>(n);
    return value();
  }
  bool number_unsigned(number_unsigned_t n) override {
    return number_integer(static_cast<number_integer_t>(n));
  }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& s) override {
    if (at_top() && key_ == "sid") {
      sid = std::move(s);
      if (stop_at_sid) {
        stopped = true;
        return false;
      }
    }
    if (at_top() && key_ == "message") message = std::move(s);
    return value();
  }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) is_object = true;
    ++depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    --depth_;
    return value();
  }
  bool start_array(std::size_t) override {
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return value();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    is_object = false;
    return false;
  }

 private:
  bool at_top() const { return depth_ == 1; }
  bool value() {
    if (depth_ == 1) key_.clear();
    return true;
  }
  int depth_ = 0;
  std::string key_;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_component(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Twilio's error codes that mean something other than "permanent" (the default for a 4xx).
struct CodeRule {
  long code;
  hr_outcome_kind kind;
};
constexpr CodeRule kErrorCodes[] = {
    {21610, HR_OUTCOME_CONTACT_STOPPED},  // "Attempt to send to unsubscribed recipient"
    {20429, HR_OUTCOME_THROTTLED},        // "Too Many Requests"
};

// HTTP statuses by range, first match wins; a known error code above overrides them.
struct StatusRule {
  int low;
  int high;
  hr_outcome_kind kind;
};
constexpr StatusRule kStatuses[] = {
    {429, 429, HR_OUTCOME_THROTTLED},
    {500, 599, HR_OUTCOME_RETRYABLE},
    {400, 499, HR_OUTCOME_PERMANENT},
};

// Twilio's status callback words.
struct CallbackRule {
  std::string_view message_status;
  int status;  // hr_provider_status, 0 to ignore
};
constexpr CallbackRule kCallbackStatuses[] = {
    {"sent", HR_STATUS_SENT},
    {"delivered", HR_STATUS_DELIVERED},
    {"undelivered", HR_STATUS_UNDELIVERED},
    {"failed", HR_STATUS_UNDELIVERED},
    {"queued", 0},
    {"accepted", 0},
    {"sending", 0},
    {"scheduled", 0},
};

}  // namespace

std::string form_encode(const FormParams& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    append_encoded(out, key);
    out += '=';
    append_encoded(out, value);
  }
  return out;
}

FormParams form_decode(std::string_view body) {
  FormParams out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(decode_component(pair), std::string{});
    } else {
      out.emplace_back(decode_component(pair.substr(0, eq)), decode_component(pair.substr(eq + 1)));
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string basic_auth(std::string_view user, std::string_view password) {
  std::string credentials(user);
  credentials += ':';
  credentials += password;
  std::string header = "Basic " + base64(credentials);
  OPENSSL_cleanse(credentials.data(), credentials.size());
  return header;
}

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const FormParams& params) {
  std::map<std::string, std::set<std::string>> sorted;
  for (const auto& [key, value] : params) sorted[key].insert(value);
  std::string data(url);
  for (const auto& [key, values] : sorted) {
    for (const auto& value : values) {
      data += key;
      data += value;
    }
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len);
  return base64(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

bool signature_matches(std::string_view offered, std::string_view expected) {
  if (offered.size() != expected.size() || expected.empty()) return false;
  return CRYPTO_memcmp(offered.data(), expected.data(), expected.size()) == 0;
}

SendOutcome classify_send_response(bool transport_error, std::string_view error_text, int status,
                                   std::string_view body, std::int64_t retry_after_ms) {
  SendOutcome out;
  if (transport_error || status == 0) {
    out.kind = HR_OUTCOME_RETRYABLE;
    out.reason = "transport: " + std::string(error_text.empty() ? "no answer" : error_text);
    return out;
  }
  AnswerFields doc;
  doc.stop_at_sid = status >= 200 && status <= 299;
  const bool parsed = nlohmann::json::sax_parse(body, &doc, nlohmann::json::input_format_t::json,
                                                /*strict=*/true, /*ignore_comments=*/false);
  const bool is_object = (parsed || doc.stopped) && doc.is_object;
  if (status >= 200 && status <= 299) {
    if (is_object && doc.sid && !doc.sid->empty()) {
      out.kind = HR_OUTCOME_ACCEPTED;
      out.provider_id = std::move(*doc.sid);
      return out;
    }
    // Twilio may well have queued the message: sending again could text the family twice.
    out.kind = HR_OUTCOME_PERMANENT;
    out.reason = "HTTP " + std::to_string(status) + " without a message sid";
    return out;
  }
  long code = 0;
  std::string message;
  if (is_object) {
    code = doc.code.value_or(0);
    message = doc.message.value_or("");
  }
  out.kind = HR_OUTCOME_PERMANENT;
  bool matched = false;
  for (const CodeRule& rule : kErrorCodes) {
    if (code != 0 && rule.code == code) {
      out.kind = rule.kind;
      matched = true;
      break;
    }
  }
  for (const StatusRule& rule : kStatuses) {
    if (matched) break;
    if (status >= rule.low && status <= rule.high) {
      out.kind = rule.kind;
      matched = true;
    }
  }
  if (code != 0) {
    out.reason = std::to_string(code) + ": " + message;
  } else {
    out.reason = "HTTP " + std::to_string(status) + (message.empty() ? "" : ": " + message);
  }
  if (out.kind == HR_OUTCOME_THROTTLED || out.kind == HR_OUTCOME_RETRYABLE) {
    out.retry_after_ms = retry_after_ms;
  }
  return out;
}

int status_from_callback(std::string_view message_status, std::string_view error_code) {
  for (const CallbackRule& rule : kCallbackStatuses) {
    if (rule.message_status != message_status) continue;
    if (rule.status == HR_STATUS_UNDELIVERED && error_code == "21610") {
      return HR_STATUS_CONTACT_STOPPED;
    }
    return rule.status;
  }
  return 0;
}

}  // namespace homeroom::sms_twilio
