#!/usr/bin/env node
// Parses one .eml file with npm mailparser (what many webmail and helpdesk tools use) and prints
// what a reader would see as JSON: subject, text, html, replyTo, messageId, and the
// list-unsubscribe / list-unsubscribe-post headers as received.
//
// Usage: node tests/peers/parse_mail.js FILE.eml
// mailparser is lenient (a broken encoding parses without error); strict checks belong to Python's
// email package (tests/unit/render/check_mime.py). Exit 1 on a read or parse error.
'use strict';

const fs = require('fs');
const path = require('path');
const { simpleParser } = require(path.join(__dirname, '..', 'node_modules', 'mailparser'));

async function main() {
  const file = process.argv[2];
  if (!file) throw new Error('usage: parse_mail.js FILE.eml');
  const mail = await simpleParser(fs.readFileSync(file));
  // mailparser turns List-* headers into a structured object; keep the raw text too.
  const raw = (name) => {
    const line = mail.headerLines.find((h) => h.key === name);
    return line ? line.line.slice(line.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim()
                : null;
  };
  const out = {
    subject: mail.subject ?? null,
    text: mail.text ?? null,
    html: typeof mail.html === 'string' ? mail.html : null,
    replyTo: mail.replyTo ? mail.replyTo.text : null,
    messageId: mail.messageId ?? null,
    language: mail.headers.get('content-language') ?? null,
    headers: {
      'list-unsubscribe': raw('list-unsubscribe'),
      'list-unsubscribe-post': raw('list-unsubscribe-post'),
    },
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
