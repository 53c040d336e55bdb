// The HTTP server over real sockets on 127.0.0.1 (port 0). The client side is plain POSIX sockets
// with a receive timeout, so a server that misbehaves fails a test instead of hanging it.
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http/problem.h"

namespace homeroom::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// ---- the handler under test: one free coroutine, routed by path -------------------------------

struct HandlerState {
  std::atomic<int> calls{0};
  std::atomic<int> slow_started{0};
  std::chrono::milliseconds slow_delay{200};
};

asio::awaitable<Response> test_handler(std::shared_ptr<HandlerState> state, Request request) {
  ++state->calls;
  if (request.path == "/throw") {
    throw std::runtime_error("sqlite exploded at /var/lib/homeroom/secret.db");
  }
  if (request.path == "/slow") {
    ++state->slow_started;
    asio::steady_timer timer(co_await asio::this_coro::executor, state->slow_delay);
    co_await timer.async_wait(asio::use_awaitable);
    co_return json_response(200, {{"slow", true}});
  }
  if (request.path == "/headers") {
    Response response = json_response(201, {{"id", "msg_1"}});
    response.headers = {{"Location", "/v1/messages/msg_1"},
                        {"Content-Length", "5"},
                        {"X-Injected", "a\r\nSet-Cookie: evil=1"}};
    co_return response;
  }
  if (request.path == "/empty")
    co_return Response{.status = 204, .content_type = {}, .body = {}, .headers = {}};
  co_return json_response(200, {{"method", request.method},
                                {"path", request.path},
                                {"query", request.query},
                                {"x", request.query_param("x").value_or("<none>")},
                                {"test_header", request.header("x-test")},
                                {"body", request.body},
                                {"remote", request.remote_address}});
}

// ---- a server on its own io_context, run by two threads ---------------------------------------

ServerLimits test_limits() {
  ServerLimits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 1024;
  limits.header_timeout = 200ms;
  limits.body_timeout = 200ms;
  limits.idle_timeout = 200ms;
  limits.write_timeout = 1000ms;
  limits.linger_timeout = 200ms;
  return limits;
}

class TestServer {
 public:
  explicit TestServer(ServerLimits limits = test_limits())
      : state(std::make_shared<HandlerState>()),
        server(ioc.get_executor(), std::bind_front(&test_handler, state), limits) {
    const Status listening = server.listen("127.0.0.1", 0);
    REQUIRE(listening.is_ok());
    REQUIRE(server.port() != 0);
    server.start();
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([this] {
        ioc.run();
        ++finished_threads;
      });
    }
  }

  ~TestServer() {
    if (finished_threads < 2) {  // else the io_context ran out of work: nothing would run a post
      auto drained = std::make_shared<std::promise<void>>();
      server.shutdown(100ms, [drained] { drained->set_value(); });
      drained->get_future().wait_for(2s);
    }
    ioc.stop();
    for (auto& thread : threads) thread.join();
  }

  // True when every thread's run() returned by itself within `limit`: the server left no work.
  bool wait_until_run_returns(std::chrono::milliseconds limit) {
    const auto until = SteadyClock::now() + limit;
    while (finished_threads < 2 && SteadyClock::now() < until) std::this_thread::sleep_for(1ms);
    return finished_threads == 2;
  }

  asio::io_context ioc;
  std::shared_ptr<HandlerState> state;
  Server server;

 private:
  std::atomic<int> finished_threads{0};
  std::vector<std::thread> threads;
};

// ---- a blocking client with a receive timeout --------------------------------------------------

