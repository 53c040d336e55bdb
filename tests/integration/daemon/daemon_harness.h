// Starts the real homeroomd binary on 127.0.0.1 port 0 with a config written for one test, a real
// SQLite file and real plugins, and talks to it over HTTP.
#pragma once

#include <future>
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

  Process& process() { return *process_; }
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
