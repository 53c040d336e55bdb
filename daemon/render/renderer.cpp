#include "render/renderer.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "render/mime.h"
#include "render/tokens.h"

namespace homeroom::render {
namespace {

struct Words {
  const char* note_from;    // "Note from {author} about {student}"
  const char* note_about;   // "Note about {student}" (no author)
  const char* reminder;     // "Reminder about {student}"
  const char* urgent;       // "Urgent: {student}"
  const char* sent_by;      // footer: "Sent by {school} with homeroom."
  const char* unsubscribe;  // footer: "To stop these messages by email: {link}"
  const char* preferences;  // footer: "Choose how, when and in which language...: {link}"
  const char* digest;       // a digest's subject
  const char* item_from;    // a digest entry's heading: "{author} about {student}:"
  const char* item_about;   // ... without an author: "About {student}:"
  const char* conference;   // "Conference reminder: {student}"
};

const Words& words_for(const std::string& language) {
  static const Words kEn{"Note from {author} about {student}",
                         "Note about {student}",
                         "Reminder about {student}",
                         "Urgent: {student}",
                         "Sent by {school} with homeroom.",
                         "To stop receiving these messages by email: {link}",
                         "Choose how, when and in which language we contact you: {link}",
                         "Your messages from school",
                         "{author} about {student}:",
                         "About {student}:",
                         "Conference reminder: {student}"};
  static const Words kEs{"Nota de {author} sobre {student}",
                         "Nota sobre {student}",
                         "Recordatorio sobre {student}",
                         "Urgente: {student}",
                         "Enviado por {school} con homeroom.",
                         "Para dejar de recibir estos mensajes por correo: {link}",
                         "Elija cómo, cuándo y en qué idioma le contactamos: {link}",
                         "Sus mensajes de la escuela",
                         "{author} sobre {student}:",
                         "Sobre {student}:",
                         "Recordatorio de reunión: {student}"};
  if (language == "es" || language.rfind("es-", 0) == 0) return kEs;
  return kEn;
}

void replace(std::string& pattern, const std::string& key, const std::string& value) {
  if (auto at = pattern.find(key); at != std::string::npos) pattern.replace(at, key.size(), value);
}

// A name as it may appear in a one-line text (a subject): control characters become spaces.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return text;
}

std::string fill(std::string pattern, const LeasedDelivery& d) {
  replace(pattern, "{author}", one_line(d.author_name));
  replace(pattern, "{student}", one_line(d.student_given_name));
  return pattern;
}

// The addresses and links of one email, from the options that exist.
struct EmailLinks {
  std::string reply_to;         // "reply+TOKEN@domain" or ""
  std::string unsubscribe_url;  // "https://.../u/TOKEN" or ""
  std::string unsubscribe_mailto;
  std::string return_path;
  std::string preferences_url;  // "https://.../p/TOKEN" (every category) or ""
};

EmailLinks links_for(const LeasedDelivery& d, const RenderOptions& o, Millis now) {
  EmailLinks l;
  const std::string& secret = o.token_secret;
  if (!o.public_url.empty()) {
    l.preferences_url = o.public_url + "/p/" +
                        preferences_token(secret, d.guardian_id, now + kPreferencesLinkLifetime);
  }
  if (!o.reply_domain.empty()) {
    l.reply_to = "reply+" + reply_token(secret, d.author_staff, d.student_id, d.guardian_id) + "@" +
                 o.reply_domain;
  }
  if (d.category != "urgent" && (!o.public_url.empty() || !o.reply_domain.empty())) {
    const std::string token = unsubscribe_token(secret, d.guardian_id, d.category, d.channel);
    if (!o.public_url.empty()) l.unsubscribe_url = o.public_url + "/u/" + token;
    if (!o.reply_domain.empty()) {
      l.unsubscribe_mailto = "mailto:unsubscribe+" + token + "@" + o.reply_domain;
    }
  }
  const std::string& bounce_domain = o.bounce_domain.empty() ? o.reply_domain : o.bounce_domain;
  if (!bounce_domain.empty())
    l.return_path = "bounce+" + bounce_token(secret, d.id) + "@" + bounce_domain;
  return l;
}

// The footer's lines in the delivery's language; the link is the https one, else the mailto.
std::vector<std::string> footer_lines(const LeasedDelivery& d, const RenderOptions& o,
                                      const std::string& link, const std::string& preferences_url) {
  const Words& w = words_for(d.language);
  std::vector<std::string> lines;
  std::string sent_by = w.sent_by;
  replace(sent_by, "{school}", o.from_name.empty() ? o.from_address : o.from_name);
  lines.push_back(sent_by);
  if (!link.empty()) {
    std::string unsubscribe = w.unsubscribe;
    replace(unsubscribe, "{link}", link);
    lines.push_back(unsubscribe);
  }
  if (!preferences_url.empty()) {
    std::string preferences = w.preferences;
    replace(preferences, "{link}", preferences_url);
    lines.push_back(preferences);
  }
  return lines;
}

// A MIME boundary that cannot occur in quoted-printable text ("=_" is never QP output).
std::string boundary_for(const LeasedDelivery& d) {
  std::string b = "=_homeroom_";
  for (char c : d.id) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) b += c;
  }
  return b.substr(0, 60);
}

