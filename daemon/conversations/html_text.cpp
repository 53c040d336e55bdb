#include "conversations/html_text.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "conversations/ascii.h"
#include "conversations/mime_decode.h"
#include "conversations/utf8.h"

namespace homeroom::conversations {
namespace {

const std::unordered_map<std::string_view, std::uint32_t>& named_entities() {
  static const std::unordered_map<std::string_view, std::uint32_t> kEntities = {
      {"amp", '&'},       {"lt", '<'},       {"gt", '>'},        {"quot", '"'},
      {"apos", '\''},     {"nbsp", 0xA0},    {"ensp", 0x2002},   {"emsp", 0x2003},
      {"thinsp", 0x2009}, {"zwnj", 0x200C},  {"zwj", 0x200D},    {"shy", 0xAD},
      {"copy", 0xA9},     {"reg", 0xAE},     {"trade", 0x2122},  {"hellip", 0x2026},
      {"mdash", 0x2014},  {"ndash", 0x2013}, {"lsquo", 0x2018},  {"rsquo", 0x2019},
      {"sbquo", 0x201A},  {"ldquo", 0x201C}, {"rdquo", 0x201D},  {"bdquo", 0x201E},
      {"laquo", 0xAB},    {"raquo", 0xBB},   {"lsaquo", 0x2039}, {"rsaquo", 0x203A},
      {"euro", 0x20AC},   {"pound", 0xA3},   {"yen", 0xA5},      {"cent", 0xA2},
      {"sect", 0xA7},     {"para", 0xB6},    {"deg", 0xB0},      {"plusmn", 0xB1},
      {"middot", 0xB7},   {"bull", 0x2022},  {"times", 0xD7},    {"divide", 0xF7},
      {"iexcl", 0xA1},    {"iquest", 0xBF},  {"ordf", 0xAA},     {"ordm", 0xBA},
      {"frac12", 0xBD},   {"frac14", 0xBC},  {"frac34", 0xBE},   {"acute", 0xB4},
      {"Agrave", 0xC0},   {"Aacute", 0xC1},  {"Acirc", 0xC2},    {"Atilde", 0xC3},
      {"Auml", 0xC4},     {"Aring", 0xC5},   {"AElig", 0xC6},    {"Ccedil", 0xC7},
      {"Egrave", 0xC8},   {"Eacute", 0xC9},  {"Ecirc", 0xCA},    {"Euml", 0xCB},
      {"Igrave", 0xCC},   {"Iacute", 0xCD},  {"Icirc", 0xCE},    {"Iuml", 0xCF},
      {"ETH", 0xD0},      {"Ntilde", 0xD1},  {"Ograve", 0xD2},   {"Oacute", 0xD3},
      {"Ocirc", 0xD4},    {"Otilde", 0xD5},  {"Ouml", 0xD6},     {"Oslash", 0xD8},
      {"Ugrave", 0xD9},   {"Uacute", 0xDA},  {"Ucirc", 0xDB},    {"Uuml", 0xDC},
      {"Yacute", 0xDD},   {"THORN", 0xDE},   {"szlig", 0xDF},    {"agrave", 0xE0},
      {"aacute", 0xE1},   {"acirc", 0xE2},   {"atilde", 0xE3},   {"auml", 0xE4},
      {"aring", 0xE5},    {"aelig", 0xE6},   {"ccedil", 0xE7},   {"egrave", 0xE8},
      {"eacute", 0xE9},   {"ecirc", 0xEA},   {"euml", 0xEB},     {"igrave", 0xEC},
      {"iacute", 0xED},   {"icirc", 0xEE},   {"iuml", 0xEF},     {"eth", 0xF0},
      {"ntilde", 0xF1},   {"ograve", 0xF2},  {"oacute", 0xF3},   {"ocirc", 0xF4},
      {"otilde", 0xF5},   {"ouml", 0xF6},    {"oslash", 0xF8},   {"ugrave", 0xF9},
      {"uacute", 0xFA},   {"ucirc", 0xFB},   {"uuml", 0xFC},     {"yacute", 0xFD},
      {"thorn", 0xFE},    {"yuml", 0xFF},    {"OElig", 0x152},   {"oelig", 0x153},
      {"Scaron", 0x160},  {"scaron", 0x161}, {"Yuml", 0x178},    {"fnof", 0x192},
      {"circ", 0x2C6},    {"tilde", 0x2DC},  {"dagger", 0x2020}, {"Dagger", 0x2021},
      {"permil", 0x2030}, {"prime", 0x2032}, {"larr", 0x2190},   {"rarr", 0x2192},
      {"uarr", 0x2191},   {"darr", 0x2193},  {"hearts", 0x2665}, {"check", 0x2713},
  };
  return kEntities;
}

// `text` with its character references decoded.
std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '&') {
      out.push_back(c);
      continue;
    }
    const std::size_t semi = text.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 33 || semi == i + 1) {
      out.push_back(c);
      continue;
    }
    const std::string_view name = text.substr(i + 1, semi - i - 1);
    if (name[0] == '#') {
      const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
      const std::string_view digits = name.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      bool ok = !digits.empty() && digits.size() <= 8;
      for (char d : digits) {
        const int v = hex ? ascii::hex_value(d) : (ascii::is_digit(d) ? d - '0' : -1);
        if (v < 0) {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16U : 10U) + static_cast<std::uint32_t>(v);
      }
      if (!ok) {
        out.push_back(c);
        continue;
      }
      utf8::append(&out, cp);
    } else {
      const auto& table = named_entities();
      const auto found = table.find(name);
      if (found == table.end()) {
        out.push_back(c);
        continue;
      }
      if (found->second != 0xAD) utf8::append(&out, found->second);  // soft hyphen: invisible
    }
    i = semi;
  }
  return out;
}

