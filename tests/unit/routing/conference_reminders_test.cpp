// Conference reminder times (routing/conference_reminders.h) and the local-time helpers they use:
// rules in the family's zone, across DST, moved before quiet hours, past times.
#include <catch2/catch.hpp>

#include "routing/conference_reminders.h"
#include "routing/local_time.h"
#include "unit/routing/planner_test_support.h"

using namespace homeroom;
using namespace homeroom::routing_test;
using routing::plan_conference_reminders;
using routing::PlannedReminder;

namespace {

constexpr const char* kChicago = "America/Chicago";
const std::set<std::string> kLanguages{"en", "es"};
const std::vector<int> kDefaultRules{4320, 120};

Conference slot_at(Millis starts_at) {
  Conference c;
  c.id = "c1";
  c.student_id = "sA";
  c.staff_id = "t1";
  c.starts_at = starts_at;
  c.duration_minutes = 20;
  c.place = "Room 12";
  return c;
}

std::vector<PlannedReminder> plan(const StudentRoster& roster, Millis starts_at, Millis now,
                                  const std::vector<int>& rules = kDefaultRules,
                                  const routing::PlannerOptions& options = {}) {
  return plan_conference_reminders(roster, slot_at(starts_at), rules, kLanguages, now, options);
}

std::string when(const PlannedReminder& r, const std::string& zone = kChicago) {
  return local_text(zone, r.delivery.not_before);
}

}  // namespace

TEST_CASE("conference reminders - 3 days and 2 hours before, in the family's zone and language") {
  auto ana = guardian("g1", {{"sms", "+15550000001"}}, kChicago, "es-MX");
  const Millis slot = at(kChicago, 2026, 11, 24, 15, 0);
  auto reminders = plan(student("sA", {{ana, true}}), slot, at(kChicago, 2026, 11, 16, 9, 0));
  REQUIRE(reminders.size() == 2);
  CHECK(reminders[0].minutes_before == 4320);
  CHECK(when(reminders[0]) == "2026-11-21 15:00");
  CHECK(reminders[1].minutes_before == 120);
  CHECK(when(reminders[1]) == "2026-11-24 13:00");
  for (const auto& r : reminders) {
    CHECK(r.timezone == kChicago);
    CHECK(r.delivery.state == DeliveryState::kScheduled);
    CHECK(r.delivery.language == "es");
    CHECK(r.delivery.channel == "sms");
    CHECK(r.delivery.student_ids == std::vector<std::string>{"sA"});
    CHECK_FALSE(r.delivery.digest);
  }
  CHECK(reminders[0].delivery.detail == "conference reminder 3 days before");
  CHECK(reminders[1].delivery.detail == "conference reminder 2 h before");
}

TEST_CASE("conference reminders - whole days keep the local time across DST, minutes do not") {
  auto g = guardian("g1", {{"sms", "+15550000001"}}, kChicago);
  // Clocks go forward on Sunday 2026-03-08: three local days before Tuesday 15:00 is 71 hours.
  const Millis spring = at(kChicago, 2026, 3, 10, 15, 0);
  auto reminders =
      plan(student("sA", {{g, true}}), spring, at(kChicago, 2026, 3, 1, 9, 0), {4320, 4380, 120});
  REQUIRE(reminders.size() == 3);
  CHECK(when(reminders[0]) == "2026-03-07 14:00");  // 3 days and 1 h: days first, then the hour
  CHECK(when(reminders[1]) == "2026-03-07 15:00");
  CHECK(spring - reminders[1].delivery.not_before == 71 * 3'600'000LL);
  CHECK(spring - reminders[2].delivery.not_before == 2 * 3'600'000LL);

  // Clocks go back on 2026-11-01: three local days before Tuesday 2026-11-03 15:00 is 73 hours.
  const Millis fall = at(kChicago, 2026, 11, 3, 15, 0);
  reminders = plan(student("sA", {{g, true}}), fall, at(kChicago, 2026, 10, 20, 9, 0));
  REQUIRE(reminders.size() == 2);
  CHECK(when(reminders[0]) == "2026-10-31 15:00");
  CHECK(fall - reminders[0].delivery.not_before == 73 * 3'600'000LL);

  // A reminder time inside the spring-forward gap resolves to the transition.
  const Millis after_gap = at(kChicago, 2026, 3, 11, 2, 30);
  reminders = plan(student("sA", {{g, true}}), after_gap, at(kChicago, 2026, 3, 1, 9, 0), {4320});
  REQUIRE(reminders.size() == 1);
  CHECK(when(reminders[0]) == "2026-03-08 03:00");
}

