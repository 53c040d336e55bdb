// UTF-8 helpers shared by the conversations parsers (internal; not part of the module's
// interface).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace homeroom::conversations::utf8 {

constexpr char32_t kReplacement = 0xFFFD;

// Length of the well-formed UTF-8 sequence at text[i] (no overlong forms, surrogates or code
// points above U+10FFFF), or 0 when it is ill-formed; `*bad_len` is then the length of the maximal
// subpart to replace by one U+FFFD (at least 1), as the Unicode standard recommends.
inline std::size_t sequence_length(std::string_view text, std::size_t i, std::size_t* bad_len) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  *bad_len = 1;
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if (i + k >= text.size()) return 0;
    const unsigned char b = byte(i + k);
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
    *bad_len = k + 1;
  }
  return len;
}

// The code point at text[*i], advancing *i past it; U+FFFD for an ill-formed sequence.
inline char32_t decode(std::string_view text, std::size_t* i) {
  std::size_t bad = 0;
  const std::size_t len = sequence_length(text, *i, &bad);
  if (len == 0) {
    *i += bad;
    return kReplacement;
  }
  const auto byte = [&](std::size_t k) { return static_cast<char32_t>(text[*i + k] & 0xFF); };
  char32_t cp = 0;
  switch (len) {
    case 1:
      cp = byte(0);
      break;
    case 2:
      cp = ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
      break;
    case 3:
      cp = ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
      break;
    default:
      cp = ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) |
           (byte(3) & 0x3F);
  }
  *i += len;
  return cp;
}

// Appends `cp` as UTF-8; NUL, surrogates and values above U+10FFFF are written as U+FFFD.
inline void append(std::string* out, char32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacement;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace homeroom::conversations::utf8
