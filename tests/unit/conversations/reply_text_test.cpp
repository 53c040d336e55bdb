#include "conversations/reply_text.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace homeroom::conversations {
namespace {

struct Row {
  std::string name;
  std::string text;
  std::string reply;
};

TEST_CASE("extract_reply cuts quoted history", "[conversations]") {
  const std::vector<Row> rows = {
      {"English attribution",
       "Sounds good!\n\nOn Tue, Mar 3, 2026 at 2:14 PM Ms. Lee <lee@school.org> wrote:\n> See you "
       "then.\n",
       "Sounds good!"},
      {"English attribution wrapped over two lines",
       "Thanks!\r\n\r\nOn Tue, Mar 3, 2026 at 2:14\xE2\x80\xAFPM Ms. Lee (Lincoln Elementary) <\r\n"
       "reply+t_1@homeroom.example.org> wrote:\r\n\r\n> Maya finished early.\r\n",
       "Thanks!"},
      {"English attribution wrapped over three lines",
       "OK\nOn Tuesday, March 3, 2026, Ms. Lee of\nLincoln Elementary School "
       "<lee@school.org>\nwrote:\n"
       "> quoted",
       "OK"},
      {"Apple Mail attribution",
       "Yes\n\nOn Mar 3, 2026, at 2:14 PM, Ms. Lee <lee@school.org> wrote:\n\n> q", "Yes"},
      {"Spanish",
       "Gracias\n\nEl mar, 3 mar 2026 a las 14:14, Ms. Lee (<lee@school.org>) escribi\xC3\xB3:\n> "
       "q",
       "Gracias"},
      {"French with no-break spaces",
       "Merci\n\nLe mar. 3 mars 2026 \xC3\xA0 14:14, Ms. Lee <lee@school.org> a \xC3\xA9"
       "crit\xC2\xA0:\n> q",
       "Merci"},
      {"French with a plain space",
       "Merci\nLe 3 mars 2026, Ms. Lee a \xC3\xA9"
       "crit :\n> q",
       "Merci"},
      {"Portuguese",
       "Obrigada\n\nEm ter., 3 de mar. de 2026 \xC3\xA0s 14:14, Ms. Lee <lee@school.org> "
       "escreveu:\n> q",
       "Obrigada"},
      {"German",
       "Danke\n\nAm Di., 3. M\xC3\xA4rz 2026 um 14:14 Uhr schrieb Ms. Lee <lee@school.org>:\n> q",
       "Danke"},
      {"Vietnamese",
       "C\xE1\xBA\xA3m \xC6\xA1n\n\nV\xC3\xA0o Th 3, 3 thg 3, 2026 l\xC3\xBA"
       "c 14:14 Ms. Lee <lee@school.org> \xC4\x91\xC3\xA3 vi\xE1\xBA\xBFt:\n> q",
       "C\xE1\xBA\xA3m \xC6\xA1n"},
      {"Chinese", "谢谢\n\nMs. Lee <lee@school.org> 于2026年3月3日周二 14:14写道：\n> q", "谢谢"},
      {"Outlook original message",
       "I'll be there.\n\n-----Original Message-----\nFrom: Ms. Lee\nSent: Tuesday\n",
       "I'll be there."},
      {"Outlook original message in Spanish", "Ok\n-----Mensaje original-----\nDe: Ms. Lee", "Ok"},
      {"Gmail forwarded message", "FYI\n\n---------- Forwarded message ---------\nFrom: x", "FYI"},
      {"From/Sent header block",
       "See you Thursday.\n\nFrom: Ms. Lee <lee@school.org>\nSent: Tuesday, March 3, 2026 5:00 PM\n"
       "To: Ana <ana@example.org>\nSubject: Conference\n\nConferences are Thursday.",
       "See you Thursday."},
      {"bold header block from HTML",
       "Si\n\n*De:* Ms. Lee <lee@school.org>\n*Enviado:* martes\n*Para:* Ana\n*Asunto:* "
       "Reuni\xC3\xB3n\n",
       "Si"},
      {"French header block",
       "Oui\n\nDe : Ms. Lee\nEnvoy\xC3\xA9 : mardi\n\xC3\x80 : Fran\xC3\xA7ois\nObjet : Rappel",
       "Oui"},
      {"Outlook header block in Spanish",
       "Gracias\n\nDe: Ms. Lee <lee@school.org>\nEnviado el: martes, 3 de marzo de 2026 17:00\n"
       "Para: Ana\nAsunto: Reuni\xC3\xB3n",
       "Gracias"},
      {"underscore separator", "Will do\n\n________________________________\nFrom: Ms. Lee",
       "Will do"},
      {"quoted lines without attribution", "Yes, 4pm works.\n> Does 4pm work?\n> Thanks",
       "Yes, 4pm works."},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    CHECK(extract_reply(row.text) == row.reply);
  }
}

TEST_CASE("extract_reply cuts signatures", "[conversations]") {
  const std::vector<Row> rows = {
      {"dash dash space", "See you soon\n\n-- \nAna Ortiz\n555-1234", "See you soon"},
      {"dash dash without the space", "See you soon\n--\nAna", "See you soon"},
      {"Sent from my iPhone", "On my way\n\nSent from my iPhone", "On my way"},
      {"Sent from my Android", "On my way\nSent from my Android device", "On my way"},
      {"Sent from my Samsung", "On my way\n\nSent from my Samsung Galaxy smartphone.", "On my way"},
      {"Enviado desde mi iPhone", "Voy en camino\n\nEnviado desde mi iPhone", "Voy en camino"},
      {"Envoyé de mon iPhone", "J'arrive\n\nEnvoy\xC3\xA9 de mon iPhone", "J'arrive"},
      {"Get Outlook for iOS", "Thanks\n\nGet Outlook for iOS<https://aka.ms/o0ukef>", "Thanks"},
      {"Von meinem iPhone gesendet", "Danke\n\nVon meinem iPhone gesendet", "Danke"},
      {"signature then quote", "Yes\n\nSent from my iPhone\n\n> On Mar 3, Ms. Lee wrote:\n> q",
       "Yes"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    CHECK(extract_reply(row.text) == row.reply);
  }
}

TEST_CASE("extract_reply never loses what was said", "[conversations]") {
  const std::vector<Row> rows = {
      {"plain text is kept whole",
       "  Maya will be late tomorrow.\nShe has a dentist appointment.  \n",
       "Maya will be late tomorrow.\nShe has a dentist appointment."},
      {"sentences that only look like markers",
       "On Monday we went to the zoo.\nShe wrote: the answer is 4\nFrom: the office, a note.",
       "On Monday we went to the zoo.\nShe wrote: the answer is 4\nFrom: the office, a note."},
      {"only a signature: the original", "Sent from my iPhone", "Sent from my iPhone"},
      {"only a quote: the original", "> quoted only\n", "> quoted only"},
      {"reply written below the quote",
       "On Tue, Mar 3, 2026 at 2:14 PM Ms. Lee <lee@school.org> wrote:\n> Can Maya stay "
       "late?\n\nYes, until 5.\n",
       "Yes, until 5."},
      {"interleaved answers",
       "On Tue, Ms. Lee <lee@school.org> wrote:\n> Can Maya stay late?\nYes.\n> And Friday?\nNo, "
       "sorry.\n\n-- \nAna",
       "Yes.\nNo, sorry."},
      {"empty", "", ""},
      {"white space only", " \n\t\r\n ", ""},
      {"inner blank lines kept", "a\n\n\nb", "a\n\n\nb"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    CHECK(extract_reply(row.text) == row.reply);
  }
}

TEST_CASE("extract_reply stays linear on long input", "[conversations]") {
  std::string lines;
  for (int i = 0; i < 50000; ++i) lines += "From: x\nOn a\n> q\n";
  CHECK(extract_reply(lines).size() <= lines.size());
  const std::string one_line(1 << 20, 'x');
  CHECK(extract_reply(one_line) == one_line);
}

}  // namespace
}  // namespace homeroom::conversations
