#include "render/sms_segments.h"

#include <array>
#include <cstdint>

namespace homeroom::render {
namespace {

// The GSM 7-bit default alphabet's basic table (3GPP TS 23.038 6.2.1), by septet value. 0x1B is
// the escape to the extension table and is not a character of its own.
constexpr char32_t kBasicTable[128] = {
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç',  U'\n', U'Ø', U'ø', U'\r', U'Å',
    U'å', U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ',  U'Θ',  U'Ξ', 0,    U'Æ',  U'æ',
    U'ß', U'É', U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(',  U')', U'*', U'+',  U',',
    U'-', U'.', U'/', U'0', U'1', U'2', U'3', U'4', U'5', U'6',  U'7',  U'8', U'9', U':',  U';',
    U'<', U'=', U'>', U'?', U'¡', U'A', U'B', U'C', U'D', U'E',  U'F',  U'G', U'H', U'I',  U'J',
    U'K', U'L', U'M', U'N', U'O', U'P', U'Q', U'R', U'S', U'T',  U'U',  U'V', U'W', U'X',  U'Y',
    U'Z', U'Ä', U'Ö', U'Ñ', U'Ü', U'§', U'¿', U'a', U'b', U'c',  U'd',  U'e', U'f', U'g',  U'h',
    U'i', U'j', U'k', U'l', U'm', U'n', U'o', U'p', U'q', U'r',  U's',  U't', U'u', U'v',  U'w',
    U'x', U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à',
};

// The extension table (3GPP TS 23.038 6.2.1.1): each costs an escape septet plus its own.
constexpr char32_t kExtensionTable[] = {U'\f', U'^', U'{', U'}', U'\\',
                                        U'[',  U'~', U']', U'|', U'€'};

// Septets `c` costs in GSM-7: 1 (basic), 2 (extension), or 0 when GSM-7 cannot carry it.
constexpr int gsm7_septets_by_search(char32_t c) {
  if (c == 0) return 0;
  for (char32_t b : kBasicTable) {
    if (b == c) return 1;
  }
  for (char32_t e : kExtensionTable) {
    if (e == c) return 2;
  }
  return 0;
}

// The same for ASCII, looked up: nearly every character of a text is ASCII.
constexpr auto kAsciiSeptets = [] {
  std::array<std::uint8_t, 128> table{};
  for (char32_t c = 0; c < 128; ++c) {
    table[c] = static_cast<std::uint8_t>(gsm7_septets_by_search(c));
  }
  return table;
}();

int gsm7_septets(char32_t c) { return c < 128 ? kAsciiSeptets[c] : gsm7_septets_by_search(c); }

// Decodes the code point at the front of `s` and advances past it; invalid input yields U+FFFD
// and consumes one byte.
char32_t next_code_point(std::string_view& s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  auto invalid = [&s] {
    s.remove_prefix(1);
    return char32_t{0xFFFD};
  };
  int len = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    s.remove_prefix(1);
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return invalid();
  }
  if (s.size() < static_cast<std::size_t>(len)) return invalid();
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
    if ((b & 0xC0) != 0x80) return invalid();
    cp = (cp << 6) | (b & 0x3F);
  }
  constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return invalid();
  s.remove_prefix(static_cast<std::size_t>(len));
  return cp;
}

// Packs characters of the given widths into parts of `per_part` units without splitting one.
class PartPacker {
 public:
  explicit PartPacker(int per_part) : per_part_(per_part) {}
  void add(int width) {
    if (parts_ == 0 || used_ + width > per_part_) {
      ++parts_;
      used_ = 0;
    }
    used_ += width;
  }
  int parts() const { return parts_; }

 private:
  int per_part_;
  int parts_ = 0;
  int used_ = 0;
};

constexpr int kGsm7Single = 160;
constexpr int kGsm7Part = 153;
constexpr int kUcs2Single = 70;
constexpr int kUcs2Part = 67;

}  // namespace

SmsSegments count_sms_segments(std::string_view utf8) {
  bool gsm7 = true;
  int septets = 0;
  int utf16_units = 0;
  PartPacker gsm7_parts(kGsm7Part);
  PartPacker ucs2_parts(kUcs2Part);
  while (!utf8.empty()) {
    const char32_t c = next_code_point(utf8);
    const int utf16_width = c > 0xFFFF ? 2 : 1;
    utf16_units += utf16_width;
    ucs2_parts.add(utf16_width);
    if (gsm7) {
      const int width = gsm7_septets(c);
      if (width == 0) {
        gsm7 = false;
      } else {
        septets += width;
        gsm7_parts.add(width);
      }
    }
  }
  if (gsm7) {
    const int segments = septets == 0 ? 0 : septets <= kGsm7Single ? 1 : gsm7_parts.parts();
    return {true, septets, segments};
  }
  const int segments = utf16_units <= kUcs2Single ? 1 : ucs2_parts.parts();
  return {false, utf16_units, segments};
}

}  // namespace homeroom::render
