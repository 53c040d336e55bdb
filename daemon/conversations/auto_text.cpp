#include "conversations/auto_text.h"

#include <map>

namespace homeroom::conversations {
namespace {

std::string_view primary(std::string_view language) {
  const auto dash = language.find_first_of("-_");
  return dash == std::string_view::npos ? language : language.substr(0, dash);
}

bool is_spanish(std::string_view language) { return primary(language) == "es"; }

// Lengths of the UTF-8 spaces parse_choice skips (U+00A0, U+2000..U+200B, U+3000), or 0.
std::size_t unicode_space(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  if (s.size() >= 2 && b(0) == 0xC2 && b(1) == 0xA0) return 2;
  if (s.size() >= 3 && b(0) == 0xE2 && b(1) == 0x80 && b(2) >= 0x80 && b(2) <= 0x8B) return 3;
  if (s.size() >= 3 && b(0) == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return 3;
  return 0;
}

std::string_view trim_spaces(std::string_view s) {
  for (;;) {
    if (!s.empty() &&
        (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
      s.remove_prefix(1);
    } else if (auto n = unicode_space(s)) {
      s.remove_prefix(n);
    } else {
      break;
    }
  }
  for (;;) {
    if (!s.empty() &&
        (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
      s.remove_suffix(1);
      continue;
    }
    bool trimmed = false;
    for (std::size_t n : {2U, 3U}) {
      if (s.size() >= n && unicode_space(s.substr(s.size() - n)) == n) {
        s.remove_suffix(n);
        trimmed = true;
        break;
      }
    }
    if (!trimmed) break;
  }
  return s;
}

const char* weekday(std::string_view language, int day) {
  static const char* const kEn[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static const char* const kEs[] = {"lun", "mar", "mié", "jue", "vie", "sáb", "dom"};
  if (day < 1 || day > 7) return "?";
  return is_spanish(language) ? kEs[day - 1] : kEn[day - 1];
}

// "Mon-Fri", "Mon, Wed, Fri": runs of consecutive days joined with '-'.
std::string day_list(std::string_view language, std::vector<int> days) {
  std::vector<bool> on(8, false);
  for (int d : days) {
    if (d >= 1 && d <= 7) on[static_cast<std::size_t>(d)] = true;
  }
  std::string out;
  for (int d = 1; d <= 7; ++d) {
    if (!on[static_cast<std::size_t>(d)]) continue;
    int end = d;
    while (end < 7 && on[static_cast<std::size_t>(end + 1)]) ++end;
    if (!out.empty()) out += ", ";
    out += weekday(language, d);
    if (end > d) out += std::string(end > d + 1 ? "-" : ", ") + weekday(language, end);
    d = end;
  }
  return out;
}

}  // namespace

std::optional<int> parse_choice(std::string_view text, int choices) {
  if (text.size() > 64 || choices < 1) return std::nullopt;
  std::string_view s = trim_spaces(text);
  if (!s.empty() && s.front() == '#') s.remove_prefix(1);
  if (!s.empty() && (s.back() == '.' || s.back() == ')' || s.back() == '!')) s.remove_suffix(1);
  s = trim_spaces(s);
  if (s.empty()) return std::nullopt;
  int value = 0;
  int digits = 0;
  while (!s.empty()) {
    int digit = -1;
    if (s.front() >= '0' && s.front() <= '9') {
      digit = s.front() - '0';
      s.remove_prefix(1);
    } else if (s.size() >= 3 && static_cast<unsigned char>(s[0]) == 0xEF &&
               static_cast<unsigned char>(s[1]) == 0xBC &&
               static_cast<unsigned char>(s[2]) >= 0x90 &&
               static_cast<unsigned char>(s[2]) <= 0x99) {
      digit = static_cast<unsigned char>(s[2]) - 0x90;  // U+FF10..U+FF19
      s.remove_prefix(3);
    } else {
      return std::nullopt;
    }
    if (++digits > 3) return std::nullopt;
    value = value * 10 + digit;
  }
  if (value < 1 || value > choices) return std::nullopt;
  return value;
}

std::string choice_question(std::string_view language, const std::vector<std::string>& names) {
  const bool es = is_spanish(language);
  std::string out = es ? "Responda " : "Reply ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(i + 1) + (es ? " para " : " for ") + names[i];
  }
  return out;
}

std::string stop_confirmation(std::string_view language, std::string_view school_name) {
  static const std::map<std::string_view, const char*> kText{
      {"en", "You will no longer receive text messages from {school}. Reply START to resume."},
      {"es", "Ya no recibirá mensajes de texto de {school}. Responda COMENZAR para reanudar."},
      {"fr", "Vous ne recevrez plus de SMS de {school}. Répondez REPRENDRE pour les réactiver."},
      {"pt",
       "Você não receberá mais mensagens de texto de {school}. Responda COMECAR para "
       "voltar."},
      {"vi", "Bạn sẽ không còn nhận tin nhắn từ {school}. Trả lời BAT DAU để nhận lại."},
      {"zh", "您将不再收到来自 {school} 的短信。回复 开始 以恢复。"},
      {"ar", "لن تتلقى رسائل نصية من {school} بعد الآن. أرسل ابدأ للاستئناف."},
      {"ht", "Ou p ap resevwa mesaj tèks ankò nan men {school}. Reponn KOMANSE pou rekòmanse."},
      {"so",
       "Mar dambe fariimo qoraal ah kama heli doontid {school}. Ku jawaab BILOW si aad "
       "dib ugu bilowdo."},
  };
  auto it = kText.find(primary(language));
  std::string text = it == kText.end() ? kText.at("en") : it->second;
  const auto at = text.find("{school}");
  text.replace(at, 8, school_name.empty() ? std::string_view("homeroom") : school_name);
  return text;
}

std::string start_confirmation(std::string_view language, std::string_view school_name) {
  static const std::map<std::string_view, const char*> kText{
      {"en", "You will receive text messages from {school} again. Reply STOP to stop."},
      {"es",
       "Volverá a recibir mensajes de texto de {school}. Responda PARAR para dejar de "
       "recibirlos."},
      {"fr", "Vous recevrez de nouveau les SMS de {school}. Répondez ARRET pour les arrêter."},
      {"pt", "Você voltará a receber mensagens de texto de {school}. Responda PARAR para parar."},
      {"vi", "Bạn sẽ nhận lại tin nhắn từ {school}. Trả lời DUNG để ngừng."},
      {"zh", "您将重新收到来自 {school} 的短信。回复 退订 以停止。"},
      {"ar", "ستتلقى الرسائل النصية من {school} مرة أخرى. أرسل توقف للإيقاف."},
      {"ht", "Ou pral resevwa mesaj tèks nan men {school} ankò. Reponn SISPANN pou sispann."},
      {"so",
       "Waxaad mar kale heli doontaa fariimaha qoraalka ah ee {school}. Ku jawaab JOOJI si "
       "aad u joojiso."},
  };
  auto it = kText.find(primary(language));
  std::string text = it == kText.end() ? kText.at("en") : it->second;
  const auto at = text.find("{school}");
  text.replace(at, 8, school_name.empty() ? std::string_view("homeroom") : school_name);
  return text;
}

std::string help_answer(std::string_view language, std::string_view school_name,
                        std::string_view contact_line) {
  const std::string school(school_name.empty() ? std::string_view("homeroom") : school_name);
  const std::string contact(contact_line);
  if (is_spanish(language)) {
    return school + (contact.empty() ? "" : ": " + contact) +
           ". Responda PARAR para no recibir más mensajes de texto.";
  }
  return school + (contact.empty() ? "" : ": " + contact) + ". Reply STOP to stop text messages.";
}

std::string office_hours_reply(std::string_view language, std::string_view teacher_name,
                               const std::vector<int>& days, std::string_view start,
                               std::string_view end) {
  const std::string who(teacher_name.empty() ? std::string_view("The teacher") : teacher_name);
  const std::string hours =
      day_list(language, days) + " " + std::string(start) + "-" + std::string(end);
  if (is_spanish(language)) {
    return (teacher_name.empty() ? std::string("El docente") : who) +
           " recibió su mensaje y responde en horario de atención: " + hours + ".";
  }
  return who + " has received your message and answers during office hours: " + hours + ".";
}

}  // namespace homeroom::conversations