TEST_CASE("conference reminders - quiet hours move a reminder EARLIER, never past the slot") {
  struct Row {
    std::string name, start, end;
    int minutes;
    std::string expected;  // local to Chicago
  };
  // The slot: Thursday 2026-11-26 08:00 Chicago.
  const std::vector<Row> rows{
      {"2 h before is 06:00, inside 20:00-07:00: the evening before", "20:00", "07:00", 120,
       "2026-11-25 19:59"},
      {"3 days before is 08:00: outside the window, unchanged", "20:00", "07:00", 4320,
       "2026-11-23 08:00"},
      {"30 min before is 07:30, inside a morning window", "07:00", "07:45", 30, "2026-11-26 06:59"},
      {"exactly at the window start is inside", "06:00", "07:00", 120, "2026-11-26 05:59"},
      {"exactly at the window end is outside", "05:00", "06:00", 120, "2026-11-26 06:00"},
  };
  const Millis slot = at(kChicago, 2026, 11, 26, 8, 0);
  for (const auto& row : rows) {
    CAPTURE(row.name);
    auto g = guardian("g1", {{"sms", "+15550000001"}}, kChicago);
    g.preferences.quiet_hours = QuietHours{row.start, row.end};
    auto reminders =
        plan(student("sA", {{g, true}}), slot, at(kChicago, 2026, 11, 16, 9, 0), {row.minutes});
    REQUIRE(reminders.size() == 1);
    CHECK(when(reminders[0]) == row.expected);
    CHECK(reminders[0].delivery.not_before < slot);
    const bool moved = row.expected != local_text(kChicago, slot - row.minutes * 60'000LL);
    CHECK((reminders[0].delivery.detail.find("moved before quiet hours (America/Chicago)") !=
           std::string::npos) == moved);
  }
}

TEST_CASE("conference reminders - the school's quiet hours and zone fill in for the family's") {
  auto g = guardian("g1", {{"sms", "+15550000001"}}, "");  // no zone of its own
  School school;
  school.id = "lincoln";
  school.timezone = kChicago;
  school.defaults.quiet_hours = QuietHours{"21:00", "07:00"};
  auto roster = student("sA", {{g, true}});
  roster.school = school;
  auto reminders =
      plan(roster, at(kChicago, 2026, 11, 26, 8, 0), at(kChicago, 2026, 11, 16, 9, 0), {120});
  REQUIRE(reminders.size() == 1);
  CHECK(reminders[0].timezone == kChicago);
  CHECK(when(reminders[0]) == "2026-11-25 20:59");
}

TEST_CASE("conference reminders - a passed time is skipped, the rest stay") {
  auto g = guardian("g1", {{"sms", "+15550000001"}}, kChicago);
  const Millis slot = at(kChicago, 2026, 11, 24, 15, 0);
  auto reminders = plan(student("sA", {{g, true}}), slot, at(kChicago, 2026, 11, 23, 9, 0));
  REQUIRE(reminders.size() == 1);
  CHECK(reminders[0].minutes_before == 120);
  CHECK(when(reminders[0]) == "2026-11-24 13:00");

  // A time moved before quiet hours into the past counts as passed.
  g.preferences.quiet_hours = QuietHours{"12:00", "14:00"};
  reminders = plan(student("sA", {{g, true}}), slot, at(kChicago, 2026, 11, 24, 12, 30), {120});
  REQUIRE(reminders.size() == 1);  // every time passed: one now, deferred past quiet hours
  CHECK(when(reminders[0]) == "2026-11-24 14:00");
}

TEST_CASE("conference reminders - every time passed, the slot ahead: one reminder now") {
  auto g = guardian("g1", {{"sms", "+15550000001"}}, kChicago);
  const Millis slot = at(kChicago, 2026, 11, 24, 15, 0);
  const Millis now = at(kChicago, 2026, 11, 24, 14, 0);
  auto reminders = plan(student("sA", {{g, true}}), slot, now);
  REQUIRE(reminders.size() == 1);
  CHECK(reminders[0].minutes_before == 120);  // the nearest rule
  CHECK(reminders[0].delivery.not_before == now);
  CHECK(reminders[0].delivery.state == DeliveryState::kQueued);
  CHECK(reminders[0].delivery.detail ==
        "conference reminder: every reminder time had passed, sent at once");

  SECTION("inside quiet hours that end before the slot: at their end") {
    g.preferences.quiet_hours = QuietHours{"20:00", "07:00"};
    const Millis early = at(kChicago, 2026, 11, 24, 8, 0);
    reminders = plan(student("sA", {{g, true}}), early, at(kChicago, 2026, 11, 24, 6, 30));
    REQUIRE(reminders.size() == 1);
    CHECK(when(reminders[0]) == "2026-11-24 07:00");
    CHECK(reminders[0].delivery.state == DeliveryState::kScheduled);
  }
  SECTION("inside quiet hours that end after the slot: none (never after the conference)") {
    g.preferences.quiet_hours = QuietHours{"20:00", "07:00"};
    const Millis dawn = at(kChicago, 2026, 11, 24, 6, 45);
    CHECK(plan(student("sA", {{g, true}}), dawn, at(kChicago, 2026, 11, 24, 6, 0)).empty());
  }
  SECTION("a slot that has begun gets nothing") {
    CHECK(plan(student("sA", {{g, true}}), slot, slot).empty());
    CHECK(plan(student("sA", {{g, true}}), slot, slot + 1).empty());
  }
}

TEST_CASE("conference reminders - planner rules hold: restriction, household, do not contact") {
  auto ana = guardian("g1", {{"sms", "+15550000001"}}, kChicago, "es");
  auto ben = guardian("g2", {{"sms", "+15550000001"}}, kChicago);  // the same phone
  auto carl = guardian("g3", {{"email", "carl@x.org"}}, kChicago);
  carl.do_not_contact = true;
  auto dee = guardian("g4", {{"email", "dee@x.org"}}, kChicago);
  const Millis slot = at(kChicago, 2026, 11, 24, 15, 0);
  auto reminders = plan(student("sA", {{ana, true}, {ben, true}, {carl, true}, {dee, false}}), slot,
                        at(kChicago, 2026, 11, 16, 9, 0));
  REQUIRE(reminders.size() == 6);  // g1, g2, g3 per rule; g4 restricted: no row at all
  for (std::size_t i = 0; i < reminders.size(); ++i) {
    const auto& d = reminders[i].delivery;
    CAPTURE(i, d.guardian_id, d.detail);
    CHECK(reminders[i].minutes_before == (i < 3 ? 4320 : 120));
    if (d.guardian_id == "g1") {
      CHECK(d.state == DeliveryState::kScheduled);
    } else {
      CHECK(d.state == DeliveryState::kSuppressed);
    }
  }
  CHECK(reminders[1].delivery.detail == "same address as guardian g1 (one copy per household)");
  CHECK(reminders[2].delivery.detail == "do not contact");

  SECTION("suppressed rows go with the nearest rule when every time has passed") {
    reminders = plan(student("sA", {{ana, true}, {carl, true}}), slot, slot - 3'600'000);
    REQUIRE(reminders.size() == 2);
    CHECK(reminders[0].delivery.state == DeliveryState::kQueued);
    CHECK(reminders[1].delivery.state == DeliveryState::kSuppressed);
    CHECK(reminders[1].minutes_before == 120);
  }
}

TEST_CASE("conference reminders - category mode off suppresses, digest does not delay") {
  auto g = guardian("g1", {{"sms", "+15550000001"}}, kChicago);
  const Millis slot = at(kChicago, 2026, 11, 24, 15, 0);
  const Millis now = at(kChicago, 2026, 11, 16, 9, 0);
  g.preferences.categories["conference"] = "digest";
  auto reminders = plan(student("sA", {{g, true}}), slot, now, {120});
  REQUIRE(reminders.size() == 1);
  CHECK_FALSE(reminders[0].delivery.digest);
  CHECK(when(reminders[0]) == "2026-11-24 13:00");

  g.preferences.categories["conference"] = "off";
  reminders = plan(student("sA", {{g, true}}), slot, now, {120});
  REQUIRE(reminders.size() == 1);
  CHECK(reminders[0].delivery.state == DeliveryState::kSuppressed);
  CHECK(reminders[0].delivery.detail == "category off");
}

TEST_CASE("conference reminders - guardians in two zones each get the slot in their own") {
  auto ana = guardian("g1", {{"sms", "+15550000001"}}, kChicago);
  auto ben = guardian("g2", {{"sms", "+15550000002"}}, "Europe/Madrid", "es");
  const Millis slot = at(kChicago, 2026, 11, 24, 15, 0);
  auto reminders =
      plan(student("sA", {{ana, true}, {ben, true}}), slot, at(kChicago, 2026, 11, 16, 9, 0));
  REQUIRE(reminders.size() == 4);
  CHECK(reminders[1].timezone == "Europe/Madrid");
  CHECK(local_text("Europe/Madrid", reminders[1].delivery.not_before) == "2026-11-21 22:00");
  CHECK(reminders[1].delivery.language == "es");
}

TEST_CASE("local time - advance_before_window and local_days_before") {
  const auto* chicago = routing::resolve_zone(kChicago, "UTC");
  const routing::LocalWindow night{20 * 60, 7 * 60};
  // Outside: unchanged. Inside after midnight: the evening before. Inside before midnight: the
  // same evening.
  Millis t = at(kChicago, 2026, 1, 10, 12, 0);
  CHECK(routing::advance_before_window(chicago, night, t) == t);
  CHECK(local_text(kChicago, routing::advance_before_window(chicago, night,
                                                            at(kChicago, 2026, 1, 11, 3, 0))) ==
        "2026-01-10 19:59");
  CHECK(local_text(kChicago, routing::advance_before_window(chicago, night,
                                                            at(kChicago, 2026, 1, 10, 22, 0))) ==
        "2026-01-10 19:59");
  // A window whose start falls in the spring-forward gap (02:30 does not exist on 2026-03-08):
  // one minute before the transition, 01:59 CST.
  const routing::LocalWindow gap{2 * 60 + 30, 6 * 60};
  CHECK(local_text(kChicago,
                   routing::advance_before_window(chicago, gap, at(kChicago, 2026, 3, 8, 4, 0))) ==
        "2026-03-08 01:59");
  // On the day the clocks fall back, a window starting at 01:30 holds both 01:30s: before the
  // later start, i.e. the second 01:29 (CST).
  const routing::LocalWindow overlap{60 + 30, 3 * 60};
  const Millis second_0145 = utc(2026, 11, 1, 7, 45);  // 01:45 CST
  CHECK(routing::advance_before_window(chicago, overlap, second_0145) == utc(2026, 11, 1, 7, 29));

  CHECK(local_text(kChicago, routing::local_days_before(chicago, at(kChicago, 2026, 3, 10, 15, 0),
                                                        3)) == "2026-03-07 15:00");
  CHECK(routing::local_days_before(chicago, t, 0) == t);

  const auto local = routing::local_date_time(chicago, at(kChicago, 2026, 11, 24, 15, 5));
  CHECK(local.year == 2026);
  CHECK(local.month == 11);
  CHECK(local.day == 24);
  CHECK(local.weekday == 2);  // Tuesday
  CHECK(local.minute_of_day == 15 * 60 + 5);
  CHECK(local.abbreviation == "CST");
}
