#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "render/template.h"

using namespace homeroom;
using namespace homeroom::render;
using nlohmann::json;

namespace {

struct Case {
  const char* name;
  const char* source;
  const char* data;  // JSON
  const char* expected;
};

std::string render_html(const std::string& source, const json& data) {
  auto t = Template::parse(source);
  REQUIRE(t.is_ok());
  auto out = t->render(data, Escape::kHtml);
  REQUIRE(out.is_ok());
  return *out;
}

void check_cases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    INFO(c.name);
    auto t = Template::parse(c.source);
    INFO(t.status().to_string());
    REQUIRE(t.is_ok());
    auto out = t->render(json::parse(c.data), Escape::kHtml);
    REQUIRE(out.is_ok());
    CHECK(*out == c.expected);
  }
}

std::string parse_error(const std::string& source) {
  auto t = Template::parse(source);
  REQUIRE_FALSE(t.is_ok());
  CHECK(t.status().code() == Code::kInvalidArgument);
  CHECK(t.status().field() == "template");
  return t.status().message();
}

}  // namespace

// The cases below follow the official Mustache spec (github.com/mustache/spec, specs/*.yml),
// category by category, with our own data.

TEST_CASE("mustache spec - interpolation") {
  check_cases({
      {"no tags", "Hi {there}!\n", "{}", "Hi {there}!\n"},
      {"basic", "Hello {{who}}.", R"({"who":"Ana"})", "Hello Ana."},
      {"html escaped", "{{x}}", R"({"x":"& \" < >"})", "&amp; &quot; &lt; &gt;"},
      {"triple unescaped", "{{{x}}}", R"({"x":"& \" < >"})", "& \" < >"},
      {"ampersand unescaped", "{{&x}}", R"({"x":"& \" < >"})", "& \" < >"},
      {"integer", "{{n}} min", R"({"n":45})", "45 min"},
      {"triple integer", "{{{n}}}", R"({"n":45})", "45"},
      {"decimal", "{{d}}", R"({"d":2.5})", "2.5"},
      {"decimal significance", "{{d}}", R"({"d":1.210})", "1.21"},
      {"miss", "[{{nope}}]", "{}", "[]"},
      {"triple miss", "[{{{nope}}}]", "{}", "[]"},
      {"ampersand miss", "[{{&nope}}]", "{}", "[]"},
      {"null", "[{{n}}]", R"({"n":null})", "[]"},
      {"dotted", "{{p.name}}={{#p}}{{name}}{{/p}}", R"({"p":{"name":"Li"}})", "Li=Li"},
      {"dotted triple", "{{{p.name}}}", R"({"p":{"name":"<b>"}})", "<b>"},
      {"dotted ampersand", "{{&p.name}}", R"({"p":{"name":"<b>"}})", "<b>"},
      {"dotted depth", "{{a.b.c.d.e}}", R"({"a":{"b":{"c":{"d":{"e":"deep"}}}}})", "deep"},
      {"dotted broken chain", "[{{a.b.c}}]", R"({"a":{}})", "[]"},
      {"dotted broken chain resolution", "[{{a.b.c.n}}]", R"({"a":{"b":{}},"c":{"n":"no"}})", "[]"},
      {"dotted initial resolution", "{{#a}}{{b.c}}{{/a}}",
       R"({"a":{"b":{"c":"inner"}},"b":{"c":"outer"}})", "inner"},
      {"dotted context precedence", "[{{#a}}{{b.c}}{{/a}}]", R"({"a":{"b":{}},"b":{"c":"no"}})",
       "[]"},
      {"surrounding whitespace", "| {{s}} |", R"({"s":"-"})", "| - |"},
      {"triple surrounding whitespace", "| {{{s}}} |", R"({"s":"-"})", "| - |"},
      {"interpolation is never standalone", "  {{s}}\n", R"({"s":"-"})", "  -\n"},
      {"triple never standalone", "  {{{s}}}\n", R"({"s":"-"})", "  -\n"},
      {"padding", "|{{ s }}|{{{ s }}}|{{& s }}|", R"({"s":"-"})", "|-|-|-|"},
      {"booleans", "{{t}}/{{f}}", R"({"t":true,"f":false})", "true/false"},
      {"objects and lists render nothing", "[{{o}}{{l}}]", R"({"o":{"a":1},"l":[1]})", "[]"},
  });
}