bool is_block_tag(std::string_view name) {
  static constexpr std::string_view kBlocks[] = {
      "p",    "div",      "tr",   "li",     "h1",      "h2",      "h3",         "h4",     "h5",
      "h6",   "ul",       "ol",   "table",  "hr",      "section", "article",    "header", "footer",
      "dl",   "dt",       "dd",   "center", "address", "pre",     "blockquote", "body",   "html",
      "form", "fieldset", "main", "nav",    "aside",   "figure",  "figcaption", "tbody",  "thead"};
  for (std::string_view block : kBlocks) {
    if (name == block) return true;
  }
  return false;
}

// Elements dropped with their content. `needs_close`: when the closing tag is missing, the
// opening tag is ignored instead of dropping the rest of the document.
bool is_dropped_tag(std::string_view name, bool* needs_close) {
  *needs_close = name == "head" || name == "title";
  return name == "style" || name == "script" || name == "head" || name == "title" ||
         name == "template" || name == "xml";
}

class TextWriter {
 public:
  void text(std::string_view decoded, bool preformatted) {
    for (std::size_t i = 0; i < decoded.size(); ++i) {
      const char c = decoded[i];
      if (preformatted) {
        out_.push_back(c == '\r' ? '\n' : c);
        continue;
      }
      if (ascii::is_space(c)) {
        pending_space_ = true;
        continue;
      }
      if (pending_space_ && !out_.empty() && out_.back() != '\n' && out_.back() != ' ') {
        out_.push_back(' ');
      }
      pending_space_ = false;
      if (c == '\xC2' && i + 1 < decoded.size() && decoded[i + 1] == '\xA0') {
        out_.push_back(' ');  // &nbsp; is a space that does not collapse
        ++i;
        continue;
      }
      out_.push_back(c);
    }
  }
  void line_break() {
    out_.push_back('\n');
    pending_space_ = false;
  }
  void block_break() {
    if (!out_.empty() && out_.back() != '\n') out_.push_back('\n');
    pending_space_ = false;
  }
  void space() { pending_space_ = true; }

  // Right-trimmed lines, at most one blank line in a row, trimmed.
  std::string finish() const {
    std::string result;
    result.reserve(out_.size());
    int blank_run = 0;
    std::size_t pos = 0;
    while (pos <= out_.size()) {
      std::size_t eol = out_.find('\n', pos);
      if (eol == std::string::npos) eol = out_.size();
      std::string_view line = std::string_view(out_).substr(pos, eol - pos);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
      if (line.empty()) {
        ++blank_run;
      } else {
        if (!result.empty()) result.append(blank_run > 0 ? "\n\n" : "\n");
        result.append(line);
        blank_run = 0;
      }
      if (result.empty()) blank_run = 0;
      pos = eol + 1;
    }
    return sanitize_utf8(result);
  }

 private:
  std::string out_;
  bool pending_space_ = false;
};

