#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <string>

#include "config/config.h"

using namespace homeroom;

namespace {

const char* kChannels = R"(
[channels.email]
plugin = "outbox"
channel = "email"
)";

std::optional<std::string> no_env(const std::string&) { return std::nullopt; }

Result<Config> parse(const std::string& text, const EnvLookup& env = no_env) {
  return parse_config(text, "t.toml", env);
}

// The whole error message of a config that must fail.
std::string error_of(const std::string& text, const EnvLookup& env = no_env) {
  auto result = parse(text, env);
  REQUIRE_FALSE(result.is_ok());
  return result.status().message();
}

}  // namespace

TEST_CASE("config: the shipped config/homeroom.toml parses to the documented defaults") {
  auto result = load_config(HOMEROOM_SOURCE_DIR "/config/homeroom.toml");
  INFO(result.status().to_string());
  REQUIRE(result.is_ok());
  const Config& c = *result;
  CHECK(c.server.listen_host == "127.0.0.1");
  CHECK(c.server.listen_port == 8480);
  CHECK(c.server.max_body_bytes == 1048576);
  CHECK(c.server.header_timeout == std::chrono::milliseconds(10000));
  CHECK(c.server.body_timeout == std::chrono::milliseconds(30000));
  CHECK(c.server.public_url.empty());
  CHECK(c.store.path == "var/homeroom.db");
  CHECK(c.log.level == "info");
  CHECK(c.log.file.empty());
  CHECK(c.plugins.dir.empty());
  CHECK(c.queue.batch_size == 512);
  CHECK(c.queue.lease == std::chrono::seconds(60));
  CHECK(c.queue.max_attempts == 8);
  CHECK(c.queue.backoff_base == std::chrono::seconds(2));
  CHECK(c.queue.backoff_max == std::chrono::seconds(3600));
  CHECK(c.queue.poll_interval == std::chrono::milliseconds(250));
  CHECK(c.source == HOMEROOM_SOURCE_DIR "/config/homeroom.toml");
  REQUIRE(c.channels.size() == 3);
  CHECK(c.channels[0].name == "email");
  CHECK(c.channels[1].name == "sms");
  CHECK(c.channels[2].name == "push");
  for (const auto& ch : c.channels) {
    CHECK(ch.plugin == "outbox");
    CHECK(ch.channel == ch.name);
    CHECK(ch.settings == std::map<std::string, std::string>{{"dir", "var/outbox"}});
  }
}