std::string email_message(const LeasedDelivery& d, const std::string& subject,
                          const RenderOptions& o, const EmailLinks& l, Millis now) {
  const std::string link = !l.unsubscribe_url.empty() ? l.unsubscribe_url : l.unsubscribe_mailto;
  const auto footer = footer_lines(d, o, link, l.preferences_url);

  std::string text = d.text;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  text += "\n\n-- \n";
  for (const auto& line : footer) text += line + "\n";

  std::string html = "<!DOCTYPE html>\n<html lang=\"" + escape_html(d.language) +
                     "\">\n<head><meta charset=\"utf-8\"><title>" + escape_html(subject) +
                     "</title></head>\n<body>\n" + html_paragraphs(d.text) +
                     "<hr>\n<p style=\"font-size:small;color:#555\">" + escape_html(footer[0]);
  if (!link.empty()) {
    std::string unsubscribe = words_for(d.language).unsubscribe;
    const auto at = unsubscribe.find("{link}");
    html += "<br>\n" + escape_html(unsubscribe.substr(0, at)) + "<a href=\"" + escape_html(link) +
            "\">" + escape_html(link) + "</a>" + escape_html(unsubscribe.substr(at + 6));
  }
  if (!l.preferences_url.empty()) {
    std::string preferences = words_for(d.language).preferences;
    const auto at = preferences.find("{link}");
    html += "<br>\n" + escape_html(preferences.substr(0, at)) + "<a href=\"" +
            escape_html(l.preferences_url) + "\">" + escape_html(l.preferences_url) + "</a>" +
            escape_html(preferences.substr(at + 6));
  }
  html += "</p>\n</body>\n</html>\n";

  const std::string boundary = boundary_for(d);
  std::string m;
  m += "From: " + format_mailbox(o.from_name, o.from_address) + "\r\n";
  m += "To: <" + d.address + ">\r\n";
  if (!l.reply_to.empty()) m += "Reply-To: <" + l.reply_to + ">\r\n";
  m += "Subject: " + encode_header_words(subject) + "\r\n";
  m += "Date: " + rfc5322_date(now) + "\r\n";
  m += "Message-ID: <" + d.id + "@" + o.message_id_domain + ">\r\n";
  if (!l.unsubscribe_url.empty() || !l.unsubscribe_mailto.empty()) {
    std::string value;
    if (!l.unsubscribe_url.empty()) value = "<" + l.unsubscribe_url + ">";
    if (!l.unsubscribe_mailto.empty()) {
      value += (value.empty() ? "<" : ",\r\n <") + l.unsubscribe_mailto + ">";
    }
    m += "List-Unsubscribe: " + value + "\r\n";
    // RFC 8058 one-click needs the https URI; a mailto alone gets no -Post header.
    if (!l.unsubscribe_url.empty()) m += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  }
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Language: " + d.language + "\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  m += "\r\n";
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  m += quoted_printable(text) + "\r\n";
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/html; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  m += quoted_printable(html) + "\r\n";
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace

std::string html_paragraphs(const std::string& text) {
  std::string out;
  std::string paragraph;
  auto flush = [&] {
    if (!paragraph.empty()) out += "<p>" + paragraph + "</p>\n";
    paragraph.clear();
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      flush();
    } else {
      if (!paragraph.empty()) paragraph += "<br>\n";
      paragraph += escape_html(line);
    }
    start = end + 1;
  }
  flush();
  return out;
}

// A digest's text: each note under a heading naming its author and student, in order.
std::string digest_text(const LeasedDelivery& d) {
  const Words& w = words_for(d.language);
  auto entry = [&](const std::string& author, const std::string& student, const std::string& text) {
    std::string heading = author.empty() ? w.item_about : w.item_from;
    replace(heading, "{author}", one_line(author));
    replace(heading, "{student}", one_line(student));
    return heading + "\n" + text;
  };
  std::string out = entry(d.author_name, d.student_given_name, d.text);
  for (const auto& item : d.digest) {
    out += "\n\n" + entry(item.author_name, item.student_given_name, item.text);
  }
  return out;
}

std::string subject_for(const LeasedDelivery& d) {
  const Words& w = words_for(d.language);
  if (!d.digest.empty()) return w.digest;
  if (d.category == "urgent") return fill(w.urgent, d);
  if (d.category == "reminder") return fill(w.reminder, d);
  if (d.category == "conference") return fill(w.conference, d);
  return fill(d.author_name.empty() ? w.note_about : w.note_from, d);
}

RenderedDelivery render_delivery(const LeasedDelivery& leased, const RenderOptions& options,
                                 Millis now) {
  if (!leased.digest.empty()) {
    // One message for the lot: the entries name their authors, so the text carries no prefix.
    LeasedDelivery combined = leased;
    combined.text = digest_text(leased);
    combined.author_name.clear();
    combined.digest.clear();
    RenderedDelivery out = render_delivery(combined, options, now);
    out.subject = subject_for(leased);
    if (leased.channel == "email") {
      out.content =
          email_message(combined, out.subject, options, links_for(combined, options, now), now);
    } else if (leased.channel == "push") {
      auto payload = nlohmann::json::parse(out.content);
      payload["title"] = out.subject;
      out.content = payload.dump();
    }
    return out;
  }
  const LeasedDelivery& d = leased;
  RenderedDelivery out;
  out.delivery_id = d.id;
  out.channel = d.channel;
  out.to = d.address;
  out.body = d.text;
  out.language = d.language;
  out.category = d.category;
  out.attempt = static_cast<std::uint32_t>(d.attempt);
  out.from = d.from;
  out.subject = subject_for(d);
  if (d.channel == "email") {
    const EmailLinks links = links_for(d, options, now);
    out.content = email_message(d, out.subject, options, links, now);
    out.return_path = links.return_path;
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
