// Decoders between the bytes of a received email and its text: transfer encodings
// (quoted-printable, base64), charsets (to UTF-8 through glibc iconv) and RFC 2047 encoded-words
// in header values. render/mime.h holds the encoders for what homeroom sends; these are their
// lenient inverses, because mail in the wild is often slightly wrong. Nothing here fails: bad input
// decodes to the best text it can, with whatever cannot be decoded replaced by U+FFFD, and every
// function returning text returns valid UTF-8. Output size is linear in the input size.
//
// Pure functions, no I/O, thread-safe (each conversion opens and closes its own iconv descriptor).
#pragma once

#include <string>
#include <string_view>

namespace homeroom::conversations {

// RFC 2045 quoted-printable: "=XX" escapes (either case) decoded, soft line breaks ("=" at the end
// of a line, optionally followed by spaces) removed, trailing spaces of lines dropped. An '=' that
// starts no valid escape is kept as is. CRLF and LF both end a line; LF is written. Returns bytes
// in the part's charset, not necessarily UTF-8.
std::string decode_quoted_printable(std::string_view encoded);

// RFC 2045 base64. Bytes outside the alphabet (line breaks, spaces, garbage) are skipped; decoding
// stops at the first '='; the bits of an incomplete final group are dropped. Returns raw bytes.
std::string decode_base64(std::string_view encoded);

// `bytes` converted from `charset` (an IANA name or a common alias, any case) to UTF-8:
//  - "utf-8": kept, invalid sequences replaced by U+FFFD.
//  - "" (none given), "us-ascii" and similar: UTF-8 when the bytes are valid UTF-8, otherwise
//    Windows-1252 (what unlabelled 8-bit mail almost always is).
//  - "iso-8859-1"/"latin1" are read as Windows-1252 (its superset; as browsers do), "gb2312"/"gbk"
//    as GB18030, "ks_c_5601-1987"/"euc-kr" as CP949, "shift_jis" as CP932, "big5" as BIG5-HKSCS.
//  - anything else iconv knows (iso-2022-jp, koi8-r, utf-16, ...) through iconv; a byte sequence
//    it rejects becomes U+FFFD and decoding goes on after it.
//  - a charset iconv does not know, or a name with characters no charset name has: treated as
//    UTF-8, invalid sequences replaced by U+FFFD.
std::string to_utf8(std::string_view bytes, std::string_view charset);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view text);
// `text` with every ill-formed UTF-8 sequence replaced by one U+FFFD (per maximal subpart, as the
// Unicode standard recommends). Valid input is returned unchanged.
std::string sanitize_utf8(std::string_view text);

// A header value (already unfolded) with its RFC 2047 encoded-words ("=?charset?B|Q?...?=", any
// charset, "charset*lang" accepted) decoded to UTF-8. White space between two adjacent
// encoded-words is dropped (RFC 2047 section 6.2); the bytes of adjacent words in the same charset
// are joined before conversion, so a character split across two words survives. A malformed
// encoded-word is kept literally. Text outside encoded-words is taken as UTF-8 when valid, else as
// Windows-1252. Control characters (CR, LF, TAB, NUL, ...) in the result become spaces.
std::string decode_header_words(std::string_view value);

}  // namespace homeroom::conversations
