// Who gets a message, on which channel, in which language and when: a pure function of the roster,
// the message and the time, so every rule is testable without a database.
//
// Rules in force now (docs/architecture.md; the preferences issue extends them):
// - a guardian whose link to the student has contact_allowed=false gets nothing, not even a
//   suppressed row: they are never planned;
// - channel: the guardian's first preferred channel that has an active contact point (not gone,
//   stopped or bounced) and a configured channel instance; guardians with no preference use their
//   contact points in order;
// - language: the guardian's, when the message has that translation, else the default;
// - one copy per contact address per send: a second guardian sharing an address gets a suppressed
//   row naming the first;
// - send_at in the future schedules instead of queueing.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/model.h"

namespace homeroom::routing {

struct PlannerOptions {
  std::set<std::string> available_channels{"email", "sms", "push"};
  std::string default_language = "en";
};

std::vector<PlannedDelivery> plan_message(const StudentRoster& roster, const NewMessage& message,
                                          Millis now, const PlannerOptions& options);

}  // namespace homeroom::routing
