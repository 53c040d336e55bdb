#include "conversations/keywords.h"

#include <cstddef>
#include <vector>

#include "conversations/ascii.h"
#include "conversations/utf8.h"

namespace homeroom::conversations {
namespace {

constexpr std::size_t kMaxBody = 1024;  // no keyword, however punctuated, is longer

struct Entry {
  std::string_view word;  // folded
  Keyword kind;
  std::string_view language;
};

// In the order of the header's table: for a word in several rows the first row wins unless the
// guardian's language has it.
constexpr Entry kTable[] = {
    {"STOP", Keyword::kStop, "en"},       {"STOPALL", Keyword::kStop, "en"},
    {"STOP ALL", Keyword::kStop, "en"},   {"UNSUBSCRIBE", Keyword::kStop, "en"},
    {"CANCEL", Keyword::kStop, "en"},     {"END", Keyword::kStop, "en"},
    {"QUIT", Keyword::kStop, "en"},       {"REVOKE", Keyword::kStop, "en"},
    {"OPTOUT", Keyword::kStop, "en"},     {"OPT OUT", Keyword::kStop, "en"},
    {"OPT-OUT", Keyword::kStop, "en"},    {"START", Keyword::kStart, "en"},
    {"UNSTOP", Keyword::kStart, "en"},    {"HELP", Keyword::kHelp, "en"},
    {"INFO", Keyword::kHelp, "en"},

    {"PARAR", Keyword::kStop, "es"},      {"DETENER", Keyword::kStop, "es"},
    {"CANCELAR", Keyword::kStop, "es"},   {"BAJA", Keyword::kStop, "es"},
    {"ALTO", Keyword::kStop, "es"},       {"COMENZAR", Keyword::kStart, "es"},
    {"INICIAR", Keyword::kStart, "es"},   {"AYUDA", Keyword::kHelp, "es"},

    {"ARRET", Keyword::kStop, "fr"},      {"ARRETER", Keyword::kStop, "fr"},
    {"DESABONNER", Keyword::kStop, "fr"}, {"STOP", Keyword::kStop, "fr"},
    {"REPRENDRE", Keyword::kStart, "fr"}, {"AIDE", Keyword::kHelp, "fr"},

    {"PARAR", Keyword::kStop, "pt"},      {"SAIR", Keyword::kStop, "pt"},
    {"CANCELAR", Keyword::kStop, "pt"},   {"COMECAR", Keyword::kStart, "pt"},
    {"INICIAR", Keyword::kStart, "pt"},   {"AJUDA", Keyword::kHelp, "pt"},

    {"DUNG", Keyword::kStop, "vi"},       {"HUY", Keyword::kStop, "vi"},
    {"NGUNG", Keyword::kStop, "vi"},      {"BAT DAU", Keyword::kStart, "vi"},
    {"BATDAU", Keyword::kStart, "vi"},    {"GIUP", Keyword::kHelp, "vi"},

    {"退订", Keyword::kStop, "zh"},       {"退訂", Keyword::kStop, "zh"},
    {"停止", Keyword::kStop, "zh"},       {"取消", Keyword::kStop, "zh"},
    {"开始", Keyword::kStart, "zh"},      {"開始", Keyword::kStart, "zh"},
    {"帮助", Keyword::kHelp, "zh"},       {"幫助", Keyword::kHelp, "zh"},

    {"توقف", Keyword::kStop, "ar"},       {"ايقاف", Keyword::kStop, "ar"},  // إيقاف
    {"الغاء", Keyword::kStop, "ar"},                                        // إلغاء
    {"ابدا", Keyword::kStart, "ar"},                                        // ابدأ
    {"مساعده", Keyword::kHelp, "ar"},                                       // مساعدة

    {"SISPANN", Keyword::kStop, "ht"},    {"KANPE", Keyword::kStop, "ht"},
    {"ANILE", Keyword::kStop, "ht"},      {"KOMANSE", Keyword::kStart, "ht"},
    {"ED", Keyword::kHelp, "ht"},

    {"JOOJI", Keyword::kStop, "so"},      {"KA BAX", Keyword::kStop, "so"},
    {"BILOW", Keyword::kStart, "so"},     {"CAAWIMAAD", Keyword::kHelp, "so"},
};

// Base letters of U+00C0..U+024F and U+1E00..U+1EFF; '.' keeps the character, '*' is one of the
// two-letter folds below.
constexpr std::string_view kFoldLatin =
    "AAAAAA*CEEEEIIIIDNOOOOO.OUUUUY**AAAAAA*CEEEEIIIIDNOOOOO.OUUUUY*Y"
    "AAAAAACCCCCCCCDDDDEEEEEEEEEEGGGGGGGGHHHHIIIIIIIIII**JJKKKLLLLLLL"
    "LLLNNNNNN.NNOOOOOO**RRRRRRSSSSSSSSTTTTTTUUUUUUUUUUUUWWYYYZZZZZZS"
    "..................F.............OO.............UU..............."
    ".............AAIIOOUUUUUUUUUU.AAAA....GGKKOOOO..J...GG..NNAA...."
    "AAAAEEEEIIIIOOOORRRRUUUUSSTT..HH......AAEEOOOOOOOOYY............"
    "................";
constexpr std::string_view kFoldLatinAdditional =
    "AABBBBBBCCDDDDDDDDDDEEEEEEEEEEFFGGHHHHHHHHHHIIIIKKKKKKLLLLLLLLMM"
    "MMMMNNNNNNNNOOOOOOOOPPPPRRRRRRRRSSSSSSSSSSTTTTTTTTUUUUUUUUUUVVVV"
    "WWWWWWWWWWXXXXYYZZZZZZHTWY......AAAAAAAAAAAAAAAAAAAAAAAAEEEEEEEE"
    "EEEEEEEEIIIIOOOOOOOOOOOOOOOOOOOOOOOOUUUUUUUUUUUUUUYYYYYYYY......";

static_assert(kFoldLatin.size() == 0x24F - 0xC0 + 1);
static_assert(kFoldLatinAdditional.size() == 0x1EFF - 0x1E00 + 1);

std::string_view two_letter_fold(char32_t cp) {
  switch (cp) {
    case 0xC6:
    case 0xE6:
      return "AE";
    case 0xDF:
      return "SS";
    case 0xDE:
    case 0xFE:
      return "TH";
    case 0x132:
    case 0x133:
      return "IJ";
    case 0x152:
    case 0x153:
      return "OE";
    default:
      return {};
  }
}

bool is_space(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' ||
         cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_ignorable(char32_t cp) {
  return (cp >= 0x300 && cp <= 0x36F) ||                  // combining diacritical marks
         cp == 0x200B || cp == 0x200C || cp == 0x200D ||  // zero-width space, non-joiner, joiner
         cp == 0x2060 || cp == 0xFEFF ||                  // word joiner, byte order mark
         (cp >= 0x64B && cp <= 0x652) || cp == 0x640 ||   // Arabic harakat, tatweel
         cp == 0xFE0F || cp == 0xFE0E;                    // variation selectors
}

bool is_punctuation(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') ||
           (cp >= '{' && cp <= '~');
  }
  switch (cp) {
    case 0xA1:    // ¡
    case 0xBF:    // ¿
    case 0xAB:    // «
    case 0xBB:    // »
    case 0xB7:    // ·
    case 0x2018:  // ‘
    case 0x2019:  // ’
    case 0x201A:  // ‚
    case 0x201C:  // “
    case 0x201D:  // ”
    case 0x201E:  // „
    case 0x2026:  // …
    case 0x2013:  // –
    case 0x2014:  // —
    case 0x2022:  // •
    case 0x2039:  // ‹
    case 0x203A:  // ›
    case 0x3001:  // 、
    case 0x3002:  // 。
    case 0x300C:  // 「
    case 0x300D:  // 」
    case 0x300E:  // 『
    case 0x300F:  // 』
    case 0x060C:  // ، Arabic comma
    case 0x061B:  // ؛ Arabic semicolon
    case 0x061F:  // ؟ Arabic question mark
    case 0x06D4:  // ۔ Arabic full stop
      return true;
    default:
      return false;
  }
}

// One character of the body after folding.
struct Folded {
  std::string text;
  bool space = false;
  bool punctuation = false;
};

Folded fold(char32_t cp) {
  Folded out;
  if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // fullwidth ASCII
  if (is_space(cp)) {
    out.space = true;
    out.text = " ";
    return out;
  }
  out.punctuation = is_punctuation(cp);
  if (cp < 0x80) {
    out.text.push_back(ascii::upper(static_cast<char>(cp)));
    return out;
  }
  char base = '.';
  if (cp >= 0xC0 && cp <= 0x24F) base = kFoldLatin[cp - 0xC0];
  if (cp >= 0x1E00 && cp <= 0x1EFF) base = kFoldLatinAdditional[cp - 0x1E00];
  if (base == '*') {
    out.text = two_letter_fold(cp);
    return out;
  }
  if (base != '.') {
    out.text.push_back(base);
    return out;
  }
  switch (cp) {
    case 0x623:    // أ
    case 0x625:    // إ
    case 0x622:    // آ
    case 0x671:    // ٱ
      cp = 0x627;  // ا
      break;
    case 0x629:    // ة
      cp = 0x647;  // ه
      break;
    case 0x649:    // ى
      cp = 0x64A;  // ي
      break;
    default:
      break;
  }
  utf8::append(&out.text, cp);
  return out;
}

// The body folded, trimmed of spaces and punctuation, inner spaces collapsed.
std::string normalize(std::string_view body) {
  std::vector<Folded> chars;
  for (std::size_t i = 0; i < body.size();) {
    const char32_t cp = utf8::decode(body, &i);
    if (is_ignorable(cp)) continue;
    chars.push_back(fold(cp));
  }
  std::size_t begin = 0;
  std::size_t end = chars.size();
  while (begin < end && (chars[begin].space || chars[begin].punctuation)) ++begin;
  while (end > begin && (chars[end - 1].space || chars[end - 1].punctuation)) --end;
  std::string out;
  for (std::size_t k = begin; k < end; ++k) {
    if (chars[k].space) {
      if (out.empty() || out.back() != ' ') out.push_back(' ');
    } else {
      out += chars[k].text;
    }
  }
  return out;
}

std::string_view primary_subtag(std::string_view language) {
  return language.substr(0, language.find_first_of("-_"));
}

}  // namespace

KeywordMatch match_keyword(std::string_view sms_body, std::string_view preferred_language) {
  if (sms_body.size() > kMaxBody) return {};
  const std::string folded = normalize(sms_body);
  if (folded.empty()) return {};
  const std::string_view preferred = primary_subtag(preferred_language);
  const Entry* first = nullptr;
  for (const Entry& entry : kTable) {
    if (entry.word != folded) continue;
    if (first == nullptr) first = &entry;
    if (!preferred.empty() && ascii::iequals(entry.language, preferred)) {
      return {entry.kind, std::string(entry.language)};
    }
  }
  if (first == nullptr) return {};
  return {first->kind, std::string(first->language)};
}

const char* keyword_name(Keyword keyword) {
  switch (keyword) {
    case Keyword::kStop:
      return "stop";
    case Keyword::kStart:
      return "start";
    case Keyword::kHelp:
      return "help";
    case Keyword::kNone:
      break;
  }
  return "none";
}

}  // namespace homeroom::conversations
