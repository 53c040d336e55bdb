#include "config/config.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <system_error>
#include <utility>

// Fuzz builds compile toml++ in (header-only) with its internal debug assertions off, as in the
// release library the daemon links: toml++ 3.3 asserts on some inputs it then rejects cleanly
// (a '[' followed by a line break or a NUL byte), which would hide real findings.
#ifdef HOMEROOM_TOML_NO_DEBUG_ASSERTS
#define TOML_ASSERT(expr) static_assert(true)
#endif
#include <toml++/toml.h>

namespace homeroom {
namespace {

std::string_view type_phrase(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown type";
}

bool is_bare_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// A value or key quoted for an error message, with control characters escaped so a hostile file
// cannot inject lines into the log.
std::string quote_text(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string join_key(std::string_view path, std::string_view key) {
  std::string part = is_bare_key(key) ? std::string(key) : quote_text(key);
  if (path.empty()) return part;
  return std::string(path) + "." + part;
}

std::string one_of(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

bool matches(std::string_view text, bool allow_dash) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (allow_dash && c == '-');
  });
}

// Collects every schema error of one file, then reports them in file order.
class Checker {
 public:
  Checker(std::string_view source, const EnvLookup& env) : source_(source), env_(env) {}

  void error(const toml::source_region& where, std::string key, std::string text) {
    errors_.push_back({where.begin, std::move(key), std::move(text)});
  }

  bool has_errors() const { return !errors_.empty(); }

  Status status() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const Error& a, const Error& b) {
      // Errors without a position (a missing section) go last.
      const bool a_pos = static_cast<bool>(a.where);
      const bool b_pos = static_cast<bool>(b.where);
      if (a_pos != b_pos) return a_pos;
      if (a.where.line != b.where.line) return a.where.line < b.where.line;
      return a.where.column < b.where.column;
    });
    std::string message;
    for (const auto& e : errors_) {
      if (!message.empty()) message += '\n';
      message += source_;
      if (e.where) {
        message += ':' + std::to_string(e.where.line) + ':' + std::to_string(e.where.column);
      }
      message += ": " + e.key + ": " + e.text;
    }
    return Status(Code::kInvalidArgument, std::move(message), errors_.front().key);
  }

  // Reports every key of `table` not in `known`.
  void check_keys(const toml::table& table, std::string_view path,
                  std::initializer_list<std::string_view> known) {
    for (auto&& [key, node] : table) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        error(key.source(), join_key(path, key.str()),
              "unknown key (expected one of: " + one_of(known) + ")");
      }
    }
  }

  // The table under `key` of `parent`, or nullptr when absent or not a table (reported).
  const toml::table* section(const toml::table& parent, std::string_view path,
                             std::string_view key) {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return nullptr;
    if (const auto* table = node->as_table()) return table;
    type_error(*node, join_key(path, key), "a table");
    return nullptr;
  }

  void type_error(const toml::node& node, std::string key, std::string_view expected) {
    error(node.source(), std::move(key),
          "expected " + std::string(expected) + ", got " + std::string(type_phrase(node.type())));
  }

  // Reads a string into `out`; returns the node when present and a string, else nullptr.
  const toml::node* get_string(const toml::table& table, std::string_view path,
                               std::string_view key, std::string& out) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return nullptr;
    if (const auto* value = node->as_string()) {
      out = value->get();
      return node;
    }
    type_error(*node, join_key(path, key), "a string");
    return nullptr;
  }

  // Reads an integer in [min, max] into `out`; returns the node when present and valid.
  const toml::node* get_int(const toml::table& table, std::string_view path, std::string_view key,
                            std::int64_t min, std::int64_t max, std::int64_t& out) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return nullptr;
    const auto* value = node->as_integer();
    if (value == nullptr) {
      type_error(*node, join_key(path, key), "an integer");
      return nullptr;
    }
    const std::int64_t v = value->get();
    if (v < min || v > max) {
      error(node->source(), join_key(path, key),
            "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                std::to_string(v));
      return nullptr;
    }
    out = v;
    return node;
  }

  template <typename Rep, typename Period>
  void get_duration(const toml::table& table, std::string_view path, std::string_view key,
                    std::int64_t min, std::int64_t max, std::chrono::duration<Rep, Period>& out) {
    std::int64_t v = 0;
    if (get_int(table, path, key, min, max, v) != nullptr)
      out = std::chrono::duration<Rep, Period>(v);
  }

  void get_int32(const toml::table& table, std::string_view path, std::string_view key,
                 std::int64_t min, std::int64_t max, int& out) {
    std::int64_t v = 0;
    if (get_int(table, path, key, min, max, v) != nullptr) out = static_cast<int>(v);
  }

  // A settings value as a string, with "${env:NAME}" substituted.
  std::optional<std::string> setting_value(const toml::node& node, const std::string& key) {
    if (const auto* s = node.as_string()) return substitute_env(node, key, s->get());
    if (const auto* i = node.as_integer()) return std::to_string(i->get());
    if (const auto* b = node.as_boolean()) return std::string(b->get() ? "true" : "false");
    if (const auto* f = node.as_floating_point()) {
      char buffer[64];
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, f->get());
      if (ec == std::errc()) return std::string(buffer, end);
    }
    type_error(node, key, "a string, integer, float or boolean");
    return std::nullopt;
  }

 private:
  struct Error {
    toml::source_position where;
    std::string key;
    std::string text;
  };

  std::optional<std::string> substitute_env(const toml::node& node, const std::string& key,
                                            const std::string& value) {
    static constexpr std::string_view kOpen = "${env:";
    if (value.find(kOpen) == std::string::npos) return value;
    const bool whole =
        value.rfind(kOpen, 0) == 0 && value.size() > kOpen.size() + 1 && value.back() == '}';
    const std::string name =
        whole ? value.substr(kOpen.size(), value.size() - kOpen.size() - 1) : std::string();
    const bool name_ok = !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
                         std::all_of(name.begin(), name.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                  (c >= '0' && c <= '9') || c == '_';
                         });
    // Never echo the value: it may be a secret with a typo in it.
    if (!whole || !name_ok) {
      error(node.source(), key,
            "an environment reference must be the whole value, as \"${env:NAME}\" with NAME of "
            "letters, digits and '_'");
      return std::nullopt;
    }
    auto found = env_(name);
    if (!found) {
      error(node.source(), key, "environment variable " + name + " is not set");
      return std::nullopt;
    }
    return found;
  }

  std::string source_;
  const EnvLookup& env_;
  std::vector<Error> errors_;
};

