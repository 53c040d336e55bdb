// ImapPoller against a real Dovecot: messages dropped into its Maildir are handed over once each,
// in UID order, across polls and restarts; a failing handler leaves the message for later.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "conversations/imap_poller.h"
#include "daemon_harness.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace homeroom;
using namespace homeroom::conversations;
using namespace homeroom::testing;

namespace {

// The fake of a collaborator: records what it is handed; fails while `fail` is set.
class RecordingHandler : public InboundHandler {
 public:
  void handle(InboundMessage message, std::function<void(Status)> done) override {
    bool fail_now = false;
    {
      std::lock_guard lock(mu);
      ++calls;
      fail_now = fail;
      if (!fail_now) messages.push_back(std::move(message));
    }
    done(fail_now ? Status::unavailable("disk full") : Status{});
  }
  std::mutex mu;
  bool fail = false;
  int calls = 0;
  std::vector<InboundMessage> messages;
};

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A Dovecot with one user ("parent", password "secret") and its Maildir.
struct Dovecot {
  TempDir dir;
  int port = free_loopback_port();
  std::unique_ptr<Process> process;
  int delivered = 0;

  Dovecot() {
    process = std::make_unique<Process>(
        std::vector<std::string>{"/bin/sh", HOMEROOM_SOURCE_DIR "/tests/peers/dovecot_imap.sh",
                                 dir.path().string(), std::to_string(port), "parent", "secret"},
        dir.path() / "dovecot.out");
    for (int i = 0; i < 500 && !port_open(port); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!port_open(port)) FAIL("dovecot did not start: " << process->output());
  }
  ~Dovecot() {
    process->signal(SIGTERM);
    process->wait_exit(std::chrono::seconds(5));
  }
  std::string url() const { return "imap://127.0.0.1:" + std::to_string(port) + "/INBOX"; }
  // Delivers like an MTA: a file appears in Maildir/new.
  void deliver(const std::string& message) {
    const auto name = "msg" + std::to_string(++delivered) + ".eml";
    const auto tmp = dir.path() / "mail" / "tmp" / name;
    std::ofstream(tmp, std::ios::binary) << message;
    std::filesystem::rename(tmp, dir.path() / "mail" / "new" / name);
  }
};

std::string reply(int n) {
  return "From: Ana Ortiz <ana" + std::to_string(n) +
         "@example.org>\r\n"
         "To: reply+tok" +
         std::to_string(n) +
         "@reply.example.org\r\n"
         "Subject: Re: Maya's week\r\n"
         "Message-ID: <m" +
         std::to_string(n) +
         "@mail.example.org>\r\n"
         "In-Reply-To: <note1@homeroom.example.org>\r\n"
         "Date: Tue, 3 Mar 2026 16:05:00 -0800\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "\r\n"
         "Reply number " +
         std::to_string(n) +
         ". Gracias!\r\n"
         "\r\n"
         "On Mon, 2 Mar 2026, Ms. Lee <lee@school.example.org> wrote:\r\n"
         "> Maya finished her lab report early.\r\n";
}

ImapPollerOptions options(const Dovecot& dovecot, std::string password = "secret") {
  ImapPollerOptions o;
  o.url = dovecot.url();
  o.username = "parent";
  o.password = std::move(password);
  o.timeout = std::chrono::seconds(10);
  return o;
}

std::unique_ptr<store::Store> open_store(const TempDir& dir, const Clock& clock) {
  auto opened = store::Store::open(dir.path() / "homeroom.db", clock);
  REQUIRE(opened.is_ok());
  return std::move(*opened);
}

}  // namespace

TEST_CASE("imap poller: each message once, in UID order, across polls and a restart") {
  Dovecot dovecot;
  TempDir dir;
  FakeClock clock;
  Transport transport(clock);
  RecordingHandler handler;
  dovecot.deliver(reply(1));
  dovecot.deliver(reply(2));
  {
    auto store = open_store(dir, clock);
    ImapPoller poller(transport, *store, handler, clock, options(dovecot));
    auto round = poller.poll_once();
    INFO(round.status().to_string());
    REQUIRE(round.is_ok());
    CHECK(round->handed_over == 2);
    REQUIRE(handler.messages.size() == 2);
    const InboundMessage& first = handler.messages[0];
    CHECK(first.channel == "email");
    CHECK(first.source == "imap");
    CHECK(first.provider_id == "m1@mail.example.org");
    CHECK(first.from == "ana1@example.org");
    CHECK(first.to == "reply+tok1@reply.example.org");
    CHECK(first.text == "Reply number 1. Gracias!");
    CHECK(first.original == reply(1));
    CHECK(first.subject == "Re: Maya's week");
    CHECK(first.in_reply_to == "note1@homeroom.example.org");
    CHECK(handler.messages[1].provider_id == "m2@mail.example.org");

    auto again = poller.poll_once();
    REQUIRE(again.is_ok());
    CHECK(again->handed_over == 0);
    CHECK(handler.calls == 2);

    dovecot.deliver(reply(3));
    auto third = poller.poll_once();
    REQUIRE(third.is_ok());
    CHECK(third->handed_over == 1);
    REQUIRE(handler.messages.size() == 3);
    CHECK(handler.messages[2].provider_id == "m3@mail.example.org");
    store->close();
  }
  // A restart: a new store connection and a new poller resume after message 3.
  auto store = open_store(dir, clock);
  ImapPoller poller(transport, *store, handler, clock, options(dovecot));
  auto after_restart = poller.poll_once();
  REQUIRE(after_restart.is_ok());
  CHECK(after_restart->handed_over == 0);
  dovecot.deliver(reply(4));
  auto fourth = poller.poll_once();
  REQUIRE(fourth.is_ok());
  CHECK(fourth->handed_over == 1);
  CHECK(handler.calls == 4);
  REQUIRE(handler.messages.size() == 4);
  CHECK(handler.messages[3].provider_id == "m4@mail.example.org");
  store->close();
}

