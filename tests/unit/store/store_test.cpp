#include <catch2/catch.hpp>
#include <future>

#include "core/ids.h"
#include "routing/delivery_planner.h"
#include "store/store.h"
#include "support/store_wait.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::TempDir;
using homeroom::testing::wait_for;
using homeroom::testing::wait_status;

namespace {

struct Fixture {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<store::Store> store;

  Fixture() {
    auto opened = store::Store::open(dir / "homeroom.db", clock);
    REQUIRE(opened.is_ok());
    store = std::move(*opened);
    REQUIRE(wait_status([&](auto done) {
              store->put_staff({"t1", "Ms. Lee", "lee@school.org", Role::kTeacher}, done);
            }).is_ok());
    Guardian g1{"g1", "Ana", "Diaz", "es", "America/Chicago", {{"email", "ana@x.org"}}, {}};
    Guardian g2{"g2", "Ben", "Diaz", "en", "UTC", {{"sms", "+15551234567"}}, {}};
    REQUIRE(wait_status([&](auto done) { store->put_guardian(g1, done); }).is_ok());
    REQUIRE(wait_status([&](auto done) { store->put_guardian(g2, done); }).is_ok());
    Student s{"s1", "Maya", "Diaz", "7", {"t1"}, {{"g1", "mother", true}, {"g2", "father", true}}};
    REQUIRE(wait_status([&](auto done) { store->put_student(s, done); }).is_ok());
  }

  Result<store::StoredResponse> send(NewMessage m, std::optional<store::IdempotencyRef> idem = {}) {
    return wait_for<store::StoredResponse>([&](auto done) {
      store->accept_message(
          std::move(m), std::move(idem),
          [](const StudentRoster& r, const NewMessage& msg,
             Millis now) -> Result<std::vector<PlannedDelivery>> {
            static const routing::PlannerOptions kOptions;
            return routing::plan_message(r, msg, now, kOptions);
          },
          [](const store::AcceptedMessage& a) {
            return store::StoredResponse{202,
                                         a.message.id + ":" + std::to_string(a.deliveries.size())};
          },
          done);
    });
  }
};

NewMessage note(std::string id = new_id("msg_")) {
  NewMessage m;
  m.id = std::move(id);
  m.student_id = "s1";
  m.category = "note";
  m.body = "Maya finished her lab report early.";
  m.translations["es"] = "Maya terminó su informe temprano.";
  return m;
}

}  // namespace

TEST_CASE("roster round trip") {
  Fixture f;
  auto g = f.store->get_guardian("g1");
  REQUIRE(g.is_ok());
  CHECK(g->language == "es");
  REQUIRE(g->contacts.size() == 1);
  CHECK(g->contacts[0].address == "ana@x.org");
  auto s = f.store->get_student("s1");
  REQUIRE(s.is_ok());
  CHECK(s->staff == std::vector<std::string>{"t1"});
  REQUIRE(s->guardians.size() == 2);
  CHECK(s->guardians[1].relationship == "father");
  CHECK(*f.store->teaches("t1", "s1"));
  CHECK_FALSE(*f.store->teaches("t2", "s1"));
  CHECK(f.store->get_student("nope").status().code() == Code::kNotFound);
}

TEST_CASE("a student naming an unknown guardian is refused, naming the field") {
  Fixture f;
  Student s{"s2", "Leo", "Diaz", "5", {}, {{"g1", "mother", true}, {"g9", "father", true}}};
  auto st = wait_status([&](auto done) { f.store->put_student(s, done); });
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK(st.field() == "guardians[1].id");
  CHECK(f.store->get_student("s2").status().code() == Code::kNotFound);  // nothing written
}

TEST_CASE("accepting a message plans and stores its deliveries in one go") {
  Fixture f;
  auto m = note();
  auto r = f.send(m);
  REQUIRE(r.is_ok());
  CHECK(r->status == 202);
  CHECK_FALSE(r->replayed);
  auto view = f.store->get_message(m.id);
  REQUIRE(view.is_ok());
  REQUIRE(view->deliveries.size() == 2);
  CHECK(view->deliveries[0].language == "es");
  CHECK(view->deliveries[0].state == DeliveryState::kQueued);
  CHECK(view->deliveries[1].channel == "sms");
  CHECK(view->message.translations.at("es") == "Maya terminó su informe temprano.");
}

TEST_CASE("the same Idempotency-Key replays the first answer and creates nothing") {
  Fixture f;
  store::IdempotencyRef idem{"tok_1", "key-1", "hash-a"};
  auto first = f.send(note("msg_a"), idem);
  REQUIRE(first.is_ok());
  auto again = f.send(note("msg_b"), idem);
  REQUIRE(again.is_ok());
  CHECK(again->replayed);
  CHECK(again->body == first->body);
  CHECK(f.store->get_message("msg_b").status().code() == Code::kNotFound);
  auto counts = f.store->delivery_counts();
  CHECK(counts->at("queued") == 2);

  store::IdempotencyRef other{"tok_1", "key-1", "hash-b"};
  auto conflict = f.send(note("msg_c"), other);
  CHECK(conflict.status().code() == Code::kConflict);
  // Another caller may use the same key for its own request.
  auto mine = f.send(note("msg_d"), store::IdempotencyRef{"tok_2", "key-1", "hash-b"});
  CHECK(mine.is_ok());
}

