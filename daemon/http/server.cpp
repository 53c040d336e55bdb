#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "http/problem.h"

namespace homeroom::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 4096;
// Most a lingering close discards before it gives up and closes anyway.
constexpr std::size_t kMaxLingerBytes = 256 * 1024;
// An accept error such as EMFILE repeats at once: pause instead of spinning.
constexpr std::chrono::milliseconds kAcceptErrorPause{100};
// Access log lines carry at most this much of the path.
constexpr std::size_t kMaxLoggedPath = 200;

// One accepted connection. `stream` and `idle` are touched only on the connection's strand (the
// stream's executor), where its coroutine runs and where shutdown posts its closes.
struct Connection {
  Connection(tcp::socket socket, std::string remote)
      : stream(std::move(socket)), remote_address(std::move(remote)) {}
  beast::tcp_stream stream;
  const std::string remote_address;
  bool idle = false;  // waiting for the first byte of a request
};

}  // namespace

struct Server::State {
  State(asio::any_io_executor ex, Handler h, ServerLimits l)
      : executor(std::move(ex)),
        accept_strand(asio::make_strand(executor)),
        acceptor(accept_strand),
        drain_timer(accept_strand),
        handler(std::move(h)),
        limits(l) {}

  asio::any_io_executor executor;
  asio::any_io_executor accept_strand;
  tcp::acceptor acceptor;          // accept_strand only (and listen() before start())
  asio::steady_timer drain_timer;  // accept_strand only
  const Handler handler;
  const ServerLimits limits;
  std::atomic<std::uint16_t> port{0};

  mutable std::mutex mutex;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections;  // guarded by mutex
  std::uint64_t next_id = 0;                                                 // guarded by mutex
  bool shutting_down = false;                                                // guarded by mutex
  bool drained = false;                                                      // guarded by mutex
  std::vector<std::function<void()>> on_drained;                             // guarded by mutex
};

namespace {

using State = Server::State;

bool is_shutting_down(const State& state) {
  std::lock_guard lock(state.mutex);
  return state.shutting_down;
}

// Marks the connection idle unless the server is shutting down. Runs on the connection's strand,
// and shutdown() sets the flag before it posts its "close if idle" to that strand, so a
// connection either sees the flag here or is idle when the post runs: none is left waiting.
bool begin_idle(State& state, Connection& conn) {
  std::lock_guard lock(state.mutex);
  if (state.shutting_down) return false;
  conn.idle = true;
  return true;
}

bool register_connection(State& state, const std::shared_ptr<Connection>& conn, std::uint64_t& id) {
  std::lock_guard lock(state.mutex);
  if (state.shutting_down) return false;
  id = state.next_id++;
  state.connections.emplace(id, conn);
  return true;
}

std::vector<std::shared_ptr<Connection>> open_connections(const State& state) {
  std::vector<std::shared_ptr<Connection>> open;
  for (const auto& entry : state.connections) {
    if (auto conn = entry.second.lock()) open.push_back(std::move(conn));
  }
  return open;
}

void run_callbacks(std::vector<std::function<void()>> callbacks) {
  for (auto& callback : callbacks) {
    if (callback) callback();
  }
}

void close_on_strand(const std::shared_ptr<Connection>& conn, bool only_if_idle) {
  asio::post(conn->stream.get_executor(), [conn, only_if_idle] {
    if (!only_if_idle || conn->idle) conn->stream.close();
  });
}

void unregister_connection(const std::shared_ptr<State>& state, std::uint64_t id) {
  std::vector<std::function<void()>> callbacks;
  bool now_drained = false;
  {
    std::lock_guard lock(state->mutex);
    state->connections.erase(id);
    if (state->shutting_down && !state->drained && state->connections.empty()) {
      state->drained = true;
      now_drained = true;
      callbacks.swap(state->on_drained);
    }
  }
  if (!now_drained) return;
  // The deadline timer would keep the io_context busy until it fires.
  asio::post(state->accept_strand, [state] { state->drain_timer.cancel(); });
  run_callbacks(std::move(callbacks));
}

// On accept_strand.
void force_close(const std::shared_ptr<State>& state) {
  std::vector<std::function<void()>> callbacks;
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(state->mutex);
    if (state->drained) return;
    state->drained = true;
    callbacks.swap(state->on_drained);
    open = open_connections(*state);
  }
  spdlog::warn("http: shutdown deadline reached, closing {} connection(s)", open.size());
  for (const auto& conn : open) close_on_strand(conn, false);
  run_callbacks(std::move(callbacks));
}

