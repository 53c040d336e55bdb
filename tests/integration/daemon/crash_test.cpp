// kill -9 with deliveries in flight, then a restart: every accepted delivery is delivered.
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "daemon_harness.h"

using namespace homeroom;
using namespace homeroom::testing;
using nlohmann::json;

namespace {

std::string fixture_channels(const std::filesystem::path& record, int delay_ms) {
  std::string out = "[queue]\nlease_seconds = 1\nbackoff_base_seconds = 1\n";
  for (const char* ch : {"email", "sms"}) {
    out += std::string("[channels.") + ch + "]\nplugin = \"fixture_channel\"\nchannel = \"" + ch +
           "\"\n[channels." + ch + ".settings]\nrecord = \"" + record.string() +
           "\"\ndelay_ms = \"" + std::to_string(delay_ms) + "\"\n";
  }
  return out;
}

std::multiset<std::string> recorded_ids(const std::filesystem::path& record) {
  std::multiset<std::string> ids;
  std::ifstream in(record);
  for (std::string id, attempt, channel; in >> id >> attempt >> channel;) ids.insert(id);
  return ids;
}

}  // namespace

TEST_CASE("kill -9 with deliveries in flight loses nothing after a restart") {
  TempDir dir;
  const auto record = dir / "sends.log";
  Daemon slow(dir, fixture_channels(record, 400), HOMEROOM_FIXTURE_PLUGIN_DIR);
  const std::string admin = slow.token(Role::kAdmin);
  slow.start();
  REQUIRE(slow.call("PUT", "/v1/staff/t1", admin, {{"name", "Ms. Lee"}}).status == 200);
  json links = json::array();
  for (int g = 0; g < 4; ++g) {
    const std::string id = "g" + std::to_string(g);
    json contact = g % 2 ? json{{"channel", "sms"}, {"address", "+1555123000" + std::to_string(g)}}
                         : json{{"channel", "email"}, {"address", id + "@example.org"}};
    REQUIRE(slow.call("PUT", "/v1/guardians/" + id, admin,
                      {{"given_name", "G"}, {"family_name", "F"}, {"contacts", {contact}}})
                .status == 200);
    links.push_back({{"id", id}});
  }
  REQUIRE(slow.call("PUT", "/v1/students/s1", admin,
                    {{"given_name", "Maya"},
                     {"family_name", "Diaz"},
                     {"staff", {"t1"}},
                     {"guardians", links}})
              .status == 200);

  std::set<std::string> accepted;
  for (int i = 0; i < 25; ++i) {
    auto r = slow.call("POST", "/v1/messages", admin,
                       {{"student_id", "s1"}, {"body", "note " + std::to_string(i)}});
    INFO(r.body);
    REQUIRE(r.status == 202);
    const auto body = json::parse(r.body);
    for (const auto& d : body["deliveries"]) accepted.insert(d["id"].get<std::string>());
  }
  REQUIRE(accepted.size() == 100);

  // Let some sends start (each takes 400 ms in the fake provider), then crash hard.
  for (int i = 0; i < 500 && recorded_ids(record).size() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  slow.process().signal(SIGKILL);
  REQUIRE(slow.process().wait_exit(std::chrono::seconds(10)) == 128 + SIGKILL);
  const auto before_restart = recorded_ids(record).size();
  {
    // The crash really interrupted the work: sends were with the provider (each takes 400 ms)
    // whose outcome the store never recorded. Every delivery may have gone out by then.
    FakeClock clock;
    auto store = std::move(*store::Store::open(dir / "homeroom.db", clock));
    auto counts = store->delivery_counts();
    REQUIRE(counts.is_ok());
    CHECK((*counts)["sending"] > 0);
    CHECK((*counts)["sent"] < static_cast<std::int64_t>(accepted.size()));
  }

  Daemon fast(dir, fixture_channels(record, 0), HOMEROOM_FIXTURE_PLUGIN_DIR);
  fast.start();
  std::set<std::string> sent;
  for (int i = 0; i < 3000 && sent.size() < accepted.size(); ++i) {
    sent.clear();
    FakeClock clock;
    auto store = std::move(*store::Store::open(dir / "homeroom.db", clock));
    auto counts = store->delivery_counts();
    if (counts.is_ok() && (*counts)["sent"] == static_cast<std::int64_t>(accepted.size())) {
      sent = accepted;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(sent.size() == accepted.size());
  auto ids = recorded_ids(record);
  for (const auto& id : accepted) CHECK(ids.count(id) >= 1);
  // At-least-once: a send interrupted by the crash may be repeated, nothing else is.
  CHECK(ids.size() <= accepted.size() + before_restart);
}
