#include "http/transport.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace homeroom {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kMaxResponseBody = 8 * 1024 * 1024;  // a provider answer, never a download
constexpr auto kMaxPollWait = std::chrono::milliseconds(1000);
constexpr int kMaxEvents = 256;  // epoll events taken per wait

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

int month_index(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (iequals(kMonths[i], name)) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::vector<std::string_view> split_words(std::string_view s, std::string_view separators) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && separators.find(s[i]) != std::string_view::npos) ++i;
    std::size_t j = i;
    while (j < s.size() && separators.find(s[j]) == std::string_view::npos) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// HTTP-date (RFC 9110 5.6.7) -> Unix milliseconds; false when it does not parse.
bool parse_http_date(std::string_view text, Millis& out) {
  // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" and RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" split
  // into the same words; asctime "Sun Nov  6 08:49:37 1994" has the month first.
  const auto w = split_words(text, " ,-:");
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (w.size() == 8 && iequals(w[7], "GMT")) {
    month = month_index(w[2]);
    if (!parse_int(w[1], day) || !parse_int(w[3], year) || !parse_int(w[4], hour) ||
        !parse_int(w[5], minute) || !parse_int(w[6], second)) {
      return false;
    }
    if (w[3].size() == 2) year += year < 70 ? 2000 : 1900;
  } else if (w.size() == 7) {
    month = month_index(w[1]);
    if (!parse_int(w[2], day) || !parse_int(w[3], hour) || !parse_int(w[4], minute) ||
        !parse_int(w[5], second) || !parse_int(w[6], year)) {
      return false;
    }
  } else {
    return false;
  }
  if (month == 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return false;
  const auto t = sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second};
  out = duration_cast<milliseconds>(t.time_since_epoch()).count();
  return true;
}

}  // namespace

std::int64_t parse_retry_after(std::string_view value, Millis now) {
  value = trim(value);
  if (value.empty()) return 0;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    constexpr std::int64_t kYear = 365LL * 24 * 3600;
    std::int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || seconds > kYear) seconds = kYear;  // absurdly far: cap, not wrap
    return seconds * 1000;
  }
  Millis at = 0;
  if (!parse_http_date(value, at)) return 0;
  return at > now ? at - now : 0;
}

std::string redact_secrets(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    std::size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
      text.replace(pos, secret.size(), "***");
      pos += 3;
    }
  }
  return text;
}

namespace {

// One transfer: the request's bytes (alive while curl reads them), what came back, the callback.
struct Transfer {
  bool is_smtp = false;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  curl_slist* recipient_list = nullptr;
  std::string method, url;
  std::string origin;  // scheme://host:port of url: transfers to one server share its connections
  std::vector<std::pair<std::string, std::string>> request_headers;
  std::vector<std::string> secrets;
  std::string upload;  // HTTP body or SMTP message
  std::size_t upload_offset = 0;
  std::size_t recipient_count = 0;
  TransferCallback done;
  SteadyClock::time_point started;  // when submitted: the timeout counts from here
  std::chrono::milliseconds timeout{0};
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  TransferResult result;
  bool body_truncated = false;
  // SMTP: the last complete reply, read from the protocol trace; replies after QUIT are ignored.
  std::string reply_pending, last_reply;
  bool quit_sent = false;

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(header_list);
    curl_slist_free_all(recipient_list);
  }
};

// "https://api.example.com:8443" of "https://api.example.com:8443/2010-04-01/...".
std::string origin_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto end = url.find_first_of("/?#", scheme + 3);
  return std::string(url.substr(0, end));
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::size_t room = kMaxResponseBody - std::min(kMaxResponseBody, t->result.body.size());
  if (n > room) t->body_truncated = true;
  t->result.body.append(data, std::min(n, room));
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->result.headers.clear();  // a new response (after 100 Continue or a redirect)
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  t->result.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                 std::string(trim(line.substr(colon + 1))));
  return n;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = std::min(size * count, t->upload.size() - t->upload_offset);
  std::copy_n(t->upload.data() + t->upload_offset, n, buffer);
  t->upload_offset += n;
  return n;
}

