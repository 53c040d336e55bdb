#include "api/preferences_page.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>
#include <vector>

#include "api/roster_json.h"
#include "api/store_awaitable.h"
#include "render/mime.h"
#include "render/tokens.h"

namespace homeroom::api {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// The page's words. {name}, {tz} and {n} are filled in; everything is HTML-escaped afterwards.
struct PageWords {
  const char* lang;  // the <html lang> of a page in these words
  const char* title;
  const char* hello;
  const char* intro;
  const char* channels_legend;
  std::array<const char*, 3> choice;  // "1st choice", ...
  const char* choice_n;               // "Choice {n}"
  const char* none;
  const char* language;
  const char* quiet_legend;
  const char* quiet_start;
  const char* quiet_end;
  const char* quiet_hint;
  const char* save;
  const char* error_intro;
  const char* bad_channel;
  const char* no_channel;
  const char* bad_language;
  const char* bad_time;
  const char* both_times;
  const char* saved_title;
  const char* saved_text;
  const char* saved_channels;
  const char* saved_quiet;
  const char* no_quiet;
  const char* change_again;
  std::map<std::string, std::string> channel_names;
};

const PageWords& words_for(const std::string& language) {
  static const PageWords kEn{
      "en",
      "Your contact preferences",
      "Hello, {name}.",
      "Choose how the school reaches you, in which language, and when it should not send "
      "messages.",
      "How should we contact you?",
      {"1st choice", "2nd choice", "3rd choice"},
      "Choice {n}",
      "(none)",
      "Language",
      "Quiet hours: no messages except urgent ones",
      "From",
      "To",
      "Leave both empty for no quiet hours. Times are in your time zone ({tz}).",
      "Save",
      "Please check this field:",
      "choose each way of contacting you at most once.",
      "choose at least a first choice.",
      "choose a language from the list.",
      "enter a time as HH:MM (for example 20:00).",
      "enter both times, or leave both empty.",
      "Preferences saved",
      "Thank you, {name}. Your preferences are saved.",
      "How we contact you",
      "Quiet hours",
      "none",
      "Change them again",
      {{"email", "Email"}, {"sms", "Text message (SMS)"}, {"push", "App notification"}}};
  static const PageWords kEs{
      "es",
      "Sus preferencias de contacto",
      "Hola, {name}.",
      "Elija cómo le contacta la escuela, en qué idioma y cuándo no debe enviarle mensajes.",
      "¿Cómo prefiere que le contactemos?",
      {"1.ª opción", "2.ª opción", "3.ª opción"},
      "Opción {n}",
      "(ninguna)",
      "Idioma",
      "Horas de silencio: ningún mensaje salvo los urgentes",
      "Desde",
      "Hasta",
      "Deje ambas vacías si no quiere horas de silencio. Las horas son de su zona horaria ({tz}).",
      "Guardar",
      "Revise este campo:",
      "elija cada forma de contacto una sola vez.",
      "elija al menos una primera opción.",
      "elija un idioma de la lista.",
      "escriba una hora como HH:MM (por ejemplo 20:00).",
      "escriba las dos horas o deje ambas vacías.",
      "Preferencias guardadas",
      "Gracias, {name}. Hemos guardado sus preferencias.",
      "Cómo le contactamos",
      "Horas de silencio",
      "ninguna",
      "Cambiarlas de nuevo",
      {{"email", "Correo electrónico"},
       {"sms", "Mensaje de texto (SMS)"},
       {"push", "Notificación de la aplicación"}}};
  if (language == "es" || language.rfind("es-", 0) == 0) return kEs;
  return kEn;
}

// The languages every page offers, named in themselves.
const std::vector<std::pair<std::string, std::string>>& offered_languages() {
  static const std::vector<std::pair<std::string, std::string>> kLanguages{
      {"en", "English"},  {"es", "Español"},   {"vi", "Tiếng Việt"},
      {"zh", "中文"},     {"ar", "العربية"},   {"ht", "Kreyòl ayisyen"},
      {"so", "Soomaali"}, {"pt", "Português"}, {"fr", "Français"}};
  return kLanguages;
}

std::string substitute(std::string pattern, const std::string& key, const std::string& value) {
  if (auto at = pattern.find(key); at != std::string::npos) pattern.replace(at, key.size(), value);
  return pattern;
}

Response html_page(unsigned status, const std::string& lang, const std::string& title,
                   const std::string& body) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<!DOCTYPE html>\n<html lang=\"" + render::escape_html(lang) +
           "\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<meta name=\"robots\" content=\"noindex\">\n<title>" +
           render::escape_html(title) +
           "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:1rem "
           "auto;padding:0 1rem;line-height:1.5}label{display:block;margin:.6rem 0 .2rem}"
           "select,input,button{font-size:1rem;padding:.4rem;min-width:12rem}"
           "fieldset{margin:1rem 0}.error{border:2px solid #b00020;padding:.5rem}</style>\n"
           "</head>\n<body>\n<main>\n" +
           body + "</main>\n</body>\n</html>\n";
  // The URL is a capability: never send it on as a Referer, never frame or script the page.
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'");
  return r;
}

