#include "roster/validate.h"

#include <algorithm>
#include <exception>
#include <vector>

#include <date/tz.h>

#include "core/model.h"

namespace homeroom {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
bool is_high(char c) { return static_cast<unsigned char>(c) >= 0x80; }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool all_of(std::string_view text, bool (*pred)(char)) {
  return std::all_of(text.begin(), text.end(), pred);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool valid_local_part(std::string_view local) {
  static constexpr std::string_view kAtext = "!#$%&'*+/=?^_`{|}~-";
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(local.begin(), local.end(), [](char c) {
    return is_alnum(c) || is_high(c) || c == '.' || kAtext.find(c) != std::string_view::npos;
  });
}

bool valid_domain(std::string_view domain) {
  const auto labels = split(domain, '.');
  if (labels.size() < 2) return false;
  for (auto label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(),
                     [](char c) { return is_alnum(c) || is_high(c) || c == '-'; })) {
      return false;
    }
  }
  return !all_of(labels.back(), is_digit);  // "a@1.2.3.4" is not a mailbox we can reach
}

// Builds the canonical form of a BCP 47 tag, or returns nullopt. RFC 5646 section 2.1 syntax,
// without grandfathered tags.
std::optional<std::string> canonical_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 64) return std::nullopt;
  std::string text(tag);
  std::replace(text.begin(), text.end(), '_', '-');
  const auto parts = split(text, '-');
  for (auto part : parts) {
    if (part.empty() || part.size() > 8 || !all_of(part, is_alnum)) return std::nullopt;
  }
  auto lower = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    return out;
  };
  auto upper = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), to_upper);
    return out;
  };

  std::size_t i = 0;
  std::string out;
  auto append = [&out](const std::string& s) {
    if (!out.empty()) out += '-';
    out += s;
  };
  // language
  if (parts[i].size() < 2 || parts[i].size() > 3 || !all_of(parts[i], is_alpha)) {
    return std::nullopt;
  }
  append(lower(parts[i++]));
  // extlang: up to three 3-letter subtags
  for (int n = 0; n < 3 && i < parts.size() && parts[i].size() == 3 && all_of(parts[i], is_alpha);
       ++n) {
    append(lower(parts[i++]));
  }
  // script
  if (i < parts.size() && parts[i].size() == 4 && all_of(parts[i], is_alpha)) {
    std::string script = lower(parts[i++]);
    script[0] = to_upper(script[0]);
    append(script);
  }
  // region
  if (i < parts.size() && ((parts[i].size() == 2 && all_of(parts[i], is_alpha)) ||
                           (parts[i].size() == 3 && all_of(parts[i], is_digit)))) {
    append(upper(parts[i++]));
  }
  // variants
  std::vector<std::string> variants;
  while (i < parts.size() &&
         ((parts[i].size() >= 5) || (parts[i].size() == 4 && is_digit(parts[i][0])))) {
    std::string variant = lower(parts[i++]);
    if (std::find(variants.begin(), variants.end(), variant) != variants.end()) {
      return std::nullopt;
    }
    variants.push_back(variant);
    append(variant);
  }
  // extensions: a singleton other than 'x', then one or more 2-8 character subtags
  std::string singletons;
  while (i < parts.size() && parts[i].size() == 1 && to_lower(parts[i][0]) != 'x') {
    const char singleton = to_lower(parts[i][0]);
    if (singletons.find(singleton) != std::string::npos) return std::nullopt;
    singletons += singleton;
    append(std::string(1, singleton));
    ++i;
    std::size_t count = 0;
    while (i < parts.size() && parts[i].size() >= 2) {
      append(lower(parts[i++]));
      ++count;
    }
    if (count == 0) return std::nullopt;
  }
  // private use: 'x', then one or more 1-8 character subtags
  if (i < parts.size() && parts[i].size() == 1 && to_lower(parts[i][0]) == 'x') {
    append("x");
    ++i;
    if (i == parts.size()) return std::nullopt;
    while (i < parts.size()) append(lower(parts[i++]));
  }
  if (i != parts.size()) return std::nullopt;
  return out;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
      code = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      code = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      code = c & 0x07u;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0u) != 0x80u) return false;
      code = (code << 6) | (next & 0x3fu);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000) || code > 0x10ffff ||
        (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

Status validate_email(std::string_view field, std::string_view value) {
  const auto at = value.find('@');
  const bool ok = value.size() <= 254 && at != std::string_view::npos &&
                  value.find('@', at + 1) == std::string_view::npos && is_valid_utf8(value) &&
                  valid_local_part(value.substr(0, at)) && valid_domain(value.substr(at + 1));
  if (ok) return Status::ok();
  return Status::invalid(std::string(field), "must be an email address like name@example.org");
}

std::string normalize_email(std::string_view valid_email) {
  std::string out(valid_email);
  const auto at = out.find('@');
  if (at != std::string::npos)
    std::transform(out.begin() + at, out.end(), out.begin() + at, to_lower);
  return out;
}

Status validate_e164_phone(std::string_view field, std::string_view value) {
  const bool ok = value.size() >= 9 && value.size() <= 16 && value[0] == '+' && value[1] != '0' &&
                  all_of(value.substr(1), is_digit);
  if (ok) return Status::ok();
  return Status::invalid(std::string(field),
                         "must be an E.164 phone number: '+', country code and number, like "
                         "+15551234567");
}

std::optional<std::string> normalize_phone(std::string_view input,
                                           std::string_view default_country_code) {
  std::string digits;
  bool plus = false;
  bool seen_digit = false;
  for (char c : input) {
    if (is_digit(c)) {
      digits += c;
      seen_digit = true;
    } else if (c == '+' && !plus && !seen_digit) {
      plus = true;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '\t') {
      return std::nullopt;
    }
  }
  std::string e164;
  if (plus) {
    e164 = "+" + digits;
  } else if (digits.rfind("00", 0) == 0) {
    e164 = "+" + digits.substr(2);
  } else if (default_country_code == "1") {
    // North American Numbering Plan: 10 digits, or 11 with the leading country code 1.
    if (digits.size() == 10) {
      e164 = "+1" + digits;
    } else if (digits.size() == 11 && digits[0] == '1') {
      e164 = "+" + digits;
    } else {
      return std::nullopt;
    }
  } else {
    // Elsewhere a national number usually starts with the trunk prefix 0, which E.164 drops.
    if (digits.size() < 2 || digits[0] != '0') return std::nullopt;
    e164 = "+" + std::string(default_country_code) + digits.substr(1);
  }
  if (!validate_e164_phone("phone", e164)) return std::nullopt;
  return e164;
}

Status validate_language(std::string_view field, std::string_view value) {
  if (canonical_tag(value)) return Status::ok();
  return Status::invalid(std::string(field),
                         "must be a BCP 47 language tag like en, es, pt-BR or zh-Hant-TW");
}

std::optional<std::string> canonical_language(std::string_view tag) { return canonical_tag(tag); }

Status validate_channel(std::string_view field, std::string_view value) {
  const auto& channels = known_channels();
  if (std::find(channels.begin(), channels.end(), value) != channels.end()) return Status::ok();
  return Status::invalid(std::string(field), "must be one of email, sms, push");
}

Status validate_id(std::string_view field, std::string_view value) {
  const bool ok =
      !value.empty() && value.size() <= 64 && std::all_of(value.begin(), value.end(), [](char c) {
        return is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
      });
  if (ok) return Status::ok();
  return Status::invalid(std::string(field),
                         "must be 1 to 64 characters of letters, digits, '.', '_', ':' and '-'");
}

Status validate_name(std::string_view field, std::string_view value) {
  const auto blank = std::all_of(value.begin(), value.end(), [](char c) { return c == ' '; });
  if (value.empty() || blank) return Status::invalid(std::string(field), "must not be empty");
  if (value.size() > 200) return Status::invalid(std::string(field), "must be at most 200 bytes");
  if (!is_valid_utf8(value)) return Status::invalid(std::string(field), "must be valid UTF-8");
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    const bool c1 = c == 0xc2 && i + 1 < value.size() &&
                    static_cast<unsigned char>(value[i + 1]) <= 0x9f;  // U+0080..U+009F
    if (c < 0x20 || c == 0x7f || c1) {
      return Status::invalid(std::string(field), "must not contain control characters");
    }
  }
  return Status::ok();
}

Status validate_timezone(std::string_view field, std::string_view value) {
  const bool syntax_ok = !value.empty() && value.size() <= 64 && value.front() != '/' &&
                         value.back() != '/' && value.find("..") == std::string_view::npos &&
                         std::all_of(value.begin(), value.end(), [](char c) {
                           return is_alnum(c) || c == '/' || c == '_' || c == '+' || c == '-';
                         });
  if (syntax_ok) {
    try {
      if (date::locate_zone(value) != nullptr) return Status::ok();
    } catch (const std::exception&) {
      // not in the tz database: reported below
    }
  }
  return Status::invalid(std::string(field),
                         "must be an IANA time zone like America/Chicago or UTC");
}

}  // namespace homeroom
