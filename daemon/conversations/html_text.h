// Plain text from the HTML body of an email, for the replies that come with no text/plain part
// (Outlook on the web, some phone clients). Not a renderer: it keeps what a person wrote and its
// line structure, and drops what a person would not read as the message.
//  - Dropped with their content: <head>, <style>, <script>, <title>, <template>, comments
//    (conditional comments included), and every <blockquote> (quoted history in replies).
//  - <br> is a line break; <p>, <div>, <tr>, <li>, <h1>..<h6>, <table>, <ul>, <ol>, <hr>,
//    <section>, <article>, <header>, <footer> start a new line; <li> lines start with "- ".
//  - Elsewhere runs of white space collapse to one space (kept as they are inside <pre>).
//  - Character references: every numeric one (&#233; &#xE9;) and the common named ones (&amp;
//    &nbsp; &eacute; &rsquo; ... about 100); an unknown or malformed one is kept as written.
//  - Lines are right-trimmed, more than one blank line in a row becomes one, and the result is
//    trimmed.
// Tags are never parsed into a tree, so malformed HTML (unclosed tags, stray '<') cannot make the
// work more than linear in the input. The input should be UTF-8 (mime_parse converts parts first);
// the result is always valid UTF-8.
//
// Pure function, no I/O, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace homeroom::conversations {

std::string html_to_text(std::string_view html);

}  // namespace homeroom::conversations
