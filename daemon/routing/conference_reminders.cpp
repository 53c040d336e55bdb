#include "routing/conference_reminders.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "routing/local_time.h"

namespace homeroom::routing {
namespace {

constexpr const char* kCategory = "conference";
constexpr Millis kMinute = 60'000;

const Guardian* guardian_of(const StudentRoster& roster, const std::string& id) {
  for (const auto& g : roster.guardians) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

// Rule 2 before quiet hours: the slot's local time moved back whole local days, then minutes.
Millis nominal_time(const date::time_zone* zone, Millis starts_at, int minutes) {
  return local_days_before(zone, starts_at, minutes / 1440) - (minutes % 1440) * kMinute;
}

}  // namespace

std::string describe_minutes_before(int minutes) {
  if (minutes % 1440 == 0) {
    const int days = minutes / 1440;
    return std::to_string(days) + (days == 1 ? " day" : " days");
  }
  if (minutes % 60 == 0) return std::to_string(minutes / 60) + " h";
  return std::to_string(minutes) + " min";
}

std::vector<PlannedReminder> plan_conference_reminders(
    const StudentRoster& roster, const Conference& slot, const std::vector<int>& rules,
    const std::set<std::string>& languages, Millis now, const PlannerOptions& deployment) {
  std::vector<int> order;
  for (int m : rules) {
    if (m > 0 && std::find(order.begin(), order.end(), m) == order.end()) order.push_back(m);
  }
  if (order.empty() || slot.starts_at <= now) return {};
  std::sort(order.begin(), order.end(), std::greater<>());  // earliest reminder first

  // The options plan_send applies to this student's guardians (their school's defaults).
  const PlannerOptions options =
      roster.school ? options_for_school(*roster.school, deployment) : deployment;
  NewMessage message;
  message.id = slot.id;
  message.student_id = roster.student.id;
  message.author_staff = slot.staff_id;
  message.category = kCategory;
  for (const auto& language : languages) message.translations[language] = "";
  const std::vector<PlannedDelivery> base = plan_send({roster}, message, now, deployment);

  // Rule 4: the rules a suppressed row is recorded under.
  std::vector<bool> records_suppressed(order.size(), false);
  bool any_ahead = false;
  for (std::size_t i = 0; i < order.size(); ++i) {
    records_suppressed[i] = slot.starts_at - order[i] * kMinute > now;
    any_ahead = any_ahead || records_suppressed[i];
  }
  if (!any_ahead) records_suppressed.back() = true;

  // Rules 2 and 3: each reachable guardian's time under each rule, nullopt when it has passed.
  std::vector<std::vector<std::optional<Millis>>> times(
      order.size(), std::vector<std::optional<Millis>>(base.size()));
  std::vector<bool> reminded(base.size(), false);
  for (std::size_t j = 0; j < base.size(); ++j) {
    const Guardian* g = guardian_of(roster, base[j].guardian_id);
    if (g == nullptr || base[j].state == DeliveryState::kSuppressed) continue;
    const auto* zone = resolve_zone(g->timezone, options.school_timezone);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const Millis at =
          before_quiet_hours(*g, kCategory, nominal_time(zone, slot.starts_at, order[i]), options);
      if (at <= now) continue;
      times[i][j] = at;
      reminded[j] = true;
    }
  }

  std::vector<PlannedReminder> out;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const int minutes = order[i];
    const bool last = i + 1 == order.size();
    for (std::size_t j = 0; j < base.size(); ++j) {
      const PlannedDelivery& d = base[j];
      const Guardian* g = guardian_of(roster, d.guardian_id);
      if (g == nullptr) continue;
      const auto* zone = resolve_zone(g->timezone, options.school_timezone);
      const std::string zone_name(zone->name());
      if (d.state == DeliveryState::kSuppressed) {
        if (records_suppressed[i]) out.push_back({minutes, zone_name, d});
        continue;
      }
      PlannedDelivery r = d;
      r.digest = false;
      if (times[i][j]) {
        r.not_before = *times[i][j];
        r.state = DeliveryState::kScheduled;
        r.detail = "conference reminder " + describe_minutes_before(minutes) + " before";
        if (r.not_before != nominal_time(zone, slot.starts_at, minutes)) {
          r.detail += "; moved before quiet hours (" + zone_name + ")";
        }
      } else if (last && !reminded[j]) {
        // Every time passed, the slot still ahead: one reminder now, if it can come before.
        r.not_before = outside_quiet_hours(*g, kCategory, now, options);
        if (r.not_before >= slot.starts_at) continue;
        r.state = r.not_before > now ? DeliveryState::kScheduled : DeliveryState::kQueued;
        r.detail = "conference reminder: every reminder time had passed, sent at once";
        if (r.not_before > now) r.detail += "; after quiet hours (" + zone_name + ")";
      } else {
        continue;
      }
      out.push_back({minutes, zone_name, std::move(r)});
    }
  }
  return out;
}

}  // namespace homeroom::routing
