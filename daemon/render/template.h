// Mustache templates (https://mustache.github.io/mustache.5.html, spec v1.3 semantics) for
// broadcasts: "Dear {{guardian.given_name}}, {{student.given_name}}'s conference is at
// {{slot.time}}."
//
// Supported: variables {{name}} with dotted names and the implicit iterator {{.}}; unescaped
// {{{name}}} and {{& name}}; sections {{#name}}...{{/name}} and inverted sections {{^name}};
// comments {{! ... }}; set delimiters {{=<% %>=}}; the spec's standalone-line rules (a line holding
// only a section, inverted, close, comment or delimiter tag and whitespace disappears, newline
// included). Not supported: partials ({{> name}} is a parse error) and lambdas (a JSON context
// has none).
//
// Rendering follows the spec, with these choices where it leaves room:
// - Names resolve against the context stack: the first part of a dotted name is looked up from the
//   innermost section's value outwards, the rest only inside what that found ({{a.b}} never falls
//   back to an outer "b").
// - Falsey (a section is skipped, an inverted section shown): missing, null, false, "" and [].
//   Everything else is truthy: a list repeats the section once per element, any other value is
//   pushed as the context of one pass.
// - Interpolation: strings as they are, numbers as JSON writes them (1.21, 42), true/false; null,
//   missing names, objects and lists render as nothing.
// - Escape::kHtml escapes & < > " ' in {{name}} (render/mime.h escape_html); Escape::kNone (SMS,
//   plain text) escapes nothing.
//
// Limits: sections nest at most kMaxDepth deep, names and delimiters are at most kMaxNameBytes and
// kMaxDelimiterBytes long (parse errors beyond); render stops with kTooLarge
// when the output would exceed RenderLimits::max_output_bytes or the work (tags visited, list
// passes) RenderLimits::max_steps, so a small template over a big or deeply nested context cannot
// take unbounded time or memory. Parsing is linear in the source. Nothing here throws (besides
// std::bad_alloc).
//
// A Template is an immutable value: parse once, render from any number of threads.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace homeroom::render {

enum class Escape { kNone, kHtml };

struct RenderLimits {
  std::size_t max_output_bytes = std::size_t{1} << 20;
  std::size_t max_steps = std::size_t{1} << 22;
};

// A name a template uses, as written, where, and inside which section.
struct TemplateReference {
  std::string name;         // "guardian.given_name", "." for the implicit iterator
  int section = -1;         // index in references() of the innermost enclosing section, or -1
  bool is_section = false;  // {{#name}} or {{^name}} rather than an interpolation
  int line = 0;             // 1-based
  int column = 0;           // 1-based, in characters (UTF-8 code points)
};

class Template {
 public:
  static constexpr int kMaxDepth = 32;
  static constexpr std::size_t kMaxNameBytes = 128;
  static constexpr std::size_t kMaxDelimiterBytes = 16;

  // kInvalidArgument with field "template" and a message starting with the position, e.g.
  //   "3:7: section \"slot\" is never closed"
  //   "5:1: {{/student}} closes a section that is not open"
  //   "5:1: {{/a}} does not close section \"b\" (opened at 2:1)"
  //   "1:9: tag is not closed: expected \"}}\""
  //   "2:4: partials ({{> name}}) are not supported"
  // The source text is never quoted in a message, only tag names.
  static Result<Template> parse(std::string_view source);

  // Every name the template uses (interpolations and sections), "." excluded.
  std::set<std::string> variables() const;
  // Every use of a name, in source order.
  const std::vector<TemplateReference>& references() const { return references_; }

  // `context` is normally a JSON object. kTooLarge when a limit is reached (no partial output).
  Result<std::string> render(const nlohmann::json& context, Escape escape,
                             const RenderLimits& limits = {}) const;

  // One parsed element; public so the renderer (an implementation detail) can walk them.
  struct Node {
    enum class Kind { kText, kVariable, kSection, kInverted };
    Kind kind = Kind::kText;
    std::string text;                // kText: the literal text; otherwise the name as written
    std::vector<std::string> parts;  // the name split at '.'; empty for "."
    bool escape = true;              // kVariable: {{name}} (true) or {{{name}}} / {{& name}}
    std::size_t end = 0;             // sections: index one past the section's last child node
  };

 private:
  std::vector<Node> nodes_;
  std::vector<TemplateReference> references_;
};

// Names a template uses that the caller does not provide, each once, in source order, so a
// submission can be rejected (422) naming them before any family sees a blank.
//
// `allowed` holds exact dotted names ("guardian.given_name") and prefix patterns ending in ".*"
// ("vars.*" allows "vars.room" and "vars.a.b", not "vars" itself). A name is known when
// - it is allowed, or
// - it is used as a section and some allowed name lies below it ("guardian" when
//   "guardian.given_name" is allowed: {{#guardian}}...{{/guardian}}), or
// - it appears inside sections and the name prefixed by an enclosing section is known ("given_name"
//   inside {{#guardian}}), as the context stack would resolve it, or
// - it is "." inside a section.
// The caller's known set is typically: guardian.given_name, guardian.family_name,
// student.given_name, student.family_name, student.grade, staff.name, school.name, plus the keys
// of the per-student variables map (each as given, or under a prefix such as "vars.*").
std::vector<std::string> unknown_variables(const Template& t, const std::set<std::string>& allowed);

}  // namespace homeroom::render
