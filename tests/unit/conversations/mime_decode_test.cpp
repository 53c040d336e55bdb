#include "conversations/mime_decode.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace homeroom::conversations {
namespace {

TEST_CASE("decode_quoted_printable: escapes, soft breaks, transport padding", "[conversations]") {
  struct Row {
    std::string in;
    std::string out;
  };
  const std::vector<Row> rows = {
      {"caf=C3=A9", "caf\xC3\xA9"},
      {"caf=c3=a9", "caf\xC3\xA9"},  // lower-case hex, as some mailers write
      {"long line=\r\ncontinued", "long linecontinued"},
      {"soft break with padding=  \r\nnext", "soft break with paddingnext"},
      {"hard\r\nbreak\r\n", "hard\nbreak\n"},
      {"trailing spaces   \nkept out", "trailing spaces\nkept out"},
      {"a=3Db", "a=b"},
      {"bad =ZZ escape and =4", "bad =ZZ escape and =4"},
      {"ends with =", "ends with "},
      {"=", ""},
      {"", ""},
  };
  for (const Row& row : rows) {
    CAPTURE(row.in);
    CHECK(decode_quoted_printable(row.in) == row.out);
  }
}

TEST_CASE("decode_base64 skips line breaks and garbage and stops at padding", "[conversations]") {
  CHECK(decode_base64("SGVsbG8sIHdvcmxk") == "Hello, world");
  CHECK(decode_base64("SGVs\r\nbG8s IHdv\tcmxk") == "Hello, world");
  CHECK(decode_base64("SGVsbG8=") == "Hello");
  CHECK(decode_base64("SGVsbG8=garbage after padding") == "Hello");
  CHECK(decode_base64("SG*V!s#bG8") == "Hello");
  CHECK(decode_base64("SGVsbG") == "Hell");  // the incomplete group's bits are dropped
  CHECK(decode_base64("") == "");
  CHECK(decode_base64("====") == "");
  CHECK(decode_base64("-_-_") == decode_base64("+/+/"));  // the URL-safe alphabet
}

TEST_CASE("sanitize_utf8 replaces each ill-formed sequence with one U+FFFD", "[conversations]") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(sanitize_utf8("plain ascii") == "plain ascii");
  CHECK(sanitize_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  CHECK(sanitize_utf8("caf\xE9") == "caf" + fffd);                        // Latin-1 byte
  CHECK(sanitize_utf8("\xC0\xAF") == fffd + fffd);                        // overlong '/'
  CHECK(sanitize_utf8("\xED\xA0\x80") == fffd + fffd + fffd);             // a surrogate
  CHECK(sanitize_utf8("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
  CHECK(sanitize_utf8("\xE2\x82") == fffd);  // truncated: one maximal subpart
  CHECK(sanitize_utf8("\xE2\x82x") == fffd + "x");
  CHECK(sanitize_utf8("\x80") == fffd);
  CHECK(is_valid_utf8("caf\xC3\xA9"));
  CHECK_FALSE(is_valid_utf8("caf\xE9"));
  CHECK(is_valid_utf8(sanitize_utf8("\xFF\xFE\xC3")));
}

TEST_CASE("to_utf8 converts charsets through iconv", "[conversations]") {
  struct Row {
    std::string charset;
    std::string bytes;
    std::string utf8;
  };
  const std::vector<Row> rows = {
      {"utf-8", "caf\xC3\xA9", "caf\xC3\xA9"},
      {"UTF8", "caf\xC3\xA9", "caf\xC3\xA9"},
      {"iso-8859-1", "caf\xE9", "caf\xC3\xA9"},
      {"ISO-8859-1", "\x93quoted\x94", "\xE2\x80\x9Cquoted\xE2\x80\x9D"},  // read as cp1252
      {"latin1", "\xFC", "\xC3\xBC"},
      {"windows-1252", "\x96 \x80", "\xE2\x80\x93 \xE2\x82\xAC"},
      {"\"windows-1252\"", "\x96", "\xE2\x80\x93"},
      {"iso-8859-15", "\xA4", "\xE2\x82\xAC"},
      {"koi8-r", "\xF0\xD2\xC9\xD7\xC5\xD4", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"},
      {"iso-2022-jp", "\x1B$B%F%9%H\x1B(B", "\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88"},
      {"shift_jis", "\x83\x65\x83\x58\x83\x67", "\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88"},
      {"gb2312", "\xC4\xE3\xBA\xC3", "\xE4\xBD\xA0\xE5\xA5\xBD"},
      {"utf-16le", std::string("h\0i\0", 4), "hi"},
      // No charset or us-ascii: UTF-8 when valid, otherwise Windows-1252.
      {"", "caf\xC3\xA9", "caf\xC3\xA9"},
      {"", "caf\xE9", "caf\xC3\xA9"},
      {"us-ascii", "caf\xE9", "caf\xC3\xA9"},
      // Unknown or implausible names: UTF-8, invalid sequences replaced.
      {"x-no-such-charset", "caf\xC3\xA9 \xFF", "caf\xC3\xA9 \xEF\xBF\xBD"},
      {"utf-8//TRANSLIT", "caf\xC3\xA9", "caf\xC3\xA9"},
      {"utf-8", "bad \xFF", "bad \xEF\xBF\xBD"},
      // A byte the charset does not define becomes U+FFFD and decoding goes on.
      {"iso-2022-jp", "a\x1B$B\xFF\xFF\x1B(Bz", "a\xEF\xBF\xBD\xEF\xBF\xBDz"},
      {"shift_jis", "\x83", "\xEF\xBF\xBD"},  // truncated double-byte character
  };
  for (const Row& row : rows) {
    CAPTURE(row.charset, row.bytes);
    CHECK(to_utf8(row.bytes, row.charset) == row.utf8);
  }
}

TEST_CASE("decode_header_words: RFC 2047 encoded-words and their edge cases", "[conversations]") {
  struct Row {
    std::string in;
    std::string out;
  };
  const std::vector<Row> rows = {
      {"plain subject", "plain subject"},
      {"=?utf-8?q?caf=C3=A9?=", "caf\xC3\xA9"},
      {"=?UTF-8?B?Y2Fmw6k=?=", "caf\xC3\xA9"},
      {"=?utf-8?Q?a_b?=", "a b"},
      // White space between adjacent encoded-words is dropped, elsewhere kept.
      {"=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"},
      {"=?utf-8?Q?a?= \t  =?utf-8?Q?b?=", "ab"},
      {"a =?utf-8?Q?b?= c", "a b c"},
      {"=?utf-8?Q?a?= x =?utf-8?Q?b?=", "a x b"},
      {"=?utf-8?B?w6k=?==?utf-8?B?w6k=?=", "\xC3\xA9\xC3\xA9"},  // no space at all
      // A character split over two words of the same charset.
      {"=?utf-8?B?4oI=?= =?utf-8?B?rA==?=", "\xE2\x82\xAC"},
      // Different charsets next to each other.
      {"=?iso-8859-1?Q?=E9?= =?utf-8?Q?=C3=A9?=", "\xC3\xA9\xC3\xA9"},
      {"=?iso-8859-1?q?p=F6stal?=", "p\xC3\xB6stal"},
      {"=?windows-1252?Q?=96_Thursday?=", "\xE2\x80\x93 Thursday"},
      {"=?utf-8*es?Q?hola?=", "hola"},  // RFC 2231 language suffix
      {"=?x-unknown-charset?Q?caf=C3=A9?=", "caf\xC3\xA9"},
      {"=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88"},
      // Malformed words stay as written.
      {"=?utf-8?X?abc?=", "=?utf-8?X?abc?="},
      {"=?utf-8?Q?unterminated", "=?utf-8?Q?unterminated"},
      {"=??Q?x?=", "=??Q?x?="},
      {"price =? 5", "price =? 5"},
      {"=?utf-8?Q?"
       "?=",
       ""},  // split: "??=" is a trigraph
      // Control characters become spaces; raw 8-bit text is UTF-8 or Windows-1252.
      {"=?utf-8?Q?line=0Abreak?=", "line break"},
      {"caf\xE9", "caf\xC3\xA9"},
      {"caf\xC3\xA9 =?utf-8?Q?ol=C3=A9?=", "caf\xC3\xA9 ol\xC3\xA9"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.in);
    CHECK(decode_header_words(row.in) == row.out);
  }
}

}  // namespace
}  // namespace homeroom::conversations
