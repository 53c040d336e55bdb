// Table tests for each planning rule of routing/delivery_planner.h.
#include <catch2/catch.hpp>

#include "routing/delivery_planner.h"
#include "routing/local_time.h"
#include "unit/routing/planner_test_support.h"

using namespace homeroom;
using namespace homeroom::routing_test;
using routing::plan_message;
using routing::plan_send;
using routing::PlannerOptions;

namespace {

const Millis kNoon = utc(2026, 1, 10, 12, 0);

std::vector<std::string> ids(std::initializer_list<const char*> list) {
  return {list.begin(), list.end()};
}

}  // namespace

TEST_CASE("rule 1 - a guardian restricted for one sibling gets one delivery about the other") {
  auto g1 = guardian("g1", {{"email", "dad@x.org"}});
  auto g2 = guardian("g2", {{"email", "mom@x.org"}});
  auto plan =
      plan_send({student("sA", {{g1, false}, {g2, true}}), student("sB", {{g1, true}, {g2, true}})},
                message(), kNoon, {});
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].guardian_id == "g2");  // first allowed link decides the order
  CHECK(plan[0].student_ids == ids({"sA", "sB"}));
  CHECK(plan[1].guardian_id == "g1");
  CHECK(plan[1].student_ids == ids({"sB"}));
  CHECK(plan[1].state == DeliveryState::kQueued);
}

TEST_CASE("rule 1 - a guardian restricted for every student of the send gets no row at all") {
  auto g1 = guardian("g1", {{"email", "dad@x.org"}});
  auto plan =
      plan_send({student("sA", {{g1, false}}), student("sB", {{g1, false}})}, message(), kNoon, {});
  CHECK(plan.empty());
}

TEST_CASE("rule 1 - an address shared with a restricted guardian never carries that student") {
  auto restricted = guardian("g1", {{"email", "home@x.org"}});
  auto other = guardian("g2", {{"email", "home@x.org"}, {"sms", "+15550000002"}});
  other.preferences.channels = {"email", "sms"};
  auto plan =
      plan_message(student("sA", {{restricted, false}, {other, true}}), message(), kNoon, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].guardian_id == "g2");
  CHECK(plan[0].channel == "sms");  // the shared inbox would reach g1

  other.contacts.pop_back();
  plan = plan_message(student("sA", {{restricted, false}, {other, true}}), message(), kNoon, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].state == DeliveryState::kSuppressed);
  CHECK(plan[0].detail ==
        "no usable contact point (shared with a guardian who may not be contacted)");
}

TEST_CASE("rule 2 - do_not_contact is suppressed unless the message is legally required") {
  auto g = guardian("g1", {{"email", "a@x.org"}});
  g.do_not_contact = true;
  auto m = message("urgent");
  auto plan = plan_message(student("sA", {{g, true}}), m, kNoon, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].state == DeliveryState::kSuppressed);
  CHECK(plan[0].detail == "do not contact");
  m.legally_required = true;
  plan = plan_message(student("sA", {{g, true}}), m, kNoon, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].state == DeliveryState::kQueued);
  CHECK(plan[0].address == "a@x.org");
}

TEST_CASE("rule 3 - category modes: the guardian's, else the school's, urgent always instant") {
  struct Row {
    std::string category, guardian_mode, school_mode;
    DeliveryState state;
    bool digest;
    std::string detail_start;
  };
  const std::vector<Row> rows{
      {"note", "", "", DeliveryState::kQueued, false, ""},
      {"note", "off", "", DeliveryState::kSuppressed, false, "category off"},
      {"note", "", "off", DeliveryState::kSuppressed, false, "category off"},
      {"note", "instant", "off", DeliveryState::kQueued, false, ""},
      {"reminder", "digest", "", DeliveryState::kScheduled, true, "digest at 17:30 UTC"},
      {"field_trip", "", "digest", DeliveryState::kScheduled, true, "digest at 17:30 UTC"},
      {"urgent", "off", "off", DeliveryState::kQueued, false, ""},
      {"urgent", "digest", "digest", DeliveryState::kQueued, false, ""},
  };
  for (const auto& row : rows) {
    CAPTURE(row.category, row.guardian_mode, row.school_mode);
    auto g = guardian("g1", {{"email", "a@x.org"}});
    if (!row.guardian_mode.empty()) g.preferences.categories[row.category] = row.guardian_mode;
    PlannerOptions opts;
    if (!row.school_mode.empty()) opts.school_defaults.categories[row.category] = row.school_mode;
    auto plan = plan_message(student("sA", {{g, true}}), message(row.category), kNoon, opts);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].state == row.state);
    CHECK(plan[0].digest == row.digest);
    CHECK(plan[0].detail.rfind(row.detail_start, 0) == 0);
  }
}

