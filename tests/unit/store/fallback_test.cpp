// Fallback (store::fall_back through record_updates and record_provider_status): a failed
// delivery moves the message to the guardian's next untried channel, in the same transaction.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <future>

#include "routing/delivery_planner.h"
#include "store/store.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::TempDir;

namespace {

Status wait_status(const std::function<void(store::StatusDone)>& call) {
  std::promise<Status> p;
  call([&p](Status s) { p.set_value(std::move(s)); });
  return p.get_future().get();
}

constexpr const char* kPhone = "+15551230001";
constexpr const char* kEmail = "ana@family.example.org";

struct FallbackFixture {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<store::Store> store;

  // g1 prefers sms, then push, then email; s1's only guardian.
  FallbackFixture() {
    store = std::move(*store::Store::open(dir / "homeroom.db", clock));
    REQUIRE(ok([&](auto done) {
      store->put_staff({"t1", "Ms. Lee", "lee@school.org", Role::kTeacher}, done);
    }));
    put_guardian(false);
    put_student(true);
  }

  static bool ok(const std::function<void(store::StatusDone)>& call) {
    Status s = wait_status(call);
    INFO(s.to_string());
    return s.is_ok();
  }
  void put_guardian(bool do_not_contact) {
    Guardian g{
        "g1",
        "Ana",
        "Diaz",
        "en",
        "UTC",
        {{"sms", kPhone}, {"push", R"({"endpoint":"https://push.example/1"})"}, {"email", kEmail}},
        {}};
    g.preferences.channels = {"sms", "push", "email"};
    g.do_not_contact = do_not_contact;
    REQUIRE(ok([&](auto done) { store->put_guardian(g, done); }));
  }
  void put_student(bool contact_allowed) {
    Student s{"s1", "Maya", "Diaz", "7", {"t1"}, {{"g1", "mother", contact_allowed}}};
    REQUIRE(ok([&](auto done) { store->put_student(s, done); }));
  }
  // Sets a contact point's status as homeroom would after a provider said so.
  void contact_status(const std::string& channel, const std::string& status) {
    SQLite::Database db((dir / "homeroom.db").string(), SQLite::OPEN_READWRITE);
    db.exec("UPDATE contact_points SET status = '" + status + "' WHERE channel = '" + channel +
            "'");
  }

  void send(const std::string& id, bool legally_required = false) {
    NewMessage m;
    m.id = id;
    m.student_id = "s1";
    m.author_staff = "t1";
    m.category = "note";
    m.body = "Maya helped two classmates.";
    m.legally_required = legally_required;
    std::promise<Result<store::StoredResponse>> p;
    store->accept_message(
        m, std::nullopt,
        [](const StudentRoster& r, const NewMessage& msg,
           Millis now) -> Result<std::vector<PlannedDelivery>> {
          static const routing::PlannerOptions kOptions;
          return routing::plan_message(r, msg, now, kOptions);
        },
        [](const store::AcceptedMessage&) {
          return store::StoredResponse{202, "", false};
        },
        [&p](Result<store::StoredResponse> r) { p.set_value(std::move(r)); });
    REQUIRE(p.get_future().get().is_ok());
  }

  std::vector<LeasedDelivery> lease() {
    std::promise<Result<std::vector<LeasedDelivery>>> p;
    store->lease_due(10, 60'000, [&p](auto r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    REQUIRE(r.is_ok());
    return *r;
  }

  // Leases the one due delivery and records `state` for it.
  std::string fail_next(DeliveryState state, const std::string& detail,
                        const std::string& contact = "") {
    auto leased = lease();
    REQUIRE(leased.size() == 1);
    store::DeliveryUpdate u{leased[0].id, leased[0].attempt, state, 0, "", detail};
    u.contact_status = contact;
    REQUIRE(ok([&](auto done) { store->record_updates({u}, done); }));
    return leased[0].id;
  }

  std::vector<store::DeliveryView> deliveries(const std::string& message) {
    auto view = store->get_message(message);
    REQUIRE(view.is_ok());
    return view->deliveries;
  }
};

bool has_event(const store::DeliveryView& d, const std::string& prefix) {
  for (const auto& e : d.events) {
    if (e.detail.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("fallback: a permanent failure moves the message to the next channel") {
  FallbackFixture s;
  s.send("msg_1");
  const auto sms = s.fail_next(DeliveryState::kFailed, "permanent: 21211 invalid number");
  auto d = s.deliveries("msg_1");
  REQUIRE(d.size() == 2);
  CHECK(d[0].id == sms);
  CHECK(d[0].state == DeliveryState::kFailed);
  // push is next in the order and active
  CHECK(d[1].channel == "push");
  CHECK(d[1].state == DeliveryState::kQueued);
  CHECK(d[1].fallback_of == sms);
  CHECK(d[1].guardian_id == "g1");
  CHECK(d[1].language == d[0].language);
  CHECK(has_event(d[0], "fell back to push (" + d[1].id + ")"));
  CHECK(has_event(d[1], "fallback of " + sms + ": sms failed (permanent: 21211 invalid number)"));
  // The new row is due now and is leased like any other.
  auto next = s.lease();
  REQUIRE(next.size() == 1);
  CHECK(next[0].id == d[1].id);
  CHECK(next[0].address == R"({"endpoint":"https://push.example/1"})");
}

TEST_CASE(
    "fallback: skips tried, gone, stopped and unconfigured channels, none left is unreached") {
  FallbackFixture s;
  s.contact_status("push", "gone");
  s.send("msg_1");
  const auto sms = s.fail_next(DeliveryState::kFailed, "contact stopped: 21610", "stopped");
  auto d = s.deliveries("msg_1");
  REQUIRE(d.size() == 2);
  CHECK(d[1].channel == "email");  // push is gone
  CHECK(d[1].address == kEmail);
  CHECK(s.store->get_guardian("g1")->contacts[0].status == "stopped");

  // email fails too: sms was tried (and is stopped), push is gone: no row, the guardian is
  // unreached and the last delivery stays failed.
  const auto email = s.fail_next(DeliveryState::kFailed, "permanent: 550 no such user");
  d = s.deliveries("msg_1");
  REQUIRE(d.size() == 2);
  CHECK(d[1].id == email);
  CHECK(d[1].state == DeliveryState::kFailed);
  CHECK(has_event(d[1], "no channel left to fall back to"));
  CHECK(s.lease().empty());

  SECTION("the reach report lists the guardian as unreached with the last reason") {
    auto report = s.store->reach_report(0, "");
    REQUIRE(report.is_ok());
    REQUIRE(report->teachers.size() == 1);
    const auto& t = report->teachers[0];
    CHECK(t.staff_id == "t1");
    REQUIRE(t.unreached.size() == 1);
    CHECK(t.unreached[0].family.guardian_id == "g1");
    CHECK(t.unreached[0].channel == "email");
    CHECK(t.unreached[0].reason == "permanent: 550 no such user");
    REQUIRE(t.no_message.size() == 1);
    CHECK(t.no_message[0].student_id == "s1");
    // Per school too (s1 has none yet): the same family under "no school".
    REQUIRE(report->schools.size() == 1);
    CHECK(report->schools[0].school_id.empty());
    REQUIRE(report->schools[0].unreached.size() == 1);
    CHECK(report->schools[0].unreached[0].family.guardian_id == "g1");
    // A teacher's own report has no school section.
    CHECK(s.store->reach_report(0, "t1")->schools.empty());
  }

  SECTION("the per-school report names the student's school") {
    School school;
    school.id = "lincoln";
    school.name = "Lincoln Middle";
    REQUIRE(FallbackFixture::ok([&](auto done) { s.store->put_school(school, done); }));
    Student student{"s1", "Maya", "Diaz", "7", {"t1"}, {{"g1", "mother", true}}, "lincoln"};
    REQUIRE(FallbackFixture::ok([&](auto done) { s.store->put_student(student, done); }));
    auto report = s.store->reach_report(0, "");
    REQUIRE(report.is_ok());
    REQUIRE(report->schools.size() == 1);
    CHECK(report->schools[0].school_id == "lincoln");
    CHECK(report->schools[0].name == "Lincoln Middle");
    CHECK(report->schools[0].unreached.size() == 1);
  }
}

TEST_CASE("fallback: only to a channel with a configured instance") {
  FallbackFixture s;
  s.store->set_available_channels({"sms", "email"});
  s.send("msg_1");
  s.fail_next(DeliveryState::kFailed, "permanent: x");
  auto d = s.deliveries("msg_1");
  REQUIRE(d.size() == 2);
  CHECK(d[1].channel == "email");  // push has no instance
}

TEST_CASE("fallback: retryable failures and dead deliveries do not fall back") {
  FallbackFixture s;
  s.send("msg_1");
  const auto id = s.fail_next(DeliveryState::kDead, "gave up after 5 attempts: retryable: 500");
  auto d = s.deliveries("msg_1");
  REQUIRE(d.size() == 1);
  CHECK(d[0].id == id);
  CHECK(d[0].state == DeliveryState::kDead);
}

TEST_CASE("fallback: never for a restricted or do_not_contact guardian") {
  FallbackFixture s;
  s.send("msg_1");
  auto leased = s.lease();
  REQUIRE(leased.size() == 1);
  SECTION("restricted after the lease") { s.put_student(false); }
  SECTION("do_not_contact after the lease") { s.put_guardian(true); }
  store::DeliveryUpdate u{leased[0].id, leased[0].attempt, DeliveryState::kFailed, 0,
                          "",           "permanent: x"};
  REQUIRE(FallbackFixture::ok([&](auto done) { s.store->record_updates({u}, done); }));
  auto d = s.deliveries("msg_1");
  REQUIRE(d.size() == 1);
  CHECK(d[0].state == DeliveryState::kFailed);
  CHECK(has_event(d[0], "no fallback: "));
  CHECK(s.lease().empty());
}

TEST_CASE("fallback: a legally required message reaches a do_not_contact guardian's next channel") {
  FallbackFixture s;
  s.put_guardian(true);
  s.send("msg_1", /*legally_required=*/true);
  s.fail_next(DeliveryState::kFailed, "permanent: x");
  auto d = s.deliveries("msg_1");
  REQUIRE(d.size() == 2);
  CHECK(d[1].channel == "push");
}

TEST_CASE("fallback: an undelivered report falls back once, late and repeated reports do nothing") {
  FallbackFixture s;
  s.send("msg_1");
  auto leased = s.lease();
  REQUIRE(leased.size() == 1);
  store::DeliveryUpdate sent{leased[0].id, leased[0].attempt, DeliveryState::kSent, 0, "SM1", ""};
  REQUIRE(FallbackFixture::ok([&](auto done) { s.store->record_updates({sent}, done); }));
  using Kind = store::ProviderStatusUpdate::Kind;
  auto report = [&](Kind kind) {
    REQUIRE(FallbackFixture::ok([&](auto done) {
      s.store->record_provider_status({"sms", "SM1", kind, "30003"}, done);
    }));
  };
  report(Kind::kUndelivered);
  auto d = s.deliveries("msg_1");
  REQUIRE(d.size() == 2);
  CHECK(d[0].state == DeliveryState::kFailed);
  CHECK(d[1].channel == "push");
  CHECK(d[1].fallback_of == d[0].id);
  CHECK(has_event(d[1], "fallback of " + d[0].id + ": sms failed (undelivered: 30003)"));

  report(Kind::kUndelivered);
  report(Kind::kBounced);
  report(Kind::kContactStopped);
  // A stale completion of the first lease, after everything.
  REQUIRE(FallbackFixture::ok([&](auto done) {
    s.store->record_updates(
        {{leased[0].id, leased[0].attempt, DeliveryState::kFailed, 0, "", "permanent: late"}},
        done);
  }));
  CHECK(s.deliveries("msg_1").size() == 2);
}

TEST_CASE("fallback: the failure and its fallback are one transaction") {
  FallbackFixture s;
  s.send("msg_1");
  {
    // Make inserting a fallback row fail inside the writer's transaction.
    SQLite::Database db((s.dir / "homeroom.db").string(), SQLite::OPEN_READWRITE);
    db.exec(
        "CREATE TRIGGER refuse_fallback BEFORE INSERT ON deliveries "
        "WHEN NEW.fallback_of IS NOT NULL BEGIN SELECT RAISE(ABORT, 'refused'); END");
  }
  auto leased = s.lease();
  REQUIRE(leased.size() == 1);
  store::DeliveryUpdate u{leased[0].id, leased[0].attempt, DeliveryState::kFailed, 0,
                          "",           "permanent: x"};
  CHECK_FALSE(wait_status([&](auto done) { s.store->record_updates({u}, done); }).is_ok());
  // Nothing of the job stayed: the delivery is still leased, with no failure recorded.
  auto d = s.deliveries("msg_1");
  REQUIRE(d.size() == 1);
  CHECK(d[0].state == DeliveryState::kSending);
  CHECK_FALSE(has_event(d[0], "permanent: x"));

  {
    SQLite::Database db((s.dir / "homeroom.db").string(), SQLite::OPEN_READWRITE);
    db.exec("DROP TRIGGER refuse_fallback");
  }
  REQUIRE(FallbackFixture::ok([&](auto done) { s.store->record_updates({u}, done); }));
  d = s.deliveries("msg_1");
  REQUIRE(d.size() == 2);
  CHECK(d[0].state == DeliveryState::kFailed);
}

TEST_CASE("fallback: the next channel waits for the end of the school's quiet hours") {
  FallbackFixture f;
  // Maya's school keeps 20:00-07:00 quiet; Ana set no quiet hours of her own, and lives in UTC
  // (her own time zone wins over the school's Chicago).
  School school;
  school.id = "lincoln";
  school.name = "Lincoln Middle";
  school.timezone = "America/Chicago";
  school.defaults.quiet_hours = QuietHours{"20:00", "07:00"};
  REQUIRE(FallbackFixture::ok([&](auto done) { f.store->put_school(school, done); }));
  Student s{"s1", "Maya", "Diaz", "7", {"t1"}, {{"g1", "mother", true}}, "lincoln"};
  REQUIRE(FallbackFixture::ok([&](auto done) { f.store->put_student(s, done); }));

  f.clock.set(1'767'283'200'000);  // 2026-01-01T16:00:00Z: sent at once
  f.send("msg_1");
  // The SMS fails at 04:00Z, inside the quiet hours.
  f.clock.set(1'767'326'400'000);
  const std::string sms = f.fail_next(DeliveryState::kFailed, "unreachable");
  auto all = f.deliveries("msg_1");
  REQUIRE(all.size() == 2);
  const auto& next = all[1];
  CHECK(next.channel == "push");
  CHECK(next.state == DeliveryState::kScheduled);
  CHECK(has_event(next, "fallback of " + sms));
  CHECK(next.next_attempt_at == 1'767'337'200'000);  // 2026-01-02T07:00:00Z
  CHECK(f.lease().empty());                          // nothing due during the night
}
