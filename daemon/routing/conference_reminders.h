// Conference reminders: for one slot and the school's rules (minutes before the slot), which
// guardian gets which reminder, on which channel, in which language and when. Pure, like the
// planner it builds on; thread-safe.
//
// 1. Who, how, in which language: plan_send for the student with category "conference", so every
//    planner rule holds (restrictions, do_not_contact, channel order, unsubscribes, one copy per
//    household, the category's mode: "off" suppresses). A "digest" mode does not apply: a reminder
//    goes at its own time.
// 2. When, per guardian and rule: the slot's local time in the guardian's zone (else the school's,
//    else UTC) moved back minutes / 1440 whole local days (the same wall-clock time, across DST),
//    then minutes % 1440 minutes. Inside the guardian's quiet hours (else the school's) it moves
//    EARLIER, to one minute before the window starts: a reminder never comes after its slot.
// 3. Past: a reminder whose time is not after `now` is not planned. When every rule's time has
//    passed for a guardian but the slot is still ahead, that guardian gets one reminder now (under
//    the rule with the fewest minutes), deferred past quiet hours like a note, and none at all if
//    that would be at or after the slot.
// 4. A suppressed row (no usable contact point, do not contact, one copy per household, category
//    off) is planned under each rule whose time (slot minus minutes) is still ahead, else under the
//    rule with the fewest minutes while the slot is ahead: it records why a guardian is not
//    reminded.
// Output: by rule, earliest reminder first; within a rule, the planner's guardian order.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/model.h"
#include "routing/delivery_planner.h"

namespace homeroom::routing {

struct PlannedReminder {
  int minutes_before = 0;    // the rule it was planned for
  std::string timezone;      // the IANA zone its text names the slot in (the guardian's)
  PlannedDelivery delivery;  // not_before: when it goes; kScheduled, kQueued or kSuppressed
};

// `languages`: the languages the reminder's text exists in (the planner picks one per guardian,
// else options.default_language / the school's). `rules` in any order; duplicates count once.
std::vector<PlannedReminder> plan_conference_reminders(const StudentRoster& roster,
                                                       const Conference& slot,
                                                       const std::vector<int>& rules,
                                                       const std::set<std::string>& languages,
                                                       Millis now, const PlannerOptions& options);

// "3 days", "2 h", "90 min": a rule as the delivery events name it.
std::string describe_minutes_before(int minutes);

}  // namespace homeroom::routing