TEST_CASE("rule 3 - digest at the next digest time in the guardian's zone") {
  struct Row {
    std::string zone, guardian_time, school_time;
    Millis now;
    std::string expected_local;
  };
  const std::vector<Row> rows{
      // default 17:30, later the same day
      {"America/Chicago", "", "", at("America/Chicago", 2026, 1, 10, 9, 0), "2026-01-10 17:30"},
      // after the digest time: the next day
      {"America/Chicago", "", "", at("America/Chicago", 2026, 1, 10, 19, 0), "2026-01-11 17:30"},
      // exactly at the digest time: that instant
      {"America/Chicago", "", "", at("America/Chicago", 2026, 1, 10, 17, 30), "2026-01-10 17:30"},
      {"America/Chicago", "18:15", "16:00", at("America/Chicago", 2026, 1, 10, 9, 0),
       "2026-01-10 18:15"},
      {"America/Chicago", "", "16:00", at("America/Chicago", 2026, 1, 10, 9, 0),
       "2026-01-10 16:00"},
      {"America/Chicago", "bad", "nope", at("America/Chicago", 2026, 1, 10, 9, 0),
       "2026-01-10 17:30"},
      // +14: already the next day there
      {"Pacific/Kiritimati", "", "", utc(2026, 1, 10, 12, 0), "2026-01-11 17:30"},
      // -11: still the previous day there
      {"Pacific/Pago_Pago", "", "", utc(2026, 1, 11, 3, 0), "2026-01-10 17:30"},
      // a digest time in the March gap resolves to the transition (03:00 EDT)
      {"America/New_York", "02:30", "", at("America/New_York", 2026, 3, 7, 18, 0),
       "2026-03-08 03:00"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.zone, row.guardian_time, row.school_time);
    auto g = guardian("g1", {{"email", "a@x.org"}}, row.zone);
    g.preferences.categories["note"] = "digest";
    if (!row.guardian_time.empty()) g.preferences.digest_time = row.guardian_time;
    PlannerOptions opts;
    if (!row.school_time.empty()) opts.school_defaults.digest_time = row.school_time;
    auto plan = plan_message(student("sA", {{g, true}}), message(), row.now, opts);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].digest);
    CHECK(local_text(row.zone, plan[0].not_before) == row.expected_local);
    CHECK(plan[0].state ==
          (plan[0].not_before > row.now ? DeliveryState::kScheduled : DeliveryState::kQueued));
  }
}

TEST_CASE("rule 4 - channel order: the guardian's, else the school's, else the contact points") {
  auto g = guardian("g1", {{"email", "a@x.org"}, {"sms", "+15550000001"}, {"push", "{}", "gone"}});
  PlannerOptions opts;
  opts.school_defaults.channels = {"push", "sms", "email"};
  auto plan = plan_message(student("sA", {{g, true}}), message(), kNoon, opts);
  CHECK(plan.at(0).channel == "sms");  // the school's order; push is gone
  g.preferences.channels = {"email"};
  plan = plan_message(student("sA", {{g, true}}), message(), kNoon, opts);
  CHECK(plan.at(0).channel == "email");
  opts.available_channels = {"sms"};
  plan = plan_message(student("sA", {{g, true}}), message(), kNoon, opts);
  CHECK(plan.at(0).state == DeliveryState::kSuppressed);
  CHECK(plan.at(0).detail == "no usable contact point");
}