TEST_CASE("imap poller: a failing handler leaves the message to be retried") {
  Dovecot dovecot;
  TempDir dir;
  FakeClock clock;
  Transport transport(clock);
  RecordingHandler handler;
  auto store = open_store(dir, clock);
  ImapPoller poller(transport, *store, handler, clock, options(dovecot));
  dovecot.deliver(reply(1));
  dovecot.deliver(reply(2));
  handler.fail = true;
  auto failed = poller.poll_once();
  REQUIRE_FALSE(failed.is_ok());
  CHECK(failed.status().code() == Code::kUnavailable);
  CHECK(handler.calls == 1);  // the round stops at the first refusal
  auto cursor = store->imap_cursor("parent " + dovecot.url());
  REQUIRE(cursor.is_ok());
  CHECK_FALSE(cursor->has_value());

  handler.fail = false;
  auto retried = poller.poll_once();
  REQUIRE(retried.is_ok());
  CHECK(retried->handed_over == 2);
  REQUIRE(handler.messages.size() == 2);
  CHECK(handler.messages[0].provider_id == "m1@mail.example.org");
  CHECK(handler.messages[1].provider_id == "m2@mail.example.org");
  store->close();
}

TEST_CASE("imap poller: a changed UIDVALIDITY takes every message again") {
  Dovecot dovecot;
  TempDir dir;
  FakeClock clock;
  Transport transport(clock);
  RecordingHandler handler;
  auto store = open_store(dir, clock);
  dovecot.deliver(reply(1));
  // A cursor from a mailbox the server has since rebuilt (another UIDVALIDITY, UIDs far ahead).
  std::promise<Status> saved;
  store->save_imap_cursor("parent " + dovecot.url(), store::ImapCursor{1, 999},
                          [&saved](Status s) { saved.set_value(s); });
  REQUIRE(saved.get_future().get().is_ok());
  ImapPoller poller(transport, *store, handler, clock, options(dovecot));
  auto round = poller.poll_once();
  REQUIRE(round.is_ok());
  CHECK(round->handed_over == 1);
  auto cursor = store->imap_cursor("parent " + dovecot.url());
  REQUIRE(cursor.is_ok());
  REQUIRE(cursor->has_value());
  CHECK((*cursor)->uidvalidity != 1);
  CHECK((*cursor)->last_uid == 1);
  store->close();
}

TEST_CASE("imap poller: a refused login hands nothing over and keeps the password out of errors") {
  Dovecot dovecot;
  TempDir dir;
  FakeClock clock;
  Transport transport(clock);
  RecordingHandler handler;
  auto store = open_store(dir, clock);
  dovecot.deliver(reply(1));
  ImapPoller poller(transport, *store, handler, clock, options(dovecot, "wrong-pw-123"));
  auto round = poller.poll_once();
  REQUIRE_FALSE(round.is_ok());
  CHECK_THAT(round.status().message(), !Catch::Contains("wrong-pw-123"));
  CHECK(handler.calls == 0);
  store->close();
}

TEST_CASE("imap poller: start and stop run rounds on their own thread") {
  Dovecot dovecot;
  TempDir dir;
  FakeClock clock;
  Transport transport(clock);
  RecordingHandler handler;
  auto store = open_store(dir, clock);
  dovecot.deliver(reply(1));
  auto o = options(dovecot);
  o.poll_interval = std::chrono::milliseconds(50);
  ImapPoller poller(transport, *store, handler, clock, o);
  poller.start();
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(handler.mu);
      if (handler.messages.size() == 1) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  dovecot.deliver(reply(2));
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(handler.mu);
      if (handler.messages.size() == 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  poller.stop();
  std::lock_guard lock(handler.mu);
  CHECK(handler.messages.size() == 2);
  CHECK(handler.calls == 2);
  store->close();
}
