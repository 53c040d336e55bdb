// How many SMS segments a text costs, as a carrier counts them (3GPP TS 23.038 / 23.040).
//
// A text that fits the GSM 7-bit default alphabet (basic table plus the extension table, whose
// characters cost two septets: an escape and the character) is sent as GSM-7: 160 septets in a
// single SMS, 153 per part once concatenated (the user data header takes the rest). An
// extension character's two septets are never split across parts. Any other text is sent as
// UCS-2: UTF-16 code units, 70 in a single SMS, 67 per part, and a surrogate pair (an emoji, say)
// is never split across parts.
//
// Pure function, no allocation, safe to call from any thread. Invalid UTF-8 counts as U+FFFD.
#pragma once

#include <string_view>

namespace homeroom::render {

struct SmsSegments {
  bool gsm7 = true;  // false: the text needs UCS-2
  int units = 0;     // septets (GSM-7) or UTF-16 code units (UCS-2)
  int segments = 0;  // 0 for the empty text
};

SmsSegments count_sms_segments(std::string_view utf8);

}  // namespace homeroom::render
