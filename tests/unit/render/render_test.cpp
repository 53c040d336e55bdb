#include <catch2/catch.hpp>

#include "render/mime.h"
#include "render/renderer.h"

using namespace homeroom;
using namespace homeroom::render;

TEST_CASE("ASCII header text stays as is - UTF-8 becomes encoded-words") {
  CHECK(encode_header_words("Note from Ms. Lee") == "Note from Ms. Lee");
  CHECK(encode_header_words("Nota sobre José") == "=?UTF-8?B?Tm90YSBzb2JyZSBKb3PDqQ==?=");
  // Long text is split into several words of at most 75 chars, never inside a UTF-8 sequence.
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "é";
  auto enc = encode_header_words(long_text);
  std::size_t start = 0;
  int words = 0;
  while (start < enc.size()) {
    auto end = enc.find("\r\n ", start);
    auto word = enc.substr(start, end == std::string::npos ? std::string::npos : end - start);
    CHECK(word.size() <= 75);
    ++words;
    start = end == std::string::npos ? enc.size() : end + 3;
  }
  CHECK(words == 2);  // 80 bytes: 44 + 36
}

TEST_CASE("quoted-printable") {
  CHECK(quoted_printable("plain text") == "plain text");
  CHECK(quoted_printable("a=b") == "a=3Db");
  CHECK(quoted_printable("café") == "caf=C3=A9");
  CHECK(quoted_printable("line one\nline two") == "line one\r\nline two");
  CHECK(quoted_printable("trailing \nx") == "trailing=20\r\nx");
  std::string long_line(200, 'x');
  auto qp = quoted_printable(long_line);
  std::size_t start = 0;
  while (start < qp.size()) {
    auto end = qp.find("\r\n", start);
    if (end == std::string::npos) end = qp.size();
    CHECK(end - start <= 76);
    start = end + 2;
  }
  CHECK(qp.find("=\r\n") != std::string::npos);
}

TEST_CASE("RFC 5322 date and mailbox") {
  CHECK(rfc5322_date(1'795'412'289'000) == "Mon, 23 Nov 2026 05:38:09 +0000");
  CHECK(format_mailbox("Ms. \"Lee\"", "lee@s.org") == "\"Ms. \\\"Lee\\\"\" <lee@s.org>");
  CHECK(format_mailbox("", "lee@s.org") == "<lee@s.org>");
}

namespace {
LeasedDelivery leased(std::string channel, std::string language) {
  LeasedDelivery d;
  d.id = "dlv_1";
  d.message_id = "msg_1";
  d.channel = std::move(channel);
  d.address = d.channel == "email" ? "ana@x.org" : "+15551234567";
  d.language = std::move(language);
  d.category = "note";
  d.text = "Maya terminó su informe temprano.";
  d.student_given_name = "Maya";
  d.author_name = "Ms. Lee";
  d.attempt = 1;
  return d;
}
}  // namespace

TEST_CASE("email rendering gives a complete message in the guardian's language") {
  auto r = render_delivery(leased("email", "es"), {}, 1'795'412'289'000);
  CHECK(r.subject == "Nota de Ms. Lee sobre Maya");
  CHECK(r.to == "ana@x.org");
  CHECK(r.content.find("Subject: Nota de Ms. Lee sobre Maya\r\n") != std::string::npos);
  CHECK(r.content.find("Message-ID: <dlv_1@homeroom.localhost>\r\n") != std::string::npos);
  CHECK(r.content.find("Content-Language: es\r\n") != std::string::npos);
  CHECK(r.content.find("\r\n\r\nMaya termin=C3=B3 su informe temprano.\r\n") != std::string::npos);
  CHECK(r.content.find("Date: Mon, 23 Nov 2026 05:38:09 +0000\r\n") != std::string::npos);
}

TEST_CASE("sms rendering is the text, signed by the teacher") {
  auto r = render_delivery(leased("sms", "en"), {}, 0);
  CHECK(r.content == "Ms. Lee: Maya terminó su informe temprano.");
  CHECK(r.subject.empty());
}
