// The real homeroomd delivers a note by email: the real email_smtp plugin asks the daemon's
// transport to submit the message homeroom rendered to a loopback aiosmtpd
// (tests/peers/smtp_server.py), which stores the bytes it received. A real parser (npm
// mailparser, tests/peers/parse_mail.js) then reads them as a family's mail client would.
#include <catch2/catch.hpp>
#include <thread>

#include "daemon_harness.h"
#include "peers.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

constexpr const char* kSmtpUser = "homeroom";
constexpr const char* kSmtpPassword = "sm7p-Pa55w0rd-never-logged";

std::string channel_config(int smtp_port) {
  return std::string("[email]\n") + "from_address = \"office@lincoln.example.org\"\n" +
         "from_name = \"Escuela Lincoln\"\n" + "reply_domain = \"reply.lincoln.example.org\"\n" +
         "[channels.email]\nplugin = \"email_smtp\"\nchannel = \"email\"\n" +
         "[channels.email.settings]\nurl = \"smtp://127.0.0.1:" + std::to_string(smtp_port) +
         "\"\nrequire_tls = false  # loopback test peer without TLS\n" + "username = \"" +
         kSmtpUser + "\"\npassword = \"" + kSmtpPassword + "\"\ntimeout_ms = 10000\n";
}

struct SchoolFixture {
  TempDir dir;
  SmtpServer smtp;
  Daemon daemon;
  std::string admin, lee;

  SchoolFixture()
      : smtp(dir, {"--auth", std::string(kSmtpUser) + ":" + kSmtpPassword}),
        daemon(dir, channel_config(smtp.port)) {
    admin = daemon.token(Role::kAdmin);
    daemon.start();
    put("/v1/staff/t1", {{"name", "Sra. Núñez"}, {"email", "nunez@lincoln.example.org"}});
    put("/v1/guardians/g1", {{"given_name", "Ana"},
                             {"family_name", "Díaz"},
                             {"language", "es"},
                             {"contacts", {{{"channel", "email"}, {"address", "ana@example.net"}}}},
                             {"preferences", {{"channels", {"email"}}}}});
    put("/v1/students/s1", {{"given_name", "Maya"},
                            {"family_name", "Díaz"},
                            {"staff", {"t1"}},
                            {"guardians", {{{"id", "g1"}}}}});
    lee = daemon.token(Role::kTeacher, "t1");
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(r.body);
    REQUIRE(r.status == 200);
  }

  std::string note(const std::string& category, const std::string& es_body) {
    auto r = daemon.call("POST", "/v1/messages", lee,
                         {{"student_id", "s1"},
                          {"category", category},
                          {"body", "Maya helped two classmates."},
                          {"translations", {{"es", es_body}}}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    return json::parse(r.body)["id"].get<std::string>();
  }

  json settled_delivery(const std::string& id) {
    for (int i = 0; i < 3000; ++i) {
      auto r = daemon.call("GET", "/v1/messages/" + id, admin);
      REQUIRE(r.status == 200);
      auto m = json::parse(r.body);
      REQUIRE(m["deliveries"].size() == 1);
      const auto& d = m["deliveries"][0];
      if (d["state"] != "queued" && d["state"] != "sending" && d["state"] != "planned") return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("delivery did not settle:\n" << daemon.process().output());
    return {};
  }

  json parse_with_mailparser(const std::string& file) {
    auto [code, output] =
        run_command({HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/parse_mail.js",
                     (smtp.out_dir / file).string()},
                    dir / "parse.log");
    INFO(output);
    REQUIRE(code == 0);
    return json::parse(output);
  }
};

}  // namespace

TEST_CASE("a note arrives by SMTP and survives a real mail parser") {
  SchoolFixture s;
  const std::string body = "Maya ayudó a dos compañeras <hoy> & terminó temprano.\n\n¡Gracias!";
  const auto d = s.settled_delivery(s.note("note", body));
  INFO(s.daemon.process().output());
  CHECK(d["state"] == "sent");

  const auto messages = s.smtp.messages(1);
  REQUIRE(messages.size() == 1);
  const auto& m = messages[0];
  CHECK(m["rcpt_tos"] == json::array({"ana@example.net"}));
  CHECK(m["auth"] == kSmtpUser);
  const std::string mail_from = m["mail_from"];
  CHECK(mail_from.rfind("bounce+", 0) == 0);
  CHECK(mail_from.size() == std::string("bounce+@reply.lincoln.example.org").size() + 24);

  const auto mail = s.parse_with_mailparser(m["file"]);
  INFO(mail.dump(2));
  CHECK(mail["subject"] == "Nota de Sra. Núñez sobre Maya");
  const std::string text = mail["text"];
  CHECK(text.rfind("Maya ayudó a dos compañeras <hoy> & terminó temprano.\n\n¡Gracias!\n\n-- \n",
                   0) == 0);
  const std::string html = mail["html"];
  CHECK(html.find("<p>Maya ayudó a dos compañeras &lt;hoy&gt; &amp; terminó temprano.</p>") !=
        std::string::npos);
  CHECK(html.find("<p>¡Gracias!</p>") != std::string::npos);
  const std::string reply_to = mail["replyTo"];
  CHECK(reply_to.rfind("reply+", 0) == 0);
  CHECK(reply_to.size() == std::string("reply+@reply.lincoln.example.org").size() + 24);
  const std::string unsubscribe = mail["headers"]["list-unsubscribe"];
  CHECK(unsubscribe.rfind("<mailto:unsubscribe+", 0) == 0);
  CHECK(unsubscribe.find("@reply.lincoln.example.org>") != std::string::npos);
  // A mailto: alone gets no RFC 8058 one-click header (that needs the https URL).
  CHECK(mail["headers"]["list-unsubscribe-post"].is_null());
  CHECK(mail["language"] == "es");

  // The SMTP password is in the config, never in the daemon's log.
  CHECK(s.daemon.stop_and_log().find(kSmtpPassword) == std::string::npos);
}

TEST_CASE("an urgent message carries no List-Unsubscribe") {
  SchoolFixture s;
  const auto d = s.settled_delivery(s.note("urgent", "Cierre de la escuela hoy a las 12."));
  CHECK(d["state"] == "sent");
  const auto messages = s.smtp.messages(1);
  REQUIRE(messages.size() == 1);
  const auto mail = s.parse_with_mailparser(messages[0]["file"]);
  CHECK(mail["subject"] == "Urgente: Maya");
  CHECK(mail["headers"]["list-unsubscribe"].is_null());
  CHECK(mail["replyTo"].is_string());
  CHECK(s.daemon.stop_and_log().find(kSmtpPassword) == std::string::npos);
}
