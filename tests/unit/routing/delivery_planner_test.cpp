#include <catch2/catch.hpp>

#include "routing/delivery_planner.h"

using namespace homeroom;
using routing::plan_message;
using routing::PlannerOptions;

namespace {

Guardian guardian(std::string id, std::vector<ContactPoint> contacts,
                  std::vector<std::string> prefs = {}, std::string lang = "en") {
  Guardian g;
  g.id = std::move(id);
  g.given_name = "G";
  g.family_name = "F";
  g.language = std::move(lang);
  g.contacts = std::move(contacts);
  g.preferences.channels = std::move(prefs);
  return g;
}

StudentRoster roster_of(std::vector<std::pair<Guardian, bool>> gs) {
  StudentRoster r;
  r.student.id = "s1";
  for (auto& [g, allowed] : gs) {
    r.student.guardians.push_back({g.id, "parent", allowed});
    r.guardians.push_back(g);
  }
  return r;
}

NewMessage note() {
  NewMessage m;
  m.id = "msg_1";
  m.student_id = "s1";
  m.category = "note";
  m.body = "Maya finished her lab report early.";
  return m;
}

}  // namespace

TEST_CASE("a restricted guardian is never planned - an allowed one gets one delivery") {
  auto r = roster_of({{guardian("g1", {{"email", "a@x.org"}}), true},
                      {guardian("g2", {{"email", "b@x.org"}}), false}});
  auto plan = plan_message(r, note(), 1000, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].guardian_id == "g1");
  CHECK(plan[0].state == DeliveryState::kQueued);
  CHECK(plan[0].address == "a@x.org");
  CHECK(plan[0].not_before == 1000);
}

TEST_CASE("the first preferred channel with a contact point wins") {
  auto g =
      guardian("g1", {{"email", "a@x.org"}, {"sms", "+15551234567"}}, {"push", "sms", "email"});
  auto plan = plan_message(roster_of({{g, true}}), note(), 0, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].channel == "sms");
  CHECK(plan[0].address == "+15551234567");
}

TEST_CASE("a channel with no configured instance is skipped") {
  auto g = guardian("g1", {{"email", "a@x.org"}, {"sms", "+15551234567"}}, {"sms", "email"});
  PlannerOptions opts;
  opts.available_channels = {"email"};
  auto plan = plan_message(roster_of({{g, true}}), note(), 0, opts);
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].channel == "email");
}

TEST_CASE("without preferences the contact points are used in order") {
  auto g = guardian("g1", {{"sms", "+15551234567"}, {"email", "a@x.org"}});
  auto plan = plan_message(roster_of({{g, true}}), note(), 0, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].channel == "sms");
}

TEST_CASE("a guardian with no usable contact is recorded as suppressed, not dropped") {
  auto g = guardian("g1", {{"email", "a@x.org"}}, {"sms"});
  auto plan = plan_message(roster_of({{g, true}}), note(), 0, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].state == DeliveryState::kSuppressed);
  CHECK(plan[0].detail == "no usable contact point");
}

TEST_CASE("two guardians sharing an address get one copy") {
  auto plan = plan_message(roster_of({{guardian("g1", {{"email", "home@x.org"}}), true},
                                      {guardian("g2", {{"email", "home@x.org"}}), true}}),
                           note(), 0, {});
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].state == DeliveryState::kQueued);
  CHECK(plan[1].state == DeliveryState::kSuppressed);
  CHECK(plan[1].detail == "same address as guardian g1 (one copy per household)");
}

TEST_CASE("language follows the guardian when a translation exists") {
  auto m = note();
  m.translations["es"] = "Maya terminó su informe temprano.";
  auto plan = plan_message(roster_of({{guardian("g1", {{"email", "a@x.org"}}, {}, "es"), true},
                                      {guardian("g2", {{"email", "b@x.org"}}, {}, "vi"), true}}),
                           m, 0, {});
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].language == "es");
  CHECK(plan[1].language == "en");
}

TEST_CASE("send_at in the future schedules") {
  auto m = note();
  m.send_at = 5000;
  auto plan =
      plan_message(roster_of({{guardian("g1", {{"email", "a@x.org"}}), true}}), m, 1000, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].state == DeliveryState::kScheduled);
  CHECK(plan[0].not_before == 5000);
  m.send_at = 500;  // in the past: send now
  plan = plan_message(roster_of({{guardian("g1", {{"email", "a@x.org"}}), true}}), m, 1000, {});
  CHECK(plan[0].state == DeliveryState::kQueued);
  CHECK(plan[0].not_before == 1000);
}

TEST_CASE("contacts homeroom stopped using (gone, stopped, bounced) are skipped") {
  auto g =
      guardian("g1", {{"sms", "+15551234567", "stopped"}, {"email", "a@x.org"}}, {"sms", "email"});
  auto plan = plan_message(roster_of({{g, true}}), note(), 0, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].channel == "email");
}

TEST_CASE("a channel the guardian unsubscribed from for a category is skipped for it only") {
  auto g = guardian("g1", {{"email", "a@x.org"}, {"sms", "+15551234567"}}, {"email", "sms"});
  g.unsubscribed = {{"email", "note"}};
  auto r = roster_of({{g, true}});
  auto plan = plan_message(r, note(), 0, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].channel == "sms");
  auto reminder = note();
  reminder.category = "reminder";
  CHECK(plan_message(r, reminder, 0, {})[0].channel == "email");
  auto urgent = note();
  urgent.category = "urgent";
  CHECK(plan_message(r, urgent, 0, {})[0].channel == "email");  // urgent is never affected
  // Without preferences (contact points in order) the same holds.
  auto h = guardian("g1", {{"email", "a@x.org"}, {"sms", "+15551234567"}});
  h.unsubscribed = {{"email", "note"}};
  CHECK(plan_message(roster_of({{h, true}}), note(), 0, {})[0].channel == "sms");
  // The only channel unsubscribed: nothing usable, recorded as suppressed.
  auto only = guardian("g1", {{"email", "a@x.org"}}, {"email"});
  only.unsubscribed = {{"email", "note"}};
  auto none = plan_message(roster_of({{only, true}}), note(), 0, {});
  REQUIRE(none.size() == 1);
  CHECK(none[0].state == DeliveryState::kSuppressed);
}

TEST_CASE("urgent SMS reach a STOPped number only when the school says so") {
  auto g =
      guardian("g1", {{"sms", "+15551234567", "stopped"}, {"email", "a@x.org"}}, {"sms", "email"});
  StudentRoster r = roster_of({{g, true}});
  School school;
  school.id = "sch1";
  r.school = school;
  auto urgent = note();
  urgent.category = "urgent";
  // The default policy: a STOPped number gets nothing, urgent goes by the next channel.
  CHECK(plan_message(r, urgent, 0, {})[0].channel == "email");
  r.school->urgent_to_stopped = true;
  auto plan = plan_message(r, urgent, 0, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].channel == "sms");
  CHECK(plan[0].address == "+15551234567");
  CHECK(plan_message(r, note(), 0, {})[0].channel == "email");  // non-urgent: still stopped
  // Only "stopped" (the family's STOP) is overridden, not a bounced or gone contact.
  r.guardians[0].contacts[0].status = "gone";
  CHECK(plan_message(r, urgent, 0, {})[0].channel == "email");
}