TEST_CASE("rule 5 - quiet hours defer to the end of the window in the guardian's zone") {
  struct Row {
    std::string name, zone, start, end;
    Millis now;
    std::string expected_local;  // not_before, local to zone
  };
  const std::vector<Row> rows{
      {"evening, window crosses midnight", "America/Chicago", "20:00", "07:00",
       at("America/Chicago", 2026, 1, 10, 22, 0), "2026-01-11 07:00"},
      {"after midnight, same window", "America/Chicago", "20:00", "07:00",
       at("America/Chicago", 2026, 1, 11, 3, 0), "2026-01-11 07:00"},
      {"outside the window", "America/Chicago", "20:00", "07:00",
       at("America/Chicago", 2026, 1, 10, 12, 0), "2026-01-10 12:00"},
      {"exactly at the end is outside", "America/Chicago", "20:00", "07:00",
       at("America/Chicago", 2026, 1, 11, 7, 0), "2026-01-11 07:00"},
      {"exactly at the start is inside", "America/Chicago", "20:00", "07:00",
       at("America/Chicago", 2026, 1, 10, 20, 0), "2026-01-11 07:00"},
      {"daytime window", "Europe/Paris", "09:00", "17:00", at("Europe/Paris", 2026, 6, 1, 10, 0),
       "2026-06-01 17:00"},
      {"+14: UTC noon is local 02:00 the next day", "Pacific/Kiritimati", "21:00", "07:00",
       utc(2026, 1, 10, 12, 0), "2026-01-11 07:00"},
      {"-11: UTC 08:00 is local 21:00 the day before", "Pacific/Pago_Pago", "20:00", "07:00",
       utc(2026, 1, 11, 8, 0), "2026-01-11 07:00"},
      {"March: window end inside the DST gap", "America/New_York", "22:00", "02:30",
       at("America/New_York", 2026, 3, 7, 23, 0), "2026-03-08 03:00"},
      {"March: window across the gap", "America/New_York", "20:00", "07:00",
       at("America/New_York", 2026, 3, 7, 23, 0), "2026-03-08 07:00"},
      {"November: window end repeated by the overlap", "America/New_York", "22:00", "01:30",
       at("America/New_York", 2026, 10, 31, 23, 0), "2026-11-01 01:30"},
      {"November: window across the overlap", "America/New_York", "20:00", "07:00",
       at("America/New_York", 2026, 10, 31, 23, 0), "2026-11-01 07:00"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    auto g = guardian("g1", {{"sms", "+15550000001"}}, row.zone);
    g.preferences.quiet_hours = QuietHours{row.start, row.end};
    auto plan = plan_message(student("sA", {{g, true}}), message(), row.now, {});
    REQUIRE(plan.size() == 1);
    CHECK(local_text(row.zone, plan[0].not_before) == row.expected_local);
    CHECK(plan[0].not_before >= row.now);
    const auto* zone = routing::resolve_zone(row.zone, "UTC");
    const routing::LocalWindow window{*routing::parse_clock_time(row.start),
                                      *routing::parse_clock_time(row.end)};
    CHECK_FALSE(window.contains(routing::local_minute(zone, plan[0].not_before)));
    if (plan[0].not_before > row.now) {
      CHECK(plan[0].state == DeliveryState::kScheduled);
      CHECK(plan[0].detail == "quiet hours until " + row.end + " " + row.zone);
    } else {
      CHECK(plan[0].state == DeliveryState::kQueued);
      CHECK(plan[0].detail.empty());
    }
  }
}

TEST_CASE("rule 5 - the November overlap defers to the last 01:30, after the clocks fall back") {
  auto g = guardian("g1", {{"sms", "+15550000001"}}, "America/New_York");
  g.preferences.quiet_hours = QuietHours{"22:00", "01:30"};
  auto plan = plan_message(student("sA", {{g, true}}), message(),
                           at("America/New_York", 2026, 10, 31, 23, 0), {});
  CHECK(plan.at(0).not_before == utc(2026, 11, 1, 6, 30));  // 01:30 EST, not 01:30 EDT
}

TEST_CASE("rule 5 - send_at inside quiet hours is deferred too, and both reasons are given") {
  auto g = guardian("g1", {{"sms", "+15550000001"}}, "America/Chicago");
  g.preferences.quiet_hours = QuietHours{"20:00", "07:00"};
  auto m = message();
  m.send_at = at("America/Chicago", 2026, 1, 10, 21, 0);
  const Millis now = at("America/Chicago", 2026, 1, 10, 12, 0);
  auto plan = plan_message(student("sA", {{g, true}}), m, now, {});
  REQUIRE(plan.size() == 1);
  CHECK(local_text("America/Chicago", plan[0].not_before) == "2026-01-11 07:00");
  CHECK(plan[0].state == DeliveryState::kScheduled);
  CHECK(plan[0].detail ==
        "send_at " + format_rfc3339(*m.send_at) + "; quiet hours until 07:00 America/Chicago");
}

TEST_CASE("rule 5 - urgent bypasses quiet hours but honours send_at") {
  auto g = guardian("g1", {{"sms", "+15550000001"}}, "America/Chicago");
  g.preferences.quiet_hours = QuietHours{"20:00", "07:00"};
  const Millis night = at("America/Chicago", 2026, 1, 10, 23, 0);
  auto plan = plan_message(student("sA", {{g, true}}), message("urgent"), night, {});
  CHECK(plan.at(0).state == DeliveryState::kQueued);
  CHECK(plan.at(0).not_before == night);
  auto m = message("urgent");
  m.send_at = night + 3'600'000;
  plan = plan_message(student("sA", {{g, true}}), m, night, {});
  CHECK(plan.at(0).state == DeliveryState::kScheduled);
  CHECK(plan.at(0).not_before == night + 3'600'000);
}

TEST_CASE("rule 5 - the school's quiet hours and time zone fill in for the guardian's") {
  auto g = guardian("g1", {{"sms", "+15550000001"}}, "Not/AZone");
  PlannerOptions opts;
  opts.school_timezone = "America/Denver";
  opts.school_defaults.quiet_hours = QuietHours{"21:00", "06:30"};
  auto plan = plan_message(student("sA", {{g, true}}), message(),
                           at("America/Denver", 2026, 1, 10, 22, 0), opts);
  CHECK(local_text("America/Denver", plan.at(0).not_before) == "2026-01-11 06:30");
  CHECK(plan.at(0).detail == "quiet hours until 06:30 America/Denver");
  g.timezone = "";
  plan = plan_message(student("sA", {{g, true}}), message(),
                      at("America/Denver", 2026, 1, 10, 22, 0), opts);
  CHECK(plan.at(0).detail == "quiet hours until 06:30 America/Denver");
}

TEST_CASE("each student's school supplies the defaults for guardians reached through them") {
  // A guardian with nothing set of their own, one child in each of two schools.
  auto g = guardian("g1", {{"sms", "+15550000001"}, {"email", "a@x.org"}}, "", "vi");
  School north;
  north.id = "north";
  north.timezone = "America/Denver";
  north.language = "es";
  north.defaults.quiet_hours = QuietHours{"21:00", "06:30"};
  north.defaults.channels = {"email", "sms"};
  School south = north;
  south.id = "south";
  south.timezone = "America/New_York";
  south.language = "fr";
  south.defaults.channels = {"sms"};
  south.defaults.categories = {{"note", "digest"}};
  auto in_north = student("sA", {{g, true}});
  in_north.school = north;
  auto in_south = student("sB", {{g, true}});
  in_south.school = south;
  auto m = message();
  m.translations = {{"es", "Hola"}, {"fr", "Bonjour"}};

  // 22:00 in Denver: inside North's quiet hours; email first; North's language.
  const Millis ten_pm = at("America/Denver", 2026, 1, 10, 22, 0);
  auto plan = plan_message(in_north, m, ten_pm, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].channel == "email");
  CHECK(plan[0].language == "es");
  CHECK(local_text("America/Denver", plan[0].not_before) == "2026-01-11 06:30");

  // Through South: SMS, French, notes as a digest at 17:30 New York time (the default time).
  plan = plan_message(in_south, m, ten_pm, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].channel == "sms");
  CHECK(plan[0].language == "fr");
  CHECK(plan[0].digest);
  CHECK(local_text("America/New_York", plan[0].not_before) == "2026-01-11 17:30");

  // One send about both children: one copy, with the defaults of the first student's school.
  plan = plan_send({in_south, in_north}, m, ten_pm, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].channel == "sms");
  CHECK(plan[0].student_ids == ids({"sB", "sA"}));

  // The guardian's own settings still win over any school's.
  g.preferences.channels = {"sms"};
  g.language = "es";
  auto own = student("sA", {{g, true}});
  own.school = south;
  plan = plan_message(own, m, kNoon, {});
  CHECK(plan.at(0).language == "es");
}