struct Reply {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string header(std::string_view name) const {
    Request lookup;  // reuse the case-insensitive lookup under test elsewhere
    lookup.headers = headers;
    return lookup.header(name);
  }
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    timeval timeout{.tv_sec = 3, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address = loopback(port);
    connect_errno_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 ? 0 : errno;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  int connect_errno() const { return connect_errno_; }

  void send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      REQUIRE(n > 0);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // One response framed by Content-Length (the server always sends one); nullopt when the
  // connection closed or timed out first.
  std::optional<Reply> read_reply() {
    std::size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!receive_some()) return std::nullopt;
    }
    Reply reply;
    std::string_view head(pending_.data(), header_end);
    const std::size_t line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    REQUIRE(status_line.substr(0, 9) == "HTTP/1.1 ");
    reply.status = static_cast<unsigned>(std::stoul(std::string(status_line.substr(9, 3))));
    std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
    while (!rest.empty()) {
      const std::size_t end = rest.find("\r\n");
      const std::string_view line = rest.substr(0, end);
      const std::size_t colon = line.find(':');
      REQUIRE(colon != std::string_view::npos);
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      reply.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
      rest = end == std::string_view::npos ? "" : rest.substr(end + 2);
    }
    const std::string length = reply.header("Content-Length");
    const std::size_t body_size = length.empty() ? 0 : std::stoul(length);
    pending_.erase(0, header_end + 4);
    while (pending_.size() < body_size) {
      if (!receive_some()) return std::nullopt;
    }
    reply.body = pending_.substr(0, body_size);
    pending_.erase(0, body_size);
    return reply;
  }

  // Reads until the server closes; false if it did not within the receive timeout. Whatever
  // arrives is kept in pending().
  bool wait_closed() {
    for (;;) {
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  const std::string& pending() const { return pending_; }

 private:
  bool receive_some() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  int connect_errno_ = 0;
  std::string pending_;
};

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

void require_problem(const Reply& reply, unsigned status) {
  REQUIRE(reply.status == status);
  CHECK(reply.header("Content-Type") == "application/problem+json");
  const auto body = reply.json();
  CHECK(body["type"] == "about:blank");
  CHECK(body["status"] == status);
  CHECK(body["title"] == std::string(reason_phrase(status)));
}

// Captures the default logger's output for one test.
class CapturedLog {
 public:
  CapturedLog()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100)),
        previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("captured", sink_);
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(std::move(logger));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const {
    std::string all;
    for (const auto& line : sink_->last_formatted()) all += line;
    return all;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// Polls `done` up to `limit`; the server works on other threads.
template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = 2000ms) {
  const auto until = SteadyClock::now() + limit;
  while (!done()) {
    if (SteadyClock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// ---- tests -------------------------------------------------------------------------------------

TEST_CASE("GET round trip returns the handler's JSON with the server's headers", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(get("/v1/echo?x=a+b%21&y=2", "X-Test: hello\r\n"));
  const auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->header("Content-Type") == "application/json");
  CHECK(reply->header("Cache-Control") == "no-store");
  CHECK(reply->header("Server") == "homeroomd");
  CHECK(reply->header("Content-Length") == std::to_string(reply->body.size()));
  CHECK(reply->json() == nlohmann::json{{"method", "GET"},
                                        {"path", "/v1/echo"},
                                        {"query", "x=a+b%21&y=2"},
                                        {"x", "a b!"},
                                        {"test_header", "hello"},
                                        {"body", ""},
                                        {"remote", "127.0.0.1"}});
}

TEST_CASE("two requests share one keep-alive connection", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(get("/one"));
  const auto first = client.read_reply();
  REQUIRE(first);
  CHECK(first->json()["path"] == "/one");
  CHECK(first->header("Connection").empty());  // HTTP/1.1: keep-alive is the default
  client.send(
      "POST /two HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
      "Content-Length: 11\r\n\r\n{\"a\":\"b c\"}");
  const auto second = client.read_reply();
  REQUIRE(second);
  CHECK(second->json()["path"] == "/two");
  CHECK(second->json()["method"] == "POST");
  CHECK(second->json()["body"] == "{\"a\":\"b c\"}");
  CHECK(fixture.server.active_connections() == 1);
  CHECK(fixture.state->calls == 2);
}

TEST_CASE("pipelined requests are answered in order", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(get("/a") + get("/b"));
  const auto a = client.read_reply();
  const auto b = client.read_reply();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->json()["path"] == "/a");
  CHECK(b->json()["path"] == "/b");
}

TEST_CASE("a chunked body under the limit arrives whole", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(
      "POST /c HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  const auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->json()["body"] == "hello world");
}

TEST_CASE("Expect: 100-continue is answered before the body is read", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(
      "POST /e HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  const auto proceed = client.read_reply();
  REQUIRE(proceed);
  CHECK(proceed->status == 100);
  client.send("ping");
  const auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->json()["body"] == "ping");
}

TEST_CASE("Content-Length above the limit is answered 413 without reading the body", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send("POST /big HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n");  // no body
  const auto reply = client.read_reply();
  REQUIRE(reply);
  require_problem(*reply, 413);
  CHECK(reply->json()["detail"] == "request body exceeds 1024 bytes");
  CHECK(reply->header("Connection") == "close");
  CHECK(client.wait_closed());
  CHECK(fixture.state->calls == 0);
}

TEST_CASE("a chunked body growing past the limit is answered 413", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  const std::string chunk = "190\r\n" + std::string(400, 'a') + "\r\n";  // 0x190 = 400 bytes
  client.send("POST /big HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk +
              chunk + chunk);
  const auto reply = client.read_reply();
  REQUIRE(reply);
  require_problem(*reply, 413);
  CHECK(reply->header("Connection") == "close");
  CHECK(client.wait_closed());
  CHECK(fixture.state->calls == 0);
}

TEST_CASE("a header above the limit is answered 431", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(get("/h", "X-Big: " + std::string(2000, 'b') + "\r\n"));
  const auto reply = client.read_reply();
  REQUIRE(reply);
  require_problem(*reply, 431);
  CHECK(reply->json()["detail"] == "request header exceeds 1024 bytes");
  CHECK(client.wait_closed());
  CHECK(fixture.state->calls == 0);
}

TEST_CASE("a garbage request line is answered 400 and the connection closes", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send("\x01\x02 hello there\r\n\r\n");
  const auto reply = client.read_reply();
  REQUIRE(reply);
  require_problem(*reply, 400);
  CHECK(client.wait_closed());
  CHECK(client.pending().empty());
  CHECK(fixture.state->calls == 0);
}

TEST_CASE("a header that stops halfway is closed after header_timeout", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  const auto sent = SteadyClock::now();
  client.send("GET /slow-header HTTP/1.1\r\nHost: te");
  CHECK(client.wait_closed());
  const auto waited = SteadyClock::now() - sent;
  CHECK(waited >= 150ms);
  CHECK(waited < 2s);
  CHECK(client.pending().empty());
  CHECK(fixture.state->calls == 0);
}

TEST_CASE("a connection that never sends is closed after header_timeout", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  const auto opened = SteadyClock::now();
  CHECK(client.wait_closed());
  CHECK(SteadyClock::now() - opened < 2s);
  CHECK(eventually([&] { return fixture.server.active_connections() == 0; }));
}

TEST_CASE("a body that stops halfway is closed after body_timeout", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  const auto sent = SteadyClock::now();
  client.send("POST /p HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc");
  CHECK(client.wait_closed());
  CHECK(SteadyClock::now() - sent >= 150ms);
  CHECK(fixture.state->calls == 0);
}

TEST_CASE("an idle keep-alive connection is closed after idle_timeout", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(get("/once"));
  REQUIRE(client.read_reply());
  const auto answered = SteadyClock::now();
  CHECK(client.wait_closed());
  const auto waited = SteadyClock::now() - answered;
  CHECK(waited >= 150ms);
  CHECK(waited < 2s);
}

TEST_CASE("Connection: close from the client closes after the response", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(get("/bye", "Connection: close\r\n"));
  const auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->header("Connection") == "close");
  CHECK(client.wait_closed());
}

TEST_CASE("a handler that throws gets a 500 problem and the error is logged", "[http]") {
  CapturedLog log;
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(get("/throw"));
  const auto reply = client.read_reply();
  REQUIRE(reply);
  require_problem(*reply, 500);
  CHECK(reply->json()["detail"] == "internal error");
  CHECK(reply->body.find("sqlite") == std::string::npos);
  // The connection stays usable.
  client.send(get("/after"));
  const auto after = client.read_reply();
  REQUIRE(after);
  CHECK(after->status == 200);
  // The access line is written once the response is out, maybe after the client read it.
  REQUIRE(eventually([&] { return log.text().find("http GET /after 200") != std::string::npos; }));
  const std::string text = log.text();
  CHECK(text.find("error http: handler for GET /throw threw: sqlite exploded") !=
        std::string::npos);
  CHECK(text.find("info http GET /throw 500 ") != std::string::npos);
}

TEST_CASE("the access log has the path without query, and no headers or bodies", "[http]") {
  CapturedLog log;
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(
      "POST /v1/things?token=s3cr3t-query HTTP/1.1\r\nHost: test\r\n"
      "Authorization: Bearer s3cr3t-header\r\nContent-Length: 13\r\n\r\ns3cr3t-body!!");
  const auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  REQUIRE(eventually([&] { return log.text().find("http POST") != std::string::npos; }));
  const std::string text = log.text();
  CHECK(text.find("info http POST /v1/things 200 ") != std::string::npos);
  CHECK(text.find("ms 127.0.0.1") != std::string::npos);
  CHECK(text.find("s3cr3t") == std::string::npos);
}

TEST_CASE("extra headers are sent, framing and injected headers are not", "[http]") {
  TestServer fixture;
  Client client(fixture.server.port());
  client.send(get("/headers"));
  const auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 201);
  CHECK(reply->header("Location") == "/v1/messages/msg_1");
  CHECK(reply->body == R"({"id":"msg_1"})");
  CHECK(reply->header("Content-Length") == std::to_string(reply->body.size()));
  CHECK(reply->header("X-Injected").empty());
  CHECK(reply->header("Set-Cookie").empty());

  client.send(get("/empty"));
  const auto empty = client.read_reply();
  REQUIRE(empty);
  CHECK(empty->status == 204);
  CHECK(empty->body.empty());
}

