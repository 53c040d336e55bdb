// What a parent actually wrote in an email reply: the text of the reply without the quoted
// history and signature that mail clients add below it. Works on plain text (ParsedEmail::text,
// which mime_parse derives from the HTML when needed).
//
// The text is cut at the first line that starts quoted history:
//  - an attribution line, also when wrapped over up to three lines: "On <date>, <name> wrote:",
//    "El ... escribió:", "Le ... a écrit :", "Em ... escreveu:", "Am ... schrieb ...:",
//    "Op ... schreef ...:", "Il ... ha scritto:", "Vào ... đã viết:", "... 写道：", "في ... كتب
//    ...:";
//  - "-----Original Message-----" and its translations and "---------- Forwarded message ---------"
//    (any number of dashes), "Begin forwarded message:";
//  - a header block: "From:" (or De:/Von:/Da:/Van:, optionally *bold*) followed within four lines
//    by two more of Sent:/Date:/To:/Cc:/Subject: (or their Spanish, French, German, Portuguese,
//    Italian labels);
//  - a line of eight or more underscores (Outlook's separator).
// Before that point, lines starting with '>' are dropped, and the text is cut at a signature:
// a "-- " (or "--") line, or a client's tag line ("Sent from my iPhone", "Sent from my Android",
// "Enviado desde mi iPhone", "Envoyé de mon iPhone", "Von meinem iPhone gesendet", "Get Outlook
// for iOS", ...). Lines are right-trimmed and the result trimmed.
//
// When nothing is left above the quoted history (a reply written below the quote), the text
// written between and below the quoted lines is returned instead; and when stripping would leave
// nothing at all, the original text, trimmed, is returned: what a parent said is never lost.
// The result is never longer than the input.
//
// Pure function, no I/O, thread-safe; linear in the input size.
#pragma once

#include <string>
#include <string_view>

namespace homeroom::conversations {

std::string extract_reply(std::string_view text);

}  // namespace homeroom::conversations