// The 404 and 410 pages say the same thing in English and Spanish: the link is all we know.
Response link_problem_page(unsigned status) {
  const bool expired = status == 410;
  std::string body;
  if (expired) {
    body =
        "<h1>This link has expired</h1>\n<p>Links to change your contact preferences work for "
        "30 days. Use the link in a newer message from the school, or ask the school for a new "
        "one.</p>\n<h1 lang=\"es\">Este enlace ha caducado</h1>\n<p lang=\"es\">Los enlaces para "
        "cambiar sus preferencias de contacto funcionan durante 30 días. Use el enlace de un "
        "mensaje más reciente de la escuela o pida uno nuevo a la escuela.</p>\n";
  } else {
    body =
        "<h1>This link is not valid</h1>\n<p>Check that you opened the whole link from the "
        "message, or ask the school for a new one.</p>\n<h1 lang=\"es\">Este enlace no es "
        "válido</h1>\n<p lang=\"es\">Compruebe que abrió el enlace completo del mensaje o pida "
        "uno nuevo a la escuela.</p>\n";
  }
  return html_page(status, "en", expired ? "Link expired" : "Link not valid", body);
}

// What the form shows: the guardian's preferences, or what was just posted.
struct FormState {
  std::vector<std::string> channels;  // by choice; "" = not chosen
  std::string language;
  std::string quiet_start;
  std::string quiet_end;
};

// The channels the form offers: the guardian's contact channels, in the order of their contacts.
std::vector<std::string> offered_channels(const Guardian& g) {
  std::vector<std::string> out;
  for (const auto& c : g.contacts) {
    if (std::find(out.begin(), out.end(), c.channel) == out.end()) out.push_back(c.channel);
  }
  if (out.empty()) out = known_channels();
  return out;
}

FormState state_of(const Guardian& g) {
  FormState s;
  const auto offered = offered_channels(g);
  for (const auto& c : g.preferences.channels) {
    if (std::find(offered.begin(), offered.end(), c) != offered.end()) s.channels.push_back(c);
  }
  for (const auto& c : offered) {
    if (std::find(s.channels.begin(), s.channels.end(), c) == s.channels.end()) {
      s.channels.push_back(c);
    }
  }
  s.language = g.language;
  if (g.preferences.quiet_hours) {
    s.quiet_start = g.preferences.quiet_hours->start;
    s.quiet_end = g.preferences.quiet_hours->end;
  }
  return s;
}

std::string selected(bool yes) { return yes ? " selected" : ""; }

std::string invalid_attr(const std::string& error_field, const std::string& field) {
  return error_field == field ? " aria-invalid=\"true\" aria-describedby=\"error\"" : "";
}