TEST_CASE("rule 6 - language: exact tag, else the primary subtag, else the school's") {
  struct Row {
    std::string guardian_language, expected;
  };
  const std::vector<Row> rows{
      {"es", "es"},           {"es-MX", "es"}, {"ES-mx", "es"}, {"zh-Hant", "zh-Hant"},
      {"zh-Hans", "zh-Hant"}, {"vi", "fr"},    {"", "fr"}};
  auto m = message();
  m.translations = {{"es", "Maya terminó."}, {"zh-Hant", "瑪雅完成了。"}};
  PlannerOptions opts;
  opts.default_language = "fr";
  for (const auto& row : rows) {
    CAPTURE(row.guardian_language);
    auto g = guardian("g1", {{"email", "a@x.org"}}, "UTC", row.guardian_language);
    CHECK(plan_message(student("sA", {{g, true}}), m, kNoon, opts).at(0).language == row.expected);
  }
}

TEST_CASE("rule 7 - one copy per household, siblings named together") {
  auto mom = guardian("g1", {{"email", "home@x.org"}});
  auto dad = guardian("g2", {{"email", "home@x.org"}});
  auto gran = guardian("g3", {{"sms", "+15550000003"}});
  auto plan = plan_send({student("sA", {{mom, true}, {gran, true}}),
                         student("sB", {{dad, true}, {mom, true}, {gran, true}})},
                        message(), kNoon, {});
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].guardian_id == "g1");
  CHECK(plan[0].state == DeliveryState::kQueued);
  CHECK(plan[0].student_ids == ids({"sA", "sB"}));
  CHECK(plan[1].guardian_id == "g3");
  CHECK(plan[1].student_ids == ids({"sA", "sB"}));
  CHECK(plan[2].guardian_id == "g2");
  CHECK(plan[2].state == DeliveryState::kSuppressed);
  CHECK(plan[2].detail == "same address as guardian g1 (one copy per household)");
  CHECK(plan[2].address == "home@x.org");
}

