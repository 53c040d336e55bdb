// The HTTP/1.1 server of homeroomd: Boost.Beast over C++20 coroutines, one coroutine per
// connection, keep-alive, strict limits and timeouts, problem+json for every error it answers by
// itself, an access log line per request, and a graceful shutdown.
//
// What the server answers without calling the handler (then closes the connection):
//   400 malformed HTTP, 413 Content-Length or chunked body above max_body_bytes (before reading
//   the body), 431 header above max_header_bytes. A header, body or write timeout, or an idle
//   keep-alive connection timing out, closes the connection without an answer.
// A handler that throws gets a 500 problem ("internal error"); the exception's message is logged
// at error level, never sent. The access log (spdlog default logger, info) has method, path
// WITHOUT query string, status, duration and remote address; headers and bodies are never logged.
//
// Threads: the io_context may be run by several threads. Each connection runs on its own strand
// (the handler coroutine runs there too, so one connection's handler never runs concurrently with
// itself); the acceptor has its own strand. shutdown() and active_connections() are safe from any
// thread; listen() and start() are meant to be called once each, in that order, before shutdown().
//
// Handler: `boost::asio::awaitable<Response>(Request)`. Because of the GCC 12 coroutine bug, make
// it a free function or a member coroutine taking its parameters by value, bound with
// std::bind_front; never a capturing lambda coroutine.
//
// Lifetime: call shutdown() and wait for on_drained (or stop the io_context) before destroying
// the Server or anything its handler uses; destroy the Server before its io_context. Destroying a
// Server that was not shut down closes the acceptor and every connection (asynchronously).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/status.h"
#include "http/message.h"

namespace homeroom::http {

struct ServerLimits {
  std::size_t max_header_bytes = 16 * 1024;  // request line + header fields
  std::size_t max_body_bytes = 1024 * 1024;
  // The whole header must arrive within this, counted from the first byte of the request (from
  // the accept for a connection's first request).
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};   // the whole body, counted after the header
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};  // writing one response
  // After an error answer the server stops sending and discards what the client still sends for
  // at most this long, so that closing does not reset the connection before the client read the
  // answer.
  std::chrono::milliseconds linger_timeout{1'000};
};

using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

class Server {
 public:
  Server(boost::asio::any_io_executor executor, Handler handler, ServerLimits limits = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. `address` is an IP literal ("127.0.0.1", "0.0.0.0", "::1"); port 0 picks an
  // ephemeral port (read it back with port()). Errors name the address: kInvalidArgument (field
  // "address") for an address that does not parse, kUnavailable when it cannot bind or listen.
  Status listen(const std::string& address, std::uint16_t port);
  // The bound port, 0 before a successful listen().
  std::uint16_t port() const;
  // Starts accepting connections (after listen()).
  void start();
  // Graceful stop: close the acceptor (new connections are refused), let in-flight requests
  // finish (their responses carry Connection: close), close idle keep-alive connections at once,
  // and call on_drained once, on an executor thread, when no connection remains, or after
  // `deadline`, at which point the remaining connections are force-closed (a handler still
  // running then keeps running, but its response is not sent). Safe to call from any thread. A
  // later call keeps the first deadline; its on_drained is called with the first one's (at once
  // when the server has already drained).
  void shutdown(std::chrono::milliseconds deadline, std::function<void()> on_drained);
  // Open connections, idle ones included.
  std::size_t active_connections() const;

  struct State;  // defined in server.cpp; shared with the coroutines that outlive a call

 private:
  std::shared_ptr<State> state_;
};

}  // namespace homeroom::http