int on_smtp_trace(CURL* /*easy*/, curl_infotype type, char* data, std::size_t size, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view text(data, size);
  if (type == CURLINFO_HEADER_OUT) {
    if (text.size() >= 4 && iequals(text.substr(0, 4), "QUIT")) t->quit_sent = true;
    return 0;
  }
  if (type != CURLINFO_HEADER_IN || t->quit_sent) return 0;
  // One call may carry one or several reply lines.
  for (const auto raw : split_words(text, "\r\n")) {
    const std::string_view line = trim(raw);
    if (line.size() < 3) continue;
    if (!t->reply_pending.empty()) t->reply_pending += '\n';
    t->reply_pending += line;
    if (line.size() == 3 || line[3] != '-') {  // "250 ok" ends a reply; "250-..." continues it
      t->last_reply = std::move(t->reply_pending);
      t->reply_pending.clear();
    }
  }
  return 0;
}

std::string header_trace(const Transfer& t) {
  std::string out;
  for (const auto& [name, value] : t.request_headers) {
    if (!out.empty()) out += ", ";
    out += name;
    out += ": ";
    out += iequals(name, "Authorization") || iequals(name, "Proxy-Authorization") ? "***" : value;
  }
  return redact_secrets(std::move(out), t.secrets);
}

}  // namespace

// The transport thread drives curl with curl_multi_socket_action on an epoll set: curl says which
// sockets it waits on (on_socket) and when it next needs the time (on_timer), and each readiness
// is handed to the one transfer whose socket it is. (curl_multi_perform would visit, and poll,
// every running transfer on each wakeup.)
struct Transport::Impl {
  const Clock& clock;
  TransportOptions options;
  CURLM* multi = nullptr;
  int epoll_fd = -1;
  int wake_fd = -1;  // an eventfd in the epoll set: submit() and shutdown() wake the thread
  std::thread thread;

  mutable std::mutex mu;
  std::deque<std::unique_ptr<Transfer>> queue;  // guarded by mu
  bool accepting = true;                        // guarded by mu
  bool stopping = false;                        // guarded by mu
  SteadyClock::time_point stop_deadline;        // guarded by mu
  std::mutex shutdown_mu;                       // one shutdown at a time
  bool joined = false;                          // guarded by shutdown_mu
  std::atomic<std::size_t> in_flight{0};

  // Transport thread only.
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active;
  // Per server: transfers in the multi, and those waiting for one of its connections. curl would
  // queue them itself, but its perform loop visits every handle it holds on each pass: a thousand
  // waiting sends made each pass cost milliseconds.
  struct Origin {
    std::size_t running = 0;
    std::deque<std::unique_ptr<Transfer>> waiting;
  };
  std::unordered_map<std::string, Origin> origins;
  // When curl next wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT); unset: not at all.
  std::optional<SteadyClock::time_point> curl_timer;