// On accept_strand.
void begin_shutdown(const std::shared_ptr<State>& state, std::chrono::milliseconds deadline,
                    std::function<void()> on_drained) {
  beast::error_code ignored;
  state->acceptor.close(ignored);
  std::vector<std::function<void()>> callbacks;
  std::vector<std::shared_ptr<Connection>> open;
  bool first_call = false;
  {
    std::lock_guard lock(state->mutex);
    first_call = !state->shutting_down;
    state->shutting_down = true;
    if (on_drained) state->on_drained.push_back(std::move(on_drained));
    if (state->connections.empty()) state->drained = true;
    if (state->drained) {
      callbacks.swap(state->on_drained);
    } else if (first_call) {
      open = open_connections(*state);
    }
  }
  if (!callbacks.empty() || !first_call) {
    run_callbacks(std::move(callbacks));
    return;
  }
  for (const auto& conn : open) close_on_strand(conn, true);
  state->drain_timer.expires_after(deadline);
  state->drain_timer.async_wait([state](beast::error_code ec) {
    if (!ec) force_close(state);
  });
}

std::string loggable_path(std::string_view path) {
  if (path.empty()) return "-";
  if (path.rfind("/p/", 0) == 0) return "/p/...";  // a family's preferences link is a capability
  if (path.rfind("/u/", 0) == 0) return "/u/...";  // and so is an unsubscribe link
  // A webhook may carry its secret in the URL (/hooks/<instance>/mime/<secret>): two segments only.
  if (path.rfind("/hooks/", 0) == 0) {
    const std::size_t instance_end = path.find('/', 7);
    const std::size_t kind_end =
        instance_end == std::string_view::npos ? instance_end : path.find('/', instance_end + 1);
    if (kind_end != std::string_view::npos && kind_end + 1 < path.size()) {
      return loggable_path(path.substr(0, kind_end + 1)) + "...";
    }
  }
  if (path.size() <= kMaxLoggedPath) return std::string(path);
  return std::string(path.substr(0, kMaxLoggedPath)) + "...";
}

void log_access(std::string_view method, std::string_view path, unsigned status,
                SteadyClock::time_point started, const std::string& remote) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
  spdlog::info("http {} {} {} {}ms {}", method.empty() ? "-" : method, loggable_path(path), status,
               ms, remote);
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// The answer to a failed read, or nullopt when the connection just closes (timeout, reset, the
// client closing between or inside requests).
std::optional<Response> answer_for_read_error(const beast::error_code& ec,
                                              const ServerLimits& limits) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return problem(431,
                   "request header exceeds " + std::to_string(limits.max_header_bytes) + " bytes");
  }
  if (ec == bhttp::error::body_limit) {
    return problem(413, "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == bhttp::error::short_read) {
    return std::nullopt;
  }
  if (&ec.category() == &bhttp::make_error_code(bhttp::error::bad_target).category()) {
    return problem(400, "malformed HTTP request: " + ec.message());
  }
  return std::nullopt;
}

bool is_token(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 &&
           std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
  });
}

bool is_safe_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

// Headers the server owns: a handler setting them would break the framing of the connection.
bool is_reserved_header(std::string_view name) {
  for (std::string_view reserved : {"content-length", "transfer-encoding", "connection",
                                    "content-type", "server", "cache-control"}) {
    if (iequals(name, reserved)) return true;
  }
  return false;
}