TEST_CASE("config: the embedded default is the shipped file") {
  std::ifstream in(HOMEROOM_SOURCE_DIR "/config/homeroom.toml", std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(embedded_default_config() == file);
  CHECK(parse_config(embedded_default_config(), "<embedded>").is_ok());
}

TEST_CASE("config: only channels are required, everything else has defaults") {
  auto result = parse(kChannels);
  REQUIRE(result.is_ok());
  CHECK(result->server.listen_port == 8480);
  CHECK(result->store.path == "var/homeroom.db");
  CHECK(result->source == "t.toml");
}

TEST_CASE("config: every key is read") {
  auto result = parse(std::string(R"(
[server]
listen = "[::1]:0"
max_body_bytes = 2048
header_timeout_ms = 5
body_timeout_ms = 6
public_url = "https://homeroom.example.org/school/"
[store]
path = "/srv/h.db"
[log]
level = "debug"
file = "log/h.log"
[plugins]
dir = "plug"
[queue]
batch_size = 10000
lease_seconds = 1
max_attempts = 1
backoff_base_seconds = 5
backoff_max_seconds = 5
poll_interval_ms = 7
[channels.sms-main]
plugin = "twilio_sms"
channel = "sms"
[channels.sms-main.settings]
account = "AC1"
retries = 3
ratio = 0.25
verbose = true
)") + kChannels);
  INFO(result.status().to_string());
  REQUIRE(result.is_ok());
  const Config& c = *result;
  CHECK(c.server.listen_host == "::1");
  CHECK(c.server.listen_port == 0);
  CHECK(c.server.max_body_bytes == 2048);
  CHECK(c.server.header_timeout.count() == 5);
  CHECK(c.server.body_timeout.count() == 6);
  CHECK(c.server.public_url == "https://homeroom.example.org/school");
  CHECK(c.store.path == "/srv/h.db");
  CHECK(c.log.level == "debug");
  CHECK(c.log.file == "log/h.log");
  CHECK(c.plugins.dir == "plug");
  CHECK(c.queue.batch_size == 10000);
  CHECK(c.queue.lease.count() == 1);
  CHECK(c.queue.max_attempts == 1);
  CHECK(c.queue.backoff_base.count() == 5);
  CHECK(c.queue.backoff_max.count() == 5);
  CHECK(c.queue.poll_interval.count() == 7);
  REQUIRE(c.channels.size() == 2);
  // file order, not key order
  CHECK(c.channels[0].name == "sms-main");
  CHECK(c.channels[0].plugin == "twilio_sms");
  CHECK(c.channels[0].channel == "sms");
  CHECK(c.channels[0].settings ==
        std::map<std::string, std::string>{
            {"account", "AC1"}, {"retries", "3"}, {"ratio", "0.25"}, {"verbose", "true"}});
  CHECK(c.channels[1].name == "email");
  CHECK(c.channels[1].settings.empty());
}

TEST_CASE("config: listen addresses") {
  auto listen = [](const std::string& value) {
    return parse("server.listen = \"" + value + "\"\n" + kChannels);
  };
  auto ok = listen("0.0.0.0:65535");
  REQUIRE(ok.is_ok());
  CHECK(ok->server.listen_host == "0.0.0.0");
  CHECK(ok->server.listen_port == 65535);
  ok = listen("localhost:80");
  REQUIRE(ok.is_ok());
  CHECK(ok->server.listen_host == "localhost");

  CHECK(error_of(std::string("[server]\nlisten = \"localhost\"\n") + kChannels) ==
        "t.toml:2:10: server.listen: expected \"host:port\" (IPv6 as \"[::1]:8480\"), got "
        "\"localhost\"");
  CHECK(listen("127.0.0.1:65536").status().message() ==
        "t.toml:1:17: server.listen: port must be between 0 and 65535, got 65536");
  for (const char* bad : {"::1:8480", ":8480", "[::1]8480", "[]:80", "host:", "host:8x",
                          "[::1]:", "a b:80", "host:-1", "127.0.0.1:123456789"}) {
    INFO(bad);
    auto result = listen(bad);
    REQUIRE_FALSE(result.is_ok());
    CHECK(result.status().field() == "server.listen");
    CHECK(result.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("config: syntax errors are file:line:col: message") {
  auto result = parse("[server]\nlisten = \n");
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == Code::kMalformed);
  CHECK(result.status().message().rfind("t.toml:2:", 0) == 0);
  // toml++'s own wording follows the position
  CHECK(result.status().message().find(": ", 9) != std::string::npos);
}

TEST_CASE("config: unknown keys are errors naming them, at every level") {
  CHECK(error_of(std::string("[server]\nlisten_addr = \"1.2.3.4:5\"\n") + kChannels) ==
        "t.toml:2:1: server.listen_addr: unknown key (expected one of: listen, max_body_bytes, "
        "header_timeout_ms, body_timeout_ms, public_url)");
  CHECK(error_of(std::string("[sever]\n") + kChannels) ==
        "t.toml:1:2: sever: unknown key (expected one of: server, store, log, plugins, queue, "
        "email, inbound, channels)");
  CHECK(error_of(std::string(kChannels) + "chanel = \"sms\"\n") ==
        "t.toml:5:1: channels.email.chanel: unknown key (expected one of: plugin, channel, "
        "max_segments, receive_only, rate_per_second, segments_per_second, settings)");
  CHECK(error_of(std::string("queue.retries = 3\n") + kChannels)
            .rfind("t.toml:1:7: queue.retries: unknown key", 0) == 0);
}

TEST_CASE("config: wrong types name the key and both types") {
  CHECK(error_of(std::string("[server]\nmax_body_bytes = \"1MB\"\n") + kChannels) ==
        "t.toml:2:18: server.max_body_bytes: expected an integer, got a string");
  CHECK(error_of(std::string("server = 1\n") + kChannels) ==
        "t.toml:1:10: server: expected a table, got an integer");
  CHECK(error_of(std::string("[log]\nlevel = 3\n") + kChannels) ==
        "t.toml:2:9: log.level: expected a string, got an integer");
}

TEST_CASE("config: ranges and enumerations") {
  CHECK(error_of(std::string("[queue]\nbatch_size = 0\n") + kChannels) ==
        "t.toml:2:14: queue.batch_size: must be between 1 and 10000, got 0");
  CHECK(error_of(std::string("[queue]\nbatch_size = 10001\n") + kChannels) ==
        "t.toml:2:14: queue.batch_size: must be between 1 and 10000, got 10001");
  CHECK(error_of(std::string("[queue]\nlease_seconds = 0\n") + kChannels) ==
        "t.toml:2:17: queue.lease_seconds: must be between 1 and 86400, got 0");
  CHECK(error_of(std::string("[queue]\nmax_attempts = -1\n") + kChannels) ==
        "t.toml:2:16: queue.max_attempts: must be between 1 and 1000, got -1");
  CHECK(error_of(std::string("[queue]\nbackoff_base_seconds = 10\nbackoff_max_seconds = 5\n") +
                 kChannels) ==
        "t.toml:3:23: queue.backoff_max_seconds: must be at least queue.backoff_base_seconds "
        "(10), got 5");
  CHECK(error_of(std::string("[queue]\nbackoff_base_seconds = 7200\n") + kChannels) ==
        "t.toml:2:24: queue.backoff_base_seconds: must be at most queue.backoff_max_seconds "
        "(3600)");
  CHECK(error_of(std::string("[log]\nlevel = \"verbose\"\n") + kChannels) ==
        "t.toml:2:9: log.level: must be one of trace, debug, info, warn, error, off; got "
        "\"verbose\"");
  CHECK(error_of(std::string("[store]\npath = \"\"\n") + kChannels) ==
        "t.toml:2:8: store.path: must not be empty");
  CHECK(error_of(std::string("[server]\npublic_url = \"homeroom.example.org\"\n") + kChannels) ==
        "t.toml:2:14: server.public_url: expected an http:// or https:// URL, got "
        "\"homeroom.example.org\"");
  CHECK(error_of(std::string("[server]\npublic_url = \"https://\"\n") + kChannels)
            .find("server.public_url") != std::string::npos);
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    auto result = parse(std::string("log.level = \"") + level + "\"\n" + kChannels);
    REQUIRE(result.is_ok());
    CHECK(result->log.level == level);
  }
}

TEST_CASE("config: all schema errors are reported at once, in file order") {
  auto result = parse(R"(
[queue]
batch_size = 0
[server]
listen = "nope"
bogus = 1
)");
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == Code::kInvalidArgument);
  CHECK(result.status().field() == "queue.batch_size");
  CHECK(result.status().message() ==
        "t.toml:3:14: queue.batch_size: must be between 1 and 10000, got 0\n"
        "t.toml:5:10: server.listen: expected \"host:port\" (IPv6 as \"[::1]:8480\"), got "
        "\"nope\"\n"
        "t.toml:6:1: server.bogus: unknown key (expected one of: listen, max_body_bytes, "
        "header_timeout_ms, body_timeout_ms, public_url)\n"
        "t.toml: channels: at least one channel instance is required, e.g. [channels.email] with "
        "plugin = \"outbox\" and channel = \"email\"");
}

TEST_CASE("config: channel instances") {
  SECTION("at least one") {
    CHECK(error_of("").rfind("t.toml: channels: at least one channel instance is required", 0) ==
          0);
    CHECK(error_of("[channels]\n")
              .rfind("t.toml:1:1: channels: at least one channel instance is required", 0) == 0);
  }
  SECTION("plugin and channel are required") {
    CHECK(error_of("[channels.email]\nplugin = \"outbox\"\n") ==
          "t.toml:1:1: channels.email.channel: required");
    CHECK(error_of("[channels.email]\nchannel = \"email\"\n") ==
          "t.toml:1:1: channels.email.plugin: required");
  }
  SECTION("names and values are checked") {
    CHECK(error_of("[channels.Email]\nplugin = \"outbox\"\nchannel = \"email\"\n") ==
          "t.toml:1:11: channels.Email: instance name must match [a-z0-9_-]+");
    CHECK(error_of("[channels.\"a b\"]\nplugin = \"outbox\"\nchannel = \"email\"\n") ==
          "t.toml:1:11: channels.\"a b\": instance name must match [a-z0-9_-]+");
    CHECK(error_of("[channels.email]\nplugin = \"out-box\"\nchannel = \"email\"\n") ==
          "t.toml:2:10: channels.email.plugin: must match [a-z0-9_]+, got \"out-box\"");
    CHECK(error_of("[channels.email]\nplugin = \"outbox\"\nchannel = \"fax\"\n") ==
          "t.toml:3:11: channels.email.channel: must be one of email, sms, push; got \"fax\"");
    CHECK(error_of("channels.email = 1\n") ==
          "t.toml:1:18: channels.email: expected a table, got an integer");
    CHECK(error_of("[[channels]]\nplugin = \"outbox\"\n") ==
          "t.toml:1:1: channels: expected a table, got an array");
  }
  SECTION("two instances for one channel: the later one in the file is named") {
    // "zz" sorts after "aa" but comes first in the file
    CHECK(error_of(R"([channels.zz]
plugin = "outbox"
channel = "email"
[channels.aa]
plugin = "smtp"
channel = "email"
)") == "t.toml:6:11: channels.aa.channel: \"email\" is already served by channels.zz");
  }
  SECTION("settings values must be scalars") {
    CHECK(error_of(std::string(kChannels) + "settings.hosts = [\"a\"]\n") ==
          "t.toml:5:18: channels.email.settings.hosts: expected a string, integer, float or "
          "boolean, got an array");
    CHECK(error_of(std::string(kChannels) + "settings = \"x\"\n") ==
          "t.toml:5:12: channels.email.settings: expected a table, got a string");
  }
}

TEST_CASE("config: settings from the environment") {
  const std::string text = std::string(kChannels) +
                           "[channels.email.settings]\n"
                           "password = \"${env:SMTP_PASSWORD}\"\n"
                           "user = \"mailer\"\n";
  std::map<std::string, std::string> env = {{"SMTP_PASSWORD", "hunter2"}};
  auto lookup = [&env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto result = parse(text, lookup);
  REQUIRE(result.is_ok());
  CHECK(result->channels[0].settings.at("password") == "hunter2");
  CHECK(result->channels[0].settings.at("user") == "mailer");

  env.clear();
  CHECK(error_of(text, lookup) ==
        "t.toml:6:12: channels.email.settings.password: environment variable SMTP_PASSWORD is not "
        "set");

  // Only a whole value is a reference; anything else with ${env: is a mistake, reported without
  // echoing the value.
  const auto partial = error_of(std::string(kChannels) +
                                "[channels.email.settings]\ntoken = \"Bearer ${env:TOKEN}\"\n");
  CHECK(partial.rfind("t.toml:6:9: channels.email.settings.token: an environment reference must "
                      "be the whole value",
                      0) == 0);
  CHECK(partial.find("Bearer") == std::string::npos);
  CHECK_FALSE(parse(std::string(kChannels) + "[channels.email.settings]\nt = \"${env:}\"\n", lookup)
                  .is_ok());
  CHECK_FALSE(
      parse(std::string(kChannels) + "[channels.email.settings]\nt = \"${env:A-B}\"\n", lookup)
          .is_ok());
}

TEST_CASE("config: the process environment is the default lookup") {
  ::setenv("HOMEROOM_CONFIG_TEST_SECRET", "s3cret", 1);
  auto result =
      parse_config(std::string(kChannels) +
                       "[channels.email.settings]\nk = \"${env:HOMEROOM_CONFIG_TEST_SECRET}\"\n",
                   "t.toml");
  REQUIRE(result.is_ok());
  CHECK(result->channels[0].settings.at("k") == "s3cret");
  ::unsetenv("HOMEROOM_CONFIG_TEST_SECRET");
}

TEST_CASE("config: load_config reports a missing file") {
  auto result = load_config("/nonexistent/homeroom.toml");
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == Code::kNotFound);
  CHECK(result.status().message() == "config file /nonexistent/homeroom.toml does not exist");
}

TEST_CASE("config: error text escapes control characters from the file") {
  const auto message = error_of("[server]\nlisten = \"a\\nb\"\n");
  CHECK(message.find("got \"a\\x0ab\"") != std::string::npos);
  CHECK(message.find('\n') != std::string::npos);  // the channels error is on its own line
  CHECK(message.substr(0, message.find('\n')).find("\\x0a") != std::string::npos);
}

TEST_CASE("config: inputs that trip toml++'s debug assertions are clean syntax errors") {
  // Both found by fuzz_config; the release toml++ library rejects them with a position.
  const std::string nul("[server]\nlisten = \"a\0b\"\n", 24);
  auto result = parse(nul);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == Code::kMalformed);
  CHECK(result.status().message().rfind("t.toml:2:", 0) == 0);
  result = parse("[\nchannel = \"email\"\n");
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == Code::kMalformed);
  CHECK(result.status().message().rfind("t.toml:1:2: ", 0) == 0);
}

