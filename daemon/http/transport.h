// Transport: homeroomd's network client. Every HTTP request and SMTP submission a plugin asks for
// (and the IMAP poller's commands) is made here, with libcurl's multi interface on ONE thread of
// its own: thousands of transfers are in flight at once on that thread, connections are reused
// through the multi's connection cache (keep-alive; HTTP/2 where an https server offers it; SMTP
// connections too), TLS peer and host verification is on unless a request turns it off, and every
// transfer has a timeout.
//
// Results: `transport_error` is non-zero when the peer gave no answer (connect refused, TLS
// failure, timeout, shut down): a CURLcode, or kTransportRefused (-1) for a transfer the Transport
// never started (shut down). Otherwise `status` is the HTTP status or the SMTP server's last reply
// code. For SMTP a 4xx/5xx reply is an answer, not a transport error: `status` holds its code and
// `body` its text ("550 5.1.1 no such user"). For HTTP, `retry_after_ms` is the Retry-After header
// (delta-seconds, or an HTTP-date relative to the Clock) as a delay; 0 when absent or past.
//
// Tracing: one spdlog DEBUG line per transfer (default logger) with method, URL, request headers,
// status, duration and byte counts. Every string in `secrets` is replaced by "***" wherever it
// appears; Authorization and Proxy-Authorization values, the SMTP and IMAP passwords and all bodies
// are never printed.
//
// Threading: every member function is safe from any thread, including from inside a callback.
// Callbacks run on the transport thread, one at a time, and must not block; a callback for a
// request made after shutdown() began runs at once on the calling thread. An exception thrown by a
// callback is logged and dropped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace homeroom {

inline constexpr int kTransportRefused = -1;

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "DELETE", ...
  std::string url;     // http:// or https:// only
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{0};  // 0: TransportOptions::default_timeout
  std::vector<std::string> secrets;      // redacted from the trace
};

struct SmtpRequest {
  std::string url;  // "smtp://host:port" (STARTTLS) or "smtps://host:port" (implicit TLS)
  std::string username, password;  // empty username: no AUTH
  bool require_tls = true;         // smtp://: refuse to send when the server offers no STARTTLS
  bool verify_peer = true;
  std::string ca_file;  // "" for the system's CA bundle
  std::string mail_from;
  std::vector<std::string> recipients;
  std::string message;  // complete RFC 5322 message, CRLF line ends
  std::chrono::milliseconds timeout{0};
};

// An IMAP command (libcurl imap:// or imaps://; the connection is reused between requests).
// With `command` empty, the URL names what to fetch ("imaps://host/INBOX;UIDVALIDITY=7;UID=42":
// the whole message, which the server marks \Seen; a UIDVALIDITY that no longer holds or a UID
// that is gone is transport_error 78, CURLE_REMOTE_FILE_NOT_FOUND). Otherwise `command` is sent
// as is ("UID SEARCH UID 5:*", "UID STORE 5 -FLAGS (\Seen)", "STATUS INBOX (UIDVALIDITY)";
// the URL's mailbox, if any, is selected first) and `body` holds the untagged responses. Literal
// strings in responses are dropped by libcurl: fetch messages by URL.
struct ImapRequest {
  std::string url;
  std::string username, password;
  std::string command;
  bool verify_peer = true;
  std::string ca_file;  // "" for the system's CA bundle
  std::chrono::milliseconds timeout{0};
};

struct TransferResult {
  int transport_error = 0;
  std::string error_text;
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // HTTP response headers, as sent
  std::string body;  // HTTP response body, or the SMTP server's last reply text
  std::int64_t retry_after_ms = 0;
};

using TransferCallback = std::function<void(TransferResult)>;

struct TransportOptions {
  std::chrono::milliseconds default_timeout{30'000};
  // Transfers running at once to one server; the rest wait in the transport (transport.cpp).
  // 16 left the SMS benchmark's provider idle while sends waited for a connection.
  long max_host_connections = 64;
  long max_total_connections = 256;
};

class Transport {
 public:
  explicit Transport(const Clock& clock, TransportOptions options = {});
  ~Transport();  // shutdown(5s) unless already shut down
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Start a transfer; `done` is called exactly once.
  void http(HttpRequest request, TransferCallback done);
  void smtp(SmtpRequest request, TransferCallback done);
  void imap(ImapRequest request, TransferCallback done);
  // Stops accepting (later requests fail at once with kTransportRefused), lets transfers in flight
  // finish for at most `deadline`, then fails the rest (their callbacks run before this returns).
  // Must not be called from a callback. A second call returns at once.
  void shutdown(std::chrono::milliseconds deadline);
  // Transfers accepted whose callback has not yet returned.
  std::size_t in_flight() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The Retry-After header value as a delay in milliseconds from `now`: delta-seconds, or an
// HTTP-date (IMF-fixdate, RFC 850 or asctime form). 0 when it does not parse or lies in the past.
std::int64_t parse_retry_after(std::string_view value, Millis now);

// `text` with every non-empty string of `secrets` replaced by "***".
std::string redact_secrets(std::string text, const std::vector<std::string>& secrets);

}  // namespace homeroom
