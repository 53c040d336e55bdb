#include "routing/delivery_planner.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <utility>

#include "routing/local_time.h"

namespace homeroom::routing {
namespace {

constexpr int kDefaultDigestMinute = 17 * 60 + 30;
using AddressKey = std::pair<std::string, std::string>;  // (channel, address)

// A guardian of the audience with the students they may be contacted about, in audience order.
struct Recipient {
  const Guardian* guardian = nullptr;
  std::vector<std::string> student_ids;
  const School* school = nullptr;  // of the first of those students; null: options' defaults
};

// Who else holds an address decides what it may carry: a copy to a shared inbox reaches every
// guardian who reads it.
struct AddressOwners {
  std::set<std::string> forbidden_students;  // an owner may not be contacted about these
  bool owner_not_contactable = false;        // an owner is do_not_contact (not overridden)
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string primary_subtag(const std::string& tag) { return lower(tag.substr(0, tag.find('-'))); }

std::string choose_language(const Guardian& g, const NewMessage& message,
                            const PlannerOptions& options) {
  const std::string wanted = lower(g.language);
  for (const auto& [tag, body] : message.translations) {
    if (lower(tag) == wanted) return tag;
  }
  const std::string primary = primary_subtag(g.language);
  if (!primary.empty()) {
    const std::string* same_language = nullptr;
    for (const auto& [tag, body] : message.translations) {
      if (lower(tag) == primary) return tag;  // "es" before "es-ES" for an "es-MX" family
      if (!same_language && primary_subtag(tag) == primary) same_language = &tag;
    }
    if (same_language) return *same_language;
  }
  return options.default_language;
}

std::string category_mode(const Guardian& g, const std::string& category,
                          const PlannerOptions& options) {
  if (category == "urgent") return "instant";
  if (auto it = g.preferences.categories.find(category); it != g.preferences.categories.end()) {
    return it->second;
  }
  const auto& school = options.school_defaults.categories;
  if (auto it = school.find(category); it != school.end()) return it->second;
  return "instant";
}

std::optional<LocalWindow> quiet_window(const Guardian& g, const PlannerOptions& options) {
  for (const auto* hours : {&g.preferences.quiet_hours, &options.school_defaults.quiet_hours}) {
    if (!*hours) continue;
    auto start = parse_clock_time((*hours)->start);
    auto end = parse_clock_time((*hours)->end);
    if (start && end) return LocalWindow{*start, *end};
  }
  return std::nullopt;
}

int digest_minute(const Guardian& g, const PlannerOptions& options) {
  for (const auto* time : {&g.preferences.digest_time, &options.school_defaults.digest_time}) {
    if (!*time) continue;
    if (auto minute = parse_clock_time(**time)) return *minute;
  }
  return kDefaultDigestMinute;
}

bool usable_for(const ContactPoint& c, const std::vector<std::string>& students,
                const std::map<AddressKey, AddressOwners>& owners, const PlannerOptions& options,
                bool urgent, bool& blocked_by_sharing) {
  // A number that texted STOP still gets urgent SMS where the school says so.
  const bool stopped_but_urgent =
      urgent && options.urgent_to_stopped && c.channel == "sms" && c.status == "stopped";
  if ((c.status != "active" && !stopped_but_urgent) ||
      options.available_channels.count(c.channel) == 0) {
    return false;
  }
  const auto& o = owners.at({c.channel, c.address});
  const bool blocked = o.owner_not_contactable ||
                       std::any_of(students.begin(), students.end(), [&](const std::string& s) {
                         return o.forbidden_students.count(s) > 0;
                       });
  blocked_by_sharing = blocked_by_sharing || blocked;
  return !blocked;
}

// Rule 4, with rule 1 and 2 applied to shared addresses.
const ContactPoint* choose_contact(const Recipient& r, const std::string& category,
                                   const std::map<AddressKey, AddressOwners>& owners,
                                   const PlannerOptions& options, bool& blocked_by_sharing) {
  const Guardian& g = *r.guardian;
  // A channel the family unsubscribed from for this category is skipped (never for urgent).
  auto usable = [&](const ContactPoint& c) {
    if (category != "urgent" && g.unsubscribed.count({c.channel, category}) != 0) return false;
    return usable_for(c, r.student_ids, owners, options, category == "urgent", blocked_by_sharing);
  };
  const auto& order =
      !g.preferences.channels.empty() ? g.preferences.channels : options.school_defaults.channels;
  if (order.empty()) {
    for (const auto& c : g.contacts) {
      if (usable(c)) return &c;
    }
    return nullptr;
  }
  for (const auto& channel : order) {
    for (const auto& c : g.contacts) {
      if (c.channel == channel && usable(c)) return &c;
    }
  }
  return nullptr;  // the family (or school) chose the channels; respect it
}

std::vector<Recipient> recipients_of(const std::vector<StudentRoster>& audience) {
  std::vector<Recipient> out;
  std::map<std::string, std::size_t> index;
  std::set<std::string> seen_students;
  for (const auto& roster : audience) {
    if (!seen_students.insert(roster.student.id).second) continue;
    for (const auto& link : roster.student.guardians) {
      if (!link.contact_allowed) continue;
      auto g = std::find_if(roster.guardians.begin(), roster.guardians.end(),
                            [&](const Guardian& x) { return x.id == link.guardian_id; });
      if (g == roster.guardians.end()) continue;
      auto [it, inserted] = index.try_emplace(g->id, out.size());
      if (inserted) out.push_back({&*g, {}, roster.school ? &*roster.school : nullptr});
      auto& students = out[it->second].student_ids;
      if (std::find(students.begin(), students.end(), roster.student.id) == students.end()) {
        students.push_back(roster.student.id);
      }
    }
  }
  return out;
}

std::map<AddressKey, AddressOwners> owners_of(const std::vector<StudentRoster>& audience,
                                              const NewMessage& message) {
  std::map<AddressKey, AddressOwners> owners;
  for (const auto& roster : audience) {
    for (const auto& g : roster.guardians) {
      std::vector<std::string> restricted;
      for (const auto& link : roster.student.guardians) {
        if (link.guardian_id == g.id && !link.contact_allowed)
          restricted.push_back(roster.student.id);
      }
      for (const auto& c : g.contacts) {
        auto& o = owners[{c.channel, c.address}];
        o.forbidden_students.insert(restricted.begin(), restricted.end());
        if (g.do_not_contact && !message.legally_required) o.owner_not_contactable = true;
      }
    }
  }
  return owners;
}

void add_detail(PlannedDelivery& d, const std::string& why) {
  d.detail += d.detail.empty() ? why : "; " + why;
}

// Rules 3 and 5: when the delivery may first be sent, and why.
void schedule(PlannedDelivery& d, const Guardian& g, const std::string& mode,
              const NewMessage& message, Millis now, const PlannerOptions& options) {
  const Millis base = std::max(now, message.send_at.value_or(now));
  if (base > now) add_detail(d, "send_at " + format_rfc3339(base));
  const auto* zone = resolve_zone(g.timezone, options.school_timezone);
  d.not_before = base;
  if (mode == "digest") {
    const int minute = digest_minute(g, options);
    d.digest = true;
    d.not_before = next_local_time(zone, minute, base);
    add_detail(d, "digest at " + format_clock_time(minute) + " " + std::string(zone->name()));
  } else if (message.category != "urgent") {
    if (auto window = quiet_window(g, options)) {
      const Millis deferred = defer_past_window(zone, *window, base);
      if (deferred != base) {
        d.not_before = deferred;
        add_detail(d, "quiet hours until " + format_clock_time(window->end) + " " +
                          std::string(zone->name()));
      }
    }
  }
  d.state = d.not_before > now ? DeliveryState::kScheduled : DeliveryState::kQueued;
}

}  // namespace

Preferences default_school_preferences() {
  Preferences p;
  p.digest_time = "17:30";
  return p;
}

Millis outside_quiet_hours(const Guardian& g, const std::string& category, Millis at,
                           const PlannerOptions& options) {
  if (category == "urgent") return at;
  const auto window = quiet_window(g, options);
  if (!window) return at;
  return defer_past_window(resolve_zone(g.timezone, options.school_timezone), *window, at);
}

Millis before_quiet_hours(const Guardian& g, const std::string& category, Millis at,
                          const PlannerOptions& options) {
  if (category == "urgent") return at;
  const auto window = quiet_window(g, options);
  if (!window) return at;
  return advance_before_window(resolve_zone(g.timezone, options.school_timezone), *window, at);
}

PlannerOptions options_for_school(const School& school, const PlannerOptions& options) {
  PlannerOptions out = options;
  out.default_language = school.language;
  out.school_timezone = school.timezone;
  out.school_defaults = school.defaults;
  out.urgent_to_stopped = school.urgent_to_stopped;
  // The digest time is never a school's: a family with children in two schools gets one digest.
  out.school_defaults.digest_time = options.school_defaults.digest_time;
  return out;
}

std::vector<PlannedDelivery> plan_send(const std::vector<StudentRoster>& audience,
                                       const NewMessage& message, Millis now,
                                       const PlannerOptions& deployment) {
  const auto owners = owners_of(audience, message);
  std::map<AddressKey, std::size_t> copy_at;  // address -> index of the copy it receives
  std::map<std::string, PlannerOptions> by_school;
  std::vector<PlannedDelivery> out;
  for (const auto& r : recipients_of(audience)) {
    const Guardian& g = *r.guardian;
    // A guardian with children in two schools gets the defaults of the school through which
    // this send reaches them first.
    const PlannerOptions& options =
        r.school == nullptr
            ? deployment
            : by_school.try_emplace(r.school->id, options_for_school(*r.school, deployment))
                  .first->second;
    PlannedDelivery d;
    d.guardian_id = g.id;
    d.student_ids = r.student_ids;
    d.language = choose_language(g, message, options);
    d.not_before = now;
    auto suppress = [&](std::string why) {
      d.state = DeliveryState::kSuppressed;
      d.detail = std::move(why);
      out.push_back(std::move(d));
    };

    if (g.do_not_contact && !message.legally_required) {
      suppress("do not contact");
      continue;
    }
    const std::string mode = category_mode(g, message.category, options);
    if (mode == "off") {
      suppress("category off");
      continue;
    }
    bool blocked_by_sharing = false;
    const ContactPoint* contact =
        choose_contact(r, message.category, owners, options, blocked_by_sharing);
    if (!contact) {
      suppress(blocked_by_sharing
                   ? "no usable contact point (shared with a guardian who may not be contacted)"
                   : "no usable contact point");
      continue;
    }
    d.channel = contact->channel;
    d.address = contact->address;
    if (auto it = copy_at.find({d.channel, d.address}); it != copy_at.end()) {
      auto& copy = out[it->second];
      for (const auto& s : r.student_ids) {
        if (std::find(copy.student_ids.begin(), copy.student_ids.end(), s) ==
            copy.student_ids.end()) {
          copy.student_ids.push_back(s);
        }
      }
      suppress("same address as guardian " + copy.guardian_id + " (one copy per household)");
      continue;
    }
    schedule(d, g, mode, message, now, options);
    copy_at.emplace(AddressKey{d.channel, d.address}, out.size());
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<PlannedDelivery> plan_message(const StudentRoster& roster, const NewMessage& message,
                                          Millis now, const PlannerOptions& options) {
  return plan_send({roster}, message, now, options);
}

}  // namespace homeroom::routing