bool parse_port(std::string_view text, std::uint16_t& port, bool& out_of_range) {
  out_of_range = false;
  if (text.empty() || text.size() > 5) {
    out_of_range = text.size() > 5 && std::all_of(text.begin(), text.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
    return false;
  }
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) {
    out_of_range = true;
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

void check_listen(Checker& check, const toml::node& node, const std::string& text,
                  ServerConfig& server) {
  std::string host;
  std::string_view port_text;
  bool shape_ok = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close != std::string::npos && close + 1 < text.size() && text[close + 1] == ':') {
      host = text.substr(1, close - 1);
      port_text = std::string_view(text).substr(close + 2);
      shape_ok =
          host.find(':') != std::string::npos && std::all_of(host.begin(), host.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                   c == ':' || c == '.';
          });
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string::npos) {
      host = text.substr(0, colon);
      port_text = std::string_view(text).substr(colon + 1);
      shape_ok = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-';
      });
    }
  }
  std::uint16_t port = 0;
  bool out_of_range = false;
  if (shape_ok && parse_port(port_text, port, out_of_range)) {
    server.listen_host = host;
    server.listen_port = port;
    return;
  }
  if (shape_ok && out_of_range) {
    check.error(node.source(), "server.listen",
                "port must be between 0 and 65535, got " + std::string(port_text));
    return;
  }
  check.error(node.source(), "server.listen",
              "expected \"host:port\" (IPv6 as \"[::1]:8480\"), got " + quote_text(text));
}

void check_public_url(Checker& check, const toml::node& node, std::string url,
                      ServerConfig& server) {
  if (url.empty()) return;
  const bool scheme_ok = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  const auto host_start = url.find("://") + 3;
  const bool clean = std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
  if (!scheme_ok || !clean || host_start >= url.size() || url[host_start] == '/') {
    check.error(node.source(), "server.public_url",
                "expected an http:// or https:// URL, got " + quote_text(url));
    return;
  }
  while (url.size() > host_start && url.back() == '/') url.pop_back();
  server.public_url = std::move(url);
}

// A DNS name: labels of [A-Za-z0-9-] (not starting or ending with '-'), at most 253 chars.
bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t start = 0;
  while (start <= domain.size()) {
    auto end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    const auto label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    const bool chars_ok = std::all_of(label.begin(), label.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!chars_ok) return false;
    start = end + 1;
  }
  return true;
}