// The form in `w`'s words; `error_field` (a form field name) and `error` mark a bad field.
Response form_page(unsigned status, const Guardian& g, const FormState& state,
                   const std::string& error_field, const std::string& error) {
  const PageWords& w = words_for(g.language);
  std::string b;
  b += "<h1>" + render::escape_html(w.title) + "</h1>\n";
  b += "<p>" + render::escape_html(substitute(w.hello, "{name}", g.given_name)) + "</p>\n";
  b += "<p>" + render::escape_html(w.intro) + "</p>\n";
  if (!error_field.empty()) {
    b += "<p id=\"error\" class=\"error\" role=\"alert\">" + render::escape_html(w.error_intro) +
         " <strong>" + render::escape_html(error_field) +
         "</strong>: " + render::escape_html(error) + "</p>\n";
  }
  b += "<form method=\"post\">\n";

  const auto offered = offered_channels(g);
  b += "<fieldset>\n<legend>" + render::escape_html(w.channels_legend) + "</legend>\n";
  for (std::size_t i = 0; i < offered.size(); ++i) {
    const std::string name = "channel" + std::to_string(i + 1);
    const std::string label =
        i < w.choice.size() ? w.choice[i] : substitute(w.choice_n, "{n}", std::to_string(i + 1));
    const std::string current = i < state.channels.size() ? state.channels[i] : "";
    b += "<label for=\"" + name + "\">" + render::escape_html(label) + "</label>\n";
    b += "<select id=\"" + name + "\" name=\"" + name + "\"" + invalid_attr(error_field, name) +
         ">\n";
    if (i > 0)
      b += "<option value=\"\"" + selected(current.empty()) + ">" + render::escape_html(w.none) +
           "</option>\n";
    for (const auto& c : offered) {
      auto named = w.channel_names.find(c);
      b += "<option value=\"" + render::escape_html(c) + "\"" + selected(current == c) + ">" +
           render::escape_html(named == w.channel_names.end() ? c : named->second) + "</option>\n";
    }
    b += "</select>\n";
  }
  b += "</fieldset>\n";

  b += "<fieldset>\n<legend>" + render::escape_html(w.language) + "</legend>\n";
  b += "<label for=\"language\">" + render::escape_html(w.language) + "</label>\n";
  b += "<select id=\"language\" name=\"language\"" + invalid_attr(error_field, "language") + ">\n";
  bool listed = false;
  for (const auto& [code, name] : offered_languages()) {
    listed = listed || code == state.language;
    b += "<option value=\"" + code + "\" lang=\"" + code + "\"" + selected(code == state.language) +
         ">" + render::escape_html(name) + "</option>\n";
  }
  if (!listed && !state.language.empty()) {
    b += "<option value=\"" + render::escape_html(state.language) + "\" selected>" +
         render::escape_html(state.language) + "</option>\n";
  }
  b += "</select>\n</fieldset>\n";

  b += "<fieldset>\n<legend>" + render::escape_html(w.quiet_legend) + "</legend>\n";
  b += "<label for=\"quiet_start\">" + render::escape_html(w.quiet_start) + "</label>\n";
  b += "<input type=\"time\" id=\"quiet_start\" name=\"quiet_start\" value=\"" +
       render::escape_html(state.quiet_start) + "\"" + invalid_attr(error_field, "quiet_start") +
       ">\n";
  b += "<label for=\"quiet_end\">" + render::escape_html(w.quiet_end) + "</label>\n";
  b += "<input type=\"time\" id=\"quiet_end\" name=\"quiet_end\" value=\"" +
       render::escape_html(state.quiet_end) + "\"" + invalid_attr(error_field, "quiet_end") + ">\n";
  b += "<p>" + render::escape_html(substitute(w.quiet_hint, "{tz}", g.timezone)) + "</p>\n";
  b += "</fieldset>\n";
  b += "<p><button type=\"submit\">" + render::escape_html(w.save) + "</button></p>\n</form>\n";
  return html_page(status, w.lang, w.title, b);
}

Response saved_page(const Guardian& g) {
  const PageWords& w = words_for(g.language);
  std::string channels;
  for (const auto& c : g.preferences.channels) {
    auto named = w.channel_names.find(c);
    channels += "<li>" + render::escape_html(named == w.channel_names.end() ? c : named->second) +
                "</li>\n";
  }
  std::string language = g.language;
  for (const auto& [code, name] : offered_languages()) {
    if (code == g.language) language = name;
  }
  const std::string quiet = g.preferences.quiet_hours ? g.preferences.quiet_hours->start + "–" +
                                                            g.preferences.quiet_hours->end
                                                      : std::string(w.no_quiet);
  std::string b;
  b += "<h1>" + render::escape_html(w.saved_title) + "</h1>\n";
  b += "<p role=\"status\">" +
       render::escape_html(substitute(w.saved_text, "{name}", g.given_name)) + "</p>\n";
  b += "<h2>" + render::escape_html(w.saved_channels) + "</h2>\n<ol>\n" + channels + "</ol>\n";
  b += "<p>" + render::escape_html(w.language) + ": " + render::escape_html(language) + "</p>\n";
  b += "<p>" + render::escape_html(w.saved_quiet) + ": " + render::escape_html(quiet) + "</p>\n";
  // An empty href is this same URL: the form again.
  b += "<p><a href=\"\">" + render::escape_html(w.change_again) + "</a></p>\n";
  return html_page(200, w.lang, w.saved_title, b);
}

// The first value of each field of an application/x-www-form-urlencoded body.
std::map<std::string, std::string> parse_form(std::string_view body) {
  std::map<std::string, std::string> out;
  for (auto& [name, value] : http::parse_form(body)) out.emplace(std::move(name), std::move(value));
  return out;
}

struct FormError {
  std::string field;  // the form field
  std::string message;
};