TEST_CASE("shutdown finishes in-flight requests, closes idle ones, refuses new ones", "[http]") {
  TestServer fixture;
  Client idle(fixture.server.port());
  idle.send(get("/warm-up"));
  REQUIRE(idle.read_reply());
  Client busy(fixture.server.port());
  busy.send(get("/slow"));
  REQUIRE(eventually([&] { return fixture.state->slow_started == 1; }));
  REQUIRE(fixture.server.active_connections() == 2);

  std::atomic<int> drained{0};
  fixture.server.shutdown(5s, [&drained] { ++drained; });

  // The idle connection goes at once (well before the handler's 200 ms finish).
  const auto asked = SteadyClock::now();
  CHECK(idle.wait_closed());
  CHECK(SteadyClock::now() - asked < 150ms);
  CHECK(idle.pending().empty());

  const auto reply = busy.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->json() == nlohmann::json{{"slow", true}});
  CHECK(reply->header("Connection") == "close");
  CHECK(busy.wait_closed());

  CHECK(eventually([&] { return drained == 1; }));
  CHECK(fixture.server.active_connections() == 0);
  Client late(fixture.server.port());
  CHECK(late.connect_errno() == ECONNREFUSED);
  // Nothing of the server is left on the io_context (the deadline timer was cancelled).
  CHECK(fixture.wait_until_run_returns(2s));
  CHECK(drained == 1);
}

