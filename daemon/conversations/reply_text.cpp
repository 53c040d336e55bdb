#include "conversations/reply_text.h"

#include <cstddef>
#include <vector>

#include "conversations/ascii.h"

namespace homeroom::conversations {
namespace {

constexpr std::size_t kMaxAttribution = 400;  // bytes of a (joined) attribution line
constexpr std::size_t kMaxSignatureLine = 100;

// ASCII white space and the no-break spaces clients put in "a écrit :" and empty lines.
std::string_view trim_all(std::string_view s) {
  while (true) {
    const std::size_t before = s.size();
    s = ascii::trim(s);
    if (s.substr(0, 2) == "\xC2\xA0") s.remove_prefix(2);
    if (s.size() >= 2 && s.substr(s.size() - 2) == "\xC2\xA0") s.remove_suffix(2);
    if (s.substr(0, 3) == "\xE2\x80\xAF") s.remove_prefix(3);
    if (s.size() >= 3 && s.substr(s.size() - 3) == "\xE2\x80\xAF") s.remove_suffix(3);
    if (s.size() == before) return s;
  }
}

// No-break spaces as plain spaces, so "a\u00A0écrit\u00A0:" compares as "a écrit :".
std::string plain_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 2) == "\xC2\xA0") {
      out.push_back(' ');
      ++i;
    } else if (s.substr(i, 3) == "\xE2\x80\xAF") {
      out.push_back(' ');
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

bool is_attribution(std::string_view line) {
  if (line.size() > kMaxAttribution) return false;
  const std::string s = plain_spaces(trim_all(line));
  const std::string_view v = s;
  struct Form {
    std::string_view prefix;
    std::string_view suffix;
    std::string_view inner;  // must also appear ("" for none)
  };
  static constexpr Form kForms[] = {
      {"On ", "wrote:", ""},    {"El ", "escribió:", ""}, {"El ", "escribio:", ""},
      {"Le ", "a écrit :", ""}, {"Le ", "a écrit:", ""},  {"Em ", "escreveu:", ""},
      {"Am ", ":", "schrieb"},  {"Op ", ":", "schreef"},  {"Il ", "ha scritto:", ""},
      {"Vào ", "đã viết:", ""}, {"في ", ":", "كتب"},      {"", "写道：", ""},
      {"", "写道:", ""},        {"", "寫道：", ""},       {"", "寫道:", ""},
  };
  for (const Form& form : kForms) {
    if (!ascii::istarts_with(v, form.prefix) || !ascii::iends_with(v, form.suffix)) continue;
    if (v.size() < form.prefix.size() + form.suffix.size()) continue;
    if (!form.inner.empty() && !contains(v, form.inner)) continue;
    return true;
  }
  return false;
}

bool is_quoted(std::string_view trimmed) { return !trimmed.empty() && trimmed.front() == '>'; }

// "-----Original Message-----", "---------- Forwarded message ---------".
bool is_original_message(std::string_view trimmed) {
  if (ascii::iequals(trimmed, "Begin forwarded message:")) return true;
  if (trimmed.substr(0, 2) != "--") return false;
  std::string_view s = trimmed;
  while (!s.empty() && (s.front() == '-' || s.front() == ' ')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '-' || s.back() == ' ')) s.remove_suffix(1);
  static constexpr std::string_view kPhrases[] = {
      "original message",          "mensaje original",        "message d'origine",
      "message d’origine",         "ursprüngliche nachricht", "mensagem original",
      "messaggio originale",       "oorspronkelijk bericht",  "forwarded message",
      "mensaje reenviado",         "message transféré",       "mensagem encaminhada",
      "weitergeleitete nachricht",
  };
  for (std::string_view phrase : kPhrases) {
    if (ascii::iequals(s, phrase)) return true;
  }
  return false;
}

bool is_separator(std::string_view trimmed) {
  if (trimmed.size() < 8) return false;
  for (char c : trimmed) {
    if (c != '_') return false;
  }
  return true;
}

// True when the line starts with one of `labels` followed by ':' ("Sent:", "*Sent:*", "À :").
bool starts_with_label(std::string_view trimmed, const std::string_view* labels, std::size_t n) {
  std::string_view s = trimmed;
  while (!s.empty() && s.front() == '*') s.remove_prefix(1);
  for (std::size_t k = 0; k < n; ++k) {
    if (!ascii::istarts_with(s, labels[k])) continue;
    std::string_view rest = s.substr(labels[k].size());
    rest = trim_all(rest.substr(0, std::min<std::size_t>(rest.size(), 8)));
    while (!rest.empty() && rest.front() == '*') rest.remove_prefix(1);
    if (!rest.empty() && rest.front() == ':') return true;
  }
  return false;
}

constexpr std::string_view kFromLabels[] = {"From", "De", "Von", "Da", "Van"};
// Sent/Date/To/Cc/Subject in English, Spanish, French, German, Portuguese, Italian and Dutch.
constexpr std::string_view kOtherLabels[] = {
    "Sent",      "Date",       "To",        "Cc",      "Subject",  // en
    "Enviado",   "Enviado el", "Fecha",     "Para",    "Asunto",   // es, pt
    "Envoyé",    "À",          "à",         "Objet",               // fr
    "Gesendet",  "An",         "Datum",     "Betreff",             // de
    "Data",      "Assunto",    "Inviato",   "A",       "Oggetto",  // pt, it
    "Verzonden", "Aan",        "Onderwerp",                        // nl
};

