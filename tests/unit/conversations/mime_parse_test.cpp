#include "conversations/mime_parse.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "conversations/html_text.h"
#include "conversations/mime_decode.h"
#include "conversations/reply_text.h"

namespace homeroom::conversations {
namespace {

// The recorded messages are the fuzz target's seed corpus: one copy serves both.
std::string sample(const std::string& name) {
  const std::string path =
      std::string(HOMEROOM_SOURCE_DIR) + "/tests/fuzz/corpus/fuzz_mime_parse/" + name;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ParsedEmail parse(const std::string& raw) {
  auto result = parse_email(raw);
  REQUIRE(result.is_ok());
  return std::move(result).value();
}

bool has_warning(const ParsedEmail& email, const std::string& warning) {
  for (const auto& w : email.warnings) {
    if (w == warning) return true;
  }
  return false;
}

// 2026-03-04T00:05:12Z and friends, computed once by hand.
constexpr Millis kMarch4 = 1772582400000;  // 2026-03-04T00:00:00Z

TEST_CASE("Gmail reply: multipart/alternative, quoted-printable, wrapped attribution",
          "[conversations]") {
  const ParsedEmail email = parse(sample("gmail_reply.eml"));
  CHECK(email.from == Mailbox{"ana.ortiz.family@gmail.com", "Ana Ortiz"});
  REQUIRE(email.to.size() == 1);
  CHECK(email.to[0] ==
        Mailbox{"reply+t_8f3k2@homeroom.lincoln-elementary.org", "Ms. Lee (Lincoln Elementary)"});
  CHECK(email.subject == "Re: Maya's lab report");
  CHECK(email.message_id == "CAF=k3mPq+ZxR2_example@mail.gmail.com");
  CHECK(email.in_reply_to == "msg_01HQ.d_1@homeroom.lincoln-elementary.org");
  CHECK(email.references ==
        std::vector<std::string>{"msg_01HQ.d_1@homeroom.lincoln-elementary.org"});
  CHECK(email.date == "Tue, 3 Mar 2026 16:05:12 -0800");
  CHECK(email.date_time == kMarch4 + (5 * 60 + 12) * 1000);
  CHECK_FALSE(email.text_from_html);
  CHECK(email.text.find("at home \xE2\x80\x94 she says the bar charts were the hardest part.") !=
        std::string::npos);
  CHECK(email.html.find("<div dir=\"ltr\">Thank you") == 0);
  CHECK(email.attachments.empty());
  CHECK(email.warnings.empty());
  CHECK(email.header("delivered-to") == "reply+t_8f3k2@homeroom.lincoln-elementary.org");
  CHECK(email.header("Received").find("nb14csp2210876qvb;        Tue, 3 Mar 2026") !=
        std::string::npos);  // unfolded: the line break goes, the white space stays

  const std::string expected =
      "Thank you so much for letting us know! Maya was very proud of it. We'll keep practicing "
      "the graphs at home \xE2\x80\x94 she says the bar charts were the hardest part.\n\nAna";
  CHECK(extract_reply(email.text) == expected);
  CHECK(extract_reply(html_to_text(email.html)) == expected);  // the HTML part says the same
}

TEST_CASE("Outlook reply: windows-1252, base64 HTML only, From/Sent block", "[conversations]") {
  const ParsedEmail email = parse(sample("outlook_reply.eml"));
  CHECK(email.from == Mailbox{"fbedard@outlook.com",
                              "Fran\xC3\xA7ois B\xC3\xA9"
                              "dard"});
  CHECK(email.subject == "RE: Conference reminder \xE2\x80\x93 Thursday");
  CHECK(email.message_id == "DM6PR12MB4123A1B2C3D4E5F6@DM6PR12MB4123.namprd12.prod.outlook.com");
  CHECK(email.date_time == kMarch4 + ((9 * 60 + 12) * 60 + 44) * 1000);
  CHECK(email.text_from_html);
  CHECK(email.html.find("Fran\xC3\xA7ois</div>") != std::string::npos);
  CHECK(email.text.find("From: Ms. Lee <reply+t_77ab@homeroom.lincoln-elementary.org>\nSent:") !=
        std::string::npos);
  CHECK(extract_reply(email.text) ==
        "Bonjour Madame Lee,\n\nOui, je serai l\xC3\xA0 jeudi \xC3\xA0 16 h. Merci pour le rappel "
        "\xE2\x80\x93 \xC3\xA0 bient\xC3\xB4t!\n\nFran\xC3\xA7ois");
}

TEST_CASE("Apple Mail reply in Spanish: folded parameters, quoted attribution, signature",
          "[conversations]") {
  const ParsedEmail email = parse(sample("apple_mail_es.eml"));
  CHECK(email.from == Mailbox{"maria.garcia@icloud.com",
                              "Mar\xC3\xAD"
                              "a Garc\xC3\xAD"
                              "a"});
  CHECK(email.subject == "Re: Reuni\xC3\xB3n de padres");
  CHECK(email.message_id == "4A1F6C2E-9B3D-4F8A-A1C7-2E5D8B0F3A6C@icloud.com");
  CHECK(email.date_time == kMarch4 + (60 + 40) * 60 * 1000 + 2000);
  CHECK_FALSE(email.text_from_html);
  CHECK(email.text.find("> El 3 mar 2026, a las 14:14, Ms. Lee "
                        "<reply+t_93cd@homeroom.lincoln-elementary.org> escribi\xC3\xB3:") !=
        std::string::npos);
  CHECK(extract_reply(email.text) ==
        "Muchas gracias, maestra. All\xC3\xAD estaremos el jueves a las 4.");
  // The HTML alone gives the same reply: the blockquotes go, the signature line cuts.
  CHECK(extract_reply(html_to_text(email.html)) == extract_reply(email.text));
}

TEST_CASE("ISO-2022-JP: encoded-word subject over two words and a JIS body", "[conversations]") {
  const ParsedEmail email = parse(sample("iso2022jp.eml"));
  CHECK(email.from.display_name ==
        "\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E");  // 山田 太郎
  CHECK(email.from.address == "yamada.taro@example.jp");
  // "Re: 面談の" + "お知らせ": the folding white space between the words is dropped.
  CHECK(email.subject ==
        "Re: \xE9\x9D\xA2\xE8\xAB\x87\xE3\x81\xAE\xE3\x81\x8A\xE7\x9F\xA5\xE3\x82\x89\xE3\x81\x9B");
  CHECK(
      email.text.find("\xE6\x89\xBF\xE7\x9F\xA5\xE3\x81\x97\xE3\x81\xBE\xE3\x81\x97\xE3\x81\x9F") !=
      std::string::npos);                              // 承知しました
  CHECK(email.date_time == kMarch4 + 90 * 60 * 1000);  // 10:30 +0900
  CHECK(email.to == std::vector<Mailbox>{{"reply+t_5e6f@homeroom.lincoln-elementary.org", ""}});
  CHECK(is_valid_utf8(email.text));
}

TEST_CASE("nested multipart/mixed with an inline image and an attachment", "[conversations]") {
  const ParsedEmail email = parse(sample("nested_mixed.eml"));
  CHECK(email.from == Mailbox{"chidi.okafor@example.org", "Okafor, Chidi"});
  CHECK(email.cc == std::vector<Mailbox>{{"ngozi@example.org", "Okafor, Ngozi"},
                                         {"grandma@example.net", "Grandma Ada"}});
  CHECK(email.references == std::vector<std::string>{"root@homeroom.lincoln-elementary.org",
                                                     "msg_05.d_4@homeroom.lincoln-elementary.org"});
  CHECK(email.date_time == kMarch4 + 13 * 3600 * 1000);  // "4 Mar 2026 08:00 -0500": no seconds
  CHECK(email.text ==
        "Here is the signed slip for the museum trip. Chidi will bring the money on Friday.\n\n"
        "Thanks,\nChidi");
  CHECK(email.html.find("<p>Here is the signed slip") == 0);
  REQUIRE(email.attachments.size() == 2);
  CHECK(email.attachments[0].content_type == "image/png");
  CHECK(email.attachments[0].filename == "logo.png");
  CHECK(email.attachments[0].inline_disposition);
  CHECK(email.attachments[0].size == 72);
  CHECK(email.attachments[1].content_type == "application/pdf");
  CHECK(email.attachments[1].filename == "permiso firmado \xC3\xA9t\xC3\xA9.pdf");  // RFC 2231
  CHECK_FALSE(email.attachments[1].inline_disposition);
  CHECK(email.attachments[1].size == 316);
  CHECK(email.warnings.empty());
}

TEST_CASE("a truncated message keeps what arrived", "[conversations]") {
  const ParsedEmail email = parse(sample("truncated.eml"));
  CHECK(email.text.find("Here is the signed slip") == 0);
  CHECK(has_warning(email, "missing final boundary"));
  REQUIRE(email.attachments.size() == 2);
  CHECK(email.attachments[1].size < 316);

  // Cut inside the header section: headers only, no body.
  const std::string raw = sample("gmail_reply.eml");
  const ParsedEmail headers_only = parse(raw.substr(0, raw.find("Subject:")));
  CHECK(headers_only.from.address == "ana.ortiz.family@gmail.com");
  CHECK(headers_only.text.empty());
  CHECK(headers_only.subject.empty());
}

TEST_CASE("format=flowed text is unwrapped", "[conversations]") {
  const ParsedEmail email = parse(sample("flowed.eml"));
  CHECK(email.text.find("He is excited about the aquarium.\n") != std::string::npos);
  CHECK(email.text.find("> Please reply if Sam can go on the field trip to the aquarium.") !=
        std::string::npos);
  CHECK(extract_reply(email.text) ==
        "Yes, Sam can go on the trip. He is excited about the aquarium.");
}

TEST_CASE("limits: nesting depth, part count, text size, input size", "[conversations]") {
  const ParsedEmail deep = parse(sample("deep_nesting.eml"));
  CHECK(has_warning(deep, "multipart nested too deep; skipped"));
  CHECK(deep.text.empty());

  std::string many = "From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n";
  for (int i = 0; i < 700; ++i) many += "--x\n\npart\n";
  many += "--x--\n";
  const ParsedEmail parts = parse(many);
  CHECK(has_warning(parts, "too many parts; the rest skipped"));

  MimeLimits small;
  small.max_text_bytes = 10;
  auto cut = parse_email("From: a@b\n\n\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", small);
  REQUIRE(cut.is_ok());
  CHECK(cut->text == "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");  // not split inside a character
  CHECK(has_warning(*cut, "text truncated"));

  small.max_input_bytes = 8;
  CHECK(parse_email("From: a@b\n\nhello", small).status().code() == Code::kTooLarge);
}

TEST_CASE("input that is not a message is malformed", "[conversations]") {
  for (const std::string raw :
       {"", "\r\n\r\nbody only", "just some text\nwithout headers", " leading continuation\n"}) {
    CAPTURE(raw);
    CHECK(parse_email(raw).status().code() == Code::kMalformed);
  }
}

TEST_CASE("odd but common structures parse", "[conversations]") {
  SECTION("LF line ends, no Content-Type, mbox From line") {
    const ParsedEmail email = parse(
        "From ana@example.org Tue Mar  3 16:05:12 2026\nFrom: ana@example.org\n"
        "Subject: hi\n\nPlain body\n");
    CHECK(email.from.address == "ana@example.org");
    CHECK(email.text == "Plain body\n");
  }
  SECTION("HTML only derives text") {
    const ParsedEmail email =
        parse("From: a@b\nContent-Type: text/html\n\n<p>Hello&nbsp;there</p><p>Bye</p>");
    CHECK(email.text_from_html);
    CHECK(email.text == "Hello there\nBye");
  }
  SECTION("multipart without its boundary reads as text") {
    const ParsedEmail email =
        parse("From: a@b\nContent-Type: multipart/mixed; boundary=zzz\n\nno parts here\n");
    CHECK(email.text == "no parts here\n");
    CHECK(has_warning(email, "multipart boundary not found; read as text"));
  }
  SECTION("boundary that is a prefix of a line") {
    const ParsedEmail email =
        parse("From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--bb\n--b--\n");
    CHECK(email.text == "one\n--bb");
  }
  SECTION("unknown charset and invalid UTF-8 are sanitized") {
    const ParsedEmail email = parse(
        "From: a@b\nSubject: caf\xE9\nContent-Type: text/plain; charset=x-klingon\n\nbad \xFF\n");
    CHECK(email.subject == "caf\xC3\xA9");
    CHECK(email.text == "bad \xEF\xBF\xBD\n");
  }
  SECTION("a missing empty line after the headers") {
    const ParsedEmail email = parse("From: a@b\nSubject: s\nHello there\n");
    CHECK(email.subject == "s");
    CHECK(email.text == "Hello there\n");
    CHECK(has_warning(email, "header section not ended by an empty line"));
  }
  SECTION("attachment disposition on a text part") {
    const ParsedEmail email = parse(
        "From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n--b\n"
        "Content-Type: text/plain; name=notes.txt\n\nnotes\n--b--\n");
    CHECK(email.text == "body");
    REQUIRE(email.attachments.size() == 1);
    CHECK(email.attachments[0].filename == "notes.txt");
  }
  SECTION("encoded-word filename and a forwarded message") {
    const ParsedEmail email = parse(
        "From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nsee attached\n--b\n"
        "Content-Type: image/jpeg; name=\"=?utf-8?Q?foto_ni=C3=B1o.jpg?=\"\n"
        "Content-Transfer-Encoding: base64\n\n/9j/4AAQ\n--b\nContent-Type: message/rfc822\n\n"
        "From: c@d\nSubject: old\n\nold text\n--b--\n");
    CHECK(email.text == "see attached");
    REQUIRE(email.attachments.size() == 2);
    CHECK(email.attachments[0].filename == "foto ni\xC3\xB1o.jpg");
    CHECK(email.attachments[0].size == 6);
    CHECK(email.attachments[1].content_type == "message/rfc822");
  }
}

TEST_CASE("parse_address_list", "[conversations]") {
  struct Row {
    std::string in;
    std::vector<Mailbox> out;
  };
  const std::vector<Row> rows = {
      {"ana@example.org", {{"ana@example.org", ""}}},
      {"Ana Ortiz <ana@example.org>", {{"ana@example.org", "Ana Ortiz"}}},
      {"\"Ortiz, Ana\" <ana@example.org>, bob@example.org (Bob)",
       {{"ana@example.org", "Ortiz, Ana"}, {"bob@example.org", "Bob"}}},
      {"=?utf-8?Q?Jos=C3=A9?= <jose@example.org>", {{"jose@example.org", "Jos\xC3\xA9"}}},
      {"\"=?utf-8?Q?Jos=C3=A9?=\" <jose@example.org>", {{"jose@example.org", "Jos\xC3\xA9"}}},
      {"\"Quote \\\"inside\\\"\" <q@example.org>", {{"q@example.org", "Quote \"inside\""}}},
      {"Team: a@x.org, B <b@x.org>;, c@x.org",
       {{"a@x.org", ""}, {"b@x.org", "B"}, {"c@x.org", ""}}},
      {"Undisclosed recipients:;", {}},
      {"<@relay.example:ana@example.org>", {{"ana@example.org", ""}}},
      {"<a,b@example.org>", {{"a,b@example.org", ""}}},
      {"  ,  , ", {}},
      {"Ana (mom) <ana@example.org>", {{"ana@example.org", "Ana"}}},
      {"Broken <ana@example.org", {{"ana@example.org", "Broken"}}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.in);
    CHECK(parse_address_list(row.in) == row.out);
  }
}

TEST_CASE("parse_email_date", "[conversations]") {
  constexpr Millis k = 1772582400000;  // 2026-03-04T00:00:00Z
  CHECK(parse_email_date("Wed, 4 Mar 2026 00:00:00 +0000") == k);
  CHECK(parse_email_date("Wed, 04 Mar 2026 01:30:00 +0130") == k);
  CHECK(parse_email_date("4 Mar 2026 00:00 GMT") == k);
  CHECK(parse_email_date("Tue, 3 Mar 2026 19:00:00 EST") == k);
  CHECK(parse_email_date("Tue, 3 Mar 2026 16:00:00 -0800 (PST)") == k);
  CHECK(parse_email_date("Wed, 4 Mar 26 00:00:00 +0000") == k);  // two-digit year
  CHECK(parse_email_date("Wed, 4 March 2026 00:00:00 +0000") == k);
  CHECK(parse_email_date("Wed, 4 Mar 2026 00:00:00 XYZ") == k);  // unknown zone: UTC
  CHECK(parse_email_date("Wed,  4 Mar 2026 00:00:60 +0000") == k + 59000);
  CHECK_FALSE(parse_email_date("").has_value());
  CHECK_FALSE(parse_email_date("yesterday").has_value());
  CHECK_FALSE(parse_email_date("31 Feb 2026 00:00:00 +0000").has_value());
  CHECK_FALSE(parse_email_date("4 Foo 2026 00:00:00 +0000").has_value());
  CHECK_FALSE(parse_email_date("4 Mar 2026 25:00:00 +0000").has_value());
  CHECK_FALSE(parse_email_date("4 Mar 2026 1:2:3:4 +0000").has_value());
}

}  // namespace
}  // namespace homeroom::conversations
