#include "api/unsubscribe_page.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "api/store_awaitable.h"
#include "render/mime.h"

namespace homeroom::api {
namespace {

using http::Request;
using http::Response;
using Target = std::optional<store::UnsubscribeTarget>;

struct Words {
  const char* lang;
  const char* title;
  const char* question;  // {what} {channel}
  const char* button;
  const char* done;  // {what} {channel}
  const char* note;
  const char* reminder;
  const char* other;
  const char* by_email;
  const char* by_other;  // {channel}
  const char* conference;
};

const Words& words_for(const std::string& language) {
  static const Words kEn{"en",
                         "Unsubscribe",
                         "Stop receiving {what} {channel}?",
                         "Unsubscribe",
                         "You will no longer receive {what} {channel}. Urgent messages from "
                         "the school still reach you.",
                         "teachers' notes",
                         "reminders",
                         "these messages",
                         "by email",
                         "by {channel}",
                         "conference reminders"};
  static const Words kEs{"es",
                         "Cancelar suscripción",
                         "¿Dejar de recibir {what} {channel}?",
                         "Cancelar suscripción",
                         "Ya no recibirá {what} {channel}. Los mensajes urgentes de la escuela "
                         "le seguirán llegando.",
                         "notas de los maestros",
                         "recordatorios",
                         "estos mensajes",
                         "por correo electrónico",
                         "por {channel}",
                         "recordatorios de reuniones"};
  return language.rfind("es", 0) == 0 ? kEs : kEn;
}

std::string replace(std::string s, const std::string& key, const std::string& value) {
  if (auto at = s.find(key); at != std::string::npos) s.replace(at, key.size(), value);
  return s;
}

std::string sentence(const char* pattern, const Words& w, const store::UnsubscribeTarget& t) {
  const char* what = t.category == "note"         ? w.note
                     : t.category == "reminder"   ? w.reminder
                     : t.category == "conference" ? w.conference
                                                  : w.other;
  const std::string channel =
      t.channel == "email" ? w.by_email : replace(w.by_other, "{channel}", t.channel);
  return replace(replace(pattern, "{what}", what), "{channel}", channel);
}

Response page(unsigned status, const std::string& lang, const std::string& title,
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
           "auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.4rem}</style>\n"
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

Response not_found_page() {
  return page(404, "en", "Link not valid",
              "<h1>This link is not valid</h1>\n<p>Nothing was changed.</p>\n"
              "<p lang=\"es\">Este enlace no es válido. No se cambió nada.</p>\n");
}

Response unavailable_page() {
  return page(503, "en", "Try again", "<p>Please try again in a minute.</p>\n");
}

}  // namespace

boost::asio::awaitable<Response> unsubscribe_page(store::UnsubscribeStore* store, std::string token,
                                                  Request request) {
  const bool post = request.method == "POST";
  if (!post && request.method != "GET") {
    Response r = page(405, "en", "Method not allowed", "<p>Use GET or POST.</p>\n");
    r.headers.emplace_back("Allow", "GET, POST");
    co_return r;
  }
  StoreCall<Result<Target>> call = [store, token, post](std::function<void(Result<Target>)> done) {
    if (post) {
      store->unsubscribe(token, std::move(done));
    } else {
      store->find(token, std::move(done));
    }
  };
  Result<Target> found = co_await await_store(std::move(call));
  if (!found.is_ok()) {
    spdlog::error("unsubscribe: the store failed: {}", found.status().to_string());
    co_return unavailable_page();
  }
  if (!*found) {
    spdlog::info("unsubscribe: a link that is not valid ({})", request.method);
    co_return not_found_page();
  }
  const store::UnsubscribeTarget& t = **found;
  const Words& w = words_for(t.language);
  if (post) {
    spdlog::info("unsubscribe: guardian {} stopped {} by {}", t.guardian_id, t.category, t.channel);
    Response r;
    r.status = 200;
    r.content_type = "text/plain; charset=utf-8";
    r.body = sentence(w.done, w, t) + "\n";
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    co_return r;
  }
  // The form posts to this same URL: a relative, empty action keeps the token out of the page.
  co_return page(200, w.lang, w.title,
                 "<h1>" + render::escape_html(sentence(w.question, w, t)) +
                     "</h1>\n<form method=\"post\" action=\"\">\n"
                     "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n"
                     "<button type=\"submit\">" +
                     render::escape_html(w.button) + "</button>\n</form>\n");
}

}  // namespace homeroom::api