TEST_CASE("mustache spec - sections") {
  check_cases({
      {"truthy", "[{{#b}}yes{{/b}}]", R"({"b":true})", "[yes]"},
      {"falsey", "[{{#b}}yes{{/b}}]", R"({"b":false})", "[]"},
      {"null is falsey", "[{{#b}}yes{{/b}}]", R"({"b":null})", "[]"},
      {"empty string is falsey", "[{{#b}}yes{{/b}}]", R"({"b":""})", "[]"},
      {"zero is truthy", "[{{#b}}yes{{/b}}]", R"({"b":0})", "[yes]"},
      {"context", "{{#c}}Hi {{name}}.{{/c}}", R"({"c":{"name":"Jo"}})", "Hi Jo."},
      {"parent contexts", "{{#sec}}{{a}}, {{b}}, {{c.d}}{{/sec}}",
       R"({"a":"top","b":"wrong","sec":{"b":"inner"},"c":{"d":"deep"}})", "top, inner, deep"},
      {"variable test", "{{#v}}{{.}} is {{v}}{{/v}}", R"({"v":"x"})", "x is x"},
      {"list contexts",
       "{{#tops}}{{#mids}}{{t.lo}}{{m}}.{{#bots}}{{t.up}}{{m}}{{b}}.{{/bots}}{{/mids}}{{/tops}}",
       R"({"tops":[{"t":{"up":"A","lo":"a"},"mids":[{"m":"1","bots":[{"b":"x"},{"b":"y"}]}]}]})",
       "a1.A1x.A1y."},
      {"deeply nested contexts",
       "{{#a}}{{one}}{{#b}}{{one}}{{two}}{{#c}}{{one}}{{two}}{{three}}"
       "{{/c}}{{/b}}{{/a}}",
       R"({"a":{"one":1},"b":{"two":2},"c":{"three":3}})", "112123"},
      {"list", "[{{#l}}{{i}}{{/l}}]", R"({"l":[{"i":1},{"i":2},{"i":3}]})", "[123]"},
      {"empty list", "[{{#l}}x{{/l}}]", R"({"l":[]})", "[]"},
      {"doubled", "{{#b}}\n* one\n{{/b}}\n* {{two}}\n{{#b}}\n* three\n{{/b}}\n",
       R"({"b":true,"two":"two"})", "* one\n* two\n* three\n"},
      {"nested truthy", "| A {{#b}}B {{#b}}C{{/b}} D{{/b}} E |", R"({"b":true})", "| A B C D E |"},
      {"nested falsey", "| A {{#b}}B {{#b}}C{{/b}} D{{/b}} E |", R"({"b":false})", "| A  E |"},
      {"context misses", "[{{#missing}}found{{/missing}}]", "{}", "[]"},
      {"implicit iterator strings", "{{#l}}({{.}}){{/l}}", R"({"l":["a","b"]})", "(a)(b)"},
      {"implicit iterator integers", "{{#l}}({{.}}){{/l}}", R"({"l":[1,2]})", "(1)(2)"},
      {"implicit iterator decimals", "{{#l}}({{.}}){{/l}}", R"({"l":[1.5,2.25]})", "(1.5)(2.25)"},
      {"implicit iterator arrays", "{{#l}}({{#.}}{{.}}{{/.}}){{/l}}", R"({"l":[[1,2],["a","b"]]})",
       "(12)(ab)"},
      {"implicit iterator escaped", "{{#l}}({{.}}){{/l}}", R"({"l":["&","<"]})", "(&amp;)(&lt;)"},
      {"implicit iterator triple", "{{#l}}({{{.}}}){{/l}}", R"({"l":["&","<"]})", "(&)(<)"},
      {"implicit iterator ampersand", "{{#l}}({{&.}}){{/l}}", R"({"l":["&","<"]})", "(&)(<)"},
      {"dotted truthy", "[{{#a.b.c}}here{{/a.b.c}}]", R"({"a":{"b":{"c":true}}})", "[here]"},
      {"dotted falsey", "[{{#a.b.c}}here{{/a.b.c}}]", R"({"a":{"b":{"c":false}}})", "[]"},
      {"dotted broken chain", "[{{#a.b.c}}here{{/a.b.c}}]", R"({"a":{}})", "[]"},
      {"surrounding whitespace", " | {{#b}}\t|\t{{/b}} | \n", R"({"b":true})", " | \t|\t | \n"},
      {"internal whitespace", " | {{#b}} {{! note }}\n {{/b}} | \n", R"({"b":true})",
       " |  \n  | \n"},
      {"indented inline", " {{#b}}YES{{/b}}\n {{#b}}OK{{/b}}\n", R"({"b":true})", " YES\n OK\n"},
      {"standalone lines", "| This\n{{#b}}\n|\n{{/b}}\n| line\n", R"({"b":true})",
       "| This\n|\n| line\n"},
      {"indented standalone lines", "| This\n  {{#b}}\n|\n  {{/b}}\n| line\n", R"({"b":true})",
       "| This\n|\n| line\n"},
      {"standalone CRLF", "|\r\n{{#b}}\r\n{{/b}}\r\n|", R"({"b":true})", "|\r\n|"},
      {"standalone without previous line", "  {{#b}}\n#{{/b}}\n/", R"({"b":true})", "#\n/"},
      {"standalone without newline", "#{{#b}}\n/\n  {{/b}}", R"({"b":true})", "#\n/\n"},
      {"padding", "|{{# b }}={{/ b }}|", R"({"b":true})", "|=|"},
  });
}

