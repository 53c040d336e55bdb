// Conference slots in the store (store/conference_store.h) on a real SQLite file with a fake
// clock: reminders planned from the school's rules, a moved slot cancelling its unsent reminders
// and planning new ones, cancellation, refusals that change nothing, CSV imports all or nothing,
// and the reminder text the dispatcher leases.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <future>

#include "store/conference_store.h"
#include "store/store.h"
#include "support/temp_dir.h"

using namespace homeroom;
using homeroom::testing::TempDir;

namespace {

constexpr Millis kHour = 3'600'000;
// 2026-01-20T15:00:00-06:00 (a Tuesday in Chicago).
constexpr Millis kSlot = 1'768'942'800'000;

template <typename T>
Result<T> wait(const std::function<void(store::Done<T>)>& call) {
  std::promise<Result<T>> p;
  call([&p](Result<T> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

Status wait_status(const std::function<void(store::StatusDone)>& call) {
  std::promise<Status> p;
  call([&p](Status s) { p.set_value(std::move(s)); });
  return p.get_future().get();
}

struct ConferenceFixture {
  TempDir dir;
  FakeClock clock;  // 2026-01-01T00:00:00Z
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::ConferenceStore> conferences;

  ConferenceFixture() {
    store = std::move(*store::Store::open(dir / "homeroom.db", clock));
    conferences = std::make_unique<store::ConferenceStore>(*store, dir / "homeroom.db", clock);
    School lincoln;
    lincoln.id = "lincoln";
    lincoln.name = "Lincoln Middle";
    lincoln.timezone = "America/Chicago";
    ok([&](auto done) { store->put_school(lincoln, done); });
    ok([&](auto done) {
      store->put_staff({"t1", "Ms. Lee", "lee@school.org", Role::kTeacher}, done);
    });
    ok([&](auto done) {
      store->put_staff({"t2", "Mr. Diaz", "diaz@school.org", Role::kTeacher}, done);
    });
    Guardian ana{"g1", "Ana", "Diaz", "es", "America/Chicago", {{"sms", "+15551230001"}}, {}};
    Guardian ben{"g2", "Ben", "Diaz", "en", "America/Chicago", {{"email", "ben@x.org"}}, {}};
    ok([&](auto done) { store->put_guardian(ana, done); });
    ok([&](auto done) { store->put_guardian(ben, done); });
    Student maya{"s1", "Maya", "Diaz",
                 "7",  {"t1"}, {{"g1", "mother", true}, {"g2", "father", true}}};
    maya.school_id = "lincoln";
    ok([&](auto done) { store->put_student(maya, done); });
    Student leo{"s2", "Leo", "Diaz", "5", {"t2"}, {{"g1", "mother", true}}};
    ok([&](auto done) { store->put_student(leo, done); });
  }

  static void ok(const std::function<void(store::StatusDone)>& call) {
    Status s = wait_status(call);
    INFO(s.to_string());
    REQUIRE(s.is_ok());
  }

  static Conference slot(const std::string& id = "c1", Millis starts_at = kSlot) {
    return {id, "s1", "t1", starts_at, 20, "Room 12"};
  }

  Result<store::ConferencePut> put(const Conference& c) {
    return wait<store::ConferencePut>([&](auto done) { conferences->put(c, done); });
  }
  store::ConferenceView put_ok(const Conference& c) {
    auto r = put(c);
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
    return r->view;
  }

  std::vector<LeasedDelivery> lease() {
    auto r =
        wait<std::vector<LeasedDelivery>>([&](auto done) { store->lease_due(10, 60'000, done); });
    REQUIRE(r.is_ok());
    return *r;
  }

  // Leases what is due and records it sent, as the dispatcher would after the provider said yes.
  std::vector<LeasedDelivery> send_due() {
    auto leased = lease();
    std::vector<store::DeliveryUpdate> sent;
    for (const auto& d : leased) {
      sent.push_back({d.id, d.attempt, DeliveryState::kSent, 0, "SM" + d.id, ""});
    }
    ok([&](auto done) { store->record_updates(sent, done); });
    return leased;
  }

  // The states of every reminder delivery of a slot, reminder by reminder.
  std::vector<std::string> states(const std::string& id) {
    auto v = conferences->get(id);
    REQUIRE(v.is_ok());
    std::vector<std::string> out;
    for (const auto& r : v->reminders) {
      for (const auto& d : r.deliveries) {
        out.push_back(std::to_string(r.minutes_before) + " " + d.guardian_id + " " +
                      state_name(d.state));
      }
    }
    return out;
  }
};

}  // namespace

TEST_CASE("conferences: a slot gets one reminder per school rule for each guardian") {
  ConferenceFixture f;
  auto v = f.put_ok(f.slot());
  CHECK(v.state == "scheduled");
  CHECK(v.conference.place == "Room 12");
  REQUIRE(v.reminders.size() == 2);  // the default rules: 3 days, 2 hours
  CHECK(v.reminders[0].minutes_before == 4320);
  CHECK(v.reminders[1].minutes_before == 120);
  for (const auto& r : v.reminders) {
    CHECK(r.timezone == "America/Chicago");
    CHECK(r.starts_at == kSlot);
    CHECK_FALSE(r.cancelled_at);
    REQUIRE(r.deliveries.size() == 2);
    CHECK(r.deliveries[0].guardian_id == "g1");
    CHECK(r.deliveries[0].channel == "sms");
    CHECK(r.deliveries[0].language == "es");
    CHECK(r.deliveries[1].guardian_id == "g2");
    CHECK(r.deliveries[1].channel == "email");
    for (const auto& d : r.deliveries) CHECK(d.state == DeliveryState::kScheduled);
  }
  CHECK(v.reminders[0].deliveries[0].next_attempt_at == kSlot - 72 * kHour);
  CHECK(v.reminders[1].deliveries[0].next_attempt_at == kSlot - 2 * kHour);

  auto message = f.store->get_message(v.reminders[1].message_id);
  REQUIRE(message.is_ok());
  CHECK(message->message.category == "conference");
  CHECK(message->message.author_staff == "t1");
  CHECK(message->message.body ==
        "Reminder: Maya's conference with Ms. Lee is on Tuesday, January 20 at 3:00 PM CST "
        "(20 min).\nPlace: Room 12");
  CHECK(message->message.translations.at("es") ==
        "Recordatorio: la reunión de Maya con Ms. Lee es el martes 20 de enero a las 15:00 CST "
        "(20 min).\nLugar: Room 12");

  SECTION("the same PUT again changes nothing") {
    auto again = f.put(f.slot());
    REQUIRE(again.is_ok());
    CHECK(again->change == store::ConferenceChange::kUnchanged);
    CHECK(again->view.reminders.size() == 2);
  }
  SECTION("when a reminder is due, the dispatcher leases it with the family's text") {
    f.clock.set(kSlot - 72 * kHour);
    REQUIRE(f.send_due().size() == 2);  // the 3-day ones
    f.clock.set(kSlot - 2 * kHour);
    auto leased = f.send_due();
    REQUIRE(leased.size() == 2);
    for (const auto& d : leased) {
      CHECK(d.category == "conference");
      CHECK(d.author_name == "Ms. Lee");
      CHECK(d.message_id == v.reminders[1].message_id);
    }
    const auto& ana = leased[0].guardian_id == "g1" ? leased[0] : leased[1];
    CHECK(ana.text.rfind("Recordatorio: la reunión de Maya con Ms. Lee es el martes 20 de enero "
                         "a las 15:00 CST",
                         0) == 0);
  }
}

TEST_CASE("conferences: a moved slot cancels its unsent reminders and plans new ones") {
  ConferenceFixture f;
  auto first = f.put_ok(f.slot());
  // The 3-day reminder went out already.
  f.clock.set(kSlot - 72 * kHour);
  REQUIRE(f.send_due().size() == 2);

  auto moved = f.slot();
  moved.starts_at = kSlot + 24 * kHour;  // the next day, same time
  moved.place = "Library";
  auto r = f.put(moved);
  REQUIRE(r.is_ok());
  CHECK(r->change == store::ConferenceChange::kUpdated);
  const auto& v = r->view;
  REQUIRE(v.reminders.size() == 4);
  // The old ones: cancelled; what was sent stays sent, the rest suppressed with the reason.
  CHECK(v.reminders[0].cancelled_at);
  CHECK(v.reminders[1].cancelled_at);
  CHECK(f.states("c1") == std::vector<std::string>{"4320 g1 sent", "4320 g2 sent",
                                                   "120 g1 suppressed", "120 g2 suppressed",
                                                   "4320 g1 scheduled", "4320 g2 scheduled",
                                                   "120 g1 scheduled", "120 g2 scheduled"});
  CHECK(v.reminders[1].deliveries[0].last_error == "cancelled: the conference moved");
  // The new ones name the new time, and go at the new times.
  CHECK_FALSE(v.reminders[2].cancelled_at);
  CHECK(v.reminders[2].starts_at == moved.starts_at);
  CHECK(v.reminders[2].deliveries[0].next_attempt_at == moved.starts_at - 72 * kHour);
  CHECK(v.reminders[3].deliveries[0].next_attempt_at == moved.starts_at - 2 * kHour);
  auto text = f.store->get_message(v.reminders[3].message_id);
  REQUIRE(text.is_ok());
  CHECK(text->message.body.find("Wednesday, January 21 at 3:00 PM CST") != std::string::npos);
  CHECK(text->message.body.find("Place: Library") != std::string::npos);

  // At the old 2-hour time only the new 3-day reminders are due; at the new 2-hour time, the new
  // 2-hour ones.
  f.clock.set(kSlot - 2 * kHour);
  auto leased = f.send_due();
  REQUIRE(leased.size() == 2);
  for (const auto& d : leased) CHECK(d.message_id == v.reminders[2].message_id);
  f.clock.set(moved.starts_at - 2 * kHour);
  leased = f.send_due();
  REQUIRE(leased.size() == 2);
  for (const auto& d : leased) CHECK(d.message_id == v.reminders[3].message_id);

  SECTION("a changed place alone replans too, naming the reason") {
    auto placed = moved;
    placed.place = "Gym";
    auto p = f.put(placed);
    REQUIRE(p.is_ok());
    CHECK(p->change == store::ConferenceChange::kUpdated);
  }
}

TEST_CASE("conferences: DELETE cancels the unsent reminders, once, and sent ones stay") {
  ConferenceFixture f;
  f.put_ok(f.slot());
  f.clock.set(kSlot - 72 * kHour);
  REQUIRE(f.send_due().size() == 2);  // the 3-day reminders went out
  auto r = wait<store::ConferenceView>([&](auto done) { f.conferences->cancel("c1", done); });
  REQUIRE(r.is_ok());
  CHECK(r->state == "cancelled");
  CHECK(r->cancelled_at);
  CHECK(f.states("c1") == std::vector<std::string>{"4320 g1 sent", "4320 g2 sent",
                                                   "120 g1 suppressed", "120 g2 suppressed"});
  CHECK(r->reminders[1].deliveries[0].last_error == "cancelled: the conference was cancelled");
  f.clock.set(kSlot - kHour);
  CHECK(f.lease().empty());

  auto again = wait<store::ConferenceView>([&](auto done) { f.conferences->cancel("c1", done); });
  REQUIRE(again.is_ok());
  CHECK(again->cancelled_at == r->cancelled_at);
  auto unknown =
      wait<store::ConferenceView>([&](auto done) { f.conferences->cancel("nope", done); });
  CHECK(unknown.status().code() == Code::kNotFound);

  SECTION("a PUT brings it back with new reminders") {
    auto back = f.put(f.slot());
    REQUIRE(back.is_ok());
    CHECK(back->view.state == "scheduled");
    CHECK(back->view.reminders.size() == 3);  // the 3-day time has passed by now
    CHECK(back->view.reminders.back().minutes_before == 120);
  }
}

TEST_CASE("conferences: a reminder with the provider when its slot moves is not retried") {
  ConferenceFixture f;
  f.put_ok(f.slot());
  f.clock.set(kSlot - 72 * kHour);
  auto leased = f.lease();  // with the provider now
  REQUIRE(leased.size() == 2);

  auto moved = f.slot();
  moved.starts_at = kSlot + 24 * kHour;
  REQUIRE(f.put(moved).is_ok());
  // The provider timed out: a retry is planned for a minute later.
  std::vector<store::DeliveryUpdate> retry;
  for (const auto& d : leased) {
    retry.push_back(
        {d.id, d.attempt, DeliveryState::kQueued, kSlot - 72 * kHour + 60'000, "", "timed out"});
  }
  f.ok([&](auto done) { f.store->record_updates(retry, done); });

  // At the retry the old text (naming the old time) is suppressed, not sent; the new reminders
  // wait for their own times.
  f.clock.set(kSlot - 72 * kHour + 60'000);
  CHECK(f.lease().empty());
  auto v = f.conferences->get("c1");
  REQUIRE(v.is_ok());
  CHECK(f.states("c1") == std::vector<std::string>{"4320 g1 suppressed", "4320 g2 suppressed",
                                                   "120 g1 suppressed", "120 g2 suppressed",
                                                   "4320 g1 scheduled", "4320 g2 scheduled",
                                                   "120 g1 scheduled", "120 g2 scheduled"});
  CHECK(v->reminders[0].deliveries[0].last_error ==
        "cancelled: the conference moved or was cancelled since this reminder");
}

TEST_CASE("conferences: refusals name the field and change nothing") {
  ConferenceFixture f;
  f.put_ok(f.slot());
  const auto before = f.states("c1");

  auto c = f.slot();
  c.student_id = "nobody";
  CHECK(f.put(c).status().field() == "student_id");
  c = f.slot();
  c.staff_id = "nobody";
  CHECK(f.put(c).status().field() == "staff_id");
  c = f.slot();
  c.starts_at = f.clock.now();
  auto past = f.put(c);
  CHECK(past.status().code() == Code::kInvalidArgument);
  CHECK(past.status().field() == "starts_at");
  CHECK(f.states("c1") == before);
  CHECK(f.conferences->get("c1")->conference.starts_at == kSlot);

  // A slot already past may be PUT again unchanged (a re-import of last month's file).
  f.clock.set(kSlot + kHour);
  auto replay = f.put(f.slot());
  REQUIRE(replay.is_ok());
  CHECK(replay->change == store::ConferenceChange::kUnchanged);
  CHECK(f.conferences->get("nope").status().code() == Code::kNotFound);
}

TEST_CASE("conferences: the school's rules, and students without a school get the defaults") {
  ConferenceFixture f;
  School lincoln = *f.store->get_school("lincoln");
  CHECK(lincoln.conference_reminders == std::vector<int>{4320, 120});
  lincoln.conference_reminders = {60};
  ConferenceFixture::ok([&](auto done) { f.store->put_school(lincoln, done); });
  CHECK(f.store->get_school("lincoln")->conference_reminders == std::vector<int>{60});

  auto v = f.put_ok(f.slot());
  REQUIRE(v.reminders.size() == 1);
  CHECK(v.reminders[0].minutes_before == 60);

  // Leo has no school: 3 days and 2 hours; his one guardian is Ana.
  Conference leo{"c2", "s2", "t2", kSlot + kHour, 15, "Room 3"};
  auto l = f.put_ok(leo);
  REQUIRE(l.reminders.size() == 2);
  CHECK(l.reminders[0].deliveries.size() == 1);

  auto listed = f.conferences->list("", "t2");
  REQUIRE(listed.is_ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].conference.id == "c2");
  CHECK(f.conferences->list("s1", "")->size() == 1);
  CHECK(f.conferences->list("", "")->size() == 2);
}

TEST_CASE("conferences: a CSV import is all or nothing, and re-importing updates in place") {
  ConferenceFixture f;
  auto import = [&](std::vector<ConferenceRow> rows, bool dry_run = false) {
    return wait<store::ConferenceImportSummary>(
        [&](auto done) { f.conferences->import(std::move(rows), dry_run, done); });
  };
  std::vector<ConferenceRow> rows{{ConferenceFixture::slot("c1"), 2},
                                  {{"c2", "s2", "t2", kSlot + kHour, 15, "Room 3"}, 3}};

  auto dry = import(rows, true);
  REQUIRE(dry.is_ok());
  CHECK(dry->created == 2);
  CHECK(dry->errors.empty());
  CHECK(f.conferences->get("c1").status().code() == Code::kNotFound);

  auto bad = rows;
  bad.push_back({{"c3", "nobody", "t1", kSlot, 20, "Room 1"}, 4});
  bad.push_back({{"c4", "s1", "t1", f.clock.now() - 1, 20, "Room 1"}, 5});
  auto refused = import(bad);
  REQUIRE(refused.is_ok());
  REQUIRE(refused->errors.size() == 2);
  CHECK(refused->errors[0] == CsvError{4, "student_id", "unknown student nobody"});
  CHECK(refused->errors[1].line == 5);
  CHECK(refused->errors[1].column == "starts_at");
  CHECK(f.conferences->get("c1").status().code() == Code::kNotFound);  // nothing was written
  CHECK(f.store->delivery_counts()->empty());

  auto imported = import(rows);
  REQUIRE(imported.is_ok());
  CHECK(imported->created == 2);
  CHECK(imported->reminders == 6);  // c1: 2 rules x 2 guardians; c2: 2 rules x Ana
  auto again = import(rows);
  REQUIRE(again.is_ok());
  CHECK(again->unchanged == 2);
  CHECK(again->reminders == 0);
  rows[1].conference.place = "Room 4";
  auto changed = import(rows);
  REQUIRE(changed.is_ok());
  CHECK(changed->unchanged == 1);
  CHECK(changed->updated == 1);
  CHECK(f.conferences->get("c2")->conference.place == "Room 4");
  CHECK(f.conferences->list("", "")->size() == 2);
}