bhttp::response<bhttp::string_body> to_beast(Response response, unsigned version, bool keep_alive) {
  if (response.status < 200 || response.status > 599) {
    spdlog::error("http: handler returned status {}, answering 500", response.status);
    response = problem(Status::internal("bad status"));
  }
  bhttp::response<bhttp::string_body> res;
  res.version(version == 10 ? 10 : 11);
  res.result(response.status);
  for (const auto& [name, value] : response.headers) {
    if (!is_token(name) || !is_safe_value(value)) {
      spdlog::error("http: handler returned an invalid header field, dropped it");
      continue;
    }
    if (is_reserved_header(name)) {
      if (!iequals(name, "cache-control")) continue;
      res.set(bhttp::field::cache_control, value);  // a handler may ask for caching explicitly
      continue;
    }
    res.insert(name, value);
  }
  res.set(bhttp::field::server, "homeroomd");
  if (res.find(bhttp::field::cache_control) == res.end()) {
    res.set(bhttp::field::cache_control, "no-store");
  }
  // 204 and 304 have no body by definition (RFC 9110 6.4.1).
  if (response.status != 204 && response.status != 304) {
    if (!is_safe_value(response.content_type) || response.content_type.empty()) {
      response.content_type = "application/octet-stream";
    }
    res.set(bhttp::field::content_type, response.content_type);
    res.body() = std::move(response.body);
  }
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// Half-closes, then reads and discards what the client still sends for a while: closing a socket
// with unread input sends a RST, which can destroy the answer before the client read it.
asio::awaitable<void> linger_close(std::shared_ptr<Connection> conn,
                                   std::chrono::milliseconds timeout) {
  beast::error_code ec;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  conn->stream.expires_after(timeout);
  std::array<char, kReadChunk> sink{};
  std::size_t discarded = 0;
  while (discarded < kMaxLingerBytes) {
    auto [read_ec, n] = co_await conn->stream.async_read_some(asio::buffer(sink), kAwait);
    if (read_ec) break;
    discarded += n;
  }
  conn->stream.close();
}

asio::awaitable<void> answer_and_close(std::shared_ptr<Connection> conn, ServerLimits limits,
                                       Response response, std::string method, std::string path,
                                       SteadyClock::time_point started) {
  const unsigned status = response.status;
  auto res = to_beast(std::move(response), 11, false);
  conn->stream.expires_after(limits.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(conn->stream, res, kAwait);
  log_access(method, path, status, started, conn->remote_address);
  if (!ec) co_await linger_close(conn, limits.linger_timeout);
}

asio::awaitable<Response> call_handler(std::shared_ptr<State> state, Request request) {
  const std::string method = request.method;
  const std::string path = loggable_path(request.path);
  try {
    co_return co_await state->handler(std::move(request));
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {}", method, path, e.what());
  } catch (...) {
    spdlog::error("http: handler for {} {} threw a non-exception", method, path);
  }
  co_return problem(Status::internal("handler threw"));
}

Request to_request(bhttp::request<bhttp::string_body>&& message, const std::string& remote) {
  Request request;
  request.method = std::string(message.method_string());
  const std::string_view target = message.target();
  const std::size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  request.headers.reserve(static_cast<std::size_t>(std::distance(message.begin(), message.end())));
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.remote_address = remote;
  return request;
}

asio::awaitable<void> serve_requests(std::shared_ptr<State> state,
                                     std::shared_ptr<Connection> conn) {
  const ServerLimits limits = state->limits;
  // Room for a whole header plus one read: the header must be contiguous for the parser, the
  // body is consumed from the buffer as it arrives.
  beast::flat_buffer buffer(limits.max_header_bytes + kReadChunk);
  // A new connection gets header_timeout from the accept, so an open socket that never sends
  // costs no more than a slow header.
  const auto first_deadline = SteadyClock::now() + limits.header_timeout;
  bool first = true;
  for (;;) {
    SteadyClock::time_point header_deadline = first_deadline;
    if (buffer.size() == 0) {
      if (!begin_idle(*state, *conn)) co_return;
      if (first) {
        conn->stream.expires_at(first_deadline);
      } else {
        conn->stream.expires_after(limits.idle_timeout);
      }
      auto [idle_ec, n] = co_await conn->stream.async_read_some(
          buffer.prepare(std::min(kReadChunk, buffer.max_size())), kAwait);
      conn->idle = false;
      if (idle_ec) co_return;
      buffer.commit(n);
      if (!first) header_deadline = SteadyClock::now() + limits.header_timeout;
    } else if (!first) {
      header_deadline = SteadyClock::now() + limits.header_timeout;
    }
    first = false;
    const auto started = SteadyClock::now();

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(static_cast<std::uint64_t>(limits.max_body_bytes));
    conn->stream.expires_at(header_deadline);
    auto [header_ec, header_n] =
        co_await bhttp::async_read_header(conn->stream, buffer, parser, kAwait);
    if (header_ec) {
      if (auto answer = answer_for_read_error(header_ec, limits)) {
        co_await answer_and_close(conn, limits, std::move(*answer),
                                  std::string(parser.get().method_string()),
                                  std::string(path_of(parser.get().target())), started);
      }
      co_return;
    }

    if (!parser.is_done()) {
      const auto& header = parser.get();
      if (header.version() >= 11 && iequals(header[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, header.version()};
        conn->stream.expires_after(limits.write_timeout);
        auto [continue_ec, continue_n] = co_await bhttp::async_write(conn->stream, proceed, kAwait);
        if (continue_ec) co_return;
      }
      conn->stream.expires_after(limits.body_timeout);
      auto [body_ec, body_n] = co_await bhttp::async_read(conn->stream, buffer, parser, kAwait);
      if (body_ec) {
        if (auto answer = answer_for_read_error(body_ec, limits)) {
          co_await answer_and_close(conn, limits, std::move(*answer),
                                    std::string(parser.get().method_string()),
                                    std::string(path_of(parser.get().target())), started);
        }
        co_return;
      }
    }
    // No timer while the handler runs: its own work decides how long it takes.
    conn->stream.expires_never();

    const unsigned version = parser.get().version();
    bool keep_alive = parser.get().keep_alive();
    Request request = to_request(parser.release(), conn->remote_address);
    const std::string method = request.method;
    const std::string path = request.path;
    Response response = co_await call_handler(state, std::move(request));

    if (is_shutting_down(*state)) keep_alive = false;
    auto res = to_beast(std::move(response), version, keep_alive);
    conn->stream.expires_after(limits.write_timeout);
    auto [write_ec, write_n] = co_await bhttp::async_write(conn->stream, res, kAwait);
    log_access(method, path, res.result_int(), started, conn->remote_address);
    if (write_ec) co_return;
    if (!keep_alive) {
      co_await linger_close(conn, limits.linger_timeout);
      co_return;
    }
  }
}

asio::awaitable<void> serve_connection(std::shared_ptr<State> state,
                                       std::shared_ptr<Connection> conn, std::uint64_t id) {
  try {
    co_await serve_requests(state, conn);
  } catch (const std::exception& e) {
    spdlog::error("http: connection from {} failed: {}", conn->remote_address, e.what());
  }
  conn->stream.close();
  unregister_connection(state, id);
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(
        asio::any_io_executor(asio::make_strand(state->executor)), kAwait);
    if (!state->acceptor.is_open()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer pause(state->accept_strand, kAcceptErrorPause);
      co_await pause.async_wait(kAwait);
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::string remote = socket.remote_endpoint(ignored).address().to_string();
    auto conn = std::make_shared<Connection>(std::move(socket), std::move(remote));
    std::uint64_t id = 0;
    if (!register_connection(*state, conn, id)) co_return;
    asio::co_spawn(conn->stream.get_executor(), serve_connection(state, conn, id), asio::detached);
  }
}

}  // namespace

Server::Server(boost::asio::any_io_executor executor, Handler handler, ServerLimits limits)
    : state_(std::make_shared<State>(std::move(executor), std::move(handler), limits)) {}

Server::~Server() {
  // Close everything; callbacks of an unfinished shutdown are dropped, as whatever they touch may
  // be going away with the Server.
  std::shared_ptr<State> state = state_;
  asio::post(state->accept_strand, [state] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
    state->drain_timer.cancel();
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(state->mutex);
      state->shutting_down = true;
      state->drained = true;
      state->on_drained.clear();
      open = open_connections(*state);
    }
    for (const auto& conn : open) close_on_strand(conn, false);
  });
}

