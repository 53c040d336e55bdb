// The short texts homeroom answers families with by itself (STOP/START confirmations, HELP, the
// "which teacher?" question, the office hours reply), in the family's language where homeroom has
// the words (en, es; the STOP/START confirmations also in fr, pt, vi, zh, ar, ht, so), else
// English; and the parser of the answer to the "which teacher?" question.
//
// Pure functions, no I/O, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace homeroom::conversations {

// The answer to "Reply 1 for Ms. Lee, 2 for Mr. Diaz": the whole message must be one choice
// 1..`choices`, optionally with white space (ASCII or Unicode spaces), a leading '#', a trailing
// '.', ')' or '!', or written in fullwidth digits ("１"). Anything else (a sentence that starts
// with a digit, "12" when there are 3 choices, an empty text) is nullopt. Linear in the input;
// inputs over 64 bytes are nullopt at once.
std::optional<int> parse_choice(std::string_view text, int choices);

// "Reply 1 for Ms. Lee, 2 for Mr. Diaz" (es: "Responda 1 para Ms. Lee, 2 para Mr. Diaz"), with
// the names in the order given (the choices are 1-based in that order).
std::string choice_question(std::string_view language, const std::vector<std::string>& names);

// The confirmation of a STOP / START keyword, in the keyword's language.
std::string stop_confirmation(std::string_view language, std::string_view school_name);
std::string start_confirmation(std::string_view language, std::string_view school_name);
// The HELP answer: the school's name and contact line, and how to stop.
std::string help_answer(std::string_view language, std::string_view school_name,
                        std::string_view contact_line);
// The office hours auto-reply: "Ms. Lee has received your message and answers during office hours:
// Mon-Fri 08:00-16:00." `days` are ISO weekdays (1 = Monday .. 7 = Sunday).
std::string office_hours_reply(std::string_view language, std::string_view teacher_name,
                               const std::vector<int>& days, std::string_view start,
                               std::string_view end);

}  // namespace homeroom::conversations
