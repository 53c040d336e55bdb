// Transport over real loopback SMTP: Debian's aiosmtpd (tests/peers/smtp_server.py, run by
// /usr/bin/python3) with STARTTLS on a self-signed certificate made at test time.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http/transport.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace homeroom {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::Process;
using testing::TempDir;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// One aiosmtpd peer; stops it with SIGTERM.
class SmtpPeer {
 public:
  SmtpPeer(const TempDir& dir, std::vector<std::string> extra) : out_(dir / "out") {
    std::vector<std::string> argv = {"/usr/bin/python3",      HOMEROOM_SMTP_PEER, "--port-file",
                                     (dir / "port").string(), "--out-dir",        out_.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<Process>(argv, dir / "smtp.log");
    const auto until = std::chrono::steady_clock::now() + 15s;
    while (!fs::exists(dir / "port")) {
      if (std::chrono::steady_clock::now() > until || process_->wait_exit(0ms)) {
        FAIL("smtp peer did not start: " << process_->output());
      }
      std::this_thread::sleep_for(10ms);
    }
    port_ = std::stoi(slurp(dir / "port"));
  }
  ~SmtpPeer() {
    process_->signal(SIGTERM);
    process_->wait_exit(5s);
  }
  std::string url(const std::string& scheme = "smtp") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }
  std::vector<nlohmann::json> events(const std::string& kind) const {
    std::vector<nlohmann::json> out;
    std::ifstream in(out_ / "sessions.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto event = nlohmann::json::parse(line);
      if (event["event"] == kind) out.push_back(event);
    }
    return out;
  }
  std::string message(int n) const { return slurp(out_ / ("msg-" + std::to_string(n) + ".eml")); }
  std::string log() const { return process_->output(); }

