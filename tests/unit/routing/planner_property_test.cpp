// Property-based test of the planner over random schools: siblings, shared emails and phones,
// divorced parents with restrictions, several languages, time zones on both sides of midnight and
// DST changes, do_not_contact, random category modes, quiet hours and contact statuses, random
// messages. The oracle below restates the rules of routing/delivery_planner.h independently
// (its own time-zone arithmetic), so a planner bug shows up as a counterexample.
//
// At least 2000 cases; RC_PARAMS="max_success=N" asks for more, "seed=N" reproduces a failure.
#include <rapidcheck.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "routing/delivery_planner.h"
#include "unit/routing/planner_test_support.h"

using namespace homeroom;
using namespace homeroom::routing_test;
using routing::plan_send;
using routing::PlannerOptions;

namespace {

constexpr int kMinCases = 2000;

// rc::prop (rapidcheck/catch.h) with a floor on the number of cases.
template <typename Testable>
void check_property(const std::string& description, Testable&& testable) {
  auto params = rc::detail::configuration().testParams;
  params.maxSuccess = std::max(params.maxSuccess, kMinCases);
  const auto result = rc::detail::checkTestable(std::forward<Testable>(testable),
                                                rc::detail::TestMetadata{}, params);
  std::ostringstream message;
  rc::detail::printResultMessage(result, message);
  INFO(description << "\n" << message.str());
  CHECK(result.template is<rc::detail::SuccessResult>());
}

template <typename T>
T pick(const std::vector<T>& options) {
  return options[static_cast<std::size_t>(
      *rc::gen::inRange<int>(0, static_cast<int>(options.size())))];
}

bool chance(int one_in) { return *rc::gen::inRange(0, one_in) == 0; }

const std::vector<std::string> kZones{"America/New_York",
                                      "America/Chicago",
                                      "America/Los_Angeles",
                                      "Pacific/Kiritimati",
                                      "Pacific/Pago_Pago",
                                      "Pacific/Chatham",
                                      "Asia/Kolkata",
                                      "Australia/Lord_Howe",
                                      "Europe/London",
                                      "UTC",
                                      "",
                                      "Not/AZone"};
const std::vector<std::string> kLanguages{"en", "es", "es-MX", "vi", "zh-Hant", "so", "ar", "ht"};
const std::vector<std::string> kCategories{"note", "reminder", "urgent", "field_trip"};
const std::vector<std::string> kModes{"instant", "digest", "off"};
const std::vector<std::string> kChannels{"email", "sms", "push"};

std::optional<std::string> clock_time() {
  if (chance(8)) return "25:99";  // unparseable: the fallback must apply
  const int minute = *rc::gen::inRange(0, 24 * 4) * 15 + (chance(4) ? 7 : 0);
  std::ostringstream out;
  out << (minute / 60 % 24 < 10 ? "0" : "") << minute / 60 % 24 << ":"
      << (minute % 60 < 10 ? "0" : "") << minute % 60;
  return out.str();
}

Preferences random_preferences(bool school) {
  Preferences p;
  if (chance(2)) {
    auto channels = kChannels;
    const auto size = static_cast<std::size_t>(*rc::gen::inRange(1, 4));
    std::rotate(channels.begin(), channels.begin() + *rc::gen::inRange(0, 3), channels.end());
    if (chance(2)) std::swap(channels[0], channels[1]);
    channels.resize(size);
    p.channels = channels;
  }
  if (chance(2)) {
    auto start = clock_time();
    auto end = clock_time();
    p.quiet_hours = QuietHours{*start, *end};
  }
  for (const auto& category : kCategories) {
    if (chance(school ? 3 : 2)) p.categories[category] = pick(kModes);
  }
  if (chance(3)) p.digest_time = clock_time();
  return p;
}

// A small pool of addresses, so households share them.
ContactPoint random_contact() {
  ContactPoint c;
  c.channel = pick(kChannels);
  const int n = *rc::gen::inRange(0, 5);
  c.address = c.channel == "email" ? "home" + std::to_string(n) + "@x.org"
              : c.channel == "sms" ? "+1555000000" + std::to_string(n)
                                   : "{\"endpoint\":\"https://push/" + std::to_string(n) + "\"}";
  c.status = chance(4) ? pick(std::vector<std::string>{"bounced", "stopped", "gone"}) : "active";
  return c;
}

// Instants around 2026, often within hours of a DST change somewhere.
Millis random_instant() {
  if (chance(2)) {
    const std::vector<Millis> transitions{
        at("America/New_York", 2026, 3, 8, 2, 0),    at("America/New_York", 2026, 11, 1, 1, 0),
        at("Europe/London", 2026, 3, 29, 1, 0),      at("Europe/London", 2026, 10, 25, 1, 0),
        at("Australia/Lord_Howe", 2026, 4, 5, 1, 0), at("Pacific/Chatham", 2026, 4, 5, 2, 0)};
    return pick(transitions) + *rc::gen::inRange<Millis>(-36, 36) * 3'600'000 +
           *rc::gen::inRange<Millis>(0, 3'600'000);
  }
  return utc(2026, 1, 1, 0, 0) + *rc::gen::inRange<Millis>(0, 730LL * 86'400'000);
}

struct World {
  std::vector<StudentRoster> audience;
  NewMessage message;
  Millis now = 0;
  PlannerOptions options;
};

World random_world() {
  World w;
  std::vector<Guardian> guardians;
  const int guardian_count = *rc::gen::inRange(1, 8);
  for (int i = 0; i < guardian_count; ++i) {
    Guardian g;
    g.id = "g" + std::to_string(i);
    g.language = pick(kLanguages);
    g.timezone = pick(kZones);
    const int contacts = *rc::gen::inRange(0, 4);
    for (int c = 0; c < contacts; ++c) g.contacts.push_back(random_contact());
    g.preferences = random_preferences(false);
    g.do_not_contact = chance(6);
    guardians.push_back(std::move(g));
  }
  const int student_count = *rc::gen::inRange(1, 5);
  for (int s = 0; s < student_count; ++s) {
    StudentRoster r;
    r.student.id = "s" + std::to_string(s);
    std::set<int> linked;
    const int links = *rc::gen::inRange(1, 4);
    for (int l = 0; l < links; ++l) linked.insert(*rc::gen::inRange(0, guardian_count));
    for (int gi : linked) {
      r.student.guardians.push_back(
          {guardians[static_cast<std::size_t>(gi)].id, "parent", !chance(4)});
      r.guardians.push_back(guardians[static_cast<std::size_t>(gi)]);
    }
    w.audience.push_back(std::move(r));
  }
  if (chance(4)) w.audience.push_back(w.audience.front());  // the same student twice
  w.now = random_instant();
  w.message.id = "m1";
  w.message.category = pick(kCategories);
  for (const auto& language : {"es", "vi", "zh", "ar", "en-GB"}) {
    if (chance(2)) w.message.translations[language] = "...";
  }
  if (chance(2)) w.message.send_at = w.now + *rc::gen::inRange<Millis>(-86'400'000, 3 * 86'400'000);
  w.message.legally_required = chance(5);
  if (chance(4)) w.options.available_channels = {pick(kChannels), pick(kChannels)};
  w.options.school_defaults = random_preferences(true);
  if (chance(2)) w.options.school_defaults.digest_time = "17:30";
  w.options.school_timezone = pick(kZones);
  return w;
}

// ---- the oracle: the rules restated ----

std::optional<int> minute_of(const std::optional<std::string>& text) {
  if (!text || text->size() != 5 || (*text)[2] != ':') return std::nullopt;
  const int h = std::stoi(text->substr(0, 2));
  const int m = std::stoi(text->substr(3, 2));
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::string zone_of(const Guardian& g, const PlannerOptions& o) {
  for (const auto& name : {g.timezone, o.school_timezone}) {
    if (name.empty()) continue;
    try {
      date::locate_zone(name);
      return name;
    } catch (const std::exception&) {
    }
  }
  return "UTC";
}

bool in_quiet_hours(const Guardian& g, const PlannerOptions& o, Millis t) {
  std::optional<int> start, end;
  for (const auto* q : {&g.preferences.quiet_hours, &o.school_defaults.quiet_hours}) {
    if (*q && minute_of((*q)->start) && minute_of((*q)->end)) {
      start = minute_of((*q)->start);
      end = minute_of((*q)->end);
      break;
    }
  }
  if (!start) return false;
  const auto text = local_text(zone_of(g, o), t);  // "YYYY-MM-DD HH:MM"
  const int m = std::stoi(text.substr(11, 2)) * 60 + std::stoi(text.substr(14, 2));
  if (*start == *end) return false;
  return *start < *end ? (m >= *start && m < *end) : (m >= *start || m < *end);
}

std::string mode_of(const Guardian& g, const std::string& category, const PlannerOptions& o) {
  if (category == "urgent") return "instant";
  if (g.preferences.categories.count(category)) return g.preferences.categories.at(category);
  if (o.school_defaults.categories.count(category))
    return o.school_defaults.categories.at(category);
  return "instant";
}

struct Facts {
  std::map<std::string, const Guardian*> guardians;
  std::map<std::string, std::set<std::string>> allowed;     // guardian -> students
  std::map<std::string, std::set<std::string>> restricted;  // guardian -> students
  // (channel, address) -> students it may not carry (an owner is restricted) / "*" for all
  std::map<std::pair<std::string, std::string>, std::set<std::string>> forbidden;
};

Facts facts_of(const World& w) {
  Facts f;
  for (const auto& r : w.audience) {
    for (const auto& link : r.student.guardians) {
      (link.contact_allowed ? f.allowed : f.restricted)[link.guardian_id].insert(r.student.id);
    }
    for (const auto& g : r.guardians) f.guardians.emplace(g.id, &g);
  }
  for (const auto& [id, g] : f.guardians) {
    for (const auto& c : g->contacts) {
      auto& forbidden = f.forbidden[{c.channel, c.address}];
      forbidden.insert(f.restricted[id].begin(), f.restricted[id].end());
      if (g->do_not_contact && !w.message.legally_required) forbidden.insert("*");
    }
  }
  return f;
}

bool holds(const std::map<std::string, std::set<std::string>>& m, const std::string& key,
           const std::string& value) {
  auto it = m.find(key);
  return it != m.end() && it->second.count(value) > 0;
}

bool has_usable_contact(const Guardian& g, const Facts& f, const PlannerOptions& o) {
  const auto& order =
      !g.preferences.channels.empty() ? g.preferences.channels : o.school_defaults.channels;
  const auto& students = f.allowed.at(g.id);
  return std::any_of(g.contacts.begin(), g.contacts.end(), [&](const ContactPoint& c) {
    const auto& forbidden = f.forbidden.at({c.channel, c.address});
    const bool in_order =
        order.empty() || std::find(order.begin(), order.end(), c.channel) != order.end();
    return in_order && c.status == "active" && o.available_channels.count(c.channel) &&
           !forbidden.count("*") &&
           std::none_of(students.begin(), students.end(),
                        [&](const std::string& s) { return forbidden.count(s) > 0; });
  });
}

void check_plan(const World& w) {
  const auto plan = plan_send(w.audience, w.message, w.now, w.options);
  const auto f = facts_of(w);
  const Millis base = std::max(w.now, w.message.send_at.value_or(w.now));

  std::map<std::pair<std::string, std::string>, const PlannedDelivery*> copies;
  std::map<std::string, int> rows_per_guardian;
  for (const auto& d : plan) {
    ++rows_per_guardian[d.guardian_id];
    // No restricted guardian is ever planned anything about that student, not even a row.
    RC_ASSERT(!d.student_ids.empty());
    for (const auto& s : d.student_ids) {
      RC_ASSERT(!holds(f.restricted, d.guardian_id, s));
    }
    // Urgent is never suppressed by a category mode, nor collected into a digest.
    if (w.message.category == "urgent") RC_ASSERT(d.detail != "category off" && !d.digest);
    if (d.state == DeliveryState::kSuppressed) continue;

    // A copy only goes to an address that may carry every student it names.
    const auto& forbidden = f.forbidden.at({d.channel, d.address});
    RC_ASSERT(!forbidden.count("*"));
    for (const auto& s : d.student_ids) RC_ASSERT(!forbidden.count(s));
    // No (channel, address) gets two copies of one send.
    RC_ASSERT(copies.emplace(std::make_pair(d.channel, d.address), &d).second);
    RC_ASSERT(w.options.available_channels.count(d.channel) > 0);

    const Guardian& g = *f.guardians.at(d.guardian_id);
    RC_ASSERT(d.not_before >= base);
    RC_ASSERT(d.state ==
              (d.not_before > w.now ? DeliveryState::kScheduled : DeliveryState::kQueued));
    RC_ASSERT(d.digest == (mode_of(g, w.message.category, w.options) == "digest"));
    if (d.digest) {
      RC_ASSERT(d.not_before - base < 26LL * 3'600'000);  // the next digest time, not a later one
    } else if (w.message.category != "urgent") {
      // Deferred, never dropped, and never inside the guardian's quiet hours, by local time.
      RC_ASSERT(!in_quiet_hours(g, w.options, d.not_before));
      // Within two days: a short free window (say 02:06-02:13) that falls wholly inside a
      // spring-forward gap does not exist that day, so the next one is a day later still.
      RC_ASSERT(d.not_before - base < 50LL * 3'600'000);
    } else {
      RC_ASSERT(d.not_before == base);  // urgent bypasses quiet hours, honours send_at
    }
  }

  // Every allowed guardian: exactly one row; a copy of their own or a household copy naming all
  // their students when they are contactable, have a usable contact point and the category is on.
  for (const auto& [id, students] : f.allowed) {
    if (students.empty()) continue;
    RC_ASSERT(rows_per_guardian[id] == 1);
    const Guardian& g = *f.guardians.at(id);
    const bool expected = (!g.do_not_contact || w.message.legally_required) &&
                          mode_of(g, w.message.category, w.options) != "off" &&
                          has_usable_contact(g, f, w.options);
    const auto row =
        std::find_if(plan.begin(), plan.end(), [&](const auto& d) { return d.guardian_id == id; });
    if (!expected) {
      RC_ASSERT(row->state == DeliveryState::kSuppressed);
      continue;
    }
    const PlannedDelivery* copy = &*row;
    if (row->state == DeliveryState::kSuppressed) {
      RC_ASSERT(row->detail.find("(one copy per household)") != std::string::npos);
      RC_ASSERT(copies.count({row->channel, row->address}) == 1);
      copy = copies.at({row->channel, row->address});
    }
    for (const auto& s : students) {
      RC_ASSERT(std::find(copy->student_ids.begin(), copy->student_ids.end(), s) !=
                copy->student_ids.end());
    }
  }
  // Only guardians with an allowed student appear.
  for (const auto& [id, count] : rows_per_guardian) RC_ASSERT(f.allowed.count(id) > 0);
}

}  // namespace

TEST_CASE("property - random schools and messages keep every family rule") {
  check_property("planning a send over a random roster", [] { check_plan(random_world()); });
}
