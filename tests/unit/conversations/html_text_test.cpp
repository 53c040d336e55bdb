#include "conversations/html_text.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace homeroom::conversations {
namespace {

TEST_CASE("html_to_text keeps what a person wrote and its lines", "[conversations]") {
  struct Row {
    std::string name;
    std::string html;
    std::string text;
  };
  const std::vector<Row> rows = {
      {"line breaks and blocks", "<div>one<br>two</div><div>three</div><p>four</p>",
       "one\ntwo\nthree\nfour"},
      {"white space collapses", "<p>  many\n   spaces\tand\r\nlines  </p>",
       "many spaces and lines"},
      {"empty divs make blank lines", "<div>Hi</div><div><br></div><div>Ana</div>", "Hi\n\nAna"},
      {"blank lines collapse", "a<br><br><br><br><br>b", "a\n\nb"},
      {"entities", "caf&eacute; &amp; t&#233; &#xE9; &lt;b&gt; &quot;q&quot; &rsquo; &euro;",
       "caf\xC3\xA9 & t\xC3\xA9 \xC3\xA9 <b> \"q\" \xE2\x80\x99 \xE2\x82\xAC"},
      {"unknown and malformed entities stay", "&bogus; &#xZZ; & alone &#;",
       "&bogus; &#xZZ; & alone &#;"},
      {"nbsp does not collapse and lines are right-trimmed", "a&nbsp;&nbsp;b&nbsp;<br>c",
       "a  b\nc"},
      {"style script head title dropped",
       "<html><head><title>T</title><style>p{color:red}</style></head><body>"
       "<script>alert(1)</script>Hello</body></html>",
       "Hello"},
      {"comments and conditional comments dropped",
       "a<!-- hidden -->b<!--[if mso]><p>mso</p><![endif]-->c", "abc"},
      {"blockquotes dropped, nested too",
       "Reply<blockquote>quoted<blockquote>deeper</blockquote>still quoted</blockquote>after",
       "Reply\nafter"},
      {"list items", "<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
      {"pre keeps white space", "<pre>a  b\n  c</pre>", "a  b\n  c"},
      {"table cells are spaced", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
       "a b\nc"},
      {"stray less-than is text", "1 < 2 and 3 <4", "1 < 2 and 3 <4"},
      {"quoted attribute holding >", "<a title=\"x > y\" href='z'>link</a> text", "link text"},
      {"unclosed tag at the end", "text <div class=\"x", "text"},
      {"unclosed title is ignored, unclosed style drops the rest", "<title>Hi there<style>x",
       "Hi there"},
      {"Outlook paragraphs",
       "<p class=MsoNormal>Line one<o:p></o:p></p><p class=MsoNormal>"
       "<o:p>&nbsp;</o:p></p><p class=MsoNormal>Line two<o:p></o:p></p>",
       "Line one\n\nLine two"},
      {"invalid UTF-8 is replaced", "caf\xE9", "caf\xEF\xBF\xBD"},
      {"NUL reference", "a&#0;b",
       "a\xEF\xBF\xBD"
       "b"},
      {"empty", "", ""},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    CHECK(html_to_text(row.html) == row.text);
  }
}

TEST_CASE("html_to_text stays linear on hostile markup", "[conversations]") {
  std::string many_titles;
  std::string many_tags;
  for (int i = 0; i < 100000; ++i) {
    many_titles += "<title>";
    many_tags += "<b>x";
  }
  CHECK(html_to_text(many_titles).empty());
  CHECK(html_to_text(many_tags).size() == 100000);
  CHECK(html_to_text(std::string(200000, '<')).size() == 200000);
}

}  // namespace
}  // namespace homeroom::conversations
