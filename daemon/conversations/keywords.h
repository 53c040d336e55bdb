// The opt-out, opt-in and help keywords of inbound SMS (CTIA practice, and what carriers and
// providers such as Twilio act on), in the languages of the families homeroom serves, so "STOP"
// is honoured before a reply is routed to a teacher and the confirmation is sent in the parent's
// language.
//
// The whole message must be the keyword: a message that merely contains one ("please stop by at
// 3", "Stop. Who is this?") is kNone. Before comparing, the body is
//  - trimmed of white space (Unicode spaces included) and of punctuation around it ("¡Alto!",
//    "STOP.", "«arrêt»", "停止。"), with inner runs of white space collapsed to one space;
//  - case-folded, with accents and other diacritics removed from Latin letters (Latin-1
//    Supplement, Latin Extended-A and -B, Latin Extended Additional, which holds the Vietnamese
//    letters; combining marks U+0300..U+036F dropped): "Arrêt", "ARRET" and "arret" are equal,
//    as are "DỪNG", "Dừng" and "dung";
//  - fullwidth ASCII read as ASCII ("ＳＴＯＰ");
//  - Arabic normalized: alef with hamza or madda read as alef, teh marbuta as heh, alef maksura as
//    yeh, harakat and tatweel dropped ("إلغاء" == "الغاء", "مساعدة" == "مساعده").
// Emoji and other symbols are not stripped: "STOP 🙏" is kNone.
//
// The table (folded forms in brackets):
//   language  stop                                   start                  help
//   en        STOP STOPALL "STOP ALL" UNSUBSCRIBE    START UNSTOP           HELP INFO
//             CANCEL END QUIT REVOKE OPTOUT
//             "OPT OUT" OPT-OUT
//   es        PARAR DETENER CANCELAR BAJA ALTO       COMENZAR INICIAR       AYUDA
//   fr        ARRÊT [ARRET] ARRÊTER [ARRETER]        REPRENDRE              AIDE
//             DÉSABONNER [DESABONNER] STOP
//   pt        PARAR SAIR CANCELAR                    COMEÇAR [COMECAR]      AJUDA
//                                                    INICIAR
//   vi        DỪNG [DUNG] HỦY [HUY] NGỪNG [NGUNG]    BẮT ĐẦU [BAT DAU]      GIÚP [GIUP]
//                                                    BATDAU
//   zh        退订 退訂 停止 取消                    开始 開始              帮助 幫助
//   ar        توقف إيقاف إلغاء الغاء                 ابدأ                   مساعدة
//   ht        SISPANN KANPE ANILE                    KÒMANSE [KOMANSE]      ÈD [ED]
//   so        JOOJI "KA BAX"                         BILOW                  CAAWIMAAD
// YES is deliberately not a start keyword: parents answer teachers "yes".
//
// `language` is the BCP 47 code of the table row that matched. A word in several rows (STOP: en
// and fr; PARAR, CANCELAR, INICIAR: es and pt) matches the row of `preferred_language` (the
// guardian's language, e.g. "pt-BR", compared on its primary subtag) when that row has it, and
// otherwise the first row in the table's order.
//
// Pure function, no I/O, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace homeroom::conversations {

enum class Keyword { kNone, kStop, kStart, kHelp };

struct KeywordMatch {
  Keyword kind = Keyword::kNone;
  std::string language;  // "en", "es", ...; "" when kind is kNone

  bool operator==(const KeywordMatch&) const = default;
};

KeywordMatch match_keyword(std::string_view sms_body, std::string_view preferred_language = {});

// "none", "stop", "start", "help".
const char* keyword_name(Keyword keyword);

}  // namespace homeroom::conversations
