#include "routing/delivery_planner.h"

#include <algorithm>
#include <map>

namespace homeroom::routing {
namespace {

const ContactPoint* choose_contact(const Guardian& g, const PlannerOptions& options) {
  auto usable = [&](const ContactPoint& c) {
    return c.status == "active" && options.available_channels.count(c.channel) > 0;
  };
  for (const auto& channel : g.preferences.channels) {
    for (const auto& c : g.contacts) {
      if (c.channel == channel && usable(c)) return &c;
    }
  }
  if (!g.preferences.channels.empty()) return nullptr;  // the family chose; respect it
  auto it = std::find_if(g.contacts.begin(), g.contacts.end(), usable);
  return it == g.contacts.end() ? nullptr : &*it;
}

}  // namespace

std::vector<PlannedDelivery> plan_message(const StudentRoster& roster, const NewMessage& message,
                                          Millis now, const PlannerOptions& options) {
  std::map<std::string, const Guardian*> by_id;
  for (const auto& g : roster.guardians) by_id[g.id] = &g;
  std::map<std::pair<std::string, std::string>, std::string> first_with_address;

  const bool scheduled = message.send_at && *message.send_at > now;
  std::vector<PlannedDelivery> out;
  for (const auto& link : roster.student.guardians) {
    if (!link.contact_allowed) continue;
    auto it = by_id.find(link.guardian_id);
    if (it == by_id.end()) continue;
    const Guardian& g = *it->second;

    PlannedDelivery d;
    d.guardian_id = g.id;
    d.language = message.translations.count(g.language) ? g.language : options.default_language;
    d.not_before = scheduled ? *message.send_at : now;
    const ContactPoint* contact = choose_contact(g, options);
    if (!contact) {
      d.state = DeliveryState::kSuppressed;
      d.detail = "no usable contact point";
      out.push_back(std::move(d));
      continue;
    }
    d.channel = contact->channel;
    d.address = contact->address;
    auto [prev, inserted] = first_with_address.try_emplace({d.channel, d.address}, g.id);
    if (!inserted) {
      d.state = DeliveryState::kSuppressed;
      d.detail = "same address as guardian " + prev->second + " (one copy per household)";
    } else if (scheduled) {
      d.state = DeliveryState::kScheduled;
      d.detail = "send_at " + format_rfc3339(*message.send_at);
    } else {
      d.state = DeliveryState::kQueued;
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace homeroom::routing