TEST_CASE("mustache spec - inverted sections") {
  check_cases({
      {"falsey", "[{{^b}}shown{{/b}}]", R"({"b":false})", "[shown]"},
      {"truthy", "[{{^b}}shown{{/b}}]", R"({"b":true})", "[]"},
      {"null is falsey", "[{{^b}}shown{{/b}}]", R"({"b":null})", "[shown]"},
      {"context", "[{{^c}}shown{{/c}}]", R"({"c":{"x":1}})", "[]"},
      {"list", "[{{^l}}{{n}}{{/l}}]", R"({"l":[{"n":1}]})", "[]"},
      {"empty list", "[{{^l}}none{{/l}}]", R"({"l":[]})", "[none]"},
      {"doubled", "{{^b}}\n* one\n{{/b}}\n* {{two}}\n{{^b}}\n* three\n{{/b}}\n",
       R"({"b":false,"two":"two"})", "* one\n* two\n* three\n"},
      {"nested falsey", "| A {{^b}}B {{^b}}C{{/b}} D{{/b}} E |", R"({"b":false})", "| A B C D E |"},
      {"nested truthy", "| A {{^b}}B {{^b}}C{{/b}} D{{/b}} E |", R"({"b":true})", "| A  E |"},
      {"context misses", "[{{^missing}}not found{{/missing}}]", "{}", "[not found]"},
      {"dotted truthy", "[{{^a.b.c}}no{{/a.b.c}}]", R"({"a":{"b":{"c":true}}})", "[]"},
      {"dotted falsey", "[{{^a.b.c}}yes{{/a.b.c}}]", R"({"a":{"b":{"c":false}}})", "[yes]"},
      {"dotted broken chain", "[{{^a.b.c}}yes{{/a.b.c}}]", R"({"a":{}})", "[yes]"},
      {"surrounding whitespace", " | {{^b}}\t|\t{{/b}} | \n", R"({"b":false})", " | \t|\t | \n"},
      {"standalone lines", "| This\n{{^b}}\n|\n{{/b}}\n| line\n", R"({"b":false})",
       "| This\n|\n| line\n"},
      {"standalone CRLF", "|\r\n{{^b}}\r\n{{/b}}\r\n|", R"({"b":false})", "|\r\n|"},
      {"standalone without previous line", "  {{^b}}\n^{{/b}}\n/", R"({"b":false})", "^\n/"},
      {"standalone without newline", "^{{^b}}\n/\n  {{/b}}", R"({"b":false})", "^\n/\n"},
      {"padding", "|{{^ b }}={{/ b }}|", R"({"b":false})", "|=|"},
  });
}