TEST_CASE("unknown student is refused naming student_id") {
  Fixture f;
  auto m = note();
  m.student_id = "s404";
  auto r = f.send(m);
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().field() == "student_id");
}

TEST_CASE("leases: due rows are taken once - an expired lease returns the delivery") {
  Fixture f;
  REQUIRE(f.send(note("msg_1")).is_ok());
  auto lease = [&](int n) {
    return wait_for<std::vector<LeasedDelivery>>(
        [&](auto done) { f.store->lease_due(n, 60'000, done); });
  };
  auto first = lease(10);
  REQUIRE(first.is_ok());
  REQUIRE(first->size() == 2);
  const auto& es = (*first)[0].language == "es" ? (*first)[0] : (*first)[1];
  CHECK(es.text == "Maya terminó su informe temprano.");
  CHECK(es.student_given_name == "Maya");
  CHECK(es.author_name.empty());
  CHECK(es.attempt == 1);
  CHECK(lease(10)->empty());  // leased: not due again

  f.clock.advance(std::chrono::seconds(61));  // the dispatcher "crashed"
  auto again = lease(10);
  REQUIRE(again->size() == 2);
  CHECK((*again)[0].attempt == 2);

  // The first lease's late completion is stale and changes nothing.
  std::vector<store::DeliveryUpdate> stale{{(*first)[0].id, 1, DeliveryState::kSent, 0, "p1", ""}};
  REQUIRE(wait_status([&](auto done) { f.store->record_updates(stale, done); }).is_ok());
  auto view = f.store->get_message("msg_1");
  for (const auto& d : view->deliveries) CHECK(d.state == DeliveryState::kSending);

  std::vector<store::DeliveryUpdate> fresh;
  for (const auto& d : *again)
    fresh.push_back({d.id, d.attempt, DeliveryState::kSent, 0, "p2", ""});
  REQUIRE(wait_status([&](auto done) { f.store->record_updates(fresh, done); }).is_ok());
  view = f.store->get_message("msg_1");
  for (const auto& d : view->deliveries) {
    CHECK(d.state == DeliveryState::kSent);
    CHECK(d.provider_id == "p2");
    // queued, sending, sending (lease expired), sent
    REQUIRE(d.events.size() == 4);
    CHECK(d.events[2].detail == "attempt 2 (the previous lease expired)");
  }
  CHECK_FALSE(f.store->next_due()->has_value());
}

TEST_CASE("a guardian restricted after planning is suppressed, never leased") {
  Fixture f;
  REQUIRE(f.send(note("msg_1")).is_ok());
  Student s{"s1", "Maya", "Diaz", "7", {"t1"}, {{"g1", "mother", true}, {"g2", "father", false}}};
  REQUIRE(wait_status([&](auto done) { f.store->put_student(s, done); }).is_ok());
  auto leased = wait_for<std::vector<LeasedDelivery>>(
      [&](auto done) { f.store->lease_due(10, 60'000, done); });
  REQUIRE(leased->size() == 1);
  CHECK((*leased)[0].guardian_id == "g1");
  auto counts = f.store->delivery_counts();
  CHECK(counts->at("suppressed") == 1);
}

TEST_CASE("scheduled deliveries wait for their time") {
  Fixture f;
  auto m = note("msg_s");
  m.send_at = f.clock.now() + 3'600'000;
  REQUIRE(f.send(m).is_ok());
  auto lease = [&] {
    return wait_for<std::vector<LeasedDelivery>>(
        [&](auto done) { f.store->lease_due(10, 60'000, done); });
  };
  CHECK(lease()->empty());
  CHECK(f.store->next_due()->value() == *m.send_at);
  f.clock.advance(std::chrono::hours(1));
  CHECK(lease()->size() == 2);
}

TEST_CASE("tokens are found by hash only") {
  Fixture f;
  auto id = wait_for<std::string>(
      [&](auto done) { f.store->create_token(sha256_hex("secret"), Role::kTeacher, "t1", done); });
  REQUIRE(id.is_ok());
  auto p = f.store->find_token(sha256_hex("secret"));
  REQUIRE(p.is_ok());
  CHECK(p->staff_id == "t1");
  CHECK(p->role == Role::kTeacher);
  CHECK(f.store->find_token("secret").status().code() == Code::kUnauthenticated);
  auto bad = wait_for<std::string>(
      [&](auto done) { f.store->create_token(sha256_hex("x"), Role::kTeacher, "t9", done); });
  CHECK(bad.status().field() == "staff");
}

TEST_CASE("reopening applies no migration twice and keeps the data") {
  TempDir dir;
  FakeClock clock;
  {
    auto s = store::Store::open(dir / "h.db", clock);
    REQUIRE(s.is_ok());
    std::promise<Status> p;
    (*s)->put_staff({"t1", "Ms. Lee", "", Role::kTeacher}, [&](Status st) { p.set_value(st); });
    REQUIRE(p.get_future().get().is_ok());
  }
  auto s = store::Store::open(dir / "h.db", clock);
  REQUIRE(s.is_ok());
  CHECK((*s)->get_staff("t1")->name == "Ms. Lee");
}

TEST_CASE("provider reports move deliveries forward only, and mark stopped contacts") {
  Fixture f;
  REQUIRE(f.send(note("msg_1")).is_ok());
  auto leased = wait_for<std::vector<LeasedDelivery>>(
      [&](auto done) { f.store->lease_due(10, 60'000, done); });
  REQUIRE(leased->size() == 2);
  std::vector<store::DeliveryUpdate> sent;
  for (const auto& d : *leased) {
    store::DeliveryUpdate u{d.id, d.attempt, DeliveryState::kSent, 0, "P-" + d.guardian_id, ""};
    u.segments = d.channel == "sms" ? 2 : 0;
    sent.push_back(u);
  }
  REQUIRE(wait_status([&](auto done) { f.store->record_updates(sent, done); }).is_ok());
  using Kind = store::ProviderStatusUpdate::Kind;
  auto report = [&](std::string channel, std::string id, Kind kind) {
    REQUIRE(wait_status([&](auto done) {
              f.store->record_provider_status({channel, id, kind, "30003"}, done);
            }).is_ok());
  };
  report("sms", "P-g2", Kind::kDelivered);
  report("sms", "P-g2", Kind::kUndelivered);  // after delivered: would move backwards, ignored
  report("email", "P-g1", Kind::kContactStopped);
  report("sms", "P-unknown", Kind::kDelivered);  // not ours: nothing happens
  report("email", "P-g2", Kind::kDelivered);     // right id, wrong channel: nothing

  auto view = f.store->get_message("msg_1");
  std::map<std::string, store::DeliveryView> by;
  for (const auto& d : view->deliveries) by[d.guardian_id] = d;
  CHECK(by["g2"].state == DeliveryState::kDelivered);
  CHECK(by["g2"].segments == 2);
  CHECK(by["g1"].state == DeliveryState::kFailed);
  CHECK(by["g1"].last_error == "contact stopped: 30003");
  CHECK(f.store->get_guardian("g1")->contacts[0].status == "stopped");
  CHECK(f.store->get_guardian("g2")->contacts[0].status == "active");
}

TEST_CASE("a contact gone at send time is marked so it is not used again") {
  Fixture f;
  REQUIRE(f.send(note("msg_1")).is_ok());
  auto leased = wait_for<std::vector<LeasedDelivery>>(
      [&](auto done) { f.store->lease_due(10, 60'000, done); });
  std::vector<store::DeliveryUpdate> updates;
  for (const auto& d : *leased) {
    store::DeliveryUpdate u{d.id, d.attempt, DeliveryState::kFailed, 0, "", "contact gone: 410"};
    if (d.guardian_id == "g1") u.contact_status = "gone";
    updates.push_back(u);
  }
  REQUIRE(wait_status([&](auto done) { f.store->record_updates(updates, done); }).is_ok());
  CHECK(f.store->get_guardian("g1")->contacts[0].status == "gone");
  CHECK(f.store->get_guardian("g2")->contacts[0].status == "active");
}

TEST_CASE("named secrets are created once and kept") {
  TempDir dir;
  FakeClock clock;
  std::string first;
  {
    auto s = std::move(*store::Store::open(dir / "h.db", clock));
    first = *s->secret("tokens");
    CHECK(first.size() == 32);
    CHECK(*s->secret("tokens") == first);
    CHECK(*s->secret("other") != first);
  }
  auto s = std::move(*store::Store::open(dir / "h.db", clock));
  CHECK(*s->secret("tokens") == first);
}

TEST_CASE("do_not_contact, digest time and legally required messages are kept") {
  Fixture f;
  Guardian g{"g9", "Dee", "Diaz", "en", "UTC", {{"email", "dee@x.org"}}, {}};
  g.do_not_contact = true;
  g.preferences.digest_time = "18:15";
  REQUIRE(wait_status([&](auto done) { f.store->put_guardian(g, done); }).is_ok());
  auto back = f.store->get_guardian("g9");
  CHECK(back->do_not_contact);
  CHECK(back->preferences.digest_time == std::optional<std::string>("18:15"));
  auto m = note("msg_legal");
  m.legally_required = true;
  REQUIRE(f.send(m).is_ok());
  CHECK(f.store->get_message("msg_legal")->message.legally_required);
  CHECK_FALSE(f.store->get_guardian("g1")->do_not_contact);
}
