// The family preferences page on the real homeroomd. A note is sent by email (outbox plugin); the
// preferences link is taken from the rendered .eml, as a parent would, and opened in Debian's
// headless chromium (npm playwright-core, JavaScript off: tests/peers/prefs_browser.js), which puts
// SMS first, chooses Spanish, sets quiet hours and submits. The API then shows the change. Expired
// and tampered links, and a bad quiet hour, get a clear page and change nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <thread>

#include "daemon_harness.h"
#include "render/tokens.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

// A loopback port nobody listens on right now, for a daemon that must know its own URL before it
// starts (server.public_url).
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Quoted-printable as in a MIME part: soft line breaks removed, =XX decoded.
std::string decode_quoted_printable(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      i += 2;
    } else if (in[i] == '=' && i + 1 < in.size() && in[i + 1] == '\n') {
      i += 1;
    } else if (in[i] == '=' && i + 2 < in.size() && std::isxdigit(in[i + 1]) &&
               std::isxdigit(in[i + 2])) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string form_post(const std::string& url, const std::string& body) {
  auto r = http_request("POST", url, body, {"Content-Type: application/x-www-form-urlencoded"});
  return std::to_string(r.status) + "\n" + r.body;
}

struct SchoolFixture {
  TempDir dir;
  std::filesystem::path outbox;
  Daemon daemon;
  std::string admin;
  std::string public_url;
  std::string secret;  // the store's token secret, as the daemon reads it

  SchoolFixture() : outbox(dir / "outbox"), daemon(dir, outbox_channels(dir / "outbox")) {
    std::filesystem::create_directories(outbox);
    pin_public_url();
    admin = daemon.token(Role::kAdmin);
    {
      FakeClock clock;
      auto store = std::move(*store::Store::open(dir / "homeroom.db", clock));
      auto s = store->secret(render::kTokenSecretName);
      REQUIRE(s.is_ok());
      secret = *s;
    }
    daemon.start();
    put("/v1/staff/t1", {{"name", "Ms. Lee"}, {"email", "lee@school.example.org"}});
    put("/v1/guardians/g1", {{"given_name", "Ana <b>"},
                             {"family_name", "Diaz"},
                             {"language", "en"},
                             {"timezone", "America/Chicago"},
                             {"contacts",
                              {{{"channel", "email"}, {"address", "ana@family.example.org"}},
                               {{"channel", "sms"}, {"address", "+15551230001"}}}},
                             {"preferences", {{"channels", {"email", "sms"}}}}});
    put("/v1/students/s1", {{"given_name", "Maya"},
                            {"family_name", "Diaz"},
                            {"staff", {"t1"}},
                            {"guardians", {{{"id", "g1"}}}}});
  }

  // Rewrites the harness's config so the daemon listens on a known port and calls that its
  // public URL (the [server] table cannot be reopened by appending).
  void pin_public_url() {
    const auto path = dir / "homeroom.toml";
    std::string text = read_file(path);
    const std::string listen = "listen = \"127.0.0.1:0\"\n";
    const auto at = text.find(listen);
    REQUIRE(at != std::string::npos);
    const std::string port = std::to_string(free_loopback_port());
    public_url = "http://127.0.0.1:" + port;
    text.replace(at, listen.size(),
                 "listen = \"127.0.0.1:" + port + "\"\npublic_url = \"" + public_url + "\"\n");
    std::ofstream(path) << text;
  }

  void put(const std::string& path, const json& body) {
    auto r = daemon.call("PUT", path, admin, body);
    INFO(path << ": " << r.body);
    REQUIRE(r.status == 200);
  }

  json guardian() {
    auto r = daemon.call("GET", "/v1/guardians/g1", admin);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }

