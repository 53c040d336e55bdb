#include "conversations/mime_decode.h"

#include <iconv.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "conversations/ascii.h"
#include "conversations/utf8.h"

namespace homeroom::conversations {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// A charset name as iconv should see it, or "" when it is not a plausible charset name.
std::string iconv_name(std::string_view charset) {
  std::string name = ascii::to_lower(ascii::trim(charset));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  if (name.empty() || name.size() > 40) return {};
  for (char c : name) {
    // No '/': iconv would read "x//TRANSLIT" as a request for transliteration.
    if (!(ascii::is_alpha(c) || ascii::is_digit(c) || c == '-' || c == '_' || c == '.' ||
          c == ':')) {
      return {};
    }
  }
  struct Alias {
    std::string_view from;
    std::string_view to;
  };
  static constexpr Alias kAliases[] = {
      {"iso-8859-1", "WINDOWS-1252"},
      {"iso8859-1", "WINDOWS-1252"},
      {"iso_8859-1", "WINDOWS-1252"},
      {"latin1", "WINDOWS-1252"},
      {"latin-1", "WINDOWS-1252"},
      {"l1", "WINDOWS-1252"},
      {"cp1252", "WINDOWS-1252"},
      {"x-cp1252", "WINDOWS-1252"},
      {"gb2312", "GB18030"},
      {"gbk", "GB18030"},
      {"x-gbk", "GB18030"},
      {"cp936", "GB18030"},
      {"ks_c_5601-1987", "CP949"},
      {"euc-kr", "CP949"},
      {"shift_jis", "CP932"},
      {"shift-jis", "CP932"},
      {"sjis", "CP932"},
      {"x-sjis", "CP932"},
      {"windows-31j", "CP932"},
      {"big5", "BIG5-HKSCS"},
      {"x-mac-roman", "MACINTOSH"},
      {"macintosh", "MACINTOSH"},
      {"iso-2022-jp", "ISO-2022-JP-3"},  // a superset: also reads the extended JIS X 0213 set
  };
  for (const Alias& alias : kAliases) {
    if (name == alias.from) return std::string(alias.to);
  }
  return name;
}

bool unlabelled(std::string_view name) {
  return name.empty() || name == "us-ascii" || name == "ascii" || name == "ansi_x3.4-1968" ||
         name == "us" || name == "default" || name == "unknown-8bit" || name == "x-unknown" ||
         name == "unknown";
}

// iconv from `from` to UTF-8; false when iconv cannot open that conversion.
bool iconv_to_utf8(std::string_view bytes, const std::string& from, std::string* out) {
  iconv_t cd = iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out->reserve(out->size() + bytes.size() + bytes.size() / 2);
  // glibc's iconv does not write through its input pointer; the signature is historical.
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  char buffer[4096];
  while (in_left > 0) {
    char* o = buffer;
    std::size_t o_left = sizeof buffer;
    const std::size_t r = iconv(cd, &in, &in_left, &o, &o_left);
    const int error = errno;
    out->append(buffer, static_cast<std::size_t>(o - buffer));
    if (r != static_cast<std::size_t>(-1)) continue;
    if (error == E2BIG) continue;
    out->append(kReplacement);
    if (error == EILSEQ) {
      ++in;
      --in_left;
      continue;
    }
    break;  // EINVAL: an incomplete sequence ends the input
  }
  char* o = buffer;
  std::size_t o_left = sizeof buffer;
  iconv(cd, nullptr, nullptr, &o, &o_left);  // return to the initial shift state
  out->append(buffer, static_cast<std::size_t>(o - buffer));
  iconv_close(cd);
  return true;
}

char base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<char>(c - 'a' + 26);
  if (c >= '0' && c <= '9') return static_cast<char>(c - '0' + 52);
  if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet, seen in the wild
  if (c == '/' || c == '_') return 63;
  return -1;
}