  Impl(const Clock& c, TransportOptions o) : clock(c), options(o) {
    global_init();
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    multi = curl_multi_init();
    if (epoll_fd < 0 || wake_fd < 0 || multi == nullptr) {
      close_all();
      throw std::runtime_error("transport: cannot set up epoll, eventfd or curl_multi_init");
    }
    epoll_event wake{};
    wake.events = EPOLLIN;
    wake.data.fd = wake_fd;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_total_connections);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, options.max_total_connections);
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    thread = std::thread([this] { run(); });
  }

  ~Impl() { close_all(); }

  void close_all() {
    if (multi != nullptr) curl_multi_cleanup(multi);  // closes its sockets (on_socket removes them)
    multi = nullptr;
    if (wake_fd >= 0) ::close(wake_fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
    wake_fd = epoll_fd = -1;
  }

  void wake() const {
    const std::uint64_t one = 1;
    // Fails only when the counter is about to overflow: the thread is awake anyway.
    [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof one);
  }

  // curl: watch `s` for `what` (CURL_POLL_IN, _OUT, _INOUT) or stop watching it (_REMOVE).
  // curl keeps `socketp` per socket for us: non-null once the socket is in the epoll set.
  static int on_socket(CURL* /*easy*/, curl_socket_t s, int what, void* user, void* socketp) {
    auto* self = static_cast<Impl*>(user);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, s, nullptr);  // curl removes before closing
      return 0;
    }
    epoll_event ev{};
    ev.events =
        ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0u);
    ev.data.fd = s;
    if (socketp == nullptr) {
      curl_multi_assign(self->multi, s, self);
      if (epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, s, &ev) == 0 || errno != EEXIST) return 0;
    }
    epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, s, &ev);
    return 0;
  }

  // curl: call socket_action(CURL_SOCKET_TIMEOUT) in `ms` milliseconds (-1: never).
  static int on_timer(CURLM* /*multi*/, long ms, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (ms < 0) {
      self->curl_timer.reset();
    } else {
      self->curl_timer = SteadyClock::now() + std::chrono::milliseconds(ms);
    }
    return 0;
  }

  void submit(std::unique_ptr<Transfer> t) {
    t->started = SteadyClock::now();
    t->origin = origin_of(t->url);
    bool wake = false;
    {
      std::lock_guard lock(mu);
      if (accepting) {
        ++in_flight;
        // The thread empties the queue as a whole: only the first of a burst needs to wake it.
        wake = queue.empty();
        queue.push_back(std::move(t));
        t = nullptr;
      }
    }
    if (t == nullptr) {
      if (wake) this->wake();
      return;
    }
    ++in_flight;
    t->result.transport_error = kTransportRefused;
    t->result.error_text = "transport shut down";
    finish(std::move(t));
  }

  // Configures the easy handle; false (with result filled) when curl refuses.
  bool prepare(Transfer& t, std::chrono::milliseconds timeout) {
    t.easy = curl_easy_init();
    if (t.easy == nullptr) {
      t.result.transport_error = CURLE_FAILED_INIT;
      t.result.error_text = "curl_easy_init failed";
      return false;
    }
    CURL* e = t.easy;
    if (timeout.count() <= 0) timeout = options.default_timeout;
    t.timeout = timeout;
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer.data());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (curl_easy_setopt(e, CURLOPT_URL, t.url.c_str()) != CURLE_OK) {
      t.result.transport_error = CURLE_URL_MALFORMAT;
      t.result.error_text = "bad URL";
      return false;
    }
    return true;
  }

  void start_http(Transfer& t, std::chrono::milliseconds timeout) {
    if (!prepare(t, timeout)) return;
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    // On https, wait for a connection being set up to say (ALPN) whether it multiplexes (h2)
    // rather than open another. Never on http://: it would queue each transfer behind the last.
    if (t.url.rfind("https://", 0) == 0) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    if (t.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (t.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t.method.c_str());
    }
    if (!t.upload.empty() || t.method == "POST" || t.method == "PUT" || t.method == "PATCH") {
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.upload.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.upload.size()));
    }
    bool has_expect = false;
    for (const auto& [name, value] : t.request_headers) {
      has_expect = has_expect || iequals(name, "Expect");
      const std::string line = value.empty() ? name + ";" : name + ": " + value;
      t.header_list = curl_slist_append(t.header_list, line.c_str());
    }
    // No "Expect: 100-continue" round trip for large bodies: providers answer at once anyway.
    if (!has_expect) t.header_list = curl_slist_append(t.header_list, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.header_list);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  }

  void start_smtp(Transfer& t, const SmtpRequest& r) {
    if (!prepare(t, r.timeout)) return;
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_USE_SSL,
                     static_cast<long>(r.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.verify_peer ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.verify_peer ? 2L : 0L);
    if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
    if (!r.username.empty()) {
      curl_easy_setopt(e, CURLOPT_USERNAME, r.username.c_str());  // curl copies strings
      curl_easy_setopt(e, CURLOPT_PASSWORD, r.password.c_str());
    }
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, r.mail_from.c_str());
    for (const auto& rcpt : r.recipients) {
      t.recipient_list = curl_slist_append(t.recipient_list, rcpt.c_str());
    }
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t.recipient_list);
    // A refused recipient fails the whole submission (the plugin sends one recipient per message).
