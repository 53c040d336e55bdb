#include "conversations/imap_poller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <future>
#include <utility>
#include <vector>

#include "conversations/inbound_email.h"
#include "core/redact.h"

namespace homeroom::conversations {
namespace {

constexpr int kCurlRemoteFileNotFound = 78;  // CURLE_REMOTE_FILE_NOT_FOUND

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// An IMAP quoted string.
std::string imap_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The number after `key ` in an untagged response ("UIDVALIDITY 1795423902"); -1 when absent.
std::int64_t number_after(std::string_view text, std::string_view key) {
  std::size_t at = 0;
  while ((at = text.find(key, at)) != std::string_view::npos) {
    const std::size_t start = at + key.size();
    if (start < text.size() && text[start] == ' ') {
      std::int64_t value = 0;
      const char* first = text.data() + start + 1;
      const auto [end, ec] = std::from_chars(first, text.data() + text.size(), value);
      if (ec == std::errc{} && end != first) return value;
    }
    at = start;
  }
  return -1;
}

// The UIDs of "* SEARCH 4 7 9" lines.
std::vector<std::int64_t> search_uids(std::string_view text) {
  std::vector<std::int64_t> uids;
  std::size_t at = 0;
  while ((at = text.find("* SEARCH", at)) != std::string_view::npos) {
    std::size_t i = at + 8;
    const std::size_t end = std::min(text.find('\n', i), text.size());
    while (i < end) {
      while (i < end && (text[i] < '0' || text[i] > '9')) ++i;
      std::int64_t value = 0;
      const auto [next, ec] = std::from_chars(text.data() + i, text.data() + end, value);
      if (ec != std::errc{}) break;
      uids.push_back(value);
      i = static_cast<std::size_t>(next - text.data());
    }
    at = end;
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

Status await_status(const std::function<void(std::function<void(Status)>)>& start) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  start([promise](Status s) { promise->set_value(std::move(s)); });
  return future.get();
}

}  // namespace

ImapPoller::ImapPoller(Transport& transport, store::Store& store, InboundHandler& handler,
                       const Clock& clock, ImapPollerOptions options)
    : transport_(transport),
      store_(store),
      handler_(handler),
      clock_(clock),
      options_(std::move(options)) {
  // "imaps://host:993/INBOX" -> base "imaps://host:993/", mailbox "INBOX" (config checked it).
  const std::size_t scheme_end = options_.url.find("://");
  const std::size_t slash =
      options_.url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  base_url_ = options_.url.substr(0, slash == std::string::npos ? options_.url.size() : slash + 1);
  mailbox_ = slash == std::string::npos ? "INBOX" : percent_decode(options_.url.substr(slash + 1));
  cursor_key_ = options_.username + " " + options_.url;
}

ImapPoller::~ImapPoller() { stop(); }

void ImapPoller::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  stop_requested_ = false;
  thread_ = std::thread([this] { run(); });
}

void ImapPoller::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    stop_requested_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ImapPoller::run() {
  for (;;) {
    auto round = poll_once();
    if (!round.is_ok()) {
      spdlog::warn("imap {}: poll failed: {}", base_url_, round.status().to_string());
    } else if (round->handed_over > 0 || round->skipped > 0) {
      spdlog::info("imap {}: {} message(s) handed over, {} skipped", base_url_, round->handed_over,
                   round->skipped);
    }
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, options_.poll_interval, [this] { return stopping_; })) return;
  }
}

Result<TransferResult> ImapPoller::command(const std::string& url, const std::string& command) {
  ImapRequest request;
  request.url = url;
  request.username = options_.username;
  request.password = options_.password;
  request.command = command;
  request.ca_file = options_.ca_file;
  request.timeout = options_.timeout;
  auto promise = std::make_shared<std::promise<TransferResult>>();
  auto future = promise->get_future();
  transport_.imap(std::move(request),
                  [promise](TransferResult result) { promise->set_value(std::move(result)); });
  TransferResult result = future.get();
  if (result.transport_error != 0 && result.transport_error != kCurlRemoteFileNotFound) {
    return Status::unavailable(command.empty() ? "IMAP fetch failed: " + result.error_text
                                               : "IMAP " + command.substr(0, command.find(' ')) +
                                                     " failed: " + result.error_text);
  }
  return result;
}

