#include "render/template.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "render/mime.h"

namespace homeroom::render {
namespace {

using Node = Template::Node;

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_any_space(char c) {
  return is_space(c) || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_any_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_any_space(s.back())) s.remove_suffix(1);
  return s;
}

// Line and column (1-based, columns in UTF-8 code points) of byte offsets visited in increasing
// order, so positions for a whole template cost one pass over it.
class PositionCounter {
 public:
  explicit PositionCounter(std::string_view text) : text_(text) {}

  std::pair<int, int> at(std::size_t offset) {
    for (; pos_ < offset && pos_ < text_.size(); ++pos_) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '\n') {
        ++line_;
        column_ = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++column_;
      }
    }
    return {line_, column_};
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

std::string position_prefix(std::pair<int, int> position) {
  return std::to_string(position.first) + ":" + std::to_string(position.second) + ": ";
}

// The name of a tag split at '.', or nullopt when it is not a name: empty, with spaces inside, or
// with an empty part ("a..b", ".a"). "." is the implicit iterator (no parts).
bool split_name(std::string_view name, std::vector<std::string>& parts) {
  parts.clear();
  if (name.empty()) return false;
  if (name == ".") return true;
  for (char c : name) {
    if (is_any_space(c)) return false;
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view part =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) return false;
    parts.emplace_back(part);
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

class Parser {
 public:
  explicit Parser(std::string_view source) : src_(source), positions_(source) {}

  Status run() {
    while (pos_ < src_.size()) {
      const std::size_t tag = src_.find(open_, pos_);
      if (tag == std::string_view::npos) {
        add_text(pos_, src_.size());
        break;
      }
      if (Status s = read_tag(tag); !s) return s;
    }
    if (!open_sections_.empty()) {
      const OpenSection& open = open_sections_.back();
      return error_at(open.position, "section \"" + nodes_[open.node].text + "\" is never closed");
    }
    return {};
  }

  std::vector<Node> take_nodes() { return std::move(nodes_); }
  std::vector<TemplateReference> take_references() { return std::move(references_); }

 private:
  struct OpenSection {
    std::size_t node = 0;
    int reference = 0;  // its index in references_
    std::pair<int, int> position;
  };

  static Status error_at(std::pair<int, int> position, const std::string& message) {
    return Status::invalid("template", position_prefix(position) + message);
  }
  Status error(std::size_t offset, const std::string& message) {
    return error_at(positions_.at(offset), message);
  }

  // Reads the tag whose opening delimiter is at `tag`.
  Status read_tag(std::size_t tag) {
    const std::size_t inner = tag + open_.size();
    const char sigil = inner < src_.size() ? src_[inner] : '\0';
    std::string terminator = close_;
    std::size_t content_start = inner;
    switch (sigil) {
      case '{':
        terminator = "}" + close_;
        content_start = inner + 1;
        break;
      case '=':
        terminator = "=" + close_;
        content_start = inner + 1;
        break;
      case '!':
      case '#':
      case '^':
      case '/':
      case '&':
      case '>':
        content_start = inner + 1;
        break;
      default:
        break;
    }
    const std::size_t content_end =
        content_start <= src_.size() ? src_.find(terminator, content_start) : std::string::npos;
    if (content_end == std::string_view::npos) {
      return error(tag, "tag is not closed: expected \"" + terminator + "\"");
    }
    const std::string_view content = src_.substr(content_start, content_end - content_start);
    if (sigil != '!' && content.find_first_of("\r\n") != std::string_view::npos) {
      return error(tag, "tag is not closed on its line: expected \"" + terminator + "\"");
    }
    const std::size_t tag_end = content_end + terminator.size();

    const bool may_stand_alone = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!' ||
                                 sigil == '=' || sigil == '>';
    std::size_t line_start = 0;
    std::size_t next_line = 0;
    if (may_stand_alone && standalone(tag, tag_end, line_start, next_line)) {
      add_text(pos_, line_start);
      pos_ = next_line;
      tag_on_line_ = false;
    } else {
      add_text(pos_, tag);
      pos_ = tag_end;
      tag_on_line_ = true;
    }

    switch (sigil) {
      case '!':
        return {};
      case '=':
        return set_delimiters(tag, content);
      case '>':
        return error(tag, "partials ({{> name}}) are not supported");
      case '#':
      case '^':
        return open_section(tag, trim(content), sigil == '^');
      case '/':
        return close_section(tag, trim(content));
      default:
        return add_variable(tag, trim(content), sigil != '{' && sigil != '&');
    }
  }

  // True when the tag [tag, tag_end) is alone on its line but for spaces and tabs; then
  // `line_start` is where that line starts and `next_line` where the following one does.
  bool standalone(std::size_t tag, std::size_t tag_end, std::size_t& line_start,
                  std::size_t& next_line) const {
    std::size_t start = tag;
    while (start > pos_ && is_space(src_[start - 1])) --start;
    if (start > pos_) {
      if (src_[start - 1] != '\n') return false;
    } else if (tag_on_line_) {
      return false;  // another tag earlier on this line
    }
    std::size_t end = tag_end;
    while (end < src_.size() && is_space(src_[end])) ++end;
    if (end < src_.size()) {
      if (src_[end] == '\n') {
        ++end;
      } else if (src_[end] == '\r' && end + 1 < src_.size() && src_[end + 1] == '\n') {
        end += 2;
      } else {
        return false;
      }
    }
    line_start = start;
    next_line = end;
    return true;
  }

  void add_text(std::size_t from, std::size_t to) {
    if (from >= to) return;
    const std::string_view text = src_.substr(from, to - from);
    if (text.find('\n') != std::string_view::npos) tag_on_line_ = false;
    if (nodes_.empty() || nodes_.back().kind != Node::Kind::kText || text_closed_) {
      nodes_.push_back(Node{});
      text_closed_ = false;
    }
    nodes_.back().text.append(text);
  }

  Status read_name(std::size_t tag, std::string_view name, std::vector<std::string>& parts) {
    if (name.empty()) return error(tag, "tag has no name");
    if (name.size() > Template::kMaxNameBytes) {
      return error(tag,
                   "tag name is longer than " + std::to_string(Template::kMaxNameBytes) + " bytes");
    }
    if (!split_name(name, parts)) {
      return error(tag, "invalid tag name: use one word or dotted words like guardian.given_name");
    }
    return {};
  }

  void add_reference(std::size_t tag, std::string_view name, bool is_section) {
    TemplateReference ref;
    ref.name = std::string(name);
    if (!open_sections_.empty()) ref.section = open_sections_.back().reference;
    ref.is_section = is_section;
    std::tie(ref.line, ref.column) = positions_.at(tag);
    references_.push_back(std::move(ref));
  }

  Status add_variable(std::size_t tag, std::string_view name, bool escape) {
    Node node;
    node.kind = Node::Kind::kVariable;
    if (Status s = read_name(tag, name, node.parts); !s) return s;
    node.text = std::string(name);
    node.escape = escape;
    add_reference(tag, name, false);
    nodes_.push_back(std::move(node));
    text_closed_ = true;
    return {};
  }

  Status open_section(std::size_t tag, std::string_view name, bool inverted) {
    Node node;
    node.kind = inverted ? Node::Kind::kInverted : Node::Kind::kSection;
    if (Status s = read_name(tag, name, node.parts); !s) return s;
    if (open_sections_.size() >= static_cast<std::size_t>(Template::kMaxDepth)) {
      return error(
          tag, "sections are nested more than " + std::to_string(Template::kMaxDepth) + " deep");
    }
    node.text = std::string(name);
    add_reference(tag, name, true);
    open_sections_.push_back(
        {nodes_.size(), static_cast<int>(references_.size() - 1), positions_.at(tag)});
    nodes_.push_back(std::move(node));
    text_closed_ = true;
    return {};
  }

  Status close_section(std::size_t tag, std::string_view name) {
    std::vector<std::string> parts;
    if (Status s = read_name(tag, name, parts); !s) return s;
    const std::string shown = "{{/" + std::string(name) + "}}";
    if (open_sections_.empty()) return error(tag, shown + " closes a section that is not open");
    const OpenSection& open = open_sections_.back();
    Node& node = nodes_[open.node];
    if (node.text != name) {
      const auto [line, column] = open.position;
      return error(tag, shown + " does not close section \"" + node.text + "\" (opened at " +
                            std::to_string(line) + ":" + std::to_string(column) + ")");
    }
    node.end = nodes_.size();
    open_sections_.pop_back();
    text_closed_ = true;
    return {};
  }

  Status set_delimiters(std::size_t tag, std::string_view content) {
    const std::string_view spec = trim(content);
    std::size_t split = 0;
    while (split < spec.size() && !is_any_space(spec[split])) ++split;
    const std::string_view open = spec.substr(0, split);
    const std::string_view close = trim(spec.substr(split));
    const auto bad = [](std::string_view d) {
      return d.empty() || d.find('=') != std::string_view::npos ||
             std::any_of(d.begin(), d.end(), is_any_space);
    };
    if (bad(open) || bad(close)) {
      return error(tag,
                   "set delimiters as {{=<% %>=}}: two delimiters without spaces or '=' in them");
    }
    if (open.size() > Template::kMaxDelimiterBytes || close.size() > Template::kMaxDelimiterBytes) {
      return error(tag, "delimiters are longer than " +
                            std::to_string(Template::kMaxDelimiterBytes) + " bytes");
    }
    open_ = std::string(open);
    close_ = std::string(close);
    return {};
  }

  std::string_view src_;
  PositionCounter positions_;
  std::string open_ = "{{";
  std::string close_ = "}}";
  std::size_t pos_ = 0;
  bool tag_on_line_ = false;  // a tag that did not stand alone is on the line that pos_ is on
  bool text_closed_ = false;  // the last node is a text node that a section boundary ended
  std::vector<Node> nodes_;
  std::vector<TemplateReference> references_;
  std::vector<OpenSection> open_sections_;
};

bool truthy(const nlohmann::json* value) {
  if (value == nullptr) return false;
  switch (value->type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return false;
    case nlohmann::json::value_t::boolean:
      return value->get<bool>();
    case nlohmann::json::value_t::string:
      return !value->get_ref<const std::string&>().empty();
    case nlohmann::json::value_t::array:
      return !value->empty();
    default:
      return true;
  }
}

class Renderer {
 public:
  Renderer(const std::vector<Node>& nodes, Escape escape, const RenderLimits& limits)
      : nodes_(nodes), escape_(escape), limits_(limits) {}

  Result<std::string> run(const nlohmann::json& context) {
    stack_.push_back(&context);
    if (!walk(0, nodes_.size())) {
      return Status(
          Code::kTooLarge,
          "the template renders more than " +
              (steps_ > limits_.max_steps ? std::to_string(limits_.max_steps) + " steps"
                                          : std::to_string(limits_.max_output_bytes) + " bytes"),
          "template");
    }
    return std::move(out_);
  }

 private:
  bool step() { return ++steps_ <= limits_.max_steps; }

  bool append(std::string_view text) {
    if (text.size() > limits_.max_output_bytes - out_.size()) return false;
    out_.append(text);
    return true;
  }

  const nlohmann::json* lookup(const Node& node) const {
    if (node.parts.empty()) return stack_.back();  // "."
    const nlohmann::json* found = nullptr;
    for (auto frame = stack_.rbegin(); frame != stack_.rend() && found == nullptr; ++frame) {
      if (!(*frame)->is_object()) continue;
      auto it = (*frame)->find(node.parts.front());
      if (it != (*frame)->end()) found = &*it;
    }
    for (std::size_t i = 1; i < node.parts.size() && found != nullptr; ++i) {
      if (!found->is_object()) return nullptr;
      auto it = found->find(node.parts[i]);
      found = it == found->end() ? nullptr : &*it;
    }
    return found;
  }

  bool interpolate(const nlohmann::json& value, bool escape) {
    std::string text;
    switch (value.type()) {
      case nlohmann::json::value_t::string: {
        const auto& s = value.get_ref<const std::string&>();
        return append(escape && escape_ == Escape::kHtml ? escape_html(s) : s);
      }
      case nlohmann::json::value_t::boolean:
        return append(value.get<bool>() ? "true" : "false");
      case nlohmann::json::value_t::number_integer:
      case nlohmann::json::value_t::number_unsigned:
      case nlohmann::json::value_t::number_float:
        return append(value.dump());
      default:
        return true;  // null, objects, lists: nothing
    }
  }

  // Renders nodes [begin, end); false when a limit is reached.
  bool walk(std::size_t begin, std::size_t end) {
    std::size_t i = begin;
    while (i < end) {
      if (!step()) return false;
      const Node& node = nodes_[i];
      switch (node.kind) {
        case Node::Kind::kText:
          if (!append(node.text)) return false;
          ++i;
          break;
        case Node::Kind::kVariable:
          if (const nlohmann::json* value = lookup(node); value != nullptr) {
            if (!interpolate(*value, node.escape)) return false;
          }
          ++i;
          break;
        case Node::Kind::kSection: {
          const nlohmann::json* value = lookup(node);
          if (truthy(value)) {
            if (value->is_array()) {
              for (const auto& element : *value) {
                if (!pass(element, i + 1, node.end)) return false;
              }
            } else if (!pass(*value, i + 1, node.end)) {
              return false;
            }
          }
          i = node.end;
          break;
        }
        case Node::Kind::kInverted:
          if (!truthy(lookup(node)) && !walk(i + 1, node.end)) return false;
          i = node.end;
          break;
      }
    }
    return true;
  }

  bool pass(const nlohmann::json& context, std::size_t begin, std::size_t end) {
    if (!step()) return false;
    stack_.push_back(&context);
    const bool ok = walk(begin, end);
    stack_.pop_back();
    return ok;
  }

  const std::vector<Node>& nodes_;
  Escape escape_;
  RenderLimits limits_;
  std::vector<const nlohmann::json*> stack_;
  std::string out_;
  std::size_t steps_ = 0;
};

// The allowed set of unknown_variables, split into exact names and ".*" prefixes.
class AllowedNames {
 public:
  explicit AllowedNames(const std::set<std::string>& allowed) : all_(allowed) {
    for (const auto& name : allowed) {
      if (name.size() >= 2 && name.compare(name.size() - 2, 2, ".*") == 0) {
        prefixes_.push_back(name.substr(0, name.size() - 1));  // "vars."
      }
    }
  }

  bool allows(const std::string& name) const {
    if (all_.count(name) != 0) return true;
    return std::any_of(prefixes_.begin(), prefixes_.end(), [&](const std::string& prefix) {
      return name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0;
    });
  }

  // True when some allowed name or pattern lies below `name` ("guardian" for
  // "guardian.given_name", "vars" for "vars.*").
  bool has_below(const std::string& name) const {
    const std::string prefix = name + ".";
    auto it = all_.lower_bound(prefix);
    return it != all_.end() && it->compare(0, prefix.size(), prefix) == 0;
  }

 private:
  const std::set<std::string>& all_;
  std::vector<std::string> prefixes_;
};

// The names of the sections around `ref`, outermost first.
std::vector<const std::string*> enclosing_sections(const std::vector<TemplateReference>& refs,
                                                   const TemplateReference& ref) {
  std::vector<const std::string*> names;
  for (int i = ref.section; i >= 0; i = refs[static_cast<std::size_t>(i)].section) {
    names.push_back(&refs[static_cast<std::size_t>(i)].name);
  }
  std::reverse(names.begin(), names.end());
  return names;
}

bool known(const std::vector<TemplateReference>& refs, const TemplateReference& ref,
           const AllowedNames& allowed) {
  if (ref.name == ".") return ref.section >= 0;
  if (allowed.allows(ref.name)) return true;
  if (ref.is_section && allowed.has_below(ref.name)) return true;
  // Inside sections the name may resolve below a section's value: try each run of enclosing
  // sections as a prefix, pruning runs that lead nowhere allowed (so runs stay as short as the
  // allowed names).
  const auto sections = enclosing_sections(refs, ref);
  for (std::size_t first = 0; first < sections.size(); ++first) {
    std::string run;
    for (std::size_t last = first; last < sections.size(); ++last) {
      if (!run.empty()) run += '.';
      run += *sections[last];
      if (allowed.allows(run)) return true;  // a ".*" pattern covers everything below it
      if (!allowed.has_below(run)) break;
      const std::string candidate = run + "." + ref.name;
      if (allowed.allows(candidate)) return true;
      if (ref.is_section && allowed.has_below(candidate)) return true;
    }
  }
  return false;
}

}  // namespace

Result<Template> Template::parse(std::string_view source) {
  Parser parser(source);
  if (Status s = parser.run(); !s) return s;
  Template t;
  t.nodes_ = parser.take_nodes();
  t.references_ = parser.take_references();
  return t;
}

std::set<std::string> Template::variables() const {
  std::set<std::string> names;
  for (const auto& ref : references_) {
    if (ref.name != ".") names.insert(ref.name);
  }
  return names;
}

Result<std::string> Template::render(const nlohmann::json& context, Escape escape,
                                     const RenderLimits& limits) const {
  return Renderer(nodes_, escape, limits).run(context);
}

std::vector<std::string> unknown_variables(const Template& t,
                                           const std::set<std::string>& allowed) {
  const AllowedNames names(allowed);
  std::vector<std::string> unknown;
  std::set<std::string> seen;
  for (const auto& ref : t.references()) {
    if (!known(t.references(), ref, names) && seen.insert(ref.name).second) {
      unknown.push_back(ref.name);
    }
  }
  return unknown;
}

}  // namespace homeroom::render