TEST_CASE("rule 7 - a household copy names the students of the guardians it stands for") {
  auto g1 = guardian("g1", {{"sms", "+15550000009"}});
  auto g2 = guardian("g2", {{"sms", "+15550000009"}});
  auto plan =
      plan_send({student("sA", {{g1, true}}), student("sB", {{g2, true}})}, message(), kNoon, {});
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].student_ids == ids({"sA", "sB"}));
  CHECK(plan[1].state == DeliveryState::kSuppressed);
}

TEST_CASE("the same student twice in an audience is planned once") {
  auto g = guardian("g1", {{"email", "a@x.org"}});
  auto plan =
      plan_send({student("sA", {{g, true}}), student("sA", {{g, true}})}, message(), kNoon, {});
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].student_ids == ids({"sA"}));
}

TEST_CASE("a free window wholly inside the spring-forward gap waits for the next day's") {
  // Quiet 02:13 -> 02:06 (free only 02:06-02:13); on 2026-03-08 New York skips 02:00-03:00.
  const auto* zone = date::locate_zone("America/New_York");
  const Millis base = 1772868120000;  // 2026-03-07T07:22Z = 02:22 EST, inside the quiet hours
  const Millis next = routing::defer_past_window(zone, routing::LocalWindow{133, 126}, base);
  CHECK(routing::local_minute(zone, next) == 126);  // 02:06 local
  CHECK(next == 1773036360000);                     // 2026-03-09T06:06Z = 02:06 EDT, not the 8th
}