#if LIBCURL_VERSION_NUM >= 0x080200
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT_ALLOWFAILS, 0L);
#else
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 0L);  // 7.88's spelling of the same option
#endif
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, &t);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.upload.size()));
    // The protocol trace gives us the server's reply text; nothing of it is logged.
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, &on_smtp_trace);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, &t);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
  }

  void start_imap(Transfer& t, const ImapRequest& r) {
    if (!prepare(t, r.timeout)) return;
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    // imap://: STARTTLS when the server offers it; imaps://: implicit TLS.
    curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.verify_peer ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.verify_peer ? 2L : 0L);
    if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
    curl_easy_setopt(e, CURLOPT_USERNAME, r.username.c_str());  // curl copies strings
    curl_easy_setopt(e, CURLOPT_PASSWORD, r.password.c_str());
    if (!r.command.empty()) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.command.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  }

  // Hands a prepared transfer to the multi, or queues it while its server's connections are all
  // busy (transport thread).
  void add(std::unique_ptr<Transfer> t) {
    if (t->easy == nullptr || t->result.transport_error != 0) {
      finish(std::move(t));
      return;
    }
    Origin& origin = origins[t->origin];
    if (origin.running >= static_cast<std::size_t>(options.max_host_connections)) {
      origin.waiting.push_back(std::move(t));
      return;
    }
    start(origin, std::move(t));
  }

  // The time spent waiting counts against the transfer's timeout: one that waited past it fails
  // like a slow answer would, without going out (its delivery may have been leased again since).
  static std::chrono::milliseconds time_left(const Transfer& t) {
    return t.timeout -
           std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t.started);
  }
  void fail_waited_too_long(std::unique_ptr<Transfer> t) {
    t->result.transport_error = CURLE_OPERATION_TIMEDOUT;
    t->result.error_text = "timed out waiting for a connection to " + t->origin;
    finish(std::move(t));
  }
  // Fails the waiting transfers whose time ran out (each server's queue is in submission order,
  // nearly always in deadline order too).
  void expire_waiting() {
    for (auto it = origins.begin(); it != origins.end();) {
      Origin& origin = it->second;
      while (!origin.waiting.empty() && time_left(*origin.waiting.front()).count() <= 0) {
        auto t = std::move(origin.waiting.front());
        origin.waiting.pop_front();
        fail_waited_too_long(std::move(t));
      }
      it = origin.running == 0 && origin.waiting.empty() ? origins.erase(it) : std::next(it);
    }
  }

  void start(Origin& origin, std::unique_ptr<Transfer> t) {
    const auto left = time_left(*t);
    if (left.count() <= 0) {
      fail_waited_too_long(std::move(t));
      return;
    }
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    if (const CURLMcode rc = curl_multi_add_handle(multi, t->easy); rc != CURLM_OK) {
      t->result.transport_error = CURLE_FAILED_INIT;
      t->result.error_text = curl_multi_strerror(rc);
      finish(std::move(t));
      return;
    }
    ++origin.running;
    CURL* key = t->easy;
    active.emplace(key, std::move(t));
  }

  // A transfer of this server left the multi: the next waiting one takes its place.
  void start_next(const std::string& name) {
    auto it = origins.find(name);
    if (it == origins.end()) return;
    Origin& origin = it->second;
    if (origin.running > 0) --origin.running;
    while (!origin.waiting.empty() &&
           origin.running < static_cast<std::size_t>(options.max_host_connections)) {
      auto next = std::move(origin.waiting.front());
      origin.waiting.pop_front();
      start(origin, std::move(next));
    }
    if (origin.running == 0 && origin.waiting.empty()) origins.erase(it);
  }

  bool idle() const { return active.empty() && origins.empty(); }

  void collect(Transfer& t, CURLcode code) {
    TransferResult& r = t.result;
    long response = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &response);
    const bool smtp_refusal = t.is_smtp && response >= 400;
    if (code != CURLE_OK && !smtp_refusal) {
      r.transport_error = static_cast<int>(code);
      r.error_text = t.error_buffer[0] != '\0' ? std::string(t.error_buffer.data())
                                               : std::string(curl_easy_strerror(code));
      r.error_text = redact_secrets(std::move(r.error_text), t.secrets);
      r.status = 0;
      r.headers.clear();
      r.body.clear();
      return;
    }
    r.status = response;
    if (t.is_smtp) {
      r.body = t.last_reply;
      return;
    }
    for (const auto& [name, value] : r.headers) {
      if (iequals(name, "Retry-After")) {
        r.retry_after_ms = parse_retry_after(value, clock.now());
        break;
      }
    }
  }

  void trace(const Transfer& t) {
    if (!spdlog::should_log(spdlog::level::debug)) return;
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t.started);
    const std::string url = redact_secrets(t.url, t.secrets);
    const std::size_t down = t.is_smtp ? 0 : t.result.body.size();
    if (t.result.transport_error != 0) {
      spdlog::debug(
          "transfer {} {} failed after {} ms: {} ({}) [{}] up {} B", t.method, url, ms.count(),
          t.result.error_text, t.result.transport_error,
          t.is_smtp ? std::to_string(t.recipient_count) + " recipient(s)" : header_trace(t),
          t.upload.size());
      return;
    }
    spdlog::debug("transfer {} {} -> {} in {} ms [{}] up {} B, down {} B{}", t.method, url,
                  t.result.status, ms.count(),
                  t.is_smtp ? std::to_string(t.recipient_count) + " recipient(s)" : header_trace(t),
                  t.upload.size(), down, t.body_truncated ? " (truncated)" : "");
  }

  void finish(std::unique_ptr<Transfer> t) {
    trace(*t);
    TransferCallback done = std::move(t->done);
    TransferResult result = std::move(t->result);
    t.reset();  // frees the easy handle; the connection stays in the multi's cache
    try {
      if (done) done(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("transport: a transfer callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("transport: a transfer callback threw");
    }
    done = nullptr;
    --in_flight;
  }

  void read_done() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;
      curl_multi_remove_handle(multi, easy);
      auto it = active.find(easy);
      if (it == active.end()) continue;
      auto t = std::move(it->second);
      active.erase(it);
      collect(*t, code);
      const std::string origin = t->origin;
      finish(std::move(t));
      start_next(origin);
    }
  }

  void fail_all_active(const char* why) {
    std::vector<std::unique_ptr<Transfer>> transfers;
    for (auto& [easy, t] : active) {
      curl_multi_remove_handle(multi, easy);
      transfers.push_back(std::move(t));
    }
    active.clear();
    for (auto& [name, origin] : origins) {
      for (auto& t : origin.waiting) transfers.push_back(std::move(t));
    }
    origins.clear();
    for (auto& t : transfers) {
      t->result = TransferResult{};
      t->result.transport_error = CURLE_ABORTED_BY_CALLBACK;
      t->result.error_text = why;
      finish(std::move(t));
    }
  }

  // Hands curl what is due: each ready socket, then its timer when that has come.
  void drive(const epoll_event* events, int count) {
    int running = 0;
    for (int i = 0; i < count; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd) continue;  // drained in run()
      const auto e = events[i].events;
      const int mask = ((e & EPOLLIN) != 0 ? CURL_CSELECT_IN : 0) |
                       ((e & EPOLLOUT) != 0 ? CURL_CSELECT_OUT : 0) |
                       ((e & (EPOLLERR | EPOLLHUP)) != 0 ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi, fd, mask, &running);
    }
    if (curl_timer && *curl_timer <= SteadyClock::now()) {
      curl_timer.reset();
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
  }

  void run() {
    std::array<epoll_event, kMaxEvents> events{};
    int ready = 0;
    for (;;) {
      std::deque<std::unique_ptr<Transfer>> fresh;
      bool stop = false;
      SteadyClock::time_point deadline;
      {
        std::lock_guard lock(mu);
        fresh.swap(queue);
        stop = stopping;
        deadline = stop_deadline;
      }
      for (auto& t : fresh) add(std::move(t));  // each add sets curl's timer to "now"
      drive(events.data(), ready);
      read_done();
      expire_waiting();
      if (stop) {
        bool queue_empty = false;
        {
          std::lock_guard lock(mu);
          queue_empty = queue.empty();
        }
        if (idle() && queue_empty) break;
        if (SteadyClock::now() >= deadline) {
          fail_all_active("transport shut down before the transfer finished");
          std::lock_guard lock(mu);
          if (queue.empty()) break;
          ready = 0;
          continue;
        }
      }
      auto wait = kMaxPollWait;
      const auto now = SteadyClock::now();
      if (curl_timer) {
        // Rounded up: waking a millisecond early would only spin back here.
        const auto until_timer =
            std::chrono::ceil<std::chrono::milliseconds>(std::max(*curl_timer - now, {}));
        wait = std::min(wait, until_timer);
      }
      if (stop) {
        const auto until_deadline = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - now + std::chrono::milliseconds(1));
        wait = std::max(std::chrono::milliseconds(0), std::min(wait, until_deadline));
      }
      ready = epoll_wait(epoll_fd, events.data(), kMaxEvents, static_cast<int>(wait.count()));
      if (ready < 0) ready = 0;  // EINTR: go round again
      // Drain a wakeup now, before the queue is taken at the top: a submit after this either
      // lands in that queue or wakes the next wait. Drained later, a submit between the taking
      // and the draining was lost, and its transfer waited out kMaxPollWait (a 1 s stall).
      for (int i = 0; i < ready; ++i) {
        if (events[i].data.fd != wake_fd) continue;
        std::uint64_t n = 0;
        [[maybe_unused]] const auto r = ::read(wake_fd, &n, sizeof n);
      }
    }
  }
};

