// Who gets a message, on which channel, in which language and when: a pure function of the roster,
// the message, the school's defaults and the time, so every rule is testable without a database or
// a clock. Thread-safe (no shared state besides the read-only system tz database).
//
// Rules, applied per guardian of the audience (docs/architecture.md, issue 4):
// 1. contact_allowed=false on a guardian's link to a student: nothing is ever planned for that
//    guardian about that student, not even a suppressed row. A contact address that such a
//    guardian also holds can never carry a copy about that student either (it would reach them).
// 2. Guardian.do_not_contact: a suppressed row "do not contact" unless message.legally_required;
//    that guardian's addresses carry nothing for anyone else either.
// 3. Category mode: the guardian's, else the school's, else "instant". "urgent" is always instant.
//    "off": a suppressed row "category off". "digest": digest=true, scheduled at the next digest
//    time (the guardian's, else the school's, else 17:30) local to the guardian, at or after the
//    base time (not moved by quiet hours: the digest time is the family's, or the school's,
//    choice).
// 4. Channel: the first channel of the guardian's list (else the school's, else the contact points
//    in order) with an active contact point on an available channel, skipping a channel the
//    guardian unsubscribed from for this category (Guardian::unsubscribed; never for "urgent").
//    An SMS contact "stopped" by the family's STOP counts as active for "urgent" when the school
//    says so (urgent_to_stopped). None: "no usable contact point".
// 5. Time: base = max(now, send_at). Instant non-urgent deliveries whose base falls inside the
//    guardian's quiet hours (else the school's), in the guardian's time zone (else the school's,
//    else UTC), are deferred to the end of the window; urgent bypasses quiet hours, not send_at.
//    kScheduled when not_before > now, else kQueued; `detail` says why.
// 6. Language: the translation for the guardian's language tag, else one with the same primary
//    subtag ("es-MX" gets "es"), else options.default_language.
// 7. One copy per household per send: a (channel, address) receives at most one copy; a later
//    guardian reaching the same address gets a suppressed row naming the guardian who got it, and
//    their students are added to that copy's student_ids. A guardian of several students of the
//    audience gets one delivery naming all of them (siblings together).
// Defaults ("the school's") come from the student's School when the roster carries one
// (options_for_school), else from `options`.
// Output order: the audience order, then each student's guardian order (a guardian appears once,
// where they are first linked with contact allowed).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/model.h"

namespace homeroom::routing {

// What a guardian without a setting of their own gets.
Preferences default_school_preferences();  // digest_time "17:30", nothing else set

struct PlannerOptions {
  std::set<std::string> available_channels{"email", "sms", "push"};  // channel instances configured
  std::string default_language = "en";                               // the school's
  Preferences school_defaults = default_school_preferences();
  std::string school_timezone = "UTC";  // for guardians whose time zone is empty or unknown
  // School::urgent_to_stopped: urgent SMS still reach a number that texted STOP (rule 4).
  bool urgent_to_stopped = false;
};

// `options` with a school's defaults (language, time zone, preferences; the digest time stays
// `options`', so that a family with children in two schools gets one digest). plan_send applies
// it to each guardian reached through a student whose StudentRoster carries a school.
PlannerOptions options_for_school(const School& school, const PlannerOptions& options);

// Rule 5 alone: the earliest time from `at` outside the guardian's quiet hours (else the
// school's), in their time zone; `at` itself for "urgent" or without quiet hours. For deliveries
// created after planning (a fallback to the next channel).
Millis outside_quiet_hours(const Guardian& g, const std::string& category, Millis at,
                           const PlannerOptions& options);

// Rule 5 turned around, for what must arrive before an event (a conference reminder): the latest
// time at or before `at` outside the guardian's quiet hours (else the school's), in their time
// zone, i.e. one minute before the window holding `at` begins; `at` itself for "urgent" or
// without quiet hours.
Millis before_quiet_hours(const Guardian& g, const std::string& category, Millis at,
                          const PlannerOptions& options);

// One send to several students (a broadcast); see the rules above.
std::vector<PlannedDelivery> plan_send(const std::vector<StudentRoster>& audience,
                                       const NewMessage& message, Millis now,
                                       const PlannerOptions& options);

// One note about one student: plan_send with an audience of one.
std::vector<PlannedDelivery> plan_message(const StudentRoster& roster, const NewMessage& message,
                                          Millis now, const PlannerOptions& options);

}  // namespace homeroom::routing
