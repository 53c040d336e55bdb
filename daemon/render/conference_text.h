// The text of a conference reminder (routing/conference_reminders.h): the slot's day and time as
// the family's calendar reads it, its length, its place, the teacher's name and the slot's note,
// in English or Spanish:
//   "Reminder: Maya's conference with Ms. Lee is on Tuesday, November 24 at 3:00 PM CST (20 min).
//    Place: Room 12"
//   "Recordatorio: la reunión de Maya con Ms. Lee es el martes 24 de noviembre a las 15:00 CST
//    (20 min).
//    Lugar: Room 12"
// followed by the note on a line of its own when there is one (it is shown as written). Plain text
// (no HTML escaping: the email renderer escapes). Pure and thread-safe.
#pragma once

#include <set>
#include <string>

#include "core/clock.h"

namespace homeroom::render {

struct ConferenceReminderFacts {
  std::string student_given_name;
  std::string staff_name;
  Millis starts_at = 0;
  int duration_minutes = 0;
  std::string place;
  std::string note{};
};

// The languages the reminder has words in: "en", "es".
const std::set<std::string>& conference_reminder_languages();

// `language`: "es" or "es-..." gets Spanish, anything else English. `timezone`: the IANA zone the
// time is named in (an unknown one: UTC).
std::string conference_reminder_text(const std::string& language, const std::string& timezone,
                                     const ConferenceReminderFacts& facts);

}  // namespace homeroom::render
