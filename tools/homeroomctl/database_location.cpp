#include "database_location.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "config/config.h"

namespace homeroom::ctl {
namespace {

std::filesystem::path config_path(const DatabaseOptions& options) {
  if (!options.config_file.empty()) return options.config_file;
  if (auto from_env = process_env("HOMEROOM_CONFIG"); from_env && !from_env->empty()) {
    return *from_env;
  }
  std::error_code ec;
  if (std::filesystem::exists("config/homeroom.toml", ec)) return "config/homeroom.toml";
  return "/etc/homeroom/homeroom.toml";
}

// Channel secrets ("${env:TWILIO_AUTH_TOKEN}") live in homeroomd's environment, which an admin's
// shell usually lacks. homeroomctl never uses channel settings, so an unset variable must not stop
// it: stand in an empty value instead of failing the way homeroomd does.
std::optional<std::string> lenient_env(const std::string& name) {
  return process_env(name).value_or(std::string());
}

// The configuration homeroomd would read (see config_path).
Result<Config> read_config(const DatabaseOptions& options) {
  const std::filesystem::path path = config_path(options);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::not_found("config file " + path.string() +
                             " does not exist (give -c FILE, or --db PATH)");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.is_open()) return Status::unavailable("cannot read config file " + path.string());
  auto config = parse_config(text.str(), path.string(), lenient_env);
  if (config) spdlog::info("configuration {}", path.string());
  return config;
}

}  // namespace

Result<std::filesystem::path> locate_database(const DatabaseOptions& options) {
  std::filesystem::path db;
  if (!options.db.empty()) {
    db = options.db;
  } else {
    auto config = read_config(options);
    if (!config) return config.status();
    db = config->store.path;
  }
  std::error_code ec;
  auto absolute = std::filesystem::absolute(db, ec);
  if (ec) return Status::invalid("--db", "cannot resolve " + db.string() + ": " + ec.message());
  return absolute;
}

std::set<std::string> sending_channels(const DatabaseOptions& options) {
  auto config = read_config(options);
  if (!config) return {"email", "sms", "push"};
  std::set<std::string> channels;
  for (const auto& c : config->channels) {
    if (!c.receive_only) channels.insert(c.channel);
  }
  return channels;
}

Result<std::string> locate_api(const DatabaseOptions& options, const std::string& url) {
  std::string base = url;
  if (base.empty()) {
    auto config = read_config(options);
    if (!config) return Status::not_found("no --url given and " + config.status().message());
    std::string host = config->server.listen_host;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    base = "http://" + host + ":" + std::to_string(config->server.listen_port);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0) {
    return Status::invalid("--url", "expected http://HOST:PORT or https://..., got " + base);
  }
  return base;
}

Result<std::unique_ptr<store::Store>> open_database(const std::filesystem::path& path,
                                                    const Clock& clock) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    // The usual mistake: a relative store.path read from another working directory than
    // homeroomd's. Creating the file is right on a first install, so say it rather than refuse.
    spdlog::warn("creating a new database {}; homeroomd must use this same file", path.string());
  }
  spdlog::info("database {}", path.string());
  return store::Store::open(path, clock);
}

}  // namespace homeroom::ctl
