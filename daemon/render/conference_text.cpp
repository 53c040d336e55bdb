#include "render/conference_text.h"

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "render/template.h"
#include "routing/local_time.h"

namespace homeroom::render {
namespace {

struct Words {
  const char* reminder;  // Mustache: student, teacher, date, time, minutes, place, note
  std::array<const char*, 7> weekdays;  // Sunday first
  std::array<const char*, 12> months;
  bool twelve_hour;
};

const Words& words_for(const std::string& language) {
  static const Words kEn{
      "Reminder: {{student}}'s conference with {{teacher}} is on {{date}} at {{time}} "
      "({{minutes}} min).\nPlace: {{place}}{{#note}}\n{{note}}{{/note}}",
      {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
      {"January", "February", "March", "April", "May", "June", "July", "August", "September",
       "October", "November", "December"},
      true};
  static const Words kEs{
      "Recordatorio: la reunión de {{student}} con {{teacher}} es el {{date}} a las {{time}} "
      "({{minutes}} min).\nLugar: {{place}}{{#note}}\n{{note}}{{/note}}",
      {"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
      {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
       "octubre", "noviembre", "diciembre"},
      false};
  if (language == "es" || language.rfind("es-", 0) == 0) return kEs;
  return kEn;
}

std::string clock_text(const Words& w, int minute_of_day) {
  std::array<char, 16> buf{};
  const int h = minute_of_day / 60;
  const int m = minute_of_day % 60;
  if (w.twelve_hour) {
    std::snprintf(buf.data(), buf.size(), "%d:%02d %s", (h + 11) % 12 + 1, m, h < 12 ? "AM" : "PM");
  } else {
    std::snprintf(buf.data(), buf.size(), "%02d:%02d", h, m);
  }
  return buf.data();
}

}  // namespace

const std::set<std::string>& conference_reminder_languages() {
  static const std::set<std::string> kLanguages{"en", "es"};
  return kLanguages;
}

std::string conference_reminder_text(const std::string& language, const std::string& timezone,
                                     const ConferenceReminderFacts& facts) {
  const Words& w = words_for(language);
  const auto local =
      routing::local_date_time(routing::resolve_zone(timezone, "UTC"), facts.starts_at);
  const std::string weekday = w.weekdays.at(static_cast<std::size_t>(local.weekday));
  const std::string month = w.months.at(static_cast<std::size_t>(local.month - 1));
  const std::string day = std::to_string(local.day);
  const std::string date =
      w.twelve_hour ? weekday + ", " + month + " " + day : weekday + " " + day + " de " + month;
  const nlohmann::json context{
      {"student", facts.student_given_name},
      {"teacher", facts.staff_name},
      {"date", date},
      {"time", clock_text(w, local.minute_of_day) + " " + local.abbreviation},
      {"minutes", facts.duration_minutes},
      {"place", facts.place},
      {"note", facts.note}};
  // The templates are ours and small: parsing and rendering cannot fail.
  auto parsed = Template::parse(w.reminder);
  if (!parsed.is_ok()) return {};
  auto text = parsed->render(context, Escape::kNone);
  return text.is_ok() ? *text : std::string();
}

}  // namespace homeroom::render