  // Sends a note and returns the preferences link from the email homeroom rendered.
  std::string link_from_email() {
    auto r = daemon.call("POST", "/v1/messages", admin,
                         {{"student_id", "s1"}, {"body", "Maya read a whole book today."}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    std::filesystem::path eml;
    for (int i = 0; i < 1000 && eml.empty(); ++i) {
      for (const auto& entry : std::filesystem::directory_iterator(outbox)) {
        if (entry.path().extension() == ".eml") eml = entry.path();
      }
      if (eml.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(!eml.empty());
    const std::string message = decode_quoted_printable(read_file(eml));
    const std::string prefix = public_url + "/p/";
    const auto at = message.find(prefix);
    INFO(message);
    REQUIRE(at != std::string::npos);
    auto end = message.find_first_not_of(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", at + prefix.size());
    return message.substr(at, end - at);
  }
};

}  // namespace

TEST_CASE("a family changes channel order, language and quiet hours in a real browser") {
  SchoolFixture s;
  const std::string link = s.link_from_email();
  const std::string token = link.substr(link.rfind('/') + 1);
  // The link the email carries is ours: signed for g1 with the store's secret, good for 30 days.
  REQUIRE(render::verify_preferences_token(s.secret, token, SystemClock().now()) == "g1");

  auto [code, output] =
      run_command({HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/prefs_browser.js", link,
                   "--first", "sms", "--language", "es", "--quiet", "20:00-07:00",
                   "--user-data-dir", (s.dir / "chromium-profile").string()},
                  s.dir / "browser.log");
  INFO(output);
  REQUIRE(code == 0);
  const auto last = output.rfind("\n{");
  const json seen = json::parse(last == std::string::npos ? output : output.substr(last + 1));

  // The form was in the guardian's language (English), with the current order preselected and
  // the name escaped (shown as typed, not as markup).
  CHECK(seen["form"]["lang"] == "en");
  CHECK(seen["form"]["channel1"] == "email");
  CHECK(seen["form"]["channel2"] == "sms");
  CHECK(seen["form"]["language"] == "en");
  // The confirmation is in the new language.
  CHECK(seen["result"]["status"] == 200);
  CHECK(seen["result"]["lang"] == "es");
  const std::string text = seen["result"]["text"];
  CHECK_THAT(text, Catch::Contains("Gracias, Ana <b>. Hemos guardado sus preferencias."));
  CHECK_THAT(text, Catch::Contains("Mensaje de texto (SMS)"));
  CHECK_THAT(text, Catch::Contains("Español"));
  CHECK_THAT(text, Catch::Contains("20:00–07:00"));

  const json g = s.guardian();
  CHECK(g["language"] == "es");
  CHECK(g["preferences"]["channels"] == json({"sms", "email"}));
  CHECK(g["preferences"]["quiet_hours"] == json({{"start", "20:00"}, {"end", "07:00"}}));
  // Nothing else changed.
  CHECK(g["given_name"] == "Ana <b>");
  CHECK(g["timezone"] == "America/Chicago");
  CHECK(g["contacts"].size() == 2);

  // The capability never reaches the log: the access log shows /p/... only.
  const std::string log = s.daemon.stop_and_log();
  CHECK(log.find(token) == std::string::npos);
  CHECK_THAT(log, Catch::Contains("/p/..."));
}

TEST_CASE("expired and tampered links and a bad quiet hour change nothing") {
  SchoolFixture s;
  const json before = s.guardian();
  REQUIRE(before["preferences"]["channels"] == json({"email", "sms"}));
  REQUIRE(!before["preferences"].contains("quiet_hours"));
  const Millis now = SystemClock().now();
  const std::string good = render::preferences_token(s.secret, "g1", now + 3'600'000);
  const std::string valid_form =
      "channel1=sms&channel2=email&language=es&quiet_start=20%3A00"
      "&quiet_end=07%3A00";

  SECTION("an expired link gets a 410 page") {
    const std::string expired = render::preferences_token(s.secret, "g1", now - 1000);
    auto r = http_request("GET", s.public_url + "/p/" + expired);
    CHECK(r.status == 410);
    CHECK(r.headers["content-type"] == "text/html; charset=utf-8");
    CHECK_THAT(r.body, Catch::Contains("This link has expired"));
    CHECK_THAT(r.body, Catch::Contains("Este enlace ha caducado"));
    CHECK(form_post(s.public_url + "/p/" + expired, valid_form).rfind("410\n", 0) == 0);
  }
  SECTION("a tampered link gets a 404 page") {
    std::string tampered = good;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    // Signed under another key; and g1's signature on a payload that names g2.
    const std::string other = render::preferences_token("another secret", "g1", now + 3'600'000);
    const std::string g2 = render::preferences_token(s.secret, "g2", now + 3'600'000);
    const std::string swapped = g2.substr(0, g2.find('.')) + good.substr(good.find('.'));
    for (const auto& token :
         {tampered, other, swapped, std::string("nonsense"), std::string(".")}) {
      INFO(token);
      auto r = http_request("GET", s.public_url + "/p/" + token);
      CHECK(r.status == 404);
      CHECK_THAT(r.body, Catch::Contains("This link is not valid"));
      CHECK(form_post(s.public_url + "/p/" + token, valid_form).rfind("404\n", 0) == 0);
    }
  }
  SECTION("a quiet hour that does not parse gets 422 naming the field") {
    auto page = http_request("GET", s.public_url + "/p/" + good);
    REQUIRE(page.status == 200);
    CHECK_THAT(page.body, Catch::Contains("<html lang=\"en\">"));
    CHECK_THAT(page.body, Catch::Contains("<meta charset=\"utf-8\">"));
    CHECK_THAT(page.body, Catch::Contains("Hello, Ana &lt;b&gt;."));
    CHECK(page.body.find("<script") == std::string::npos);
    const std::string bad =
        "channel1=sms&channel2=email&language=es&quiet_start=25%3A00&quiet_end=07%3A00";
    const std::string answer = form_post(s.public_url + "/p/" + good, bad);
    CHECK(answer.rfind("422\n", 0) == 0);
    CHECK_THAT(answer, Catch::Contains("<strong>quiet_start</strong>"));
    // Only one of the two times: also refused, naming the missing one.
    const std::string half = form_post(s.public_url + "/p/" + good,
                                       "channel1=sms&language=es&quiet_start=20%3A00&quiet_end=");
    CHECK(half.rfind("422\n", 0) == 0);
    CHECK_THAT(half, Catch::Contains("<strong>quiet_end</strong>"));
    // A channel listed twice, and a language that is not BCP 47.
    const std::string twice =
        form_post(s.public_url + "/p/" + good, "channel1=sms&channel2=sms&language=es");
    CHECK(twice.rfind("422\n", 0) == 0);
    CHECK_THAT(twice, Catch::Contains("<strong>channel2</strong>"));
    const std::string language =
        form_post(s.public_url + "/p/" + good, "channel1=sms&language=not%20a%20language");
    CHECK(language.rfind("422\n", 0) == 0);
    CHECK_THAT(language, Catch::Contains("<strong>language</strong>"));
  }
  const json after = s.guardian();
  CHECK(after == before);
}

TEST_CASE("a preferences token names one guardian until it expires and cannot be forged") {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const Millis expires = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  const std::string token = render::preferences_token(secret, "g-1.a:b", expires);
  CHECK(token.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
        std::string::npos);
  CHECK(token.size() - token.find('.') - 1 == 22);  // 16 bytes of MAC, unpadded base64url
  CHECK(render::verify_preferences_token(secret, token, expires - 1) == "g-1.a:b");
  CHECK_FALSE(render::verify_preferences_token(secret, token, expires));
  auto claims = render::check_preferences_token(secret, token, expires + 1);
  REQUIRE(claims);
  CHECK(claims->expired);
  CHECK(claims->guardian_id == "g-1.a:b");
  CHECK_FALSE(render::check_preferences_token("other", token, expires - 1));
  // Every single-character change is refused, including ones that decode to the same bytes.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (char c : alphabet) {
      if (c == token[i]) continue;
      std::string t = token;
      t[i] = c;
      INFO(t);
      REQUIRE_FALSE(render::check_preferences_token(secret, t, expires - 1));
    }
  }
  CHECK_FALSE(render::check_preferences_token(secret, "", 0));
  CHECK_FALSE(render::check_preferences_token(secret, token + "=", 0));
  CHECK_FALSE(render::check_preferences_token(secret, std::string(1000, 'A') + ".x", 0));
}