Result<ImapRound> ImapPoller::poll_once() {
  ImapRound round;
  // A reused connection keeps the mailbox selected, and the server reports mail that arrived since
  // only after a command on it: NOOP first, so STATUS and SEARCH see the mailbox as it is now.
  if (auto noop = command(options_.url, "NOOP"); !noop.is_ok()) return noop.status();
  auto status = command(base_url_, "STATUS " + imap_quoted(mailbox_) + " (UIDVALIDITY UIDNEXT)");
  if (!status.is_ok()) return status.status();
  const std::int64_t uidvalidity = number_after(status->body, "UIDVALIDITY");
  const std::int64_t uidnext = number_after(status->body, "UIDNEXT");
  if (status->transport_error != 0 || uidvalidity <= 0 || uidnext <= 0) {
    return Status::unavailable("IMAP STATUS gave no UIDVALIDITY/UIDNEXT for the mailbox");
  }

  auto saved = store_.imap_cursor(cursor_key_);
  if (!saved.is_ok()) return saved.status();
  store::ImapCursor cursor{uidvalidity, 0};
  if (saved->has_value()) {
    if ((*saved)->uidvalidity == uidvalidity) {
      cursor.last_uid = (*saved)->last_uid;
    } else {
      spdlog::warn(
          "imap {}: UIDVALIDITY changed from {} to {}: the mailbox was rebuilt; taking every "
          "message again (the handler drops the ones it has by Message-ID)",
          base_url_, (*saved)->uidvalidity, uidvalidity);
    }
  }
  if (uidnext - 1 <= cursor.last_uid) return round;

  auto search =
      command(options_.url, "UID SEARCH UID " + std::to_string(cursor.last_uid + 1) + ":*");
  if (!search.is_ok()) return search.status();
  for (const std::int64_t uid : search_uids(search->body)) {
    if (uid <= cursor.last_uid) continue;  // "n:*" always matches the highest UID
    if (stop_requested_) break;
    const std::string message_url = options_.url + ";UIDVALIDITY=" + std::to_string(uidvalidity) +
                                    ";UID=" + std::to_string(uid);
    auto fetched = command(message_url, "");
    if (!fetched.is_ok()) return fetched.status();
    bool take = fetched->transport_error == 0;
    Result<InboundMessage> message = Status::not_found("gone");
    if (!take) {
      spdlog::warn("imap {}: message UID {} is gone (expunged, or the mailbox was rebuilt)",
                   base_url_, uid);
    } else {
      message = inbound_from_email(fetched->body, "imap", "", clock_.now());
      if (!message.is_ok()) {
        spdlog::warn("imap {}: message UID {} is not an email ({}); skipping it", base_url_, uid,
                     message.status().message());
        take = false;
      }
    }
    if (take) {
      const std::string from = mask_address(message->from);
      Status handled = await_status([this, &message](std::function<void(Status)> done) {
        handler_.handle(std::move(*message), std::move(done));
      });
      if (!handled.is_ok()) {
        // Leave it for the next round, unread as it was.
        (void)command(options_.url, "UID STORE " + std::to_string(uid) + " -FLAGS (\\Seen)");
        return Status(handled.code(), "the handler refused message UID " + std::to_string(uid) +
                                          ": " + handled.message());
      }
      spdlog::info("imap {}: message UID {} from {} handed over", base_url_, uid, from);
      ++round.handed_over;
    } else {
      ++round.skipped;
    }
    cursor.last_uid = uid;
    Status saved_cursor = await_status([this, &cursor](std::function<void(Status)> done) {
      store_.save_imap_cursor(cursor_key_, cursor, std::move(done));
    });
    if (!saved_cursor.is_ok()) return saved_cursor;
  }
  return round;
}

}  // namespace homeroom::conversations