TEST_CASE("shutdown force-closes what is left at the deadline", "[http]") {
  TestServer fixture;
  fixture.state->slow_delay = 5s;
  Client busy(fixture.server.port());
  busy.send(get("/slow"));
  REQUIRE(eventually([&] { return fixture.state->slow_started == 1; }));

  std::atomic<int> drained{0};
  const auto asked = SteadyClock::now();
  fixture.server.shutdown(100ms, [&drained] { ++drained; });
  CHECK(busy.wait_closed());
  CHECK(busy.pending().empty());
  CHECK(eventually([&] { return drained == 1; }));
  const auto waited = SteadyClock::now() - asked;
  CHECK(waited >= 90ms);
  CHECK(waited < 2s);
}

TEST_CASE("shutdown with no connection drains at once, a second call is answered too", "[http]") {
  TestServer fixture;
  std::atomic<int> drained{0};
  // Both calls from one handler on the io_context: called from outside, the first could finish
  // and leave run() without work (it returns) before the second is posted, and nothing would run
  // it. (homeroomd calls shutdown once, from its io_context.)
  asio::post(fixture.ioc, [&] {
    fixture.server.shutdown(5s, [&drained] { ++drained; });
    fixture.server.shutdown(5s, [&drained] { drained += 10; });
  });
  CHECK(eventually([&] { return drained == 11; }, 500ms));
  CHECK(fixture.wait_until_run_returns(2s));
  CHECK(drained == 11);
}

TEST_CASE("listen errors name the address", "[http]") {
  asio::io_context ioc;
  Server first(ioc.get_executor(),
               std::bind_front(&test_handler, std::make_shared<HandlerState>()));
  REQUIRE(first.listen("127.0.0.1", 0).is_ok());
  const std::uint16_t taken = first.port();

  Server second(ioc.get_executor(),
                std::bind_front(&test_handler, std::make_shared<HandlerState>()));
  const Status in_use = second.listen("127.0.0.1", taken);
  CHECK(in_use.code() == Code::kUnavailable);
  CHECK(in_use.message().find("127.0.0.1:" + std::to_string(taken)) != std::string::npos);
  CHECK(second.port() == 0);

  const Status bad = second.listen("not-an-ip", 8080);
  CHECK(bad.code() == Code::kInvalidArgument);
  CHECK(bad.field() == "address");
  CHECK(bad.message().find("not-an-ip:8080") != std::string::npos);
}

}  // namespace
}  // namespace homeroom::http