 private:
  fs::path out_;
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

// A self-signed certificate for 127.0.0.1.
void make_certificate(const TempDir& dir) {
  auto [code, output] = testing::run_command(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
       (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-days", "1", "-subj",
       "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
      dir / "openssl.log");
  REQUIRE(code == 0);
}

TransferResult send(Transport& transport, SmtpRequest request) {
  auto promise = std::make_shared<std::promise<TransferResult>>();
  auto future = promise->get_future();
  transport.smtp(std::move(request), [promise](TransferResult r) { promise->set_value(r); });
  REQUIRE(future.wait_for(30s) == std::future_status::ready);
  return future.get();
}

const std::string kMessage =
    "From: Room 4 <room4@school.example>\r\nTo: maya.parent@example.org\r\n"
    "Subject: Field trip\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Bring a packed lunch. Caf\xc3\xa9 closed.\r\n.\r\n..two dots\r\n.leading dot\r\nend\r\n";

SmtpRequest plain_request(const SmtpPeer& peer) {
  SmtpRequest r;
  r.url = peer.url();
  r.require_tls = false;
  r.mail_from = "bounce+tok1@school.example";
  r.recipients = {"maya.parent@example.org"};
  r.message = kMessage;
  r.timeout = 10'000ms;
  return r;
}

TEST_CASE("smtp: plain delivery arrives byte for byte") {
  TempDir dir;
  SmtpPeer peer(dir, {});
  FakeClock clock;
  Transport transport(clock);
  const TransferResult r = send(transport, plain_request(peer));
  INFO(r.error_text << " / " << peer.log());
  CHECK(r.transport_error == 0);
  CHECK(r.status == 250);
  CHECK(r.body.rfind("250", 0) == 0);
  CHECK(peer.message(1) == kMessage);
  const auto messages = peer.events("message");
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["mail_from"] == "bounce+tok1@school.example");
  CHECK(messages[0]["rcpt_tos"] == nlohmann::json::array({"maya.parent@example.org"}));
  CHECK(messages[0]["tls"] == false);
}

TEST_CASE("smtp: STARTTLS with a verified self-signed certificate, and AUTH") {
  TempDir dir;
  make_certificate(dir);
  SmtpPeer peer(dir,
                {"--tls-cert", (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string(),
                 "--require-starttls", "--auth", "room4:s3cret-pass"});
  FakeClock clock;
  Transport transport(clock);
  SmtpRequest request = plain_request(peer);
  request.require_tls = true;
  request.ca_file = (dir / "cert.pem").string();
  request.username = "room4";
  request.password = "s3cret-pass";
  SECTION("right password") {
    const TransferResult r = send(transport, request);
    INFO(r.error_text << " / " << peer.log());
    CHECK(r.transport_error == 0);
    CHECK(r.status == 250);
    const auto messages = peer.events("message");
    REQUIRE(messages.size() == 1);
    CHECK(messages[0]["tls"] == true);
    CHECK(messages[0]["auth"] == "room4");
    CHECK(peer.message(1) == kMessage);
  }
  SECTION("wrong password: 535 with the server's words") {
    request.password = "wrong";
    const TransferResult r = send(transport, request);
    INFO(r.error_text << " / " << peer.log());
    CHECK(r.transport_error == 0);
    CHECK(r.status == 535);
    CHECK(r.body.rfind("535", 0) == 0);
    CHECK(peer.events("message").empty());
  }
  SECTION("without the CA file the certificate is refused") {
    request.ca_file.clear();
    const TransferResult r = send(transport, request);
    CHECK(r.transport_error != 0);
    CHECK(r.status == 0);
    CHECK(peer.events("message").empty());
  }
}

TEST_CASE("smtp: require_tls against a server without STARTTLS never sends in clear") {
  TempDir dir;
  SmtpPeer peer(dir, {});
  FakeClock clock;
  Transport transport(clock);
  SmtpRequest request = plain_request(peer);
  request.require_tls = true;
  const TransferResult r = send(transport, request);
  CHECK(r.transport_error != 0);
  CHECK_FALSE(r.error_text.empty());
  CHECK(peer.events("mail").empty());
  CHECK(peer.events("message").empty());
}

TEST_CASE("smtp: a refused recipient is a status with the reply text") {
  TempDir dir;
  SmtpPeer peer(dir, {"--reject", "gone@example.org=550", "--reject", "busy@example.org=451"});
  FakeClock clock;
  Transport transport(clock);
  SmtpRequest request = plain_request(peer);
  request.recipients = {"gone@example.org"};
  TransferResult r = send(transport, request);
  CHECK(r.transport_error == 0);
  CHECK(r.status == 550);
  CHECK(r.body == "550 5.1.1 <gone@example.org>: no such user");
  request.recipients = {"busy@example.org"};
  r = send(transport, request);
  CHECK(r.transport_error == 0);
  CHECK(r.status == 451);
  CHECK(r.body == "451 4.3.0 <busy@example.org>: temporary failure, try again later");
  // The next message still goes through.
  request.recipients = {"maya.parent@example.org"};
  r = send(transport, request);
  CHECK(r.status == 250);
  CHECK(peer.events("message").size() == 1);
}

TEST_CASE("smtp: consecutive messages to one server share a connection") {
  TempDir dir;
  make_certificate(dir);
  SmtpPeer peer(dir, {"--tls-cert", (dir / "cert.pem").string(), "--tls-key",
                      (dir / "key.pem").string(), "--auth", "room4:pw"});
  FakeClock clock;
  Transport transport(clock);
  SmtpRequest request = plain_request(peer);
  request.require_tls = true;
  request.ca_file = (dir / "cert.pem").string();
  request.username = "room4";
  request.password = "pw";
  constexpr int kMessages = 10;
  for (int i = 0; i < kMessages; ++i) {
    request.recipients = {"parent" + std::to_string(i) + "@example.org"};
    REQUIRE(send(transport, request).status == 250);
  }
  CHECK(peer.events("message").size() == kMessages);
  const auto connections = peer.events("connect").size();
  const auto logins = peer.events("auth").size();
  WARN(kMessages << " sequential SMTP messages: " << connections << " connection(s), " << logins
                 << " AUTH(s)");
  CHECK(connections == 1);
}

TEST_CASE("smtp: connection refused is a transport error") {
  FakeClock clock;
  Transport transport(clock);
  SmtpRequest request;
  request.url = "smtp://127.0.0.1:1";
  request.require_tls = false;
  request.mail_from = "a@school.example";
  request.recipients = {"b@example.org"};
  request.message = kMessage;
  const TransferResult r = send(transport, request);
  CHECK(r.transport_error != 0);
  CHECK(r.status == 0);
}

}  // namespace
}  // namespace homeroom
