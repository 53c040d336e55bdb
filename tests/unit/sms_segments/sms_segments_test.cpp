#include <catch2/catch.hpp>
#include <string>

#include "render/sms_segments.h"

using homeroom::render::count_sms_segments;

namespace {

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

struct Case {
  const char* name;
  std::string text;
  bool gsm7;
  int units;
  int segments;
};

}  // namespace

TEST_CASE("SMS segments: table") {
  const std::string emoji = "\xF0\x9F\x98\x80";  // U+1F600, a surrogate pair in UTF-16
  const Case cases[] = {
      {"empty", "", true, 0, 0},
      {"one char", "a", true, 1, 1},
      {"GSM-7 160 is one segment", repeat("a", 160), true, 160, 1},
      {"GSM-7 161 is two", repeat("a", 161), true, 161, 2},
      {"GSM-7 153*2 is two", repeat("a", 306), true, 306, 2},
      {"GSM-7 153*2+1 is three", repeat("a", 307), true, 307, 3},
      {"GSM-7 153*3 is three", repeat("a", 459), true, 459, 3},
      {"extension char costs two", "{", true, 2, 1},
      {"euro costs two", "\xE2\x82\xAC", true, 2, 1},
      {"form feed costs two", "\f", true, 2, 1},
      {"all extension chars", "^{}\\[~]|\xE2\x82\xAC\f", true, 20, 1},
      {"159 + extension = 161 septets", repeat("a", 159) + "[", true, 161, 2},
      {"158 + extension = 160 septets", repeat("a", 158) + "[", true, 160, 1},
      // 152 septets then an extension char: its escape must not be the last septet of part 1.
      {"extension char never split", repeat("a", 152) + "|" + repeat("a", 153), true, 307, 3},
      {"extension char exactly fills part", repeat("a", 151) + "|" + repeat("a", 153), true, 306,
       2},
      {"GSM-7 basic accents", "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤ÄÖÑÜ§¿äöñüà¡", true, 42, 1},
      {"LF and CR are basic", "a\nb\r\n", true, 5, 1},
      {"Spanish fits GSM-7", "¿Mañana a las 8? Vale, gracias.", true, 31, 1},
      {"Spanish á is not GSM-7", "Está bien", false, 9, 1},
      {"accented capital not in GSM-7", "Ê", false, 1, 1},
      {"ç lower is not GSM-7 (only Ç)", "ç", false, 1, 1},
      {"UCS-2 70 is one segment", repeat("\xC3\xA1", 70), false, 70, 1},
      {"UCS-2 71 is two", repeat("\xC3\xA1", 71), false, 71, 2},
      {"UCS-2 67*2 is two", repeat("\xC3\xA1", 134), false, 134, 2},
      {"UCS-2 67*2+1 is three", repeat("\xC3\xA1", 135), false, 135, 3},
      {"emoji is two units", emoji, false, 2, 1},
      {"69 + emoji = 71 units", repeat("a", 69) + emoji, false, 71, 2},
      {"68 + emoji = 70 units", repeat("a", 68) + emoji, false, 70, 1},
      // The pair would straddle parts 1 and 2: it moves whole to part 2, which then overflows.
      {"emoji never split", repeat("a", 66) + emoji + repeat("a", 66), false, 134, 3},
      {"emoji exactly fills part", repeat("a", 65) + emoji + repeat("a", 67), false, 134, 2},
      {"Vietnamese", "Con bạn học rất tốt hôm nay.", false, 28, 1},
      {"Chinese", "您的孩子今天表现很好。", false, 11, 1},
      {"Chinese 71 chars", repeat("好", 71), false, 71, 2},
      {"one non-GSM char turns all to UCS-2", repeat("a", 100) + "\xE2\x80\x99", false, 101, 2},
      {"invalid UTF-8 counts as U+FFFD", "a\xFF", false, 2, 1},
      {"truncated sequence", "a\xE2\x82", false, 3, 1},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const auto got = count_sms_segments(c.text);
    CHECK(got.gsm7 == c.gsm7);
    CHECK(got.units == c.units);
    CHECK(got.segments == c.segments);
  }
}

TEST_CASE("SMS segments: every basic-table character is one septet") {
  const std::string basic =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
      "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const auto got = count_sms_segments(basic);
  CHECK(got.gsm7);
  CHECK(got.units == 127);  // 128 code points minus the escape
  // Near misses that look like GSM-7 but are not.
  for (const char* s : {"`", "á", "í", "ó", "ú", "Ì", "\t", "€€\xC2\xA0", "\xE2\x80\x9C"}) {
    INFO(s);
    CHECK_FALSE(count_sms_segments(s).gsm7);
  }
}