TEST_CASE("mustache spec - comments") {
  check_cases({
      {"inline", "12{{! gone }}34", "{}", "1234"},
      {"multiline", "12{{!\n  a\n  b\n}}34\n", "{}", "1234\n"},
      {"standalone", "Begin.\n{{! gone }}\nEnd.\n", "{}", "Begin.\nEnd.\n"},
      {"indented standalone", "Begin.\n  {{! gone }}\nEnd.\n", "{}", "Begin.\nEnd.\n"},
      {"standalone CRLF", "|\r\n{{! gone }}\r\n|", "{}", "|\r\n|"},
      {"standalone without previous line", "  {{! gone }}\n!", "{}", "!"},
      {"standalone without newline", "!\n  {{! gone }}", "{}", "!\n"},
      {"multiline standalone", "Begin.\n{{!\nmore\n}}\nEnd.\n", "{}", "Begin.\nEnd.\n"},
      {"indented multiline standalone", "Begin.\n  {{!\n    more\n  }}\nEnd.\n", "{}",
       "Begin.\nEnd.\n"},
      {"indented inline", "  12 {{! 34 }}\n", "{}", "  12 \n"},
      {"surrounding whitespace", "12 {{! gone }} 34", "{}", "12  34"},
  });
}

TEST_CASE("mustache spec - set delimiters") {
  check_cases({
      {"pair", "{{=<% %>=}}(<%t%>)", R"({"t":"hey"})", "(hey)"},
      {"special characters", "({{=[ ]=}}[t])", R"({"t":"ok"})", "(ok)"},
      {"sections",
       "[\n{{#s}}\n  {{d}}\n  |d|\n{{/s}}\n\n{{= | | =}}\n|#s|\n  {{d}}\n  |d|\n|/s|\n]\n",
       R"({"s":true,"d":"X"})", "[\n  X\n  |d|\n\n  {{d}}\n  X\n]\n"},
      {"inverted sections",
       "[\n{{^s}}\n  {{d}}\n  |d|\n{{/s}}\n\n{{= | | =}}\n|^s|\n  {{d}}\n  |d|\n|/s|\n]\n",
       R"({"s":false,"d":"X"})", "[\n  X\n  |d|\n\n  {{d}}\n  X\n]\n"},
      {"surrounding whitespace", "| {{=@ @=}} |", "{}", "|  |"},
      {"outlying whitespace inline", " | {{=@ @=}}\n", "{}", " | \n"},
      {"standalone", "Begin.\n{{=@ @=}}\nEnd.\n", "{}", "Begin.\nEnd.\n"},
      {"indented standalone", "Begin.\n  {{=@ @=}}\nEnd.\n", "{}", "Begin.\nEnd.\n"},
      {"standalone CRLF", "|\r\n{{= @ @ =}}\r\n|", "{}", "|\r\n|"},
      {"standalone without previous line", "  {{=@ @=}}\n=", "{}", "="},
      {"standalone without newline", "=\n  {{=@ @=}}", "{}", "=\n"},
      {"pair with padding", "|{{= @   @ =}}|", "{}", "||"},
      {"triple with new delimiters", "{{=<% %>=}}<%{x}%>|<%& x%>", R"({"x":"<"})", "<|<"},
  });
}

TEST_CASE("whitespace - two tags on one line are not standalone") {
  check_cases({
      {"open and close", "a\n  {{#b}}{{/b}}\nz", R"({"b":true})", "a\n  \nz"},
      {"comment after variable", "{{x}} {{! c }}\n", R"({"x":"1"})", "1 \n"},
  });
}

TEST_CASE("HTML escaping applies only to double mustaches and only for HTML") {
  const json data = {{"x", "Tom & \"Jerry\" <b>'s</b>"}};
  auto t = Template::parse("{{x}}|{{{x}}}|{{& x}}");
  REQUIRE(t.is_ok());
  CHECK(*t->render(data, Escape::kHtml) ==
        "Tom &amp; &quot;Jerry&quot; &lt;b&gt;&#39;s&lt;/b&gt;|Tom & \"Jerry\" <b>'s</b>|"
        "Tom & \"Jerry\" <b>'s</b>");
  CHECK(*t->render(data, Escape::kNone) ==
        "Tom & \"Jerry\" <b>'s</b>|Tom & \"Jerry\" <b>'s</b>|Tom & \"Jerry\" <b>'s</b>");
}