// Position of the '>' that ends the tag starting at html[start] ('<'), skipping quoted attribute
// values; html.size() when the tag never ends.
std::size_t tag_end(std::string_view html, std::size_t start) {
  char quote = 0;
  for (std::size_t i = start + 1; i < html.size(); ++i) {
    const char c = html[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      if (html[i - 1] == '=' || ascii::is_space(html[i - 1])) quote = c;
    } else if (c == '>') {
      return i;
    }
  }
  return html.size();
}

// Position just past the closing tag "</name ...>" at or after `from`, or npos.
std::size_t after_closing_tag(std::string_view html, std::size_t from, std::string_view name) {
  std::size_t pos = from;
  while (true) {
    const std::size_t lt = html.find("</", pos);
    if (lt == std::string_view::npos) return std::string_view::npos;
    const std::size_t name_at = lt + 2;
    if (ascii::istarts_with(html.substr(name_at), name)) {
      const std::size_t after = name_at + name.size();
      if (after >= html.size() || html[after] == '>' || ascii::is_space(html[after])) {
        const std::size_t gt = html.find('>', after);
        return gt == std::string_view::npos ? html.size() : gt + 1;
      }
    }
    pos = name_at;
  }
}

}  // namespace

std::string html_to_text(std::string_view html) {
  TextWriter writer;
  int blockquote_depth = 0;
  int pre_depth = 0;
  // Dropped elements whose closing tag is known to be missing from the rest of the input: looking
  // again at each later opening tag would make "<title><title>..." quadratic.
  std::string unclosed;
  std::size_t i = 0;
  while (i < html.size()) {
    const std::size_t lt = html.find('<', i);
    const std::size_t text_end = lt == std::string_view::npos ? html.size() : lt;
    if (text_end > i && blockquote_depth == 0) {
      writer.text(decode_entities(html.substr(i, text_end - i)), pre_depth > 0);
    }
    if (lt == std::string_view::npos) break;
    i = lt;
    const char next = i + 1 < html.size() ? html[i + 1] : '\0';
    if (html.substr(i, 4) == "<!--") {
      const std::size_t close = html.find("-->", i + 4);
      i = close == std::string_view::npos ? html.size() : close + 3;
      continue;
    }
    if (next == '!' || next == '?') {  // <!DOCTYPE>, <![if mso]>, <?xml ...>
      const std::size_t gt = html.find('>', i);
      i = gt == std::string_view::npos ? html.size() : gt + 1;
      continue;
    }
    const bool closing = next == '/';
    const std::size_t name_start = i + (closing ? 2 : 1);
    std::size_t name_end = name_start;
    while (name_end < html.size() &&
           (ascii::is_alpha(html[name_end]) || ascii::is_digit(html[name_end]) ||
            html[name_end] == ':' || html[name_end] == '-')) {
      ++name_end;
    }
    if (name_end == name_start || !ascii::is_alpha(html[name_start])) {
      // A '<' that starts no tag ("a < b") is text.
      if (blockquote_depth == 0) writer.text("<", pre_depth > 0);
      i = lt + 1;
      continue;
    }
    const std::string name = ascii::to_lower(html.substr(name_start, name_end - name_start));
    const std::size_t gt = tag_end(html, i);
    const bool self_closing = gt < html.size() && gt > 0 && html[gt - 1] == '/';
    i = gt < html.size() ? gt + 1 : html.size();

    bool needs_close = false;
    if (!closing && !self_closing && is_dropped_tag(name, &needs_close)) {
      const std::string key = "<" + name + ">";
      const std::size_t after = unclosed.find(key) != std::string::npos
                                    ? std::string_view::npos
                                    : after_closing_tag(html, i, name);
      if (after == std::string_view::npos) unclosed += key;
      if (after != std::string_view::npos) {
        i = after;
      } else if (!needs_close) {
        i = html.size();
      }
      continue;
    }
    if (name == "blockquote") {
      writer.block_break();
      if (closing) {
        if (blockquote_depth > 0) --blockquote_depth;
      } else if (!self_closing) {
        ++blockquote_depth;
      }
      continue;
    }
    if (blockquote_depth > 0) continue;
    if (name == "br") {
      writer.line_break();
    } else if (name == "pre") {
      writer.block_break();
      if (closing) {
        if (pre_depth > 0) --pre_depth;
      } else if (!self_closing) {
        ++pre_depth;
      }
    } else if (name == "li" && !closing) {
      writer.block_break();
      writer.text("- ", true);
    } else if (is_block_tag(name)) {
      writer.block_break();
    } else if (name == "td" || name == "th") {
      writer.space();
    }
  }
  return writer.finish();
}

}  // namespace homeroom::conversations
