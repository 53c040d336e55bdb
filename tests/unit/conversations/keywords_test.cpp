#include "conversations/keywords.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace homeroom::conversations {
namespace {

struct Row {
  std::string body;
  Keyword kind;
  std::string language;
};

TEST_CASE("match_keyword: every word of the table", "[conversations]") {
  const std::vector<Row> rows = {
      // English
      {"STOP", Keyword::kStop, "en"},
      {"STOPALL", Keyword::kStop, "en"},
      {"STOP ALL", Keyword::kStop, "en"},
      {"UNSUBSCRIBE", Keyword::kStop, "en"},
      {"CANCEL", Keyword::kStop, "en"},
      {"END", Keyword::kStop, "en"},
      {"QUIT", Keyword::kStop, "en"},
      {"REVOKE", Keyword::kStop, "en"},
      {"OPTOUT", Keyword::kStop, "en"},
      {"OPT OUT", Keyword::kStop, "en"},
      {"OPT-OUT", Keyword::kStop, "en"},
      {"START", Keyword::kStart, "en"},
      {"UNSTOP", Keyword::kStart, "en"},
      {"HELP", Keyword::kHelp, "en"},
      {"INFO", Keyword::kHelp, "en"},
      // Spanish
      {"PARAR", Keyword::kStop, "es"},
      {"DETENER", Keyword::kStop, "es"},
      {"CANCELAR", Keyword::kStop, "es"},
      {"BAJA", Keyword::kStop, "es"},
      {"ALTO", Keyword::kStop, "es"},
      {"COMENZAR", Keyword::kStart, "es"},
      {"INICIAR", Keyword::kStart, "es"},
      {"AYUDA", Keyword::kHelp, "es"},
      // French
      {"ARR\xC3\x8AT", Keyword::kStop, "fr"},  // ARRÊT
      {"ARRET", Keyword::kStop, "fr"},
      {"ARR\xC3\x8ATER", Keyword::kStop, "fr"},
      {"ARRETER", Keyword::kStop, "fr"},
      {"D\xC3\x89SABONNER", Keyword::kStop, "fr"},  // DÉSABONNER
      {"DESABONNER", Keyword::kStop, "fr"},
      {"REPRENDRE", Keyword::kStart, "fr"},
      {"AIDE", Keyword::kHelp, "fr"},
      // Portuguese
      {"SAIR", Keyword::kStop, "pt"},
      {"COME\xC3\x87"
       "AR",
       Keyword::kStart, "pt"},  // COMEÇAR
      {"COMECAR", Keyword::kStart, "pt"},
      {"AJUDA", Keyword::kHelp, "pt"},
      // Vietnamese
      {"D\xE1\xBB\xAANG", Keyword::kStop, "vi"},  // DỪNG
      {"DUNG", Keyword::kStop, "vi"},
      {"H\xE1\xBB\xA6Y", Keyword::kStop, "vi"},  // HỦY
      {"HUY", Keyword::kStop, "vi"},
      {"NG\xE1\xBB\xAANG", Keyword::kStop, "vi"},                       // NGỪNG
      {"B\xE1\xBA\xAET \xC4\x90\xE1\xBA\xA6U", Keyword::kStart, "vi"},  // BẮT ĐẦU
      {"BAT DAU", Keyword::kStart, "vi"},
      {"GI\xC3\x9AP", Keyword::kHelp, "vi"},  // GIÚP
      {"GIUP", Keyword::kHelp, "vi"},
      // Chinese
      {"\xE9\x80\x80\xE8\xAE\xA2", Keyword::kStop, "zh"},   // 退订
      {"\xE9\x80\x80\xE8\xA8\x82", Keyword::kStop, "zh"},   // 退訂
      {"\xE5\x81\x9C\xE6\xAD\xA2", Keyword::kStop, "zh"},   // 停止
      {"\xE5\x8F\x96\xE6\xB6\x88", Keyword::kStop, "zh"},   // 取消
      {"\xE5\xBC\x80\xE5\xA7\x8B", Keyword::kStart, "zh"},  // 开始
      {"\xE9\x96\x8B\xE5\xA7\x8B", Keyword::kStart, "zh"},  // 開始
      {"\xE5\xB8\xAE\xE5\x8A\xA9", Keyword::kHelp, "zh"},   // 帮助
      {"\xE5\xB9\xAB\xE5\x8A\xA9", Keyword::kHelp, "zh"},   // 幫助
      // Arabic
      {"\xD8\xAA\xD9\x88\xD9\x82\xD9\x81", Keyword::kStop, "ar"},                  // توقف
      {"\xD8\xA5\xD9\x8A\xD9\x82\xD8\xA7\xD9\x81", Keyword::kStop, "ar"},          // إيقاف
      {"\xD8\xA7\xD9\x84\xD8\xBA\xD8\xA7\xD8\xA1", Keyword::kStop, "ar"},          // الغاء
      {"\xD8\xA5\xD9\x84\xD8\xBA\xD8\xA7\xD8\xA1", Keyword::kStop, "ar"},          // إلغاء
      {"\xD8\xA7\xD8\xA8\xD8\xAF\xD8\xA3", Keyword::kStart, "ar"},                 // ابدأ
      {"\xD9\x85\xD8\xB3\xD8\xA7\xD8\xB9\xD8\xAF\xD8\xA9", Keyword::kHelp, "ar"},  // مساعدة
      // Haitian Creole
      {"SISPANN", Keyword::kStop, "ht"},
      {"KANPE", Keyword::kStop, "ht"},
      {"ANILE", Keyword::kStop, "ht"},
      {"K\xC3\x92MANSE", Keyword::kStart, "ht"},  // KÒMANSE
      {"KOMANSE", Keyword::kStart, "ht"},
      {"\xC3\x88"
       "D",
       Keyword::kHelp, "ht"},  // ÈD
      {"ED", Keyword::kHelp, "ht"},
      // Somali
      {"JOOJI", Keyword::kStop, "so"},
      {"KA BAX", Keyword::kStop, "so"},
      {"BILOW", Keyword::kStart, "so"},
      {"CAAWIMAAD", Keyword::kHelp, "so"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.body);
    CHECK(match_keyword(row.body) == KeywordMatch{row.kind, row.language});
  }
}

TEST_CASE("match_keyword: case, accents, punctuation and spacing variants", "[conversations]") {
  const std::vector<Row> rows = {
      {"stop", Keyword::kStop, "en"},
      {"Stop", Keyword::kStop, "en"},
      {"sToP", Keyword::kStop, "en"},
      {"  STOP  ", Keyword::kStop, "en"},
      {"\tstop\r\n", Keyword::kStop, "en"},
      {"STOP.", Keyword::kStop, "en"},
      {"Stop!!!", Keyword::kStop, "en"},
      {"\"stop\"", Keyword::kStop, "en"},
      {"(STOP)", Keyword::kStop, "en"},
      {"stop all", Keyword::kStop, "en"},
      {"Stop   all", Keyword::kStop, "en"},
      {"opt\n out", Keyword::kStop, "en"},
      {"\xC2\xA0STOP\xE3\x80\x80", Keyword::kStop, "en"},  // no-break and ideographic spaces
      {"\xEF\xBC\xB3\xEF\xBC\xB4\xEF\xBC\xAF\xEF\xBC\xB0", Keyword::kStop, "en"},  // ＳＴＯＰ
      {"S\xE2\x80\x8BTOP", Keyword::kStop, "en"},  // a zero-width space inside
      {"help?", Keyword::kHelp, "en"},
      {"\xC2\xA1"
       "Alto!",
       Keyword::kStop, "es"},  // ¡Alto!
      {"\xC2\xBF"
       "ayuda?",
       Keyword::kHelp, "es"},                  // ¿ayuda?
      {"arr\xC3\xAAt", Keyword::kStop, "fr"},  // arrêt
      {"Arr\xC3\xAAter.", Keyword::kStop, "fr"},
      {"\xC2\xAB d\xC3\xA9sabonner \xC2\xBB", Keyword::kStop, "fr"},  // « désabonner »
      {"d\xC3\xA9sabonner", Keyword::kStop, "fr"},
      {"come\xC3\xA7"
       "ar",
       Keyword::kStart, "pt"},                    // começar
      {"d\xE1\xBB\xABng", Keyword::kStop, "vi"},  // dừng
      {"D\xE1\xBB\xAB"
       "ng",
       Keyword::kStop, "vi"},                    // Dừng
      {"Du\xCC\x80ng", Keyword::kStop, "vi"},    // Dừng with a combining grave
      {"h\xE1\xBB\xA7y", Keyword::kStop, "vi"},  // hủy
      {"b\xE1\xBA\xAFt \xC4\x91\xE1\xBA\xA7u", Keyword::kStart, "vi"},             // bắt đầu
      {"gi\xC3\xBAp", Keyword::kHelp, "vi"},                                       // giúp
      {"\xE5\x81\x9C\xE6\xAD\xA2\xE3\x80\x82", Keyword::kStop, "zh"},              // 停止。
      {"\xE5\x81\x9C\xE6\xAD\xA2\xEF\xBC\x81", Keyword::kStop, "zh"},              // 停止！
      {"\xD8\xA5\xD9\x90\xD9\x8A\xD9\x82\xD8\xA7\xD9\x81", Keyword::kStop, "ar"},  // with a kasra
      {"\xD8\xAA\xD9\x80\xD9\x88\xD9\x82\xD9\x81\xD8\x9F", Keyword::kStop, "ar"},  // tatweel, ؟
      {"\xD9\x85\xD8\xB3\xD8\xA7\xD8\xB9\xD8\xAF\xD9\x87", Keyword::kHelp, "ar"},  // مساعده
      {"k\xC3\xB2manse", Keyword::kStart, "ht"},
      {"\xC3\xA8"
       "d",
       Keyword::kHelp, "ht"},  // èd
      {"ka  bax", Keyword::kStop, "so"},
      {"Jooji.", Keyword::kStop, "so"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.body);
    CHECK(match_keyword(row.body) == KeywordMatch{row.kind, row.language});
  }
}

TEST_CASE("match_keyword: messages that are not keywords", "[conversations]") {
  for (const std::string body : {
           "please stop by at 3",
           "Stop. Who is this?",
           "stop it",
           "YES",
           "yes",
           "Y",
           "ok",
           "STOP \xF0\x9F\x99\x8F",  // STOP 🙏
           "",
           "   ",
           "...",
           "stopp",
           "HELPFUL",
           "start school at 8?",
           "S T O P",
           "STO P",
           "\xE5\x81\x9C",  // half of 停止
           "STOP\xFF",
           "unsubscribe me from the bake sale list",
           "Thank you for letting me know",
       }) {
    CAPTURE(body);
    CHECK(match_keyword(body) == KeywordMatch{});
  }
  CHECK(match_keyword(std::string(5000, ' ') + "STOP").kind == Keyword::kNone);  // too long
}

TEST_CASE("match_keyword: the guardian's language picks among shared words", "[conversations]") {
  CHECK(match_keyword("STOP") == KeywordMatch{Keyword::kStop, "en"});
  CHECK(match_keyword("STOP", "fr") == KeywordMatch{Keyword::kStop, "fr"});
  CHECK(match_keyword("stop", "fr-CA") == KeywordMatch{Keyword::kStop, "fr"});
  CHECK(match_keyword("STOP", "es") == KeywordMatch{Keyword::kStop, "en"});  // es has no STOP
  CHECK(match_keyword("parar") == KeywordMatch{Keyword::kStop, "es"});
  CHECK(match_keyword("parar", "pt-BR") == KeywordMatch{Keyword::kStop, "pt"});
  CHECK(match_keyword("Cancelar", "PT") == KeywordMatch{Keyword::kStop, "pt"});
  CHECK(match_keyword("iniciar", "pt") == KeywordMatch{Keyword::kStart, "pt"});
  CHECK(match_keyword("iniciar", "vi") == KeywordMatch{Keyword::kStart, "es"});
  CHECK(match_keyword("ayuda", "pt") == KeywordMatch{Keyword::kHelp, "es"});
}

TEST_CASE("keyword_name", "[conversations]") {
  CHECK(std::string(keyword_name(Keyword::kNone)) == "none");
  CHECK(std::string(keyword_name(Keyword::kStop)) == "stop");
  CHECK(std::string(keyword_name(Keyword::kStart)) == "start");
  CHECK(std::string(keyword_name(Keyword::kHelp)) == "help");
}

}  // namespace
}  // namespace homeroom::conversations