TEST_CASE("a broadcast with the roster's names") {
  const json data = {
      {"guardian", {{"given_name", "Ana"}, {"family_name", "Ortiz"}}},
      {"student", {{"given_name", "Maya"}, {"grade", "5"}}},
      {"staff", {{"name", "Ms. Lee"}}},
      {"slot", {{"time", "4:15 PM"}}},
  };
  CHECK(render_html("Dear {{guardian.given_name}}, {{student.given_name}}'s conference with "
                    "{{staff.name}} is at {{slot.time}}.{{#student.grade}} (grade "
                    "{{student.grade}}){{/student.grade}}",
                    data) == "Dear Ana, Maya's conference with Ms. Lee is at 4:15 PM. (grade 5)");
}

TEST_CASE("variables lists every name used") {
  auto t = Template::parse(
      "{{a}} {{{b.c}}} {{& d}} {{#e}}{{f.g}}{{.}}{{/e}}{{^h}}{{/h}}{{! x }}{{=<% %>=}}<%i%>");
  REQUIRE(t.is_ok());
  CHECK(t->variables() == std::set<std::string>{"a", "b.c", "d", "e", "f.g", "h", "i"});
  const auto& refs = t->references();
  REQUIRE(refs.size() == 8);
  CHECK(refs[4].name == "f.g");
  CHECK(refs[4].section == 3);
  CHECK(refs[3].section == -1);
  CHECK_FALSE(refs[4].is_section);
  CHECK(refs[3].is_section);
  CHECK(refs[0].line == 1);
  CHECK(refs[0].column == 1);
  CHECK(refs[1].column == 7);
}

TEST_CASE("unknown_variables names what the roster does not provide") {
  const std::set<std::string> known = {"guardian.given_name",
                                       "guardian.family_name",
                                       "student.given_name",
                                       "student.family_name",
                                       "student.grade",
                                       "staff.name",
                                       "school.name",
                                       "vars.*",
                                       "room"};
  auto check = [&](const std::string& source, const std::vector<std::string>& expected) {
    INFO(source);
    auto t = Template::parse(source);
    REQUIRE(t.is_ok());
    CHECK(unknown_variables(*t, known) == expected);
  };
  check("Dear {{guardian.given_name}} {{guardian.family_name}}", {});
  check("{{student.given_name}} in {{room}} at {{vars.time}} {{vars.slot.place}}", {});
  check("Dear {{guardian.name}}, {{teacher}} {{vars}} {{guardian.name}}",
        {"guardian.name", "teacher", "vars"});
  check("{{#guardian}}{{given_name}}{{/guardian}}", {});
  check("{{#guardian}}{{nickname}}{{/guardian}}", {"nickname"});
  check("{{#student.grade}}grade {{student.grade}}{{/student.grade}}", {});
  check("{{#vars.slots}}{{time}} {{.}}{{/vars.slots}}", {});
  check("{{#student}}{{#guardian}}{{given_name}}{{/guardian}}{{/student}}", {});
  check("{{#student}}{{nickname}}{{/student}}", {"nickname"});
  check("{{^student.grade}}no grade{{/student.grade}}", {});
  check("{{#nothing}}x{{/nothing}} {{.}}", {"nothing", "."});
  check("{{#guardian}}{{student.given_name}}{{/guardian}}", {});
}