// An addr-spec with a dot-atom local part and a domain: what homeroom writes into From:.
bool valid_email_address(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  const auto local = address.substr(0, at);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  static constexpr std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~.";
  const bool local_ok = std::all_of(local.begin(), local.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kAtext.find(c) != std::string_view::npos;
  });
  return local_ok && valid_domain(address.substr(at + 1));
}

void check_email(Checker& check, const toml::table& email, EmailConfig& out) {
  check.check_keys(email, "email", {"from_address", "from_name", "reply_domain", "bounce_domain"});
  std::string text;
  if (const auto* node = check.get_string(email, "email", "from_address", text)) {
    if (valid_email_address(text)) {
      out.from_address = text;
    } else {
      check.error(node->source(), "email.from_address",
                  "expected an email address such as \"homeroom@school.example.org\", got " +
                      quote_text(text));
    }
  }
  if (const auto* node = check.get_string(email, "email", "from_name", text)) {
    const bool clean = std::none_of(text.begin(), text.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (clean) {
      out.from_name = text;
    } else {
      check.error(node->source(), "email.from_name", "must not contain control characters");
    }
  }
  for (auto [key, field] : {std::pair{"reply_domain", &out.reply_domain},
                            std::pair{"bounce_domain", &out.bounce_domain}}) {
    if (const auto* node = check.get_string(email, "email", key, text)) {
      if (text.empty() || valid_domain(text)) {
        *field = text;
      } else {
        check.error(
            node->source(), std::string("email.") + key,
            "expected a domain name such as \"reply.school.example.org\", got " + quote_text(text));
      }
    }
  }
}

void check_channels(Checker& check, const toml::table& root, Config& config) {
  const toml::node* node = root.get("channels");
  static constexpr std::string_view kRequired =
      "at least one channel instance is required, e.g. [channels.email] with plugin = \"outbox\" "
      "and channel = \"email\"";
  if (node == nullptr) {
    check.error({}, "channels", std::string(kRequired));
    return;
  }
  const auto* channels = node->as_table();
  if (channels == nullptr) {
    check.type_error(*node, "channels", "a table");
    return;
  }
  if (channels->empty()) {
    check.error(node->source(), "channels", std::string(kRequired));
    return;
  }
  // toml::table iterates in key order; "already served by" must name the later one in the file.
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, value] : *channels) entries.emplace_back(&key, &value);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });

  std::map<std::string, std::string> served_by;  // channel -> instance key
  for (const auto& [key, value] : entries) {
    const std::string name(key->str());
    const std::string path = join_key("channels", name);
    if (!matches(name, /*allow_dash=*/true)) {
      check.error(key->source(), path, "instance name must match [a-z0-9_-]+");
      continue;
    }
    const auto* table = value->as_table();
    if (table == nullptr) {
      check.type_error(*value, path, "a table");
      continue;
    }
    check.check_keys(*table, path,
                     {"plugin", "channel", "max_segments", "receive_only", "rate_per_second",
                      "segments_per_second", "settings"});
    ChannelInstanceConfig instance;
    instance.name = name;
    bool ok = true;
    if (const toml::node* receive_only = table->get("receive_only")) {
      if (const auto* b = receive_only->as_boolean()) {
        instance.receive_only = b->get();
      } else {
        check.type_error(*receive_only, path + ".receive_only", "a boolean");
        ok = false;
      }
    }

    const toml::node* plugin = check.get_string(*table, path, "plugin", instance.plugin);
    if (plugin == nullptr) {
      if (table->get("plugin") == nullptr)
        check.error(value->source(), path + ".plugin", "required");
      ok = false;
    } else if (!matches(instance.plugin, /*allow_dash=*/false)) {
      check.error(plugin->source(), path + ".plugin",
                  "must match [a-z0-9_]+, got " + quote_text(instance.plugin));
      ok = false;
    }

    const toml::node* channel = check.get_string(*table, path, "channel", instance.channel);
    if (channel == nullptr) {
      if (table->get("channel") == nullptr) {
        check.error(value->source(), path + ".channel", "required");
      }
      ok = false;
    } else if (instance.channel != "email" && instance.channel != "sms" &&
               instance.channel != "push") {
      check.error(channel->source(), path + ".channel",
                  "must be one of email, sms, push; got " + quote_text(instance.channel));
      ok = false;
    } else if (instance.receive_only) {
      // Takes webhooks only: not a route, so it shares its channel with the sending instance.
    } else if (auto [it, inserted] = served_by.emplace(instance.channel, path); !inserted) {
      check.error(channel->source(), path + ".channel",
                  quote_text(instance.channel) + " is already served by " + it->second);
      ok = false;
    }

    check.get_int32(*table, path, "max_segments", 1, 100, instance.max_segments);
    if (table->get("max_segments") != nullptr && instance.channel != "sms") {
      check.error(table->get("max_segments")->source(), path + ".max_segments",
                  "only sms channel instances have segments");
      ok = false;
    }

    check.get_int32(*table, path, "rate_per_second", 0, 100000, instance.rate_per_second);
    check.get_int32(*table, path, "segments_per_second", 0, 100000, instance.segments_per_second);
    if (table->get("segments_per_second") != nullptr && instance.channel != "sms") {
      check.error(table->get("segments_per_second")->source(), path + ".segments_per_second",
                  "only sms channel instances have segments");
      ok = false;
    }

    if (const auto* settings = check.section(*table, path, "settings")) {
      for (auto&& [setting_key, setting] : *settings) {
        const std::string setting_path = join_key(path + ".settings", setting_key.str());
        if (auto text = check.setting_value(setting, setting_path)) {
          instance.settings.emplace(setting_key.str(), std::move(*text));
        } else {
          ok = false;
        }
      }
    }
    if (ok) config.channels.push_back(std::move(instance));
  }
}