Transport::Transport(const Clock& clock, TransportOptions options)
    : impl_(std::make_unique<Impl>(clock, options)) {}

Transport::~Transport() { shutdown(std::chrono::seconds(5)); }

void Transport::http(HttpRequest request, TransferCallback done) {
  auto t = std::make_unique<Transfer>();
  t->method = std::move(request.method);
  if (t->method.empty()) t->method = "GET";
  t->url = std::move(request.url);
  t->request_headers = std::move(request.headers);
  t->upload = std::move(request.body);
  t->secrets = std::move(request.secrets);
  t->done = std::move(done);
  impl_->start_http(*t, request.timeout);
  impl_->submit(std::move(t));
}

void Transport::smtp(SmtpRequest request, TransferCallback done) {
  auto t = std::make_unique<Transfer>();
  t->is_smtp = true;
  t->method = "SMTP";
  t->url = request.url;
  t->upload = std::move(request.message);
  t->recipient_count = request.recipients.size();
  if (!request.password.empty()) t->secrets.push_back(request.password);
  t->done = std::move(done);
  impl_->start_smtp(*t, request);
  impl_->submit(std::move(t));
}

void Transport::imap(ImapRequest request, TransferCallback done) {
  auto t = std::make_unique<Transfer>();
  t->method = request.command.empty() ? "IMAP FETCH" : "IMAP";
  t->url = request.url;
  if (!request.password.empty()) t->secrets.push_back(request.password);
  t->done = std::move(done);
  impl_->start_imap(*t, request);
  impl_->submit(std::move(t));
}

void Transport::shutdown(std::chrono::milliseconds deadline) {
  std::lock_guard once(impl_->shutdown_mu);
  if (impl_->joined) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->accepting = false;
    impl_->stopping = true;
    impl_->stop_deadline = SteadyClock::now() + deadline;
  }
  impl_->wake();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->joined = true;
}

std::size_t Transport::in_flight() const { return impl_->in_flight.load(); }

}  // namespace homeroom
