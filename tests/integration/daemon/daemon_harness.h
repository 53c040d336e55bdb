// Starts the real homeroomd binary on 127.0.0.1 port 0 with a config written for one test, a real
// SQLite file and real plugins, and talks to it over HTTP.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "core/ids.h"
#include "store/store.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace homeroom::testing {

inline std::string outbox_channels(const std::filesystem::path& outbox) {
  std::string out;
  for (const char* ch : {"email", "sms", "push"}) {
    out += std::string("[channels.") + ch + "]\nplugin = \"outbox\"\nchannel = \"" + ch +
           "\"\n[channels." + ch + ".settings]\ndir = \"" + outbox.string() + "\"\n";
  }
  return out;
}

// A loopback port nobody listens on right now, for a daemon that must know its own URL before it
// starts (server.public_url). The kernel hands out ephemeral ports in sequence, so reuse by another
// process in the instant between close and the daemon's bind is unlikely.
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("no free loopback port");
  return ntohs(addr.sin_port);
}

class Daemon {
 public:
  // `channels_and_more` is TOML appended after [server]/[store]/[log]/[plugins].
  Daemon(const TempDir& dir, std::string channels_and_more,
         std::string plugin_dir = HOMEROOM_PLUGIN_DIR)
      : dir_(dir) {
    config_ = dir / "homeroom.toml";
    std::ofstream(config_) << "[server]\nlisten = \"127.0.0.1:0\"\nmax_body_bytes = 65536\n"
                           << "[store]\npath = \"" << (dir / "homeroom.db").string() << "\"\n"
                           << "[log]\nlevel = \"info\"\n"
                           << "[plugins]\ndir = \"" << plugin_dir << "\"\n"
                           << channels_and_more;
  }

  void start() {
    ++runs_;
    process_ =
        std::make_unique<Process>(std::vector<std::string>{HOMEROOMD_PATH, "-c", config_.string()},
                                  dir_ / ("homeroomd-" + std::to_string(runs_) + ".log"));
    auto line =
        process_->wait_for_output("listening on http://127.0.0.1:", std::chrono::seconds(30));
    if (!line) throw std::runtime_error("homeroomd did not start:\n" + process_->output());
    port_ = std::stoi(line->substr(std::string("listening on http://127.0.0.1:").size()));
  }

  // Before start(): listen on a known port and call that the public URL (server.public_url), so
  // providers' status callbacks can be signed for it. Returns the URL.
  std::string pin_public_url() {
    std::ifstream in(config_);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string listen = "listen = \"127.0.0.1:0\"\n";
    const auto at = text.find(listen);
    if (at == std::string::npos) throw std::runtime_error("no listen line in " + config_.string());
    const std::string url = "http://127.0.0.1:" + std::to_string(free_loopback_port());
    text.replace(at, listen.size(),
                 "listen = \"" + url.substr(7) + "\"\npublic_url = \"" + url + "\"\n");
    std::ofstream(config_) << text;
    return url;
  }

  Process& process() { return *process_; }
  // Stops homeroomd (SIGTERM) and returns everything it logged. While it runs, info lines reach
  // stderr up to a second late (log_setup.cpp); a clean exit flushes them all.
  std::string stop_and_log() {
    process_->signal(SIGTERM);
    process_->wait_exit(std::chrono::seconds(30));
    return process_->output();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // Creates a token straight in the database (homeroomctl's own tests cover the CLI).
  std::string token(Role role, const std::string& staff_id = "") {
    FakeClock clock;
    auto store = std::move(*store::Store::open(dir_ / "homeroom.db", clock));
    std::string token = "hr_" + random_secret();
    std::promise<Result<std::string>> p;
    store->create_token(sha256_hex(token), role, staff_id,
                        [&p](Result<std::string> r) { p.set_value(std::move(r)); });
    if (!p.get_future().get().is_ok()) throw std::runtime_error("token");
    return token;
  }

  HttpResult call(const std::string& method, const std::string& path, const std::string& token,
                  const nlohmann::json& body = nullptr, std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + token);
    std::string text;
    if (!body.is_null()) {
      headers.push_back("Content-Type: application/json");
      text = body.dump();
    }
    return http_request(method, url(path), text, headers);
  }

 private:
  const TempDir& dir_;
  std::filesystem::path config_;
  std::unique_ptr<Process> process_;
  int runs_ = 0;
  int port_ = 0;
};

}  // namespace homeroom::testing