TEST_CASE("config: non-ASCII outside strings and comments is refused before toml++ sees it") {
  // toml++ 3.3 has undefined behaviour on these (upstream #190, #295; found by fuzz_config).
  CHECK(error_of("a\xcc\xaa = 1\n") ==
        "t.toml:1:2: non-ASCII character outside a string or comment");
  CHECK(error_of("[server]\nlisten = \"1.2.3.4:5\" \xc2\xa7\n") ==
        "t.toml:2:22: non-ASCII character outside a string or comment");
  CHECK(error_of("s = \"\"\"\\\n  \xc2\xa7\"\"\"\n") ==
        "t.toml:2:3: a line-ending backslash must not be followed by a non-ASCII character "
        "(write it as \\uXXXX)");
  CHECK(error_of("s = \"\"\"\\\xc2\xa7\"\"\"\n") ==
        "t.toml:1:9: a backslash must not be followed by a non-ASCII character");
  CHECK(error_of("s = \"\"\"\\  \xc2\xa7\"\"\"\n") ==
        "t.toml:1:11: a backslash must not be followed by a non-ASCII character");
  CHECK(error_of("s = \"\"\"x\"\"\"\"\xc2\xa7\n").find("non-ASCII character outside") !=
        std::string::npos);
  // ...but non-ASCII in strings, keys in quotes and comments is fine.
  auto result = parse(std::string("# Caf\xc3\xa9 \xc2\xa7\n") + kChannels +
                      "[channels.email.settings]\n"
                      "from_name = \"\xc3\x89"
                      "cole \\\"Saint-\xc3\x89tienne\\\"\"\n"
                      "\"cl\xc3\xa9\" = '\xc2\xa7'\n"
                      "signature = \"\"\"\n\xc2\xa7 \\\"\"\" Direction\"\"\"\"\n"
                      "note = '''\xc2\xa7'''''\n");
  INFO(result.status().to_string());
  REQUIRE(result.is_ok());
  const auto& settings = result->channels[0].settings;
  CHECK(settings.at("from_name") ==
        "\xc3\x89"
        "cole \"Saint-\xc3\x89tienne\"");
  CHECK(settings.at("cl\xc3\xa9") == "\xc2\xa7");
  CHECK(settings.at("signature") == "\xc2\xa7 \"\"\" Direction\"");
  CHECK(settings.at("note") == "\xc2\xa7''");
}

