#include "render/mime.h"

#include <date/date.h>

#include <chrono>

namespace homeroom::render {
namespace {

bool plain_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  // "=?" would be taken for the start of an encoded word.
  return s.find("=?") == std::string_view::npos;
}

std::string base64(std::string_view in) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Length of the UTF-8 sequence starting with byte `c` (1 for invalid lead bytes).
std::size_t utf8_len(unsigned char c) {
  if (c >= 0xf0) return 4;
  if (c >= 0xe0) return 3;
  if (c >= 0xc0) return 2;
  return 1;
}

}  // namespace

std::string encode_header_words(std::string_view text) {
  if (plain_ascii(text)) return std::string(text);
  // "=?UTF-8?B?" + payload + "?=" <= 75 chars: 63 payload chars hold 45 bytes of text.
  constexpr std::size_t kMaxBytes = 45;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = i;
    while (end < text.size()) {
      std::size_t n = utf8_len(static_cast<unsigned char>(text[end]));
      if (end + n - i > kMaxBytes) break;
      end += n;
    }
    if (end == i) end = std::min(text.size(), i + kMaxBytes);
    if (!out.empty()) out += "\r\n ";  // folded: each word on its own line
    out += "=?UTF-8?B?" + base64(text.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t line_len = 0;
  auto emit = [&](std::string_view piece) {
    if (line_len + piece.size() > 75) {  // leave room for the soft break '='
      out += "=\r\n";
      line_len = 0;
    }
    out += piece;
    line_len += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      // Trailing white space before a hard break must be encoded (RFC 2045 6.7 rule 3).
      if (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
        char ws = out.back();
        out.pop_back();
        --line_len;
        char enc[4] = {'=', kHex[ws >> 4], kHex[ws & 15], 0};
        emit(enc);
      }
      out += "\r\n";
      line_len = 0;
      continue;
    }
    bool literal = (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
    if (literal) {
      char ch[2] = {static_cast<char>(c), 0};
      emit(ch);
    } else {
      char enc[4] = {'=', kHex[c >> 4], kHex[c & 15], 0};
      emit(enc);
    }
  }
  if (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
    char ws = out.back();
    out.pop_back();
    out += ws == ' ' ? "=20" : "=09";
  }
  return out;
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string rfc5322_date(Millis t) {
  using namespace std::chrono;
  sys_seconds tp{duration_cast<seconds>(milliseconds{t})};
  return date::format("%a, %d %b %Y %H:%M:%S +0000", tp);
}

std::string format_mailbox(std::string_view display_name, std::string_view address) {
  if (display_name.empty()) return "<" + std::string(address) + ">";
  std::string name;
  if (plain_ascii(display_name)) {
    name = "\"";
    for (char c : display_name) {
      if (c == '"' || c == '\\') name += '\\';
      name += c;
    }
    name += "\"";
  } else {
    name = encode_header_words(display_name);
  }
  return name + " <" + std::string(address) + ">";
}

}  // namespace homeroom::render
