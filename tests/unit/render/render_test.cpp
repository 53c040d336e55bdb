#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "render/mime.h"
#include "render/renderer.h"
#include "render/tokens.h"
#include "support/process.h"
#include "support/temp_dir.h"

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

// ---- tokens ----

TEST_CASE("tokens: 24 lowercase base32 chars of an HMAC, verified, tampering rejected") {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const std::string t = reply_token(secret, "t1", "s1", "g1");
  CHECK(t.size() == 24);
  CHECK(t.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567") == std::string::npos);
  CHECK(t == reply_token(secret, "t1", "s1", "g1"));  // stateless: recomputable
  CHECK(verify_reply_token(secret, t, "t1", "s1", "g1"));
  std::string upper = t;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(verify_reply_token(secret, upper, "t1", "s1", "g1"));  // an MTA may upper-case it
  // Another thread, another secret, a changed character, a truncation: all rejected.
  CHECK_FALSE(verify_reply_token(secret, t, "t2", "s1", "g1"));
  CHECK_FALSE(verify_reply_token(secret, t, "t1", "s1", "g2"));
  CHECK_FALSE(verify_reply_token("another secret", t, "t1", "s1", "g1"));
  std::string tampered = t;
  tampered[5] = tampered[5] == 'a' ? 'b' : 'a';
  CHECK_FALSE(verify_reply_token(secret, tampered, "t1", "s1", "g1"));
  CHECK_FALSE(verify_reply_token(secret, t.substr(0, 23), "t1", "s1", "g1"));
  CHECK_FALSE(verify_reply_token(secret, "", "t1", "s1", "g1"));

  // Known answer: base32 of the first 15 bytes of HMAC-SHA256(secret, "reply|t1|s1|g1"), computed
  // independently (python3 -c "import hmac,hashlib,base64; ...").
  CHECK(t == "zxoazjn4wsry5hfmqt3p3kz5");

  const std::string u = unsubscribe_token(secret, "g1", "note", "email");
  CHECK(u.size() == 24);
  CHECK(verify_unsubscribe_token(secret, u, "g1", "note", "email"));
  CHECK_FALSE(verify_unsubscribe_token(secret, u, "g1", "reminder", "email"));
  CHECK_FALSE(verify_unsubscribe_token(secret, u, "g1", "note", "sms"));
  const std::string b = bounce_token(secret, "dlv_1");
  CHECK(verify_bounce_token(secret, b, "dlv_1"));
  CHECK_FALSE(verify_bounce_token(secret, b, "dlv_2"));
  // Kinds are separated: one kind's token is never valid as another's.
  CHECK(b != reply_token(secret, "dlv_1", "", ""));
  CHECK_FALSE(verify_bounce_token(secret, u, "dlv_1"));
}

// ---- the email message ----

namespace {

RenderOptions full_options() {
  RenderOptions o;
  o.from_address = "office@lincoln.example.org";
  o.from_name = "Escuela Lincoln";
  o.message_id_domain = "lincoln.example.org";
  o.reply_domain = "reply.lincoln.example.org";
  o.bounce_domain = "bounce.lincoln.example.org";
  o.public_url = "https://homeroom.lincoln.example.org";
  o.token_secret = "0123456789abcdef0123456789abcdef";
  return o;
}

LeasedDelivery email_delivery(std::string category) {
  LeasedDelivery d;
  d.id = "dlv_01HX";
  d.message_id = "msg_1";
  d.guardian_id = "g1";
  d.channel = "email";
  d.address = "ana@x.org";
  d.language = "es";
  d.category = std::move(category);
  d.text =
      "Maya terminó su informe <temprano> & ayudó a \"dos\" compañeras.\n¡Gracias!\n\n"
      "Nos vemos el 'martes'.";
  d.student_given_name = "Maya";
  d.student_id = "s1";
  d.author_staff = "t1";
  d.author_name = "Sra. Núñez";
  d.attempt = 1;
  return d;
}

std::optional<std::string> header(const std::string& message, const std::string& name) {
  const auto head = message.substr(0, message.find("\r\n\r\n") + 2);
  const auto at = head.find("\r\n" + name + ": ");
  const auto start = head.rfind(name + ": ", 0) == 0 ? 0 : at;
  if (start == std::string::npos) return std::nullopt;
  const auto value_start = head.find(": ", start) + 2;
  auto end = head.find("\r\n", value_start);
  while (end + 2 < head.size() && (head[end + 2] == ' ' || head[end + 2] == '\t')) {
    end = head.find("\r\n", end + 2);  // folded continuation
  }
  return head.substr(value_start, end - value_start);
}

// Parses `message` with Python's email package (policy=default) and returns its report as JSON.
nlohmann::json python_parse(const std::string& message) {
  homeroom::testing::TempDir dir;
  {
    std::ofstream out(dir / "m.eml", std::ios::binary);
    out << message;
  }
  auto [code, output] = homeroom::testing::run_command(
      {"/usr/bin/python3", HOMEROOM_SOURCE_DIR "/tests/unit/render/check_mime.py",
       (dir / "m.eml").string()},
      dir / "python.log");
  INFO(output);
  REQUIRE(code == 0);
  return nlohmann::json::parse(output);
}

}  // namespace

TEST_CASE("email: multipart/alternative with text and HTML, headers homeroom promises") {
  const auto o = full_options();
  const auto d = email_delivery("note");
  auto r = render_delivery(d, o, 1'795'412'289'000);
  const std::string& m = r.content;
  INFO(m);
  CHECK(header(m, "From") == "\"Escuela Lincoln\" <office@lincoln.example.org>");
  CHECK(header(m, "To") == "<ana@x.org>");
  CHECK(header(m, "Date") == "Mon, 23 Nov 2026 05:38:09 +0000");
  CHECK(header(m, "Message-ID") == "<dlv_01HX@lincoln.example.org>");
  CHECK(header(m, "MIME-Version") == "1.0");
  CHECK(header(m, "Content-Language") == "es");
  CHECK(header(m, "Subject") == encode_header_words("Nota de Sra. Núñez sobre Maya"));
  CHECK(header(m, "Content-Type") == "multipart/alternative; boundary=\"=_homeroom_dlv01HX\"");
  CHECK(m.find("\r\n--=_homeroom_dlv01HX\r\nContent-Type: text/plain; charset=UTF-8\r\n"
               "Content-Transfer-Encoding: quoted-printable\r\n\r\n") != std::string::npos);
  CHECK(m.find("\r\n--=_homeroom_dlv01HX\r\nContent-Type: text/html; charset=UTF-8\r\n"
               "Content-Transfer-Encoding: quoted-printable\r\n\r\n") != std::string::npos);
  CHECK(m.size() > 30);
  CHECK(m.substr(m.size() - 26) == "\r\n--=_homeroom_dlv01HX--\r\n");
  // Every line ends in CRLF; header lines stay within RFC 5322's 998, body lines within QP's 76.
  const std::size_t body_start = m.find("\r\n\r\n") + 4;
  std::size_t start = 0;
  while (start < m.size()) {
    const auto end = m.find('\n', start);
    REQUIRE(end != std::string::npos);
    CHECK(m[end - 1] == '\r');
    CHECK(end - 1 - start <= (start < body_start ? 998u : 76u));
    start = end + 1;
  }

  const std::string reply =
      "reply+" + reply_token(o.token_secret, "t1", "s1", "g1") + "@reply.lincoln.example.org";
  CHECK(header(m, "Reply-To") == "<" + reply + ">");
  const std::string unsub = unsubscribe_token(o.token_secret, "g1", "note", "email");
  CHECK(header(m, "List-Unsubscribe") == "<https://homeroom.lincoln.example.org/u/" + unsub +
                                             ">,\r\n <mailto:unsubscribe+" + unsub +
                                             "@reply.lincoln.example.org>");
  CHECK(header(m, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");
  CHECK(r.return_path ==
        "bounce+" + bounce_token(o.token_secret, "dlv_01HX") + "@bounce.lincoln.example.org");
  CHECK(verify_bounce_token(o.token_secret, r.return_path.substr(7, 24), "dlv_01HX"));

  // What a strict parser sees: no defects anywhere, the text as written, the HTML escaped.
  const auto parsed = python_parse(m);
  INFO(parsed.dump(2));
  CHECK(parsed["defects"].empty());
  CHECK(parsed["types"] ==
        nlohmann::json::array({"multipart/alternative", "text/plain", "text/html"}));
  CHECK(parsed["subject"] == "Nota de Sra. Núñez sobre Maya");
  CHECK(parsed["reply_to"] == reply);
  const std::string text = parsed["text"];
  CHECK(text.rfind(d.text + "\n\n-- \nEnviado por Escuela Lincoln con homeroom.\n", 0) == 0);
  CHECK(text.find("Para dejar de recibir estos mensajes por correo: "
                  "https://homeroom.lincoln.example.org/u/" +
                  unsub) != std::string::npos);
  const std::string html = parsed["html"];
  CHECK(html.find("<p>Maya terminó su informe &lt;temprano&gt; &amp; ayudó a &quot;dos&quot; "
                  "compañeras.<br>\n¡Gracias!</p>\n<p>Nos vemos el &#39;martes&#39;.</p>") !=
        std::string::npos);
  CHECK(html.find("<html lang=\"es\">") != std::string::npos);
  CHECK(html.find("<a href=\"https://homeroom.lincoln.example.org/u/" + unsub + "\">") !=
        std::string::npos);
  CHECK(html.find("<temprano>") == std::string::npos);
}

TEST_CASE("email: List-Unsubscribe for note and reminder, never for urgent") {
  const auto o = full_options();
  for (const char* category : {"note", "reminder", "field_trip"}) {
    INFO(category);
    auto r = render_delivery(email_delivery(category), o, 0);
    CHECK(header(r.content, "List-Unsubscribe").has_value());
    CHECK(header(r.content, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");
    CHECK(python_parse(r.content)["defects"].empty());
  }
  auto urgent = render_delivery(email_delivery("urgent"), o, 0);
  INFO(urgent.content);
  CHECK_FALSE(header(urgent.content, "List-Unsubscribe").has_value());
  CHECK_FALSE(header(urgent.content, "List-Unsubscribe-Post").has_value());
  CHECK(urgent.content.find("/u/") == std::string::npos);
  CHECK(urgent.content.find("unsubscribe+") == std::string::npos);
  CHECK(header(urgent.content, "Reply-To").has_value());  // replies still reach the teacher
  auto parsed = python_parse(urgent.content);
  CHECK(parsed["defects"].empty());
  CHECK(parsed["subject"] == "Urgente: Maya");
}

TEST_CASE("email: only the parts whose configuration exists") {
  auto d = email_delivery("note");
  SECTION("public_url only: https link with one-click; no Reply-To, no envelope token") {
    auto o = full_options();
    o.reply_domain.clear();
    o.bounce_domain.clear();
    auto r = render_delivery(d, o, 0);
    const auto unsub = unsubscribe_token(o.token_secret, "g1", "note", "email");
    CHECK(header(r.content, "List-Unsubscribe") ==
          "<https://homeroom.lincoln.example.org/u/" + unsub + ">");
    CHECK(header(r.content, "List-Unsubscribe-Post").has_value());
    CHECK_FALSE(header(r.content, "Reply-To").has_value());
    CHECK(r.return_path.empty());
    CHECK(python_parse(r.content)["defects"].empty());
  }
  SECTION("reply_domain only: mailto unsubscribe without -Post; bounces to reply_domain") {
    auto o = full_options();
    o.public_url.clear();
    o.bounce_domain.clear();
    auto r = render_delivery(d, o, 0);
    const auto unsub = unsubscribe_token(o.token_secret, "g1", "note", "email");
    CHECK(header(r.content, "List-Unsubscribe") ==
          "<mailto:unsubscribe+" + unsub + "@reply.lincoln.example.org>");
    CHECK_FALSE(header(r.content, "List-Unsubscribe-Post").has_value());
    CHECK(header(r.content, "Reply-To").has_value());
    CHECK(r.return_path ==
          "bounce+" + bounce_token(o.token_secret, "dlv_01HX") + "@reply.lincoln.example.org");
    CHECK(python_parse(r.content)["defects"].empty());
  }
  SECTION("neither: no Reply-To, no List-Unsubscribe, no link in the footer") {
    auto r = render_delivery(d, RenderOptions{}, 0);
    CHECK_FALSE(header(r.content, "Reply-To").has_value());
    CHECK_FALSE(header(r.content, "List-Unsubscribe").has_value());
    CHECK_FALSE(header(r.content, "List-Unsubscribe-Post").has_value());
    CHECK(r.return_path.empty());
    auto parsed = python_parse(r.content);
    CHECK(parsed["defects"].empty());
    CHECK(std::string(parsed["text"]).find("Para dejar") == std::string::npos);
  }
}

TEST_CASE("email: HTML escaping and paragraphs") {
  CHECK(html_paragraphs("a & b") == "<p>a &amp; b</p>\n");
  CHECK(html_paragraphs("<script>alert('x')</script>") ==
        "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>\n");
  CHECK(html_paragraphs("one\ntwo\n\n\nthree\r\n \r\nfour") ==
        "<p>one<br>\ntwo</p>\n<p>three</p>\n<p>four</p>\n");
  CHECK(html_paragraphs("\n\n").empty());
  CHECK(html_paragraphs("say \"hi\"") == "<p>say &quot;hi&quot;</p>\n");
}

TEST_CASE("email: hostile names and long lines stay well-formed") {
  auto o = full_options();
  o.from_name = "Lincoln \"Office\"\\";
  auto d = email_delivery("note");
  d.author_name = "Evil\r\nBcc: victim@x.org";
  d.student_given_name = std::string(120, 'M') + "é";
  d.text = std::string(500, 'x') + " =?UTF-8?B?abc?= " + std::string(300, 'y');
  auto r = render_delivery(d, o, 0);
  CHECK(r.content.find("\r\nBcc:") == std::string::npos);
  auto parsed = python_parse(r.content);
  INFO(parsed.dump(2));
  CHECK(parsed["defects"].empty());
  // Control characters in names become spaces: a subject is one line.
  CHECK(parsed["subject"] == "Nota de Evil  Bcc: victim@x.org sobre " + d.student_given_name);
  CHECK(std::string(parsed["text"]).rfind(d.text + "\n", 0) == 0);
  CHECK(parsed["from"] == "\"Lincoln \\\"Office\\\"\\\\\" <office@lincoln.example.org>");
}

TEST_CASE("email: npm mailparser reads subject, both bodies, Reply-To and List-Unsubscribe") {
  const auto o = full_options();
  const auto d = email_delivery("reminder");
  auto r = render_delivery(d, o, 0);
  homeroom::testing::TempDir dir;
  {
    std::ofstream out(dir / "m.eml", std::ios::binary);
    out << r.content;
  }
  auto [code, output] = homeroom::testing::run_command(
      {HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/parse_mail.js", (dir / "m.eml").string()},
      dir / "node.log");
  INFO(output);
  REQUIRE(code == 0);
  const auto mail = nlohmann::json::parse(output);
  CHECK(mail["subject"] == "Recordatorio sobre Maya");
  CHECK(std::string(mail["text"]).rfind(d.text + "\n\n-- \n", 0) == 0);
  CHECK(std::string(mail["html"]).find("&lt;temprano&gt; &amp; ayudó") != std::string::npos);
  CHECK(mail["replyTo"] ==
        "reply+" + reply_token(o.token_secret, "t1", "s1", "g1") + "@reply.lincoln.example.org");
  CHECK(mail["messageId"] == "<dlv_01HX@lincoln.example.org>");
  const auto unsub = unsubscribe_token(o.token_secret, "g1", "reminder", "email");
  CHECK(mail["headers"]["list-unsubscribe"] == "<https://homeroom.lincoln.example.org/u/" + unsub +
                                                   ">, <mailto:unsubscribe+" + unsub +
                                                   "@reply.lincoln.example.org>");
  CHECK(mail["headers"]["list-unsubscribe-post"] == "List-Unsubscribe=One-Click");
}

TEST_CASE("a digest is one message naming each note's teacher and student") {
  auto d = leased("sms", "en");
  d.text = "Maya finished her report early.";
  d.digest = {{"dlv_2", 1, "Mr. Diaz", "Leo", "Leo forgot his gym shoes."},
              {"dlv_3", 1, "", "Maya", "Picture day is Friday."}};
  auto sms = render_delivery(d, {}, 1'795'412'289'000);
  CHECK(sms.content ==
        "Ms. Lee about Maya:\nMaya finished her report early.\n\n"
        "Mr. Diaz about Leo:\nLeo forgot his gym shoes.\n\n"
        "About Maya:\nPicture day is Friday.");

  d.channel = "email";
  d.address = "ana@x.org";
  d.language = "es";
  auto email = render_delivery(d, {}, 1'795'412'289'000);
  CHECK(email.subject == "Sus mensajes de la escuela");
  CHECK(email.content.find("Leo forgot his gym shoes.") != std::string::npos);
  CHECK(email.content.find("Mr. Diaz sobre Leo:") != std::string::npos);
}
