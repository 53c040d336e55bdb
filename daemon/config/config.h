// The daemon's configuration: one TOML file, parsed and validated in full before anything starts.
//
// Contract:
// - Every key is optional and has a default, except that at least one [channels.NAME] instance is
//   required, and each instance needs `plugin` and `channel`.
// - Unknown keys are errors: a typo must never be silently ignored.
// - Every error names the key, and where toml++ knows it, the place:
//     config/homeroom.toml:3:10: server.listen: expected "host:port", got "localhost"
//   A TOML syntax error reads "file:line:col: message" (code kMalformed); schema errors have code
//   kInvalidArgument, `field()` naming the first bad key. All schema errors of a file are reported
//   at once, one per line of the message, in file order.
// - Channel settings may take a value from the environment with the whole value "${env:NAME}", so
//   secrets stay out of the file. An unset variable is an error naming the key and the variable;
//   no error message ever echoes a settings value.
// - Relative paths are kept as written; the daemon resolves them against its working directory.
//
// Pure functions of their input (plus the environment lookup); safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace homeroom {

struct ServerConfig {
  std::string listen_host = "127.0.0.1";  // IPv6 without brackets: "::1"
  std::uint16_t listen_port = 8480;       // 0: pick a free port (tests)
  std::int64_t max_body_bytes = 1'048'576;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  // Base URL as families and providers see it (behind a reverse proxy); empty when not set.
  // Always "http://" or "https://", stored without a trailing '/'.
  std::string public_url;
};

struct StoreConfig {
  std::string path = "var/homeroom.db";
};

struct LogConfig {
  std::string level = "info";  // trace|debug|info|warn|error|off (spdlog::level::from_str accepts)
  std::string file;            // empty: stderr
};

struct PluginsConfig {
  std::string dir;  // empty: <dir of homeroomd>/../lib/homeroom/plugins
};

struct QueueConfig {
  int batch_size = 512;  // 1..10000
  std::chrono::seconds lease{60};
  int max_attempts = 8;
  std::chrono::seconds backoff_base{2};
  std::chrono::seconds backoff_max{3600};  // >= backoff_base
  std::chrono::milliseconds poll_interval{250};
};

// [email]: how homeroom's own email messages are addressed (the renderer builds them).
struct EmailConfig {
  std::string from_address = "homeroom@localhost";  // the From: header; an addr-spec
  std::string from_name = "homeroom";               // its display name (any UTF-8)
  // Domain of the Reply-To ("reply+TOKEN@reply_domain") and mailto: unsubscribe addresses; empty:
  // no Reply-To and no mailto: unsubscribe.
  std::string reply_domain;
  // Domain of the envelope sender ("bounce+TOKEN@bounce_domain"); empty: reply_domain.
  std::string bounce_domain;
};

// One [channels.NAME] table: a plugin instance serving one channel.
struct ChannelInstanceConfig {
  std::string name;     // the NAME in [channels.NAME]; [a-z0-9_-]+; also the webhook path segment
  std::string plugin;   // plugin module name, [a-z0-9_]+
  std::string channel;  // "email" | "sms" | "push"
  // sms only: a text needing more segments than this fails permanently instead of being sent
  // (each segment is billed; Twilio refuses more than 10).
  int max_segments = 10;
  // Provider limits (token bucket, queue/token_bucket.h): messages per second, and for sms SMS
  // segments per second; 0: unlimited.
  int rate_per_second = 0;
  int segments_per_second = 0;
  // Only receives (webhooks such as email_inbound's): never a route for sending, so it does not
  // count against "one instance per channel".
  bool receive_only = false;
  // [channels.NAME.settings], every value as a string (integers in decimal, floats in shortest
  // round-trip form, booleans as "true"/"false"), "${env:NAME}" already substituted.
  std::map<std::string, std::string> settings;
};

// [inbound.imap]: a mailbox the daemon polls for families' email replies (conversations/
// imap_poller.h). Empty url: no polling.
struct ImapConfig {
  std::string url;            // "imaps://host[:port]/MAILBOX" or "imap://..." (loopback, tests)
  std::string username;       // required with url
  std::string password;       // "${env:NAME}" allowed; or
  std::string password_file;  // a file holding the password (trailing newline ignored)
  std::chrono::seconds poll_interval{60};
  std::string ca_file;  // "" for the system's CA bundle
};

struct InboundConfig {
  ImapConfig imap;
};

struct Config {
  ServerConfig server;
  StoreConfig store;
  LogConfig log;
  PluginsConfig plugins;
  QueueConfig queue;
  EmailConfig email;
  InboundConfig inbound;
  std::vector<ChannelInstanceConfig> channels;  // in file order; one sender per channel
  std::string source;                           // where it was read from ("<embedded>", a path)
};

// Looks up an environment variable; nullopt when unset. The default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> process_env(const std::string& name);

// Parses and validates `toml_text`; `source_name` prefixes every error ("config/homeroom.toml").
Result<Config> parse_config(std::string_view toml_text, std::string_view source_name);
Result<Config> parse_config(std::string_view toml_text, std::string_view source_name,
                            const EnvLookup& env);

// Reads and parses the file at `path` (kNotFound when it does not exist).
Result<Config> load_config(const std::filesystem::path& path);

// The text of config/homeroom.toml, compiled in: what the daemon runs with when given no file,
// and what `homeroomctl` can print as a starting point.
std::string_view embedded_default_config();

}  // namespace homeroom
