// Conference reminder texts (render/conference_text.h): the slot named as the family's calendar
// reads it, in English or Spanish, and the email subject for the "conference" category.
#include <catch2/catch.hpp>

#include "render/conference_text.h"
#include "render/renderer.h"

using namespace homeroom;
using render::conference_reminder_text;
using render::ConferenceReminderFacts;

namespace {

// 2026-11-24T21:05:00Z: Tuesday 15:05 in Chicago, Tuesday 22:05 in Madrid.
constexpr Millis kSlot = 1'795'554'300'000;

ConferenceReminderFacts facts(std::string note = "") {
  return {"Maya", "Ms. Lee", kSlot, 20, "Room 12", std::move(note)};
}

}  // namespace

TEST_CASE("conference text - English, in the family's zone, 12-hour clock") {
  CHECK(conference_reminder_text("en", "America/Chicago", facts()) ==
        "Reminder: Maya's conference with Ms. Lee is on Tuesday, November 24 at 3:05 PM CST "
        "(20 min).\nPlace: Room 12");
  CHECK(conference_reminder_text("fr", "UTC", facts("Bring the report card")) ==
        "Reminder: Maya's conference with Ms. Lee is on Tuesday, November 24 at 9:05 PM UTC "
        "(20 min).\nPlace: Room 12\nBring the report card");
}

TEST_CASE("conference text - Spanish, 24-hour clock, another zone") {
  CHECK(conference_reminder_text("es-MX", "Europe/Madrid", facts()) ==
        "Recordatorio: la reunión de Maya con Ms. Lee es el martes 24 de noviembre a las 22:05 "
        "CET (20 min).\nLugar: Room 12");
  // Midnight and noon on the 12-hour clock.
  auto midnight = facts();
  midnight.starts_at = 1'795'586'400'000;  // 2026-11-25T06:00:00Z: 00:00 in Chicago
  CHECK(conference_reminder_text("en", "America/Chicago", midnight).find("at 12:00 AM CST") !=
        std::string::npos);
  CHECK(conference_reminder_text("es", "America/Chicago", midnight)
            .find("el miércoles 25 de noviembre a las 00:00 CST") != std::string::npos);
}

TEST_CASE("conference text - values are shown as written, Mustache tags in them are not read") {
  auto f = facts("{{student}} <b>&");
  f.place = "Room {{12}}";
  const auto text = conference_reminder_text("en", "UTC", f);
  CHECK(text.find("Place: Room {{12}}\n{{student}} <b>&") != std::string::npos);
}

TEST_CASE("conference text - an email subject for the conference category") {
  LeasedDelivery d;
  d.category = "conference";
  d.student_given_name = "Maya";
  d.language = "en";
  CHECK(render::subject_for(d) == "Conference reminder: Maya");
  d.language = "es";
  CHECK(render::subject_for(d) == "Recordatorio de reunión: Maya");
}
