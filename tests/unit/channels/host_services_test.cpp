// Host services for plugins: transfers through the real Transport (loopback), the clock, webhooks
// and provider status updates, through the fixture plugin loaded by the real loader.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "channels/channel.h"
#include "channels/channel_registry.h"
#include "core/clock.h"
#include "http/transport.h"
#include "unit/transport/loopback_http.h"

using namespace homeroom;
using namespace std::chrono_literals;
using homeroom::testing::LoopbackHttpServer;
using homeroom::testing::LoopbackReply;
using homeroom::testing::LoopbackRequest;

namespace {

const std::filesystem::path kFixtureDir = HOMEROOM_FIXTURE_PLUGIN_DIR;

std::unique_ptr<Channel> load_fixture(const std::map<std::string, std::string>& settings,
                                      const HostServices& services) {
  auto channel = load_channel(kFixtureDir, "fixture_channel", "fx", settings, services);
  INFO(channel.status().to_string());
  REQUIRE(channel.is_ok());
  return std::move(channel).value();
}

SendOutcome send_and_wait(Channel& channel, const RenderedDelivery& delivery) {
  auto mu = std::make_shared<std::mutex>();
  auto cv = std::make_shared<std::condition_variable>();
  auto out = std::make_shared<std::optional<SendOutcome>>();
  channel.send(delivery, [mu, cv, out](SendOutcome o) {
    std::lock_guard lock(*mu);
    *out = std::move(o);
    cv->notify_all();
  });
  std::unique_lock lock(*mu);
  REQUIRE(cv->wait_for(lock, 20s, [&] { return out->has_value(); }));
  return **out;
}

RenderedDelivery delivery() {
  RenderedDelivery d;
  d.delivery_id = "dlv_http1";
  d.channel = "sms";
  d.to = "+15551234567";
  d.body = "Early pickup";
  d.content = "Early pickup at 1pm";
  d.language = "en";
  d.category = "urgent";
  d.status_callback_url = "https://school.example/hooks/fx/status";
  return d;
}

}  // namespace

TEST_CASE("host_http_request: the plugin's done gets status, headers, body and Retry-After") {
  std::mutex mu;
  LoopbackRequest seen;
  LoopbackHttpServer server([&](const LoopbackRequest& r) {
    std::lock_guard lock(mu);
    seen = r;
    return LoopbackReply{
        429, {{"X-Echo", r.header("X-Delivery")}, {"Retry-After", "3"}}, "slow " + r.body, 0ms};
  });
  FakeClock clock;
  Transport transport(clock);
  {
    auto channel = load_fixture({{"http_url", server.url("/send")}}, {&transport, &clock, {}});
    const SendOutcome o = send_and_wait(*channel, delivery());
    CHECK(o.code == Code::kOk);
    CHECK(o.provider_id == "429|dlv_http1|slow Early pickup at 1pm");
    CHECK(o.retry_after_ms == 3000);
  }
  std::lock_guard lock(mu);
  CHECK(seen.method == "POST");
  CHECK(seen.body == "Early pickup at 1pm");
  CHECK(seen.header("Authorization") == "Bearer fixture-secret");
}

TEST_CASE("host_http_request: a transport error reaches the plugin - no transport fails at once") {
  FakeClock clock;
  SECTION("connection refused") {
    std::uint16_t dead = 0;
    {
      LoopbackHttpServer gone([](const LoopbackRequest&) { return LoopbackReply{}; });
      dead = gone.port();
    }
    Transport transport(clock);
    auto channel = load_fixture({{"http_url", "http://127.0.0.1:" + std::to_string(dead) + "/"}},
                                {&transport, &clock, {}});
    const SendOutcome o = send_and_wait(*channel, delivery());
    CHECK(o.code == Code::kRetryable);
    CHECK(o.reason.rfind("transport ", 0) == 0);
  }
  SECTION("no transport: done runs inside on_send, the report after send's lock is released") {
    auto channel = load_fixture({{"http_url", "http://127.0.0.1:9/"}}, {});
    const SendOutcome o = send_and_wait(*channel, delivery());
    CHECK(o.code == Code::kRetryable);
    CHECK(o.reason == "transport -1: no transport");
  }
  SECTION("a transport already shut down") {
    Transport transport(clock);
    transport.shutdown(0ms);
    auto channel = load_fixture({{"http_url", "http://127.0.0.1:9/"}}, {&transport, &clock, {}});
    const SendOutcome o = send_and_wait(*channel, delivery());
    CHECK(o.reason == "transport -1: transport shut down");
  }
}

TEST_CASE("host_http_request: many sends in flight - the channel's destructor waits for them") {
  LoopbackHttpServer server([](const LoopbackRequest& r) {
    return LoopbackReply{200, {}, r.header("X-Delivery"), 100ms};
  });
  FakeClock clock;
  TransportOptions options;
  options.max_host_connections = 64;
  Transport transport(clock, options);
  std::atomic<int> ok{0};
  {
    auto channel = load_fixture({{"http_url", server.url("/send")}}, {&transport, &clock, {}});
    for (int i = 0; i < 100; ++i) {
      RenderedDelivery d = delivery();
      d.delivery_id = "dlv_" + std::to_string(i);
      channel->send(d, [&ok, id = d.delivery_id](SendOutcome o) {
        if (o.code == Code::kOk && o.provider_id == "200||" + id) ++ok;
      });
    }
  }  // ~Channel waits for every transfer and report
  CHECK(ok == 100);
}

TEST_CASE("webhook: round trip through on_webhook, with a status update and the host clock") {
  FakeClock clock(1'767'225'600'000);
  std::vector<ProviderStatus> statuses;
  HostServices services;
  services.clock = &clock;
  services.on_status = [&](const ProviderStatus& s) { statuses.push_back(s); };
  auto channel = load_fixture({}, services);

  WebhookRequest request;
  request.method = "POST";
  request.path = "status";
  request.public_url = "https://school.example/hooks/fx/status?a=1";
  request.query = "a=1";
  request.headers = {{"X-Sig", "good"}, {"X-Status", "2"}, {"X-Provider-Id", "SM42"}};
  request.body = "MessageStatus=delivered";
  WebhookResponse response = channel->webhook(request);
  CHECK(response.status == 200);
  CHECK(response.content_type == "text/plain");
  CHECK(response.body ==
        "POST status?a=1 https://school.example/hooks/fx/status?a=1 MessageStatus=delivered "
        "now=1767225600000");
  REQUIRE(statuses.size() == 1);
  CHECK(statuses[0].channel_instance == "fx");
  CHECK(statuses[0].provider_id == "SM42");
  CHECK(statuses[0].status == 2);
  CHECK(statuses[0].reason == "fixture");

  request.headers = {{"X-Sig", "forged"}, {"X-Status", "3"}, {"X-Provider-Id", "SM42"}};
  response = channel->webhook(request);
  CHECK(response.status == 403);
  CHECK(statuses.size() == 1);
}

TEST_CASE("webhook: a plugin without on_webhook answers 404") {
  auto channel = load_channel(HOMEROOM_PLUGIN_DIR, "outbox", "email",
                              {{"dir", std::filesystem::temp_directory_path().string()}});
  REQUIRE(channel.is_ok());
  CHECK((*channel)->webhook(WebhookRequest{"POST", "status", "", "", {}, ""}).status == 404);
}