// Validates the posted form with the API's own guardian rules (api/roster_json.h), so the page
// accepts exactly what PUT /v1/guardians accepts; on success returns `g` with only channels,
// language and quiet hours changed.
std::variant<Guardian, FormError> apply_form(Guardian g, const FormState& posted) {
  const PageWords& w = words_for(g.language);
  json channels = json::array();
  std::vector<std::string> field_of;  // index in `channels` -> form field
  for (std::size_t i = 0; i < posted.channels.size(); ++i) {
    if (posted.channels[i].empty()) continue;
    channels.push_back(posted.channels[i]);
    field_of.push_back("channel" + std::to_string(i + 1));
  }
  if (channels.empty()) return FormError{"channel1", w.no_channel};
  if (posted.quiet_start.empty() != posted.quiet_end.empty()) {
    return FormError{posted.quiet_start.empty() ? "quiet_start" : "quiet_end", w.both_times};
  }
  json prefs = {{"channels", channels}};
  if (!posted.quiet_start.empty()) {
    prefs["quiet_hours"] = {{"start", posted.quiet_start}, {"end", posted.quiet_end}};
  }
  json proposed = {{"given_name", g.given_name},
                   {"family_name", g.family_name},
                   {"language", posted.language},
                   {"preferences", prefs}};
  auto checked = guardian_from_json(g.id, proposed);
  if (!checked.is_ok()) {
    const std::string& field = checked.status().field();
    if (field == "language") return FormError{"language", w.bad_language};
    if (field == "preferences.quiet_hours.start") return FormError{"quiet_start", w.bad_time};
    if (field == "preferences.quiet_hours.end") return FormError{"quiet_end", w.bad_time};
    constexpr std::string_view kChannel = "preferences.channels[";
    if (field.rfind(kChannel, 0) == 0) {
      const std::size_t index = std::strtoul(field.c_str() + kChannel.size(), nullptr, 10);
      return FormError{index < field_of.size() ? field_of[index] : "channel1", w.bad_channel};
    }
    return FormError{field.empty() ? "form" : field, checked.status().message()};
  }
  g.language = checked->language;
  g.preferences.channels = checked->preferences.channels;
  g.preferences.quiet_hours = checked->preferences.quiet_hours;
  return g;
}

FormState posted_state(const Guardian& g, std::string_view body) {
  auto form = parse_form(body);
  FormState s;
  const std::size_t n = offered_channels(g).size();
  for (std::size_t i = 1; i <= n; ++i) s.channels.push_back(form["channel" + std::to_string(i)]);
  s.language = form["language"];
  s.quiet_start = form["quiet_start"];
  s.quiet_end = form["quiet_end"];
  return s;
}

}  // namespace

boost::asio::awaitable<Response> preferences_page(store::Store* store, Millis now,
                                                  std::string secret, std::string token,
                                                  Request request) {
  if (request.method != "GET" && request.method != "POST") {
    Response r = html_page(405, "en", "Method not allowed", "<p>Use GET or POST.</p>\n");
    r.headers.emplace_back("Allow", "GET, POST");
    co_return r;
  }
  auto claims = render::check_preferences_token(secret, token, now);
  if (!claims) {
    spdlog::info("preferences page: a link that is not valid");
    co_return link_problem_page(404);
  }
  if (claims->expired) {
    spdlog::info("preferences page: an expired link");
    co_return link_problem_page(410);
  }
  auto guardian = store->get_guardian(claims->guardian_id);
  if (!guardian.is_ok()) {
    if (guardian.status().code() == Code::kNotFound) co_return link_problem_page(404);
    spdlog::error("preferences page: reading the guardian failed: {}",
                  guardian.status().to_string());
    co_return html_page(503, "en", "Try again", "<p>Please try again in a minute.</p>\n");
  }
  if (request.method == "GET") co_return form_page(200, *guardian, state_of(*guardian), "", "");

  if (request.header("Content-Type").rfind("application/x-www-form-urlencoded", 0) != 0) {
    co_return html_page(415, "en", "Unsupported form", "<p>Send the form from the page.</p>\n");
  }
  const FormState posted = posted_state(*guardian, request.body);
  auto applied = apply_form(*guardian, posted);
  if (auto* error = std::get_if<FormError>(&applied)) {
    co_return form_page(422, *guardian, posted, error->field, error->message);
  }
  Guardian updated = std::move(std::get<Guardian>(applied));
  StoreCall<Status> call = [store, g = updated](std::function<void(Status)> done) {
    store->put_guardian(g, std::move(done));
  };
  Status status = co_await await_store<Status>(std::move(call));
  if (!status.is_ok()) {
    spdlog::error("preferences page: saving failed: {}", status.to_string());
    co_return html_page(503, "en", "Try again", "<p>Please try again in a minute.</p>\n");
  }
  spdlog::info("preferences page: a family saved its preferences");
  co_return saved_page(updated);
}

}  // namespace homeroom::api
