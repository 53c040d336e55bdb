// A real Dovecot IMAP server on loopback for integration tests (tests/peers/dovecot_imap.sh):
// one user, a Maildir, plaintext login, stopped with SIGTERM when the object goes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <thread>

#include "daemon_harness.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace homeroom::testing {

inline bool loopback_port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

struct DovecotPeer {
  TempDir dir;
  int port = free_loopback_port();
  std::string user;
  std::string password;
  std::unique_ptr<Process> process;
  int appended = 0;

  explicit DovecotPeer(std::string user_name = "parent", std::string pass = "secret")
      : user(std::move(user_name)), password(std::move(pass)) {
    process = std::make_unique<Process>(
        std::vector<std::string>{"/bin/sh", HOMEROOM_SOURCE_DIR "/tests/peers/dovecot_imap.sh",
                                 dir.path().string(), std::to_string(port), user, password},
        dir.path() / "dovecot.out");
    for (int i = 0; i < 500 && !loopback_port_open(port); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!loopback_port_open(port)) FAIL("dovecot did not start: " << process->output());
  }
  ~DovecotPeer() {
    process->signal(SIGTERM);
    process->wait_exit(std::chrono::seconds(5));
  }
  DovecotPeer(const DovecotPeer&) = delete;
  DovecotPeer& operator=(const DovecotPeer&) = delete;

  std::string url() const { return "imap://127.0.0.1:" + std::to_string(port) + "/INBOX"; }

  // Puts `message` into INBOX with IMAP APPEND (Debian's python3 imaplib), as a mail client or an
  // MTA's IMAP delivery would.
  void append(const std::string& message) {
    const auto file = dir.path() / ("append-" + std::to_string(++appended) + ".eml");
    std::ofstream(file, std::ios::binary) << message;
    auto [code, out] =
        run_command({"/usr/bin/python3", "-c",
                     "import imaplib, sys\n"
                     "m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))\n"
                     "m.login(sys.argv[2], sys.argv[3])\n"
                     "typ, data = m.append('INBOX', None, None, open(sys.argv[4], 'rb').read())\n"
                     "assert typ == 'OK', data\n"
                     "m.logout()\n",
                     std::to_string(port), user, password, file.string()},
                    dir.path() / "append.log");
    INFO(out);
    REQUIRE(code == 0);
  }
};

}  // namespace homeroom::testing