// RFC 2047 "Q": like quoted-printable, but '_' is a space and there are no line breaks.
std::string decode_q(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '_') {
      out.push_back(' ');
    } else if (c == '=' && i + 2 < text.size() && ascii::hex_value(text[i + 1]) >= 0 &&
               ascii::hex_value(text[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(ascii::hex_value(text[i + 1]) * 16 + ascii::hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct EncodedWord {
  std::size_t end = 0;  // one past "?="
  std::string_view charset;
  std::string bytes;
};

// Parses an encoded-word starting at value[start] ("=?"); false when there is none.
bool parse_encoded_word(std::string_view value, std::size_t start, EncodedWord* word) {
  constexpr std::size_t kMaxCharset = 64;
  constexpr std::size_t kMaxText = 4096;
  std::size_t i = start + 2;
  const std::size_t q1 = value.find('?', i);
  if (q1 == std::string_view::npos || q1 == i || q1 - i > kMaxCharset) return false;
  std::string_view charset = value.substr(i, q1 - i);
  for (char c : charset) {
    if (ascii::is_space(c) || c == '=' || c == '"') return false;
  }
  if (q1 + 2 >= value.size() || value[q1 + 2] != '?') return false;
  const char encoding = ascii::upper(value[q1 + 1]);
  if (encoding != 'B' && encoding != 'Q') return false;
  const std::size_t text_start = q1 + 3;
  const std::size_t q2 = value.find('?', text_start);
  if (q2 == std::string_view::npos || q2 - text_start > kMaxText || q2 + 1 >= value.size() ||
      value[q2 + 1] != '=') {
    return false;
  }
  const std::string_view text = value.substr(text_start, q2 - text_start);
  if (const std::size_t star = charset.find('*'); star != std::string_view::npos) {
    charset = charset.substr(0, star);  // RFC 2231 language suffix: "utf-8*en"
  }
  word->end = q2 + 2;
  word->charset = charset;
  word->bytes = encoding == 'B' ? decode_base64(text) : decode_q(text);
  return true;
}

}  // namespace

std::string decode_quoted_printable(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  std::size_t pos = 0;
  while (pos < encoded.size()) {
    std::size_t eol = encoded.find('\n', pos);
    const bool has_eol = eol != std::string_view::npos;
    if (!has_eol) eol = encoded.size();
    std::string_view line = encoded.substr(pos, eol - pos);
    pos = has_eol ? eol + 1 : encoded.size();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Trailing white space was added in transport (RFC 2045 6.7 rule 3).
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    bool soft_break = false;
    if (!line.empty() && line.back() == '=') {
      soft_break = true;
      line.remove_suffix(1);
    }
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '=' && i + 2 < line.size() && ascii::hex_value(line[i + 1]) >= 0 &&
          ascii::hex_value(line[i + 2]) >= 0) {
        out.push_back(
            static_cast<char>(ascii::hex_value(line[i + 1]) * 16 + ascii::hex_value(line[i + 2])));
        i += 2;
      } else {
        out.push_back(c);
      }
    }
    if (has_eol && !soft_break) out.push_back('\n');
  }
  return out;
}

std::string decode_base64(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size() / 4 * 3 + 3);
  unsigned accumulator = 0;
  int bits = 0;
  for (char c : encoded) {
    if (c == '=') break;
    const char v = base64_value(c);
    if (v < 0) continue;
    accumulator = (accumulator << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((accumulator >> bits) & 0xFF));
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8::sequence_length(text, i, &bad);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t bad = 0;
    const std::size_t n = utf8::sequence_length(text, i, &bad);
    if (n == 0) {
      out.append(kReplacement);
      i += bad;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  const std::string name = iconv_name(charset);
  const std::string lowered = ascii::to_lower(ascii::trim(charset));
  if (name == "utf-8" || name == "utf8") return sanitize_utf8(bytes);
  if (name.empty() && !lowered.empty() && !unlabelled(lowered)) return sanitize_utf8(bytes);
  std::string from = name;
  if (unlabelled(name)) {
    if (is_valid_utf8(bytes)) return std::string(bytes);
    from = "WINDOWS-1252";
  }
  std::string out;
  if (!iconv_to_utf8(bytes, from, &out)) return sanitize_utf8(bytes);
  return sanitize_utf8(out);  // iconv's own output is UTF-8; this is belt and braces
}

std::string decode_header_words(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  std::string pending_bytes;  // decoded bytes of adjacent encoded-words in pending_charset
  std::string pending_charset;
  std::size_t plain_start = 0;  // start of text not yet written
  bool after_word = false;      // the last thing seen was an encoded-word

  const auto flush_words = [&] {
    if (!pending_bytes.empty() || !pending_charset.empty()) {
      out += to_utf8(pending_bytes, pending_charset);
    }
    pending_bytes.clear();
    pending_charset.clear();
  };
  const auto write_plain = [&](std::string_view plain) {
    if (plain.empty()) return;
    flush_words();
    out += to_utf8(plain, "");
  };

  std::size_t i = 0;
  while (i < value.size()) {
    const std::size_t start = value.find("=?", i);
    if (start == std::string_view::npos) break;
    EncodedWord word;
    if (!parse_encoded_word(value, start, &word)) {
      i = start + 2;
      continue;
    }
    const std::string_view between = value.substr(plain_start, start - plain_start);
    const bool only_space = ascii::trim(between).empty();
    if (!(after_word && only_space)) write_plain(between);
    const std::string charset = ascii::to_lower(word.charset);
    if (charset != pending_charset) flush_words();
    pending_charset = charset;
    pending_bytes += word.bytes;
    after_word = true;
    plain_start = word.end;
    i = word.end;
  }
  write_plain(value.substr(plain_start));
  flush_words();
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return out;
}

}  // namespace homeroom::conversations
