#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <optional>
#include <set>
#include <thread>

#include "channels/channel_registry.h"
#include "queue/dispatcher.h"
#include "routing/delivery_planner.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::TempDir;

namespace {

Status wait_status(const std::function<void(store::StatusDone)>& call) {
  std::promise<Status> p;
  call([&p](Status s) { p.set_value(std::move(s)); });
  return p.get_future().get();
}

using Settings = std::map<std::string, std::string>;

struct Fixture {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<Channel> channel;
  std::unique_ptr<queue::Dispatcher> dispatcher;

  explicit Fixture(std::map<std::string, std::string> settings,
                   std::chrono::milliseconds poll_interval = std::chrono::milliseconds(5)) {
    store = std::move(*store::Store::open(dir / "h.db", clock));
    REQUIRE(wait_status([&](auto d) {
              store->put_staff({"t1", "Ms. Lee", "", Role::kTeacher}, d);
            }).is_ok());
    for (const char* id : {"g1", "g2"}) {
      Guardian g{id, "G", "F", "en", "UTC", {{"email", std::string(id) + "@x.org"}}, {}};
      REQUIRE(wait_status([&](auto d) { store->put_guardian(g, d); }).is_ok());
    }
    Student s{"s1", "Maya", "Diaz", "7", {"t1"}, {{"g1", "mother", true}, {"g2", "father", true}}};
    REQUIRE(wait_status([&](auto d) { store->put_student(s, d); }).is_ok());

    settings["record"] = (dir / "sends.log").string();
    auto loaded = load_channel(HOMEROOM_FIXTURE_PLUGIN_DIR, "fixture_channel", "email", settings);
    REQUIRE(loaded.is_ok());
    channel = std::move(*loaded);
    queue::DispatcherOptions options;
    options.poll_interval = poll_interval;
    options.retry = {3, 1000, 60'000};
    dispatcher = std::make_unique<queue::Dispatcher>(
        *store, queue::Dispatcher::Routes{{"email", channel.get()}}, clock, options);
  }
  ~Fixture() { dispatcher->stop(std::chrono::seconds(5)); }

  void accept(std::string id, std::optional<Millis> send_at = std::nullopt) {
    NewMessage m;
    m.id = std::move(id);
    m.send_at = send_at;
    m.student_id = "s1";
    m.category = "note";
    m.body = "hello";
    std::promise<Result<store::StoredResponse>> p;
    store->accept_message(
        m, std::nullopt,
        [](const StudentRoster& r, const NewMessage& msg,
           Millis now) -> Result<std::vector<PlannedDelivery>> {
          static const routing::PlannerOptions kOptions;
          return routing::plan_message(r, msg, now, kOptions);
        },
        [](const store::AcceptedMessage&) {
          return store::StoredResponse{202, "{}", false};
        },
        [&p](Result<store::StoredResponse> r) { p.set_value(std::move(r)); });
    REQUIRE(p.get_future().get().is_ok());
  }

  // Waits (bounded) until `count` deliveries are in `state`; the dispatcher runs on its own thread.
  bool eventually(const std::string& state, std::int64_t count) {
    for (int i = 0; i < 2000; ++i) {
      auto counts = store->delivery_counts();
      if (counts.is_ok() && (*counts)[state] == count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  bool eventually_sends(int n) {
    for (int i = 0; i < 2000 && sends_recorded() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return sends_recorded() == n;
  }

  int sends_recorded() {
    std::ifstream in(dir / "sends.log");
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }
};

}  // namespace

TEST_CASE("accepted deliveries are sent and recorded as sent") {
  Fixture f(Settings{});
  f.accept("msg_1");
  f.dispatcher->start();
  f.dispatcher->wake();
  REQUIRE(f.eventually("sent", 2));
  auto view = f.store->get_message("msg_1");
  for (const auto& d : view->deliveries) {
    CHECK(d.attempts == 1);
    CHECK(d.provider_id.rfind("fixture-", 0) == 0);
  }
  CHECK(f.sends_recorded() == 2);
}

TEST_CASE("a scheduled note goes out when it falls due, not a poll interval later") {
  Fixture f(Settings{}, std::chrono::seconds(30));
  f.accept("msg_1", f.clock.now() + 300);
  f.dispatcher->start();
  f.dispatcher->wake();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(f.sends_recorded() == 0);  // not due yet
  // The dispatcher sleeps until the due time (300 ms of the fake clock, measured in real time),
  // not for its 30 s poll interval: by then the fake clock says it is due.
  f.clock.advance(std::chrono::milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(f.eventually("sent", 2));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("retryable failures back off and succeed later - attempts are counted") {
  Fixture f(Settings{{"fail_first", "2"}});
  f.accept("msg_1");
  f.dispatcher->start();
  // Attempt 1 fails; both wait for their backoff (at most 1 s) and nothing is sent meanwhile.
  REQUIRE(f.eventually_sends(2));
  REQUIRE(f.eventually("queued", 2));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(f.sends_recorded() == 2);
  f.clock.advance(std::chrono::seconds(1));
  f.dispatcher->wake();
  REQUIRE(f.eventually_sends(4));  // attempt 2 fails too; its backoff is at most 2 s
  REQUIRE(f.eventually("queued", 2));
  f.clock.advance(std::chrono::seconds(2));
  f.dispatcher->wake();
  REQUIRE(f.eventually("sent", 2));
  auto view = f.store->get_message("msg_1");
  for (const auto& d : view->deliveries) {
    CHECK(d.attempts == 3);
    CHECK(d.last_error.empty());
  }
  CHECK(f.sends_recorded() == 6);
}

TEST_CASE("retries run out into dead, with the reason recorded") {
  Fixture f(Settings{{"outcome", "retryable"}});
  f.accept("msg_1");
  f.dispatcher->start();
  for (int attempt = 1; attempt <= 2; ++attempt) {
    REQUIRE(f.eventually_sends(2 * attempt));
    REQUIRE(f.eventually("queued", 2));
    f.clock.advance(std::chrono::seconds(10));
    f.dispatcher->wake();
  }
  REQUIRE(f.eventually("dead", 2));
  CHECK(f.sends_recorded() == 6);
  auto view = f.store->get_message("msg_1");
  CHECK(view->deliveries[0].last_error.rfind("gave up after 3 attempts: retryable", 0) == 0);
}

TEST_CASE("permanent failures are failed at once with the provider's reason") {
  Fixture f(Settings{{"outcome", "permanent"}});
  f.accept("msg_1");
  f.dispatcher->start();
  REQUIRE(f.eventually("failed", 2));
  CHECK(f.sends_recorded() == 2);
  auto view = f.store->get_message("msg_1");
  CHECK(view->deliveries[0].last_error.rfind("permanent: ", 0) == 0);
}

TEST_CASE("stop waits for sends in flight and records their outcomes") {
  Fixture f(Settings{{"delay_ms", "200"}});
  f.accept("msg_1");
  f.dispatcher->start();
  f.dispatcher->wake();
  for (int i = 0; i < 400 && f.dispatcher->in_flight() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  f.dispatcher->stop(std::chrono::seconds(5));
  CHECK(f.dispatcher->in_flight() == 0);
  CHECK((*f.store->delivery_counts())["sent"] == 2);
}

TEST_CASE("digest - three teachers' notes during a day reach a digest family as one message") {
  Fixture f(Settings{});
  // Three teachers of Maya; g1 takes notes as a digest (17:30 UTC, the default time), g2 at once.
  for (const char* id : {"t2", "t3"}) {
    REQUIRE(wait_status([&](auto d) {
              f.store->put_staff({id, std::string("Teacher ") + id, "", Role::kTeacher}, d);
            }).is_ok());
  }
  Guardian g1{"g1", "G", "F", "en", "UTC", {{"email", "g1@x.org"}}, {}};
  g1.preferences.categories = {{"note", "digest"}};
  REQUIRE(wait_status([&](auto d) { f.store->put_guardian(g1, d); }).is_ok());
  Student s{"s1",
            "Maya",
            "Diaz",
            "7",
            {"t1", "t2", "t3"},
            {{"g1", "mother", true}, {"g2", "father", true}}};
  REQUIRE(wait_status([&](auto d) { f.store->put_student(s, d); }).is_ok());

  const Millis day = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  const std::vector<std::pair<const char*, int>> notes{{"t1", 9}, {"t2", 11}, {"t3", 14}};
  f.dispatcher->start();
  for (const auto& [teacher, hour] : notes) {
    f.clock.set(day + hour * 3'600'000LL);
    NewMessage m;
    m.id = std::string("msg_") + teacher;
    m.student_id = "s1";
    m.author_staff = teacher;
    m.category = "note";
    m.body = std::string("From ") + teacher + ": Maya did well today.";
    std::promise<Result<store::StoredResponse>> p;
    f.store->accept_message(
        m, std::nullopt,
        [](const StudentRoster& r, const NewMessage& msg, Millis now) {
          return Result<std::vector<PlannedDelivery>>(
              routing::plan_message(r, msg, now, routing::PlannerOptions{}));
        },
        [](const store::AcceptedMessage&) {
          return store::StoredResponse{202, "{}", false};
        },
        [&p](Result<store::StoredResponse> r) { p.set_value(std::move(r)); });
    REQUIRE(p.get_future().get().is_ok());
    f.dispatcher->wake();
  }
  // During the day: g2's three notes went one by one; g1's wait for 17:30.
  REQUIRE(f.eventually_sends(3));
  CHECK(f.eventually("scheduled", 3));

  f.clock.set(day + 17 * 3'600'000LL + 30 * 60'000LL);
  f.dispatcher->wake();
  REQUIRE(f.eventually("sent", 6));
  CHECK(f.sends_recorded() == 4);  // every delivery is recorded sent: one message for g1's three
  std::set<std::string> digest_provider_ids;
  for (const auto& [teacher, hour] : notes) {
    auto view = f.store->get_message(std::string("msg_") + teacher);
    REQUIRE(view.is_ok());
    for (const auto& d : view->deliveries) {
      if (d.guardian_id == "g1") digest_provider_ids.insert(d.provider_id);
    }
  }
  CHECK(digest_provider_ids.size() == 1);  // the three share the one message's provider id
}