TEST_CASE("parse errors name the problem and its line and column") {
  CHECK(parse_error("Hello\n  {{#slot}}at {{time}}") == "2:3: section \"slot\" is never closed");
  CHECK(parse_error("a {{/student}}") == "1:3: {{/student}} closes a section that is not open");
  CHECK(parse_error("{{#a}}\n{{#b}}\n{{/a}}") ==
        "3:1: {{/a}} does not close section \"b\" (opened at 2:1)");
  CHECK(parse_error("Dear {{guardian.given_name") == "1:6: tag is not closed: expected \"}}\"");
  CHECK(parse_error("Dear {{guardian\nmore}}") ==
        "1:6: tag is not closed on its line: expected \"}}\"");
  CHECK(parse_error("x\n\n {{> footer}}") == "3:2: partials ({{> name}}) are not supported");
  CHECK(parse_error("{{{raw}}") == "1:1: tag is not closed: expected \"}}}\"");
  CHECK(parse_error("{{}}") == "1:1: tag has no name");
  CHECK(parse_error("{{#}}{{/}}") == "1:1: tag has no name");
  CHECK(parse_error("{{a b}}").find("1:1: invalid tag name") == 0);
  CHECK(parse_error("{{a..b}}").find("1:1: invalid tag name") == 0);
  CHECK(parse_error("{{=<%%>=}}").find("1:1: set delimiters") == 0);
  CHECK(parse_error("{{=<% %>=}}\n<%#a%>{{/a}}") == "2:1: section \"a\" is never closed");
  // Columns count characters, not bytes.
  CHECK(parse_error("José {{#x}}") == "1:6: section \"x\" is never closed");
  CHECK(parse_error("{{! never closed") == "1:1: tag is not closed: expected \"}}\"");
  CHECK(parse_error("\n{{" + std::string(129, 'a') + "}}") ==
        "2:1: tag name is longer than 128 bytes");
  CHECK(parse_error("{{=" + std::string(17, '<') + " >>=}}") ==
        "1:1: delimiters are longer than 16 bytes");
  CHECK(Template::parse("{{=" + std::string(16, '<') + " >>=}}").is_ok());
}

TEST_CASE("sections nest at most kMaxDepth deep") {
  std::string ok;
  std::string too_deep;
  for (int i = 0; i < Template::kMaxDepth; ++i) ok += "{{#a}}";
  for (int i = 0; i < Template::kMaxDepth; ++i) ok += "{{/a}}";
  CHECK(Template::parse(ok).is_ok());
  for (int i = 0; i <= Template::kMaxDepth; ++i) too_deep += "{{#a}}";
  CHECK(parse_error(too_deep) == "1:193: sections are nested more than 32 deep");
}

TEST_CASE("many references inside deep sections stay cheap to check") {
  std::string source;
  const std::string name(Template::kMaxNameBytes, 's');
  for (int i = 0; i < Template::kMaxDepth; ++i) source += "{{#" + name + "}}";
  for (int i = 0; i < 20000; ++i) source += "{{x}}";
  for (int i = 0; i < Template::kMaxDepth; ++i) source += "{{/" + name + "}}";
  auto t = Template::parse(source);
  REQUIRE(t.is_ok());
  CHECK(t->references().size() == 20000 + Template::kMaxDepth);
  CHECK(unknown_variables(*t, {"vars.*"}) == std::vector<std::string>{name, "x"});
}

TEST_CASE("render stops at the output and work limits") {
  json data = {{"l", json::array()}};
  for (int i = 0; i < 100; ++i) data["l"].push_back(i);
  auto t = Template::parse("{{#l}}{{#l}}{{#l}}{{#l}}{{/l}}{{/l}}{{/l}}{{/l}}");  // 10^8 passes
  REQUIRE(t.is_ok());
  auto out = t->render(data, Escape::kNone);
  REQUIRE_FALSE(out.is_ok());
  CHECK(out.status().code() == Code::kTooLarge);

  auto big = Template::parse("{{#l}}{{#l}}0123456789{{/l}}{{/l}}");  // 100 000 bytes
  REQUIRE(big.is_ok());
  CHECK(big->render(data, Escape::kNone)->size() == 100000);
  RenderLimits small;
  small.max_output_bytes = 99999;
  auto cut = big->render(data, Escape::kNone, small);
  REQUIRE_FALSE(cut.is_ok());
  CHECK(cut.status().code() == Code::kTooLarge);
}

TEST_CASE("a context that is not an object renders names as nothing") {
  auto t = Template::parse("[{{a}}{{#a}}x{{/a}}{{.}}]");
  REQUIRE(t.is_ok());
  CHECK(*t->render(json::array({1, 2}), Escape::kNone) == "[]");
  CHECK(*t->render(json("s"), Escape::kNone) == "[s]");
}
