// The real peers the integration tests run on loopback: tests/peers/twilio_fake.js (Twilio's
// Messages API), tests/peers/smtp_server.py (aiosmtpd), and npm twilio's request signing
// (tests/peers/twilio_sign.js). Each starts on port 0 and tells its port through a file.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/process.h"
#include "support/temp_dir.h"

namespace homeroom::testing {

using nlohmann::json;

// tests/peers/twilio_fake.js on port 0, with the switches a test asks for (--stopped,
// --fail-first...).
struct TwilioFake {
  std::unique_ptr<Process> process;
  int port = 0;
  std::filesystem::path record;

  TwilioFake(const TempDir& dir, const std::string& sid, const std::string& token,
             std::vector<std::string> switches, const std::vector<std::string>& more = {}) {
    const auto port_file = dir / "fake.port";
    record = dir / "fake.jsonl";
    std::vector<std::string> argv = {
        HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/twilio_fake.js",
        "--port-file", port_file.string(),
        "--record",    record.string(),
        "--sid",       sid,
        "--token",     token};
    argv.insert(argv.end(), switches.begin(), switches.end());
    argv.insert(argv.end(), more.begin(), more.end());
    process = std::make_unique<Process>(argv, dir / "fake.log");
    for (int i = 0; i < 2000 && !std::filesystem::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    INFO(process->output());
    REQUIRE(std::filesystem::exists(port_file));
    std::ifstream(port_file) >> port;
  }

  // The recorded requests, waiting (bounded: 5 s) for at least `n`.
  std::vector<json> requests(std::size_t n) const {
    std::vector<json> out;
    for (int i = 0; i < 500; ++i) {
      out.clear();
      std::ifstream in(record);
      for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
      if (out.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  }
};

// The signature npm `twilio` computes with `auth_token` for `params` posted to `url`.
inline std::string twilio_signature(const TempDir& dir, const std::string& auth_token,
                                    const std::string& url, const json& params) {
  auto [code, out] = run_command({HOMEROOM_NODE, HOMEROOM_SOURCE_DIR "/tests/peers/twilio_sign.js",
                                  auth_token, url, params.dump()},
                                 dir / "sign.log");
  INFO(out);
  REQUIRE(code == 0);
  REQUIRE(out.size() == 28);  // base64 of a 20-byte HMAC-SHA1
  return out;
}

// tests/peers/smtp_server.py on port 0; what it receives lands in out_dir.
struct SmtpServer {
  std::unique_ptr<Process> process;
  int port = 0;
  std::filesystem::path out_dir;

  SmtpServer(const TempDir& dir, std::vector<std::string> switches) {
    const auto port_file = dir / "smtp.port";
    out_dir = dir / "mail";
    std::filesystem::create_directories(out_dir);
    std::vector<std::string> argv = {
        "/usr/bin/python3", HOMEROOM_SOURCE_DIR "/tests/peers/smtp_server.py",
        "--port-file",      port_file.string(),
        "--out-dir",        out_dir.string()};
    argv.insert(argv.end(), switches.begin(), switches.end());
    process = std::make_unique<Process>(argv, dir / "smtp.log");
    for (int i = 0; i < 2000 && !std::filesystem::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    INFO(process->output());
    REQUIRE(std::filesystem::exists(port_file));
    std::ifstream(port_file) >> port;
  }

  // The recorded session events, waiting (bounded) for `n` "message" events.
  std::vector<json> messages(std::size_t n) {
    std::vector<json> out;
    for (int i = 0; i < 1000; ++i) {
      out.clear();
      std::ifstream in(out_dir / "sessions.jsonl");
      for (std::string line; std::getline(in, line);) {
        auto event = json::parse(line);
        if (event["event"] == "message") out.push_back(std::move(event));
      }
      if (out.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  }
};

}  // namespace homeroom::testing
