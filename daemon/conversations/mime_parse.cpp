#include "conversations/mime_parse.h"

#include <date/date.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include "conversations/ascii.h"
#include "conversations/html_text.h"
#include "conversations/mime_decode.h"

namespace homeroom::conversations {
namespace {

constexpr std::size_t kMaxBoundary = 200;  // RFC 2046 allows 70; leave room for odd mailers
constexpr std::size_t kMaxWarnings = 16;

class Warnings {
 public:
  explicit Warnings(std::vector<std::string>* out) : out_(out) {}
  void add(std::string_view warning) {
    if (out_->size() >= kMaxWarnings) return;
    if (std::find(out_->begin(), out_->end(), warning) != out_->end()) return;
    out_->emplace_back(warning);
  }

 private:
  std::vector<std::string>* out_;
};

// CRLF and lone CR become LF, so the rest of the parser sees one line end.
std::string normalize_line_ends(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\r') {
      if (i + 1 < raw.size() && raw[i + 1] == '\n') continue;
      out.push_back('\n');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c >= 0x7F || c == ':') return false;
  }
  return true;
}

// Header values are single lines of text for the caller: control characters become spaces.
std::string clean_value(std::string_view value) {
  std::string out = sanitize_utf8(ascii::trim(value));
  for (char& c : out) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) c = ' ';
  }
  return out;
}

struct Entity {
  std::vector<HeaderField> headers;  // names as written, values unfolded (not yet trimmed)
  std::string_view body;
};

// Splits a header section from its body. A line that is neither a field nor a continuation ends
// the header section as an empty line would (as Python's email package does).
Entity split_entity(std::string_view text, std::size_t max_fields, bool top_level,
                    Warnings* warnings) {
  Entity entity;
  std::size_t pos = 0;
  bool skipping = false;  // over the field limit: continuations of skipped fields are skipped too
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    const bool has_eol = eol != std::string_view::npos;
    if (!has_eol) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    const std::size_t next = has_eol ? eol + 1 : text.size();
    if (line.empty()) {
      entity.body = text.substr(next);
      return entity;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (entity.headers.empty() && !skipping) {
        entity.body = text.substr(pos);
        return entity;
      }
      if (!skipping) entity.headers.back().value.append(line);
      pos = next;
      continue;
    }
    if (top_level && pos == 0 && line.substr(0, 5) == "From ") {  // an mbox separator line
      pos = next;
      continue;
    }
    const std::size_t colon = line.find(':');
    std::string_view name = colon == std::string_view::npos ? line : line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (colon == std::string_view::npos || !valid_header_name(name)) {
      if (!entity.headers.empty()) warnings->add("header section not ended by an empty line");
      entity.body = text.substr(pos);
      return entity;
    }
    if (entity.headers.size() >= max_fields) {
      warnings->add("too many header fields; the rest skipped");
      skipping = true;
    } else {
      skipping = false;
      entity.headers.push_back({std::string(name), std::string(line.substr(colon + 1))});
    }
    pos = next;
  }
  return entity;  // headers only: the message ends before any body
}

const std::string* find_header(const std::vector<HeaderField>& headers, std::string_view name) {
  for (const HeaderField& field : headers) {
    if (ascii::iequals(field.name, name)) return &field.value;
  }
  return nullptr;
}