Status Server::listen(const std::string& address, std::uint16_t port) {
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  const std::string where =
      (ip.is_v6() && !ec ? "[" + address + "]" : address) + ":" + std::to_string(port);
  if (ec) return Status::invalid("address", "cannot listen on " + where + ": not an IP address");
  const tcp::endpoint endpoint(ip, port);
  tcp::acceptor& acceptor = state_->acceptor;
  auto fail = [&](std::string_view step) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return Status(Code::kUnavailable,
                  "cannot listen on " + where + ": " + std::string(step) + ": " + ec.message());
  };
  if (acceptor.is_open()) {
    return Status(Code::kUnavailable, "cannot listen on " + where + ": already listening");
  }
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail("open");
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) return fail("setsockopt");
  if (acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  const auto local = acceptor.local_endpoint(ec);
  if (ec) return fail("getsockname");
  state_->port = local.port();
  return Status::ok();
}

std::uint16_t Server::port() const { return state_->port; }

void Server::start() { asio::co_spawn(state_->accept_strand, accept_loop(state_), asio::detached); }

void Server::shutdown(std::chrono::milliseconds deadline, std::function<void()> on_drained) {
  std::shared_ptr<State> state = state_;
  asio::post(state->accept_strand, [state, deadline, callback = std::move(on_drained)]() mutable {
    begin_shutdown(state, deadline, std::move(callback));
  });
}

std::size_t Server::active_connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->connections.size();
}

}  // namespace homeroom::http