TEST_CASE("config: a quote inside a bare value does not hide non-ASCII from the pre-scan") {
  CHECK(error_of("a = 11\"x\xc6\xbe\"\n") ==
        "t.toml:1:9: non-ASCII character outside a string or comment");
  CHECK(parse(std::string(kChannels) + "[channels.email.settings]\nl = [\"\xc3\xa9\",'\xc3\xa9']\n")
            .status()
            .message()
            .find("got an array") != std::string::npos);
}

TEST_CASE("config: the pre-scan follows arrays, inline tables and bare values") {
  CHECK(error_of("a = [?[['\xef\xbb\xaf']]\n") ==
        "t.toml:1:10: non-ASCII character outside a string or comment");
  CHECK(error_of("a = [1, 2x'\xc3\xa9']\n") ==
        "t.toml:1:12: non-ASCII character outside a string or comment");
  // valid TOML with non-ASCII strings in every position
  auto result = parse(std::string(kChannels) +
                      "[channels.email.settings]\n"
                      "a=\"\xc3\xa9\"\n"
                      "b = { c = '\xc3\xa9', d = [\"\xc3\xa9\", 1] }\n");
  REQUIRE_FALSE(result.is_ok());  // an inline table is not a scalar setting: a schema error
  CHECK(result.status().code() == Code::kInvalidArgument);
  CHECK(result.status().field() == "channels.email.settings.b");
}

