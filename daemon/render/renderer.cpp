#include "render/renderer.h"

#include <nlohmann/json.hpp>

#include "render/mime.h"

namespace homeroom::render {
namespace {

struct Words {
  const char* note_from;   // "Note from {author} about {student}"
  const char* note_about;  // "Note about {student}" (no author)
  const char* reminder;    // "Reminder about {student}"
  const char* urgent;      // "Urgent: {student}"
};

const Words& words_for(const std::string& language) {
  static const Words kEn{"Note from {author} about {student}", "Note about {student}",
                         "Reminder about {student}", "Urgent: {student}"};
  static const Words kEs{"Nota de {author} sobre {student}", "Nota sobre {student}",
                         "Recordatorio sobre {student}", "Urgente: {student}"};
  if (language == "es" || language.rfind("es-", 0) == 0) return kEs;
  return kEn;
}

std::string fill(std::string pattern, const LeasedDelivery& d) {
  auto replace = [&](const std::string& key, const std::string& value) {
    if (auto at = pattern.find(key); at != std::string::npos)
      pattern.replace(at, key.size(), value);
  };
  replace("{author}", d.author_name);
  replace("{student}", d.student_given_name);
  return pattern;
}

std::string email_message(const LeasedDelivery& d, const std::string& subject,
                          const RenderOptions& o, Millis now) {
  std::string m;
  m += "From: " + format_mailbox(o.from_name, o.from_address) + "\r\n";
  m += "To: <" + d.address + ">\r\n";
  m += "Subject: " + encode_header_words(subject) + "\r\n";
  m += "Date: " + rfc5322_date(now) + "\r\n";
  m += "Message-ID: <" + d.id + "@" + o.message_id_domain + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: quoted-printable\r\n";
  m += "Content-Language: " + d.language + "\r\n";
  m += "\r\n";
  m += quoted_printable(d.text);
  m += "\r\n";
  return m;
}

}  // namespace

std::string subject_for(const LeasedDelivery& d) {
  const Words& w = words_for(d.language);
  if (d.category == "urgent") return fill(w.urgent, d);
  if (d.category == "reminder") return fill(w.reminder, d);
  return fill(d.author_name.empty() ? w.note_about : w.note_from, d);
}

RenderedDelivery render_delivery(const LeasedDelivery& d, const RenderOptions& options,
                                 Millis now) {
  RenderedDelivery out;
  out.delivery_id = d.id;
  out.channel = d.channel;
  out.to = d.address;
  out.body = d.text;
  out.language = d.language;
  out.category = d.category;
  out.attempt = static_cast<std::uint32_t>(d.attempt);
  out.subject = subject_for(d);
  if (d.channel == "email") {
    out.content = email_message(d, out.subject, options, now);
  } else if (d.channel == "push") {
    out.content = nlohmann::json{{"title", out.subject},
                                 {"body", d.text},
                                 {"category", d.category},
                                 {"lang", d.language},
                                 {"tag", d.message_id}}
                      .dump();
  } else {
    out.subject.clear();
    out.content = d.author_name.empty() ? d.text : d.author_name + ": " + d.text;
  }
  return out;
}

}  // namespace homeroom::render