std::string_view header_or_empty(const std::vector<HeaderField>& headers, std::string_view name) {
  const std::string* value = find_header(headers, name);
  return value == nullptr ? std::string_view{} : std::string_view(*value);
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && ascii::hex_value(text[i + 1]) >= 0 &&
        ascii::hex_value(text[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(ascii::hex_value(text[i + 1]) * 16 + ascii::hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// A structured header value: "text/plain; charset=utf-8" -> value "text/plain", params.
struct ParamHeader {
  std::string value;                          // lower case, trimmed
  std::map<std::string, std::string> params;  // names lower case; RFC 2231 already assembled
};

ParamHeader parse_param_header(std::string_view raw) {
  ParamHeader out;
  std::size_t semi = raw.find(';');
  std::string_view head = ascii::trim(raw.substr(0, semi));
  // "text/plain (comment)" and "text/plain charset=..." (a missing ';'): keep the first word.
  const std::size_t cut = head.find_first_of(" \t(");
  out.value = ascii::to_lower(ascii::trim(head.substr(0, cut)));
  if (semi == std::string_view::npos) return out;

  struct RawParam {
    std::string name;
    std::string value;
  };
  std::vector<RawParam> raw_params;
  std::size_t i = semi + 1;
  while (i < raw.size()) {
    while (i < raw.size() && (ascii::is_space(raw[i]) || raw[i] == ';')) ++i;
    const std::size_t name_start = i;
    while (i < raw.size() && raw[i] != '=' && raw[i] != ';') ++i;
    const std::string name = ascii::to_lower(ascii::trim(raw.substr(name_start, i - name_start)));
    std::string value;
    if (i < raw.size() && raw[i] == '=') {
      ++i;
      while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t')) ++i;
      if (i < raw.size() && raw[i] == '"') {
        ++i;
        while (i < raw.size() && raw[i] != '"') {
          if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
          value.push_back(raw[i]);
          ++i;
        }
        ++i;  // the closing quote (or past the end)
        while (i < raw.size() && raw[i] != ';') ++i;
      } else {
        const std::size_t value_start = i;
        while (i < raw.size() && raw[i] != ';') ++i;
        value = std::string(ascii::trim(raw.substr(value_start, i - value_start)));
      }
    }
    if (!name.empty()) raw_params.push_back({name, std::move(value)});
  }

  // RFC 2231: name*=charset'lang'%XX, continuations name*0, name*1*, ... They win over name=.
  struct Pieces {
    std::map<int, std::pair<std::string, bool>> segments;  // index -> (value, extended)
  };
  std::map<std::string, Pieces> extended;
  for (RawParam& param : raw_params) {
    std::string name = param.name;
    bool is_extended = false;
    if (!name.empty() && name.back() == '*') {
      is_extended = true;
      name.pop_back();
    }
    int index = -1;
    const std::size_t star = name.rfind('*');
    if (star != std::string::npos && star + 1 < name.size() && name.size() - star <= 4 &&
        std::all_of(name.begin() + static_cast<std::ptrdiff_t>(star) + 1, name.end(),
                    [](char c) { return ascii::is_digit(c); })) {
      index = std::stoi(name.substr(star + 1));
      name = name.substr(0, star);
    }
    if (index < 0 && !is_extended) {
      out.params.emplace(name, std::move(param.value));
      continue;
    }
    extended[name].segments.emplace(index < 0 ? 0 : index,
                                    std::make_pair(std::move(param.value), is_extended));
  }
  for (auto& [name, pieces] : extended) {
    std::string bytes;
    std::string charset;
    bool first = true;
    for (auto& [index, segment] : pieces.segments) {
      std::string_view value = segment.first;
      if (segment.second) {
        if (first) {
          // charset'language'value
          const std::size_t q1 = value.find('\'');
          const std::size_t q2 = q1 == std::string_view::npos ? q1 : value.find('\'', q1 + 1);
          if (q2 != std::string_view::npos) {
            charset = std::string(value.substr(0, q1));
            value = value.substr(q2 + 1);
          }
        }
        bytes += percent_decode(value);
      } else {
        bytes += value;
      }
      first = false;
    }
    out.params[name] = charset.empty() ? std::move(bytes) : to_utf8(bytes, charset);
  }
  return out;
}

std::string param(const ParamHeader& header, const std::string& name) {
  const auto found = header.params.find(name);
  return found == header.params.end() ? std::string{} : found->second;
}

std::string decode_transfer(std::string_view body, std::string_view encoding) {
  const std::string cte = ascii::to_lower(ascii::trim(encoding));
  if (cte == "base64") return decode_base64(body);
  if (cte == "quoted-printable") return decode_quoted_printable(body);
  return std::string(body);  // 7bit, 8bit, binary, and anything unknown
}

std::size_t decoded_size(std::string_view body, std::string_view encoding) {
  const std::string cte = ascii::to_lower(ascii::trim(encoding));
  if (cte == "base64") {
    std::size_t chars = 0;
    for (char c : body) {
      if (c == '=') break;
      if (ascii::is_alpha(c) || ascii::is_digit(c) || c == '+' || c == '/' || c == '-' ||
          c == '_') {
        ++chars;
      }
    }
    return chars * 6 / 8;
  }
  if (cte == "quoted-printable") return decode_quoted_printable(body).size();
  return body.size();
}

// RFC 3676 format=flowed: lines ending in a space continue on the next line of the same quote
// depth; a leading space is stuffing. Quote markers are written back as "> ".
std::string unflow(std::string_view text, bool delsp) {
  std::string out;
  out.reserve(text.size());
  bool open = false;
  std::size_t open_depth = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    std::size_t depth = 0;
    while (depth < line.size() && line[depth] == '>') ++depth;
    line.remove_prefix(depth);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    const bool signature = line == "-- ";
    const bool flowed = !signature && !line.empty() && line.back() == ' ';
    if (flowed && delsp) line.remove_suffix(1);
    if (open && depth != open_depth) {
      out.push_back('\n');
      open = false;
    }
    if (!open && depth > 0) {
      out.append(depth, '>');
      out.push_back(' ');
    }
    out.append(line);
    if (flowed) {
      open = true;
      open_depth = depth;
    } else {
      out.push_back('\n');
      open = false;
    }
  }
  if (!text.empty() && text.back() != '\n' && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Text of a part as UTF-8 with LF line ends and no NUL.
std::string part_text(std::string_view bytes, std::string_view charset) {
  const std::string utf8 = to_utf8(bytes, charset);
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const char c = utf8[i];
    if (c == '\0') continue;
    if (c == '\r') {
      if (i + 1 < utf8.size() && utf8[i + 1] == '\n') continue;
      out.push_back('\n');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// Cuts valid UTF-8 to at most `max` bytes without splitting a character; true when it did.
bool cap_utf8(std::string* text, std::size_t max) {
  if (text->size() <= max) return false;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>((*text)[cut]) & 0xC0) == 0x80) --cut;
  text->resize(cut);
  return true;
}

std::vector<std::string_view> split_multipart(std::string_view body, std::string_view boundary,
                                              std::size_t max_parts, bool* closed) {
  std::vector<std::string_view> parts;
  const std::string delimiter = "--" + std::string(boundary);
  *closed = false;
  bool in_part = false;
  std::size_t part_start = 0;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    const std::size_t hit = body.find(delimiter, pos);
    if (hit == std::string_view::npos) break;
    pos = hit + 1;
    if (hit != 0 && body[hit - 1] != '\n') continue;
    std::size_t after = hit + delimiter.size();
    const bool close = body.substr(after, 2) == "--";
    if (close) after += 2;
    while (after < body.size() && (body[after] == ' ' || body[after] == '\t')) ++after;
    if (after < body.size() && body[after] != '\n') continue;  // "--b" is not "--bb"
    if (in_part) {
      const std::size_t part_end = hit == 0 ? 0 : hit - 1;  // the line end belongs to the delimiter
      parts.push_back(body.substr(part_start, part_end > part_start ? part_end - part_start : 0));
      if (parts.size() >= max_parts) {
        *closed = true;
        return parts;
      }
    }
    if (close) {
      *closed = true;
      return parts;
    }
    in_part = true;
    part_start = after < body.size() ? after + 1 : body.size();
    pos = part_start;
  }
  if (in_part) parts.push_back(body.substr(part_start));
  return parts;
}

struct Segment {
  std::string text;
  std::string html;
};
using Segments = std::vector<Segment>;

std::string join(const Segments& segments, std::string Segment::*field) {
  std::string out;
  for (const Segment& segment : segments) {
    const std::string& piece = segment.*field;
    if (piece.empty()) continue;
    if (!out.empty() && out.back() != '\n') out.push_back('\n');
    out += piece;
  }
  return out;
}

class Walker {
 public:
  Walker(const MimeLimits& limits, ParsedEmail* email, Warnings* warnings)
      : limits_(limits), email_(email), warnings_(warnings) {}

  Segments walk(const std::vector<HeaderField>& headers, std::string_view body, int depth,
                bool digest_child) {
    if (++parts_ > limits_.max_parts) {
      warnings_->add("too many parts; the rest skipped");
      return {};
    }
    const std::string* content_type_raw = find_header(headers, "Content-Type");
    ParamHeader content_type = parse_param_header(
        content_type_raw == nullptr ? std::string_view{} : std::string_view(*content_type_raw));
    std::string_view type = content_type.value;
    if (type.find('/') == std::string_view::npos || type.front() == '/' || type.back() == '/') {
      if (content_type_raw != nullptr) warnings_->add("malformed Content-Type; read as text");
      content_type.value = digest_child ? "message/rfc822" : "text/plain";
      type = content_type.value;
    }
    const std::string_view major = type.substr(0, type.find('/'));
    const std::string_view minor = type.substr(type.find('/') + 1);
    const std::string_view encoding = header_or_empty(headers, "Content-Transfer-Encoding");

    if (major == "multipart") {
      if (depth >= limits_.max_depth) {
        warnings_->add("multipart nested too deep; skipped");
        return {};
      }
      const std::string boundary = param(content_type, "boundary");
      if (boundary.empty() || boundary.size() > kMaxBoundary) {
        warnings_->add("multipart without a usable boundary; read as text");
        return text_leaf(body, encoding, "", false, false);
      }
      bool closed = false;
      const std::vector<std::string_view> pieces = split_multipart(
          body, boundary, static_cast<std::size_t>(std::max(limits_.max_parts, 1)), &closed);
      if (pieces.empty()) {
        warnings_->add("multipart boundary not found; read as text");
        return text_leaf(body, encoding, "", false, false);
      }
      if (!closed) warnings_->add("missing final boundary");
      std::vector<Segments> children;
      for (std::string_view piece : pieces) {
        if (parts_ >= limits_.max_parts) {
          warnings_->add("too many parts; the rest skipped");
          break;
        }
        const Entity child = split_entity(piece, limits_.max_header_fields, false, warnings_);
        children.push_back(walk(child.headers, child.body, depth + 1, minor == "digest"));
      }
      return combine(minor, std::move(children));
    }

    const ParamHeader disposition =
        parse_param_header(header_or_empty(headers, "Content-Disposition"));
    std::string filename = param(disposition, "filename");
    if (filename.empty()) filename = param(content_type, "name");
    const bool body_text = major == "text" && (minor == "plain" || minor == "html");
    const bool attachment = !body_text || disposition.value == "attachment" ||
                            (!filename.empty() && disposition.value != "inline");
    if (attachment) {
      if (email_->attachments.size() < static_cast<std::size_t>(std::max(limits_.max_parts, 0))) {
        AttachmentInfo info;
        info.content_type = clean_value(type);
        info.filename = clean_value(decode_header_words(filename));
        info.inline_disposition = disposition.value == "inline";
        info.size = decoded_size(body, encoding);
        email_->attachments.push_back(std::move(info));
      }
      return {};
    }
    const std::string format = ascii::to_lower(param(content_type, "format"));
    const bool delsp = ascii::to_lower(param(content_type, "delsp")) == "yes";
    return text_leaf(body, encoding, param(content_type, "charset"), minor == "html",
                     minor == "plain" && format == "flowed", delsp);
  }

 private:
  Segments text_leaf(std::string_view body, std::string_view encoding, std::string_view charset,
                     bool html, bool flowed, bool delsp = false) {
    if (kept_bytes_ > 2 * limits_.max_text_bytes) {
      warnings_->add("text truncated");
      return {};
    }
    std::string text = part_text(decode_transfer(body, encoding), charset);
    if (flowed) text = unflow(text, delsp);
    if (cap_utf8(&text, limits_.max_text_bytes)) warnings_->add("text truncated");
    kept_bytes_ += text.size();
    Segment segment;
    (html ? segment.html : segment.text) = std::move(text);
    return {std::move(segment)};
  }

  static Segments combine(std::string_view subtype, std::vector<Segments> children) {
    if (children.empty()) return {};
    if (subtype == "alternative") {
      // Parts go from plainest to richest: the first plain text, the last HTML.
      Segment segment;
      for (const Segments& child : children) {
        segment.text = join(child, &Segment::text);
        if (!segment.text.empty()) break;
      }
      for (auto child = children.rbegin(); child != children.rend(); ++child) {
        segment.html = join(*child, &Segment::html);
        if (!segment.html.empty()) break;
      }
      return {std::move(segment)};
    }
    if (subtype == "related") return std::move(children.front());  // the root; the rest are images
    Segments all;
    for (Segments& child : children) {
      for (Segment& segment : child) all.push_back(std::move(segment));
    }
    return all;
  }

  const MimeLimits& limits_;
  ParsedEmail* email_;
  Warnings* warnings_;
  int parts_ = 0;
  std::size_t kept_bytes_ = 0;
};

// Message ids in a Message-ID / In-Reply-To / References value, without angle brackets.
std::vector<std::string> message_ids(std::string_view value) {
  std::vector<std::string> ids;
  const auto add = [&](std::string_view id) {
    std::string cleaned;
    for (char c : id) {
      if (static_cast<unsigned char>(c) > ' ' && c != 0x7F && c != '<' && c != '>') {
        cleaned.push_back(c);
      }
    }
    if (!cleaned.empty()) ids.push_back(sanitize_utf8(cleaned));
  };
  std::size_t pos = 0;
  while (true) {
    const std::size_t lt = value.find('<', pos);
    if (lt == std::string_view::npos) break;
    const std::size_t gt = value.find('>', lt + 1);
    if (gt == std::string_view::npos) break;
    add(value.substr(lt + 1, gt - lt - 1));
    pos = gt + 1;
  }
  if (!ids.empty()) return ids;
  // No angle brackets (some mailers): white space or comma separated.
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || ascii::is_space(value[i]) || value[i] == ',') {
      if (i > start) add(value.substr(start, i - start));
      start = i + 1;
    }
  }
  return ids;
}

// The unquoted, comment-free words of a display name, then RFC 2047-decoded.
std::string display_name(std::string_view raw) {
  std::string out;
  bool in_quote = false;
  int comment = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (in_quote) {
      if (c == '\\' && i + 1 < raw.size()) {
        out.push_back(raw[++i]);
      } else if (c == '"') {
        in_quote = false;
      } else {
        out.push_back(c);
      }
    } else if (comment > 0) {
      if (c == '\\') {
        ++i;
      } else if (c == '(') {
        ++comment;
      } else if (c == ')') {
        --comment;
      }
    } else if (c == '"') {
      in_quote = true;
    } else if (c == '(') {
      comment = 1;
    } else {
      out.push_back(c);
    }
  }
  std::string decoded = decode_header_words(out);
  std::string collapsed;
  for (char c : decoded) {
    if (ascii::is_space(c)) {
      if (!collapsed.empty() && collapsed.back() != ' ') collapsed.push_back(' ');
    } else {
      collapsed.push_back(c);
    }
  }
  if (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
  return collapsed;
}

// The text of the first comment in `raw` ("bob@x.org (Bob Smith)" -> "Bob Smith") and `raw`
// without its comments.
std::pair<std::string, std::string> split_comments(std::string_view raw) {
  std::string first_comment;
  std::string rest;
  int comment = 0;
  bool seen_comment = false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (comment > 0) {
      if (c == '(') ++comment;
      if (c == ')') --comment;
      if (comment == 0) {
        seen_comment = true;
      } else if (!seen_comment) {
        if (c == '\\' && i + 1 < raw.size()) {
          first_comment.push_back(raw[++i]);
        } else {
          first_comment.push_back(c);
        }
      }
    } else if (c == '(') {
      comment = 1;
    } else {
      rest.push_back(c);
    }
  }
  return {first_comment, rest};
}

Mailbox parse_mailbox(std::string_view item) {
  Mailbox mailbox;
  item = ascii::trim(item);
  // Find '<' outside quotes and comments.
  std::size_t angle = std::string_view::npos;
  bool in_quote = false;
  int comment = 0;
  for (std::size_t i = 0; i < item.size(); ++i) {
    const char c = item[i];
    if (in_quote) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_quote = false;
      }
    } else if (comment > 0) {
      if (c == '(') ++comment;
      if (c == ')') --comment;
    } else if (c == '"') {
      in_quote = true;
    } else if (c == '(') {
      comment = 1;
    } else if (c == '<') {
      angle = i;
      break;
    }
  }
  std::string address;
  if (angle != std::string_view::npos) {
    const std::size_t close = item.find('>', angle + 1);
    address = std::string(item.substr(
        angle + 1, close == std::string_view::npos ? std::string_view::npos : close - angle - 1));
    // Obsolete source route: "<@relay.example:ana@example.org>".
    if (const std::size_t colon = address.rfind(':');
        colon != std::string::npos && !address.empty() && address.front() == '@') {
      address = address.substr(colon + 1);
    }
    mailbox.display_name = display_name(item.substr(0, angle));
  } else {
    auto [comment_text, rest] = split_comments(item);
    address = std::move(rest);
    mailbox.display_name = display_name("\"" + comment_text + "\"");
    if (comment_text.empty()) mailbox.display_name.clear();
  }
  std::string cleaned;
  for (char c : address) {
    if (static_cast<unsigned char>(c) > ' ' && c != 0x7F && c != '"') cleaned.push_back(c);
  }
  // An address with quotes in its local part is rare enough; their removal keeps it usable.
  mailbox.address = sanitize_utf8(cleaned);
  mailbox.display_name = clean_value(mailbox.display_name);
  return mailbox;
}