TEST_CASE("config: [email] defaults, values and validation naming the key") {
  auto defaults = parse(kChannels);
  REQUIRE(defaults.is_ok());
  CHECK(defaults->email.from_address == "homeroom@localhost");
  CHECK(defaults->email.from_name == "homeroom");
  CHECK(defaults->email.reply_domain.empty());
  CHECK(defaults->email.bounce_domain.empty());

  auto shipped = load_config(HOMEROOM_SOURCE_DIR "/config/homeroom.toml");
  REQUIRE(shipped.is_ok());
  CHECK(shipped->email.from_address == "homeroom@localhost");
  CHECK(shipped->email.reply_domain.empty());

  auto set = parse(std::string(R"(
[email]
from_address = "office+notes@lincoln.example.org"
from_name = "Escuela Lincoln — Oficina"
reply_domain = "reply.lincoln.example.org"
bounce_domain = "bounces.example.org"
)") + kChannels);
  INFO(set.status().to_string());
  REQUIRE(set.is_ok());
  CHECK(set->email.from_address == "office+notes@lincoln.example.org");
  CHECK(set->email.from_name == "Escuela Lincoln — Oficina");
  CHECK(set->email.reply_domain == "reply.lincoln.example.org");
  CHECK(set->email.bounce_domain == "bounces.example.org");

  for (const char* bad : {"\"nobody\"", "\"@x.org\"", "\"a@\"", "\"a b@x.org\"", "\"a@x..org\"",
                          "\"a@-x.org\"", "\"a..b@x.org\"", "\"<a@x.org>\""}) {
    INFO(bad);
    auto e = parse(std::string("[email]\nfrom_address = ") + bad + "\n" + kChannels);
    REQUIRE_FALSE(e.is_ok());
    CHECK(e.status().field() == "email.from_address");
    CHECK(e.status().message().find("t.toml:2:16: email.from_address: expected an email") == 0);
  }
  for (const char* key : {"reply_domain", "bounce_domain"}) {
    for (const char* bad :
         {"\"re ply.org\"", "\"x_y.org\"", "\"a.-b.org\"", "\"a..org\"", "\"a@b.org\""}) {
      INFO(key << " = " << bad);
      auto e = parse(std::string("[email]\n") + key + " = " + bad + "\n" + kChannels);
      REQUIRE_FALSE(e.is_ok());
      CHECK(e.status().field() == std::string("email.") + key);
    }
  }
  CHECK(error_of(std::string("[email]\nfrom_name = \"a\\nb\"\n") + kChannels)
            .find("email.from_name: must not contain control characters") != std::string::npos);
  CHECK(error_of(std::string("[email]\nreply_to = \"x.org\"\n") + kChannels)
            .find("email.reply_to: unknown key") != std::string::npos);
  CHECK(error_of(std::string("[email]\nfrom_address = 3\n") + kChannels)
            .find("email.from_address: expected a string, got an integer") != std::string::npos);
}

TEST_CASE("config: max_segments is for sms instances, within 1..100") {
  const std::string base = "[channels.sms]\nplugin = \"outbox\"\nchannel = \"sms\"\n";
  auto ok = parse_config(base + "max_segments = 3\n", "t.toml");
  REQUIRE(ok.is_ok());
  CHECK(ok->channels[0].max_segments == 3);
  auto defaulted = parse_config(base, "t.toml");
  CHECK(defaulted->channels[0].max_segments == 10);
  auto zero = parse_config(base + "max_segments = 0\n", "t.toml");
  CHECK(zero.status().field() == "channels.sms.max_segments");
  auto email = parse_config(
      "[channels.email]\nplugin = \"outbox\"\nchannel = \"email\"\nmax_segments = 2\n", "t.toml");
  CHECK(email.status().field() == "channels.email.max_segments");
}

TEST_CASE("config: a receive_only instance shares its channel with the sender") {
  auto ok = parse(std::string(kChannels) + R"(
[channels.email_in]
plugin = "email_inbound"
channel = "email"
receive_only = true
)");
  INFO(ok.status().to_string());
  REQUIRE(ok.is_ok());
  REQUIRE(ok->channels.size() == 2);
  CHECK_FALSE(ok->channels[0].receive_only);
  CHECK(ok->channels[1].receive_only);
  CHECK(error_of(std::string(kChannels) + R"(
[channels.email_in]
plugin = "email_inbound"
channel = "email"
)") == "t.toml:8:11: channels.email_in.channel: \"email\" is already served by channels.email");
  CHECK(error_of(std::string(kChannels) + R"(
[channels.email_in]
plugin = "email_inbound"
channel = "email"
receive_only = "yes"
)") == "t.toml:8:11: channels.email_in.channel: \"email\" is already served by "
       "channels.email\n"
       "t.toml:9:16: channels.email_in.receive_only: expected a boolean, got a string");
}

TEST_CASE("config: [inbound.imap] values, defaults and errors naming the key") {
  auto defaults = parse(kChannels);
  REQUIRE(defaults.is_ok());
  CHECK(defaults->inbound.imap.url.empty());
  CHECK(defaults->inbound.imap.poll_interval == std::chrono::seconds(60));

  auto ok = parse(std::string(kChannels) + R"(
[inbound.imap]
url = "imaps://mail.example.org:993/INBOX"
username = "replies@example.org"
password = "${env:IMAP_PASSWORD}"
poll_interval_seconds = 30
ca_file = "/etc/ssl/ca.pem"
)",
                  [](const std::string& name) -> std::optional<std::string> {
                    if (name == "IMAP_PASSWORD") return "pw";
                    return std::nullopt;
                  });
  INFO(ok.status().to_string());
  REQUIRE(ok.is_ok());
  const ImapConfig& imap = ok->inbound.imap;
  CHECK(imap.url == "imaps://mail.example.org:993/INBOX");
  CHECK(imap.username == "replies@example.org");
  CHECK(imap.password == "pw");
  CHECK(imap.poll_interval == std::chrono::seconds(30));
  CHECK(imap.ca_file == "/etc/ssl/ca.pem");

  struct Row {
    std::string toml;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"[inbound.imap]\nurl = \"imaps://h/INBOX\"\nusername = \"u\"\npasswd = \"x\"\n",
       "t.toml:8:1: inbound.imap.passwd: unknown key (expected one of: url, username, password, "
       "password_file, poll_interval_seconds, ca_file)"},
      {"[inbound.pop3]\n", "t.toml:5:10: inbound.pop3: unknown key (expected one of: imap)"},
      {"[inbound.imap]\nurl = \"https://h/INBOX\"\nusername = \"u\"\n",
       "t.toml:6:7: inbound.imap.url: expected \"imaps://host[:port]/MAILBOX\" (or imap://), got "
       "\"https://h/INBOX\""},
      {"[inbound.imap]\nurl = \"imaps://h/\"\nusername = \"u\"\n",
       "t.toml:6:7: inbound.imap.url: expected \"imaps://host[:port]/MAILBOX\" (or imap://), got "
       "\"imaps://h/\""},
      {"[inbound.imap]\nurl = \"imaps://h/INBOX\"\n",
       "t.toml:6:7: inbound.imap.username: required with inbound.imap.url"},
      {"[inbound.imap]\nurl = \"imaps://h/INBOX\"\nusername = \"u\"\npoll_interval_seconds = 0\n",
       "t.toml:8:25: inbound.imap.poll_interval_seconds: must be between 1 and 86400, got 0"},
      {"[inbound.imap]\nurl = \"imaps://h/INBOX\"\nusername = \"u\"\npassword = \"a\"\n"
       "password_file = \"/p\"\n",
       "t.toml:9:17: inbound.imap.password_file: give password or password_file, not both"},
  };
  for (const Row& row : rows) {
    INFO(row.toml);
    CHECK(error_of(std::string(kChannels) + row.toml) == row.error);
  }
}
