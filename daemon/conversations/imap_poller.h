// ImapPoller: picks up families' email replies from a mailbox ([inbound.imap]) and hands each to
// the InboundHandler, through the host Transport (libcurl imap:// / imaps://, TLS verified).
//
// One round (poll_once): STATUS the mailbox for UIDVALIDITY and UIDNEXT; UID SEARCH the UIDs
// above the cursor (store::ImapCursor, kept in the store); then, in UID order, fetch each message
// by UID (the URL carries UIDVALIDITY, so a mailbox rebuilt meanwhile is never misread), parse it
// (inbound_from_email, source "imap") and hand it over. The cursor moves past a message only once
// the handler reported it durable, so no message is handed over twice by this poller, across
// restarts too. A message the handler failed stays where it is (marked unseen again) and the round
// stops there; the next round retries it. A message that is gone (expunged) or is not an email at
// all is skipped with a warning.
//
// UIDVALIDITY change (the server rebuilt the mailbox): logged; the cursor restarts at 0 and every
// message is handed over again -- safe, because the handler deduplicates by (source, Message-ID).
// The first round on a new mailbox takes every message in it, for the same reason.
//
// Threading: start() runs rounds on a thread of its own every poll_interval; stop() wakes it, lets
// the message in hand finish (handler and cursor), and joins. poll_once() may be called directly
// (tests) when the thread is not running. Logs mask addresses and never show the password.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "conversations/inbound.h"
#include "core/clock.h"
#include "core/status.h"
#include "http/transport.h"
#include "store/store.h"

namespace homeroom::conversations {

struct ImapPollerOptions {
  std::string url;  // "imaps://host[:port]/MAILBOX"
  std::string username;
  std::string password;
  std::string ca_file;
  std::chrono::milliseconds poll_interval{60'000};
  std::chrono::milliseconds timeout{60'000};  // per IMAP command
};

struct ImapRound {
  int handed_over = 0;  // messages the handler took in this round
  int skipped = 0;      // gone, or not an email
};

class ImapPoller {
 public:
  ImapPoller(Transport& transport, store::Store& store, InboundHandler& handler, const Clock& clock,
             ImapPollerOptions options);
  ~ImapPoller();  // stop()
  ImapPoller(const ImapPoller&) = delete;
  ImapPoller& operator=(const ImapPoller&) = delete;

  void start();
  void stop();
  // One round, on the calling thread. An error (server unreachable, login refused, the handler
  // or the store failed) leaves the cursor after the last message handed over.
  Result<ImapRound> poll_once();

 private:
  void run();
  Result<TransferResult> command(const std::string& url, const std::string& command);

  Transport& transport_;
  store::Store& store_;
  InboundHandler& handler_;
  const Clock& clock_;
  ImapPollerOptions options_;
  std::string base_url_;  // "imaps://host[:port]/"
  std::string mailbox_;   // decoded mailbox name
  std::string cursor_key_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;
};

}  // namespace homeroom::conversations