void check_imap(Checker& check, const toml::table& imap, ImapConfig& out) {
  constexpr std::string_view kPath = "inbound.imap";
  check.check_keys(
      imap, kPath,
      {"url", "username", "password", "password_file", "poll_interval_seconds", "ca_file"});
  std::string url;
  const toml::node* url_node = check.get_string(imap, kPath, "url", url);
  if (url_node != nullptr) {
    const std::size_t scheme = url.rfind("imaps://", 0) == 0  ? 8
                               : url.rfind("imap://", 0) == 0 ? 7
                                                              : 0;
    const std::size_t slash = scheme == 0 ? std::string::npos : url.find('/', scheme);
    if (scheme == 0 || slash == scheme || slash == std::string::npos || slash + 1 == url.size() ||
        url.find_first_of(" ;?#@", scheme) != std::string::npos) {
      check.error(url_node->source(), "inbound.imap.url",
                  "expected \"imaps://host[:port]/MAILBOX\" (or imap://), got " + quote_text(url));
    } else {
      out.url = url;
    }
  }
  check.get_string(imap, kPath, "username", out.username);
  if (const toml::node* node = imap.get("password")) {
    if (auto text = check.setting_value(*node, "inbound.imap.password")) out.password = *text;
  }
  check.get_string(imap, kPath, "password_file", out.password_file);
  check.get_duration(imap, kPath, "poll_interval_seconds", 1, 86'400, out.poll_interval);
  check.get_string(imap, kPath, "ca_file", out.ca_file);
  if (imap.get("password") != nullptr && imap.get("password_file") != nullptr) {
    check.error(imap.get("password_file")->source(), "inbound.imap.password_file",
                "give password or password_file, not both");
  }
  if (url_node != nullptr && out.username.empty()) {
    check.error(url_node->source(), "inbound.imap.username", "required with inbound.imap.url");
  }
}

void check_document(Checker& check, const toml::table& root, Config& config) {
  check.check_keys(root, "",
                   {"server", "store", "log", "plugins", "queue", "email", "inbound", "channels"});

  if (const auto* inbound = check.section(root, "", "inbound")) {
    check.check_keys(*inbound, "inbound", {"imap"});
    if (const auto* imap = check.section(*inbound, "inbound", "imap")) {
      check_imap(check, *imap, config.inbound.imap);
    }
  }

  if (const auto* server = check.section(root, "", "server")) {
    check.check_keys(
        *server, "server",
        {"listen", "max_body_bytes", "header_timeout_ms", "body_timeout_ms", "public_url"});
    std::string listen;
    if (const auto* node = check.get_string(*server, "server", "listen", listen)) {
      check_listen(check, *node, listen, config.server);
    }
    check.get_int(*server, "server", "max_body_bytes", 1, std::int64_t{1} << 30,
                  config.server.max_body_bytes);
    check.get_duration(*server, "server", "header_timeout_ms", 1, 86'400'000,
                       config.server.header_timeout);
    check.get_duration(*server, "server", "body_timeout_ms", 1, 86'400'000,
                       config.server.body_timeout);
    std::string url;
    if (const auto* node = check.get_string(*server, "server", "public_url", url)) {
      check_public_url(check, *node, url, config.server);
    }
  }

  if (const auto* store = check.section(root, "", "store")) {
    check.check_keys(*store, "store", {"path"});
    std::string path;
    if (const auto* node = check.get_string(*store, "store", "path", path)) {
      if (path.empty()) {
        check.error(node->source(), "store.path", "must not be empty");
      } else {
        config.store.path = path;
      }
    }
  }

  if (const auto* log = check.section(root, "", "log")) {
    check.check_keys(*log, "log", {"level", "file"});
    std::string level;
    if (const auto* node = check.get_string(*log, "log", "level", level)) {
      static constexpr std::string_view kLevels[] = {"trace", "debug", "info",
                                                     "warn",  "error", "off"};
      if (std::find(std::begin(kLevels), std::end(kLevels), level) == std::end(kLevels)) {
        check.error(
            node->source(), "log.level",
            "must be one of trace, debug, info, warn, error, off; got " + quote_text(level));
      } else {
        config.log.level = level;
      }
    }
    check.get_string(*log, "log", "file", config.log.file);
  }

  if (const auto* plugins = check.section(root, "", "plugins")) {
    check.check_keys(*plugins, "plugins", {"dir"});
    check.get_string(*plugins, "plugins", "dir", config.plugins.dir);
  }

  if (const auto* queue = check.section(root, "", "queue")) {
    check.check_keys(*queue, "queue",
                     {"batch_size", "lease_seconds", "max_attempts", "backoff_base_seconds",
                      "backoff_max_seconds", "poll_interval_ms"});
    QueueConfig& q = config.queue;
    check.get_int32(*queue, "queue", "batch_size", 1, 10'000, q.batch_size);
    check.get_duration(*queue, "queue", "lease_seconds", 1, 86'400, q.lease);
    check.get_int32(*queue, "queue", "max_attempts", 1, 1'000, q.max_attempts);
    check.get_duration(*queue, "queue", "backoff_base_seconds", 1, 86'400, q.backoff_base);
    std::int64_t backoff_max = q.backoff_max.count();
    if (const auto* node =
            check.get_int(*queue, "queue", "backoff_max_seconds", 1, 604'800, backoff_max)) {
      if (backoff_max < q.backoff_base.count()) {
        check.error(node->source(), "queue.backoff_max_seconds",
                    "must be at least queue.backoff_base_seconds (" +
                        std::to_string(q.backoff_base.count()) + "), got " +
                        std::to_string(backoff_max));
      } else {
        q.backoff_max = std::chrono::seconds(backoff_max);
      }
    } else if (queue->get("backoff_max_seconds") == nullptr && q.backoff_max < q.backoff_base) {
      check.error(queue->get("backoff_base_seconds")->source(), "queue.backoff_base_seconds",
                  "must be at most queue.backoff_max_seconds (" +
                      std::to_string(q.backoff_max.count()) + ")");
    }
    check.get_duration(*queue, "queue", "poll_interval_ms", 1, 60'000, q.poll_interval);
  }

  if (const auto* email = check.section(root, "", "email"))
    check_email(check, *email, config.email);

  check_channels(check, root, config);
}

// toml++ 3.3 (Debian 12) reaches __builtin_unreachable() -- undefined behaviour -- when it asks
// whether certain non-ASCII characters are whitespace (upstream issues #190 and #295, found here
// by fuzz_config). It asks that of characters outside strings and comments (where valid TOML has
// no non-ASCII at all), of any character inside a bare value like a number (it reads on past
// quotes there), and in a multi-line basic string of the characters after a backslash. This
// pre-scan follows strings, comments, arrays and inline tables just well enough to refuse those
// inputs before toml++ sees them, erring towards refusing documents that are invalid anyway. The
// only valid TOML it refuses is a non-ASCII character right after a line-ending backslash.
class TomlCharacterCheck {
 public:
  TomlCharacterCheck(std::string_view text, std::string_view source)
      : text_(text), source_(source) {}

  Status run() {
    while (i_ < text_.size() && error_.is_ok()) {
      const char c = text_[i_];
      if (c == '\n') {
        newline(i_++);
        if (nesting_.empty()) value_expected_ = false;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++i_;
      } else if (c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
      } else if (c == '"' || c == '\'') {
        string();
        value_expected_ = false;
      } else if (non_ascii(i_)) {
        fail(i_, "non-ASCII character outside a string or comment");
      } else if (value_expected_ && c == '[') {
        nesting_.push_back('[');
        ++i_;
      } else if (value_expected_ && c == '{') {
        nesting_.push_back('{');
        value_expected_ = false;
        ++i_;
      } else if (value_expected_ && c != ']') {
        bare_value();
        value_expected_ = false;
      } else {
        if (c == '=') value_expected_ = true;
        if (c == ',') value_expected_ = !nesting_.empty() && nesting_.back() == '[';
        const char opener = c == ']' ? '[' : '{';
        if ((c == ']' || c == '}') && !nesting_.empty() && nesting_.back() == opener) {
          nesting_.pop_back();
          value_expected_ = false;
        }
        ++i_;
      }
    }
    return error_;
  }

 private:
  bool at(std::size_t i, std::string_view token) const {
    return text_.substr(i, token.size()) == token;
  }
  bool non_ascii(std::size_t i) const {
    return i < text_.size() && static_cast<unsigned char>(text_[i]) >= 0x80;
  }
  void newline(std::size_t at) {
    ++line_;
    line_start_ = at + 1;
  }
  void fail(std::size_t at, std::string_view what) {
    error_ = Status::malformed(std::string(source_) + ":" + std::to_string(line_) + ":" +
                               std::to_string(at - line_start_ + 1) + ": " + std::string(what));
  }

  // A number, boolean or date: toml++ reads until a value terminator, quotes included.
  void bare_value() {
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ']' || c == '}' || c == ',' ||
          c == '#') {
        return;
      }
      if (non_ascii(i_)) return fail(i_, "non-ASCII character outside a string or comment");
      ++i_;
    }
  }

  void string() {
    const char quote = text_[i_];
    if (at(i_, std::string(3, quote))) return multi_line_string(quote);
    ++i_;
    while (i_ < text_.size() && text_[i_] != quote && text_[i_] != '\n') {
      const bool escape =
          quote == '"' && text_[i_] == '\\' && i_ + 1 < text_.size() && text_[i_ + 1] != '\n';
      i_ += escape ? 2 : 1;
    }
    if (i_ < text_.size() && text_[i_] == quote) ++i_;
  }

  void multi_line_string(char quote) {
    const std::string close(3, quote);
    i_ += 3;
    while (i_ < text_.size() && !at(i_, close)) {
      if (quote == '"' && text_[i_] == '\\') {
        std::size_t j = i_ + 1;
        while (j < text_.size() && (text_[j] == ' ' || text_[j] == '\t' || text_[j] == '\r')) ++j;
        if (non_ascii(j)) {
          return fail(j, "a backslash must not be followed by a non-ASCII character");
        }
        if (j < text_.size() && text_[j] == '\n') {
          // A line-ending backslash: toml++ skips whitespace and line breaks, testing each.
          for (i_ = j; i_ < text_.size(); ++i_) {
            if (text_[i_] == '\n') {
              newline(i_);
            } else if (text_[i_] != ' ' && text_[i_] != '\t' && text_[i_] != '\r') {
              break;
            }
          }
          if (non_ascii(i_)) {
            return fail(i_,
                        "a line-ending backslash must not be followed by a non-ASCII character "
                        "(write it as \\uXXXX)");
          }
          continue;
        }
        i_ += 2;
        continue;
      }
      if (text_[i_] == '\n') newline(i_);
      ++i_;
    }
    // The closing delimiter may follow one or two quotes that belong to the string.
    std::size_t run = 0;
    while (i_ + run < text_.size() && text_[i_ + run] == quote && run < 5) ++run;
    i_ += run;
  }

  std::string_view text_;
  std::string_view source_;
  std::size_t i_ = 0;
  std::size_t line_ = 1;
  std::size_t line_start_ = 0;
  bool value_expected_ = false;  // after '=' or in an array: the next token is a value
  std::string nesting_;          // open arrays '[' and inline tables '{'
  Status error_;
};

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read at startup
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name) {
  return parse_config(toml_text, source_name, process_env);
}

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name,
                            const EnvLookup& env) {
  if (auto status = TomlCharacterCheck(toml_text, source_name).run(); !status) return status;
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source_name;
    if (e.source().begin) out << ':' << e.source().begin.line << ':' << e.source().begin.column;
    out << ": " << e.description();
    return Status::malformed(out.str());
  }
  Config config;
  config.source = std::string(source_name);
  Checker check(source_name, env);
  check_document(check, root, config);
  if (check.has_errors()) return check.status();
  return config;
}

Result<Config> load_config(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::not_found("config file " + path.string() + " does not exist");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return Status::internal("cannot read config file " + path.string());
  }
  return parse_config(text.str(), path.string());
}

}  // namespace homeroom