int month_number(std::string_view name) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() < 3) return 0;
  for (int m = 0; m < 12; ++m) {
    if (ascii::iequals(name.substr(0, 3), kMonths[m])) return m + 1;
  }
  return 0;
}

bool parse_number(std::string_view text, int* out) {
  if (text.empty() || text.size() > 9) return false;
  int value = 0;
  for (char c : text) {
    if (!ascii::is_digit(c)) return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

// Minutes east of UTC for a zone ("+0100", "GMT", "EST"); false when it is not one.
bool zone_offset(std::string_view zone, int* minutes) {
  if ((zone.size() == 5) && (zone[0] == '+' || zone[0] == '-')) {
    int hhmm = 0;
    if (!parse_number(zone.substr(1), &hhmm)) return false;
    const int offset = hhmm / 100 * 60 + hhmm % 100;
    if (hhmm % 100 >= 60 || hhmm / 100 > 23) return false;
    *minutes = zone[0] == '-' ? -offset : offset;
    return true;
  }
  struct Named {
    std::string_view name;
    int hours;
  };
  static constexpr Named kZones[] = {{"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},
                                     {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
                                     {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
  for (const Named& named : kZones) {
    if (ascii::iequals(zone, named.name)) {
      *minutes = named.hours * 60;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string ParsedEmail::header(std::string_view name) const {
  const std::string* value = find_header(headers, name);
  return value == nullptr ? std::string{} : *value;
}

std::vector<Mailbox> parse_address_list(std::string_view value) {
  std::vector<Mailbox> out;
  std::string current;
  bool in_quote = false;
  int comment = 0;
  bool in_angle = false;
  const auto flush = [&] {
    if (!ascii::trim(current).empty()) {
      Mailbox mailbox = parse_mailbox(current);
      if (!mailbox.address.empty() || !mailbox.display_name.empty()) {
        out.push_back(std::move(mailbox));
      }
    }
    current.clear();
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (in_quote) {
      current.push_back(c);
      if (c == '\\' && i + 1 < value.size()) {
        current.push_back(value[++i]);
      } else if (c == '"') {
        in_quote = false;
      }
      continue;
    }
    if (comment > 0) {
      current.push_back(c);
      if (c == '\\' && i + 1 < value.size()) {
        current.push_back(value[++i]);
      } else if (c == '(') {
        ++comment;
      } else if (c == ')') {
        --comment;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_quote = true;
        current.push_back(c);
        break;
      case '(':
        comment = 1;
        current.push_back(c);
        break;
      case '<':
        in_angle = true;
        current.push_back(c);
        break;
      case '>':
        in_angle = false;
        current.push_back(c);
        break;
      case ',':
        if (in_angle) {
          current.push_back(c);
        } else {
          flush();
        }
        break;
      case ':':
        if (in_angle) {
          current.push_back(c);
        } else {
          current.clear();  // "Group name:" starts a group; its name is not a mailbox
        }
        break;
      case ';':
        if (in_angle) {
          current.push_back(c);
        } else {
          flush();
        }
        break;
      default:
        current.push_back(c);
    }
  }
  flush();
  return out;
}

std::optional<Millis> parse_email_date(std::string_view value) {
  // Words without comments, commas as spaces.
  std::vector<std::string_view> words;
  const std::string text = split_comments(value).second;
  std::string_view rest = text;
  std::size_t i = 0;
  while (i < rest.size() && words.size() < 8) {
    while (i < rest.size() && (ascii::is_space(rest[i]) || rest[i] == ',')) ++i;
    const std::size_t start = i;
    while (i < rest.size() && !ascii::is_space(rest[i]) && rest[i] != ',') ++i;
    if (i > start) words.push_back(rest.substr(start, i - start));
  }
  std::size_t w = 0;
  if (w < words.size() && !words[w].empty() && ascii::is_alpha(words[w][0]) &&
      month_number(words[w]) == 0) {
    ++w;  // the day of the week
  }
  if (w + 3 > words.size()) return std::nullopt;  // day, month and year at least
  int day = 0;
  int month = 0;
  int year = 0;
  if (!parse_number(words[w], &day)) {
    // "Mar 3 2026" (asctime order), seen from some scripts.
    month = month_number(words[w]);
    if (month == 0 || !parse_number(words[w + 1], &day)) return std::nullopt;
  } else {
    month = month_number(words[w + 1]);
  }
  if (month == 0 || !parse_number(words[w + 2], &year)) return std::nullopt;
  if (words[w + 2].size() == 2) year += year < 50 ? 2000 : 1900;
  if (words[w + 2].size() == 3) year += 1900;
  if (year < 1900 || year > 9999) return std::nullopt;
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::size_t zone_at = w + 4;
  if (w + 3 < words.size()) {
    const std::string_view time = words[w + 3];
    if (time.size() < 4 || time.size() > 8 || time.find(':') == std::string_view::npos) {
      return std::nullopt;
    }
    const std::size_t c1 = time.find(':');
    const std::size_t c2 = time.find(':', c1 + 1);
    if (!parse_number(time.substr(0, c1), &hour) ||
        !parse_number(time.substr(c1 + 1, c2 == std::string_view::npos ? c2 : c2 - c1 - 1),
                      &minute)) {
      return std::nullopt;
    }
    if (c2 != std::string_view::npos && !parse_number(time.substr(c2 + 1), &second)) {
      return std::nullopt;
    }
  } else {
    zone_at = words.size();
  }
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  if (second == 60) second = 59;  // a leap second
  int offset_minutes = 0;
  if (zone_at < words.size() && !zone_offset(words[zone_at], &offset_minutes)) {
    offset_minutes = 0;  // an unknown zone reads as UTC (RFC 5322 4.3)
  }
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const std::int64_t days = date::sys_days{ymd}.time_since_epoch().count();
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second -
                               static_cast<std::int64_t>(offset_minutes) * 60;
  return seconds * 1000;
}

Result<ParsedEmail> parse_email(std::string_view raw, const MimeLimits& limits) {
  if (raw.size() > limits.max_input_bytes) {
    return Status(Code::kTooLarge,
                  "message larger than " + std::to_string(limits.max_input_bytes) + " bytes");
  }
  const std::string text = normalize_line_ends(raw);
  ParsedEmail email;
  Warnings warnings(&email.warnings);
  const Entity top = split_entity(text, limits.max_header_fields, true, &warnings);
  if (top.headers.empty()) {
    return Status::malformed("no header fields: not an email message");
  }
  for (const HeaderField& field : top.headers) {
    email.headers.push_back({field.name, clean_value(field.value)});
  }
  // Decoding reads the raw values: 8-bit text in them may be Windows-1252, not yet replaced.
  const auto raw_value = [&](std::string_view name) {
    return std::string(ascii::trim(header_or_empty(top.headers, name)));
  };
  const auto all_values = [&](std::string_view name) {
    std::string joined;
    for (const HeaderField& field : top.headers) {
      if (!ascii::iequals(field.name, name)) continue;
      if (!joined.empty()) joined += ", ";
      joined += field.value;
    }
    return joined;
  };
  std::vector<Mailbox> from = parse_address_list(raw_value("From"));
  if (!from.empty()) email.from = std::move(from.front());
  email.to = parse_address_list(all_values("To"));
  email.cc = parse_address_list(all_values("Cc"));
  email.subject = std::string(ascii::trim(decode_header_words(raw_value("Subject"))));
  if (auto ids = message_ids(email.header("Message-ID")); !ids.empty()) {
    email.message_id = std::move(ids.front());
  }
  if (auto ids = message_ids(email.header("In-Reply-To")); !ids.empty()) {
    email.in_reply_to = std::move(ids.front());
  }
  email.references = message_ids(email.header("References"));
  email.date = email.header("Date");
  email.date_time = parse_email_date(email.date);

  Walker walker(limits, &email, &warnings);
  const Segments segments = walker.walk(top.headers, top.body, 0, false);
  for (const Segment& segment : segments) {
    std::string piece = segment.text;
    if (piece.empty() && !segment.html.empty()) {
      piece = html_to_text(segment.html);
      if (!piece.empty()) email.text_from_html = true;
    }
    if (piece.empty()) continue;
    if (!email.text.empty() && email.text.back() != '\n') email.text.push_back('\n');
    email.text += piece;
  }
  email.html = join(segments, &Segment::html);
  if (cap_utf8(&email.text, limits.max_text_bytes)) warnings.add("text truncated");
  if (cap_utf8(&email.html, limits.max_text_bytes)) warnings.add("html truncated");
  return email;
}

}  // namespace homeroom::conversations