bool is_header_block(const std::vector<std::string_view>& trimmed, std::size_t i) {
  if (!starts_with_label(trimmed[i], kFromLabels, std::size(kFromLabels))) return false;
  int others = 0;
  for (std::size_t k = i + 1; k < trimmed.size() && k <= i + 4; ++k) {
    if (starts_with_label(trimmed[k], kOtherLabels, std::size(kOtherLabels))) ++others;
  }
  return others >= 2;
}

bool is_signature(std::string_view trimmed) {
  if (trimmed == "--" || trimmed == "-- ") return true;
  if (trimmed.size() > kMaxSignatureLine) return false;
  static constexpr std::string_view kTags[] = {
      "Sent from my ",
      "Sent from Yahoo",
      "Sent from Mail for",
      "Sent from Outlook",
      "Sent from the all new",
      "Sent from Samsung",
      "Sent from Gmail",
      "Sent via ",
      "Get Outlook for ",
      "Enviado desde mi ",
      "Enviado desde Yahoo",
      "Enviado desde Outlook",
      "Enviado do meu ",
      "Enviado do Yahoo",
      "Enviado do Outlook",
      "Envoyé de mon ",
      "Envoye de mon ",
      "Envoyé depuis ",
      "Obtenir Outlook pour",
      "Obtener Outlook para",
      "Von meinem ",
      "Inviato da ",
      "Gửi từ ",
      "从我的",
      "发自我的",
      "發自我的",
  };
  for (std::string_view tag : kTags) {
    if (ascii::istarts_with(trimmed, tag)) return true;
  }
  return false;
}

// Number of lines (1..3) of the attribution starting at line i, 0 when there is none.
std::size_t attribution_at(const std::vector<std::string_view>& trimmed, std::size_t i) {
  if (trimmed[i].empty() || trimmed[i].size() > kMaxAttribution || is_quoted(trimmed[i])) return 0;
  std::string joined(trimmed[i]);
  for (std::size_t n = 1; n <= 3 && i + n <= trimmed.size(); ++n) {
    if (n > 1) {
      const std::string_view next = trimmed[i + n - 1];
      if (next.empty() || is_quoted(next) || joined.size() + next.size() > kMaxAttribution) break;
      joined += ' ';
      joined += next;
    }
    if (is_attribution(joined)) return n;
  }
  return 0;
}

enum class Cut { kNone, kAttribution, kOther };

Cut cut_at(const std::vector<std::string_view>& trimmed, std::size_t i, std::size_t* lines) {
  *lines = 1;
  if (const std::size_t n = attribution_at(trimmed, i); n > 0) {
    *lines = n;
    return Cut::kAttribution;
  }
  const std::string_view t = trimmed[i];
  if (is_original_message(t) || is_separator(t) || is_header_block(trimmed, i)) return Cut::kOther;
  return Cut::kNone;
}

std::string join_lines(const std::vector<std::string_view>& lines) {
  std::size_t begin = 0;
  std::size_t end = lines.size();
  while (begin < end && trim_all(lines[begin]).empty()) ++begin;
  while (end > begin && trim_all(lines[end - 1]).empty()) --end;
  std::string out;
  for (std::size_t k = begin; k < end; ++k) {
    if (k > begin) out.push_back('\n');
    std::string_view line = lines[k];
    while (!line.empty() && ascii::is_space(line.back())) line.remove_suffix(1);
    out.append(line);
  }
  return std::string(trim_all(out));
}

// `lines` without quoted lines, up to the first signature.
std::vector<std::string_view> unquoted_until_signature(const std::vector<std::string_view>& lines,
                                                       const std::vector<std::string_view>& trimmed,
                                                       std::size_t begin, std::size_t end) {
  std::vector<std::string_view> kept;
  for (std::size_t k = begin; k < end; ++k) {
    if (is_signature(trimmed[k])) break;
    if (!is_quoted(trimmed[k])) kept.push_back(lines[k]);
  }
  return kept;
}

}  // namespace

std::string extract_reply(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = eol + 1;
  }
  std::vector<std::string_view> trimmed;
  trimmed.reserve(lines.size());
  for (std::string_view line : lines) trimmed.push_back(trim_all(line));

  // Top-posted: everything above the first quoted-history marker.
  std::size_t cut = lines.size();
  Cut kind = Cut::kNone;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::size_t n = 0;
    kind = cut_at(trimmed, i, &n);
    if (kind != Cut::kNone) {
      cut = i;
      break;
    }
  }
  std::string reply = join_lines(unquoted_until_signature(lines, trimmed, 0, cut));
  if (!reply.empty()) return reply;

  // Written below (or between) the quote: the unquoted lines after the attribution, up to the
  // next marker of other history or a signature.
  if (kind == Cut::kAttribution) {
    std::vector<std::string_view> below;
    for (std::size_t i = cut; i < lines.size(); ++i) {
      std::size_t n = 0;
      const Cut here = cut_at(trimmed, i, &n);
      if (here == Cut::kOther || is_signature(trimmed[i])) break;
      if (here == Cut::kAttribution) {
        i += n - 1;
        continue;
      }
      if (!is_quoted(trimmed[i])) below.push_back(lines[i]);
    }
    reply = join_lines(below);
    if (!reply.empty()) return reply;
  }
  return std::string(trim_all(text));
}

}  // namespace homeroom::conversations
