// Transport over real loopback HTTP: what arrives, what comes back, timeouts, Retry-After,
// connection reuse, concurrency, the redacted trace and shutdown.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http/transport.h"
#include "unit/transport/loopback_http.h"

namespace homeroom {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackHttpServer;
using testing::LoopbackReply;
using testing::LoopbackRequest;

// A callback that fulfils a future, so a test waits with a timeout instead of hanging.
struct Awaited {
  std::shared_ptr<std::promise<TransferResult>> promise =
      std::make_shared<std::promise<TransferResult>>();
  std::future<TransferResult> future = promise->get_future();
  TransferCallback callback() {
    return [p = promise](TransferResult r) { p->set_value(std::move(r)); };
  }
  TransferResult get() {
    REQUIRE(future.wait_for(20s) == std::future_status::ready);
    return future.get();
  }
};

std::string header(const TransferResult& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

TEST_CASE("transport: request method, headers and body arrive exactly - response comes back") {
  std::mutex mu;
  LoopbackRequest seen;
  LoopbackHttpServer server([&](const LoopbackRequest& r) {
    std::lock_guard lock(mu);
    seen = r;
    LoopbackReply reply;
    reply.status = 201;
    reply.headers = {{"X-Provider-Id", "SM123"}, {"Content-Type", "application/json"}};
    reply.body = R"({"sid":"SM123"})";
    return reply;
  });
  FakeClock clock;
  Transport transport(clock);
  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/2010-04-01/Accounts/AC1/Messages.json?x=1");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Custom", "a b"}};
  static constexpr char kBody[] = "To=%2B15551234567&Body=Caf\xc3\xa9\0end";  // an embedded NUL
  request.body = std::string(kBody, sizeof kBody - 1);
  Awaited awaited;
  transport.http(request, awaited.callback());
  const TransferResult r = awaited.get();
  CHECK(r.transport_error == 0);
  CHECK(r.status == 201);
  CHECK(r.body == R"({"sid":"SM123"})");
  CHECK(header(r, "X-Provider-Id") == "SM123");
  CHECK(r.retry_after_ms == 0);
  std::lock_guard lock(mu);
  CHECK(seen.method == "POST");
  CHECK(seen.target == "/2010-04-01/Accounts/AC1/Messages.json?x=1");
  CHECK(seen.header("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(seen.header("X-Custom") == "a b");
  CHECK(seen.header("Expect").empty());
  CHECK(seen.body == request.body);
  CHECK(seen.body.size() == 32);
}

TEST_CASE("transport: other methods and an empty body") {
  std::mutex mu;
  std::vector<std::string> methods;
  LoopbackHttpServer server([&](const LoopbackRequest& r) {
    std::lock_guard lock(mu);
    methods.push_back(r.method + ":" + std::to_string(r.body.size()));
    return LoopbackReply{204, {}, {}, 0ms};
  });
  FakeClock clock;
  Transport transport(clock);
  for (const char* method : {"GET", "DELETE", "PUT"}) {
    Awaited awaited;
    transport.http(HttpRequest{method, server.url("/x"), {}, "", 0ms, {}}, awaited.callback());
    CHECK(awaited.get().status == 204);
  }
  std::lock_guard lock(mu);
  CHECK(methods == std::vector<std::string>{"GET:0", "DELETE:0", "PUT:0"});
}

TEST_CASE("transport: a 500 answer is a status, not a transport error") {
  LoopbackHttpServer server([](const LoopbackRequest&) {
    return LoopbackReply{500, {}, "upstream exploded", 0ms};
  });
  FakeClock clock;
  Transport transport(clock);
  Awaited awaited;
  transport.http(HttpRequest{"POST", server.url("/send"), {}, "x", 0ms, {}}, awaited.callback());
  const TransferResult r = awaited.get();
  CHECK(r.transport_error == 0);
  CHECK(r.status == 500);
  CHECK(r.body == "upstream exploded");
}

TEST_CASE("transport: a slow server times out as a transport error") {
  LoopbackHttpServer server([](const LoopbackRequest&) {
    return LoopbackReply{200, {}, "late", 3000ms};
  });
  FakeClock clock;
  Transport transport(clock);
  Awaited awaited;
  const auto start = std::chrono::steady_clock::now();
  transport.http(HttpRequest{"GET", server.url("/slow"), {}, "", 200ms, {}}, awaited.callback());
  const TransferResult r = awaited.get();
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.transport_error != 0);
  CHECK(r.status == 0);
  CHECK_FALSE(r.error_text.empty());
  CHECK(took < 2000ms);
}

TEST_CASE("transport: connection refused is a transport error") {
  std::uint16_t dead_port = 0;
  {
    LoopbackHttpServer gone([](const LoopbackRequest&) { return LoopbackReply{}; });
    dead_port = gone.port();
  }
  FakeClock clock;
  Transport transport(clock);
  Awaited awaited;
  transport.http(
      HttpRequest{"GET", "http://127.0.0.1:" + std::to_string(dead_port) + "/", {}, "", 0ms, {}},
      awaited.callback());
  const TransferResult r = awaited.get();
  CHECK(r.transport_error != 0);
  CHECK_FALSE(r.error_text.empty());
}

TEST_CASE("transport: Retry-After as delta-seconds and as an HTTP-date") {
  LoopbackHttpServer server([](const LoopbackRequest& r) {
    LoopbackReply reply{429, {}, "slow down", 0ms};
    reply.headers.emplace_back("Retry-After",
                               r.target == "/seconds" ? "7" : "Thu, 01 Jan 2026 00:01:30 GMT");
    return reply;
  });
  FakeClock clock(1'767'225'600'000);  // 2026-01-01T00:00:00Z
  Transport transport(clock);
  {
    Awaited awaited;
    transport.http(HttpRequest{"POST", server.url("/seconds"), {}, "", 0ms, {}},
                   awaited.callback());
    const TransferResult r = awaited.get();
    CHECK(r.status == 429);
    CHECK(r.retry_after_ms == 7000);
  }
  {
    Awaited awaited;
    transport.http(HttpRequest{"POST", server.url("/date"), {}, "", 0ms, {}}, awaited.callback());
    CHECK(awaited.get().retry_after_ms == 90'000);
  }
}

TEST_CASE("transport: parse_retry_after forms") {
  const Millis now = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  CHECK(parse_retry_after("0", now) == 0);
  CHECK(parse_retry_after(" 120 ", now) == 120'000);
  CHECK(parse_retry_after("Thu, 01 Jan 2026 00:00:10 GMT", now) == 10'000);
  CHECK(parse_retry_after("Thursday, 01-Jan-26 00:00:10 GMT", now) == 10'000);
  CHECK(parse_retry_after("Thu Jan  1 00:00:10 2026", now) == 10'000);
  CHECK(parse_retry_after("Wed, 31 Dec 2025 23:59:00 GMT", now) == 0);  // in the past
  CHECK(parse_retry_after("soon", now) == 0);
  CHECK(parse_retry_after("-5", now) == 0);
  CHECK(parse_retry_after("Thu, 32 Jan 2026 00:00:10 GMT", now) == 0);
}

TEST_CASE("transport: 50 sequential requests reuse one TCP connection") {
  LoopbackHttpServer server([](const LoopbackRequest&) {
    return LoopbackReply{200, {}, "ok", 0ms};
  });
  FakeClock clock;
  Transport transport(clock);
  for (int i = 0; i < 50; ++i) {
    Awaited awaited;
    transport.http(HttpRequest{"POST", server.url("/n"), {}, "i=" + std::to_string(i), 0ms, {}},
                   awaited.callback());
    REQUIRE(awaited.get().status == 200);
  }
  CHECK(server.requests() == 50);
  CHECK(server.accepts() == 1);
}

TEST_CASE("transport: 200 concurrent requests complete on the one transport thread") {
  LoopbackHttpServer server([](const LoopbackRequest& r) {
    return LoopbackReply{200, {}, r.body, 300ms};
  });
  FakeClock clock;
  TransportOptions options;
  options.max_host_connections = 200;
  Transport transport(clock, options);
  constexpr int kCount = 200;
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  std::promise<void> all;
  std::set<std::thread::id> callback_threads;
  std::mutex mu;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCount; ++i) {
    const std::string body = "n=" + std::to_string(i);
    transport.http(HttpRequest{"POST", server.url("/c"), {}, body, 10'000ms, {}},
                   [&, body](TransferResult r) {
                     if (r.status == 200 && r.body == body) ++ok;
                     {
                       std::lock_guard lock(mu);
                       callback_threads.insert(std::this_thread::get_id());
                     }
                     if (++done == kCount) all.set_value();
                   });
  }
  REQUIRE(all.get_future().wait_for(30s) == std::future_status::ready);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  CHECK(ok == kCount);
  // in_flight drops just after each callback returns.
  for (int i = 0; i < 200 && transport.in_flight() != 0; ++i) std::this_thread::sleep_for(5ms);
  CHECK(transport.in_flight() == 0);
  CHECK(callback_threads.size() == 1);
  // Each answer takes 300 ms: the server saw them at the same time, not one after another.
  CHECK(server.max_concurrent() >= 100);
  WARN("200 concurrent requests: " << took.count() << " ms, peak " << server.max_concurrent()
                                   << " at the server, " << server.accepts() << " connections");
}

TEST_CASE("transport: more transfers than connections to a server wait their turn, all complete") {
  LoopbackHttpServer server([](const LoopbackRequest& r) {
    return LoopbackReply{200, {}, r.body, 50ms};
  });
  FakeClock clock;
  TransportOptions options;
  options.max_host_connections = 4;
  Transport transport(clock, options);
  constexpr int kCount = 40;
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  std::promise<void> all;
  for (int i = 0; i < kCount; ++i) {
    const std::string body = "n=" + std::to_string(i);
    transport.http(HttpRequest{"POST", server.url("/q"), {}, body, 10'000ms, {}},
                   [&, body](TransferResult r) {
                     if (r.status == 200 && r.body == body) ++ok;
                     if (++done == kCount) all.set_value();
                   });
  }
  REQUIRE(all.get_future().wait_for(30s) == std::future_status::ready);
  CHECK(ok == kCount);
  CHECK(server.requests() == kCount);
  CHECK(server.max_concurrent() <= 4);
  CHECK(server.accepts() <= 4);
}

TEST_CASE("transport: a transfer that waits for a connection past its timeout never goes out") {
  LoopbackHttpServer server([](const LoopbackRequest&) {
    return LoopbackReply{200, {}, "slow", 600ms};
  });
  FakeClock clock;
  TransportOptions options;
  options.max_host_connections = 1;
  Transport transport(clock, options);
  Awaited first, second;
  transport.http(HttpRequest{"POST", server.url("/a"), {}, "first", 5'000ms, {}}, first.callback());
  // Its 300 ms run out while the first holds the only connection for 600 ms.
  transport.http(HttpRequest{"POST", server.url("/b"), {}, "second", 300ms, {}}, second.callback());
  const TransferResult late = second.get();
  CHECK(late.transport_error != 0);
  CHECK(late.error_text.find("timed out waiting for a connection") != std::string::npos);
  CHECK(first.get().status == 200);
  CHECK(server.requests() == 1);  // the second was never sent
}

TEST_CASE("transport: the debug trace redacts secrets and Authorization, never bodies") {
  LoopbackHttpServer server([](const LoopbackRequest&) {
    return LoopbackReply{200, {}, "response-body-text", 0ms};
  });
  auto previous = spdlog::default_logger();
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto logger = std::make_shared<spdlog::logger>("trace-test", sink);
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  {
    FakeClock clock;
    Transport transport(clock);
    Awaited awaited;
    HttpRequest request{"POST",
                        server.url("/v1/projects/p/messages:send?key=AIzaSECRETKEY123"),
                        {{"Authorization", "Bearer ya29.TOKEN-VALUE"},
                         {"X-Api-Key", "AIzaSECRETKEY123"},
                         {"Content-Type", "application/json"}},
                        "request-body-text",
                        0ms,
                        {"AIzaSECRETKEY123"}};
    transport.http(request, awaited.callback());
    REQUIRE(awaited.get().status == 200);
  }
  spdlog::set_default_logger(previous);
  const std::string log = captured.str();
  INFO(log);
  CHECK(log.find("/v1/projects/p/messages:send?key=***") != std::string::npos);
  CHECK(log.find("POST") != std::string::npos);
  CHECK(log.find("200") != std::string::npos);
  CHECK(log.find("AIzaSECRETKEY123") == std::string::npos);
  CHECK(log.find("ya29.TOKEN-VALUE") == std::string::npos);
  CHECK(log.find("Authorization: ***") != std::string::npos);
  CHECK(log.find("request-body-text") == std::string::npos);
  CHECK(log.find("response-body-text") == std::string::npos);
}

TEST_CASE("transport: shutdown fails transfers in flight instead of hanging") {
  LoopbackHttpServer server([](const LoopbackRequest&) {
    return LoopbackReply{200, {}, "late", 10'000ms};
  });
  FakeClock clock;
  Transport transport(clock);
  Awaited first, second;
  transport.http(HttpRequest{"GET", server.url("/a"), {}, "", 60'000ms, {}}, first.callback());
  transport.http(HttpRequest{"GET", server.url("/b"), {}, "", 60'000ms, {}}, second.callback());
  while (server.requests() < 2) std::this_thread::sleep_for(5ms);
  CHECK(transport.in_flight() == 2);
  const auto start = std::chrono::steady_clock::now();
  transport.shutdown(200ms);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(first.get().transport_error != 0);
  CHECK(second.get().transport_error != 0);
  CHECK(transport.in_flight() == 0);
  // After shutdown: refused at once, on the caller's thread.
  Awaited late;
  transport.http(HttpRequest{"GET", server.url("/c"), {}, "", 0ms, {}}, late.callback());
  const TransferResult r = late.get();
  CHECK(r.transport_error == kTransportRefused);
  CHECK(r.error_text == "transport shut down");
}

TEST_CASE("transport: a callback may start the next transfer") {
  LoopbackHttpServer server([](const LoopbackRequest& r) {
    return LoopbackReply{200, {}, r.target, 0ms};
  });
  FakeClock clock;
  Transport transport(clock);
  Awaited awaited;
  transport.http(
      HttpRequest{"POST", server.url("/token"), {}, "", 0ms, {}}, [&](TransferResult first) {
        transport.http(HttpRequest{"POST", server.url("/send" + first.body), {}, "", 0ms, {}},
                       awaited.callback());
      });
  CHECK(awaited.get().body == "/send/token");
}

}  // namespace
}  // namespace homeroom
