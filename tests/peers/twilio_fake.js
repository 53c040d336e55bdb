#!/usr/bin/env node
// A loopback fake of Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json), for
// integration tests and benchmarks. Node's http server only.
//
//   node twilio_fake.js --port-file FILE --sid AC... --token TOKEN [--record FILE.jsonl]
//        [--stopped +1555...,+1555...] [--invalid +1555...,...] [--throttle-first N]
//        [--fail-first N] [--quiet]
//
// Listens on 127.0.0.1:0 and writes the port to --port-file once ready. Checks Basic auth
// (401 {"code":20003} otherwise), records each form request as one JSON line
// {"method","path","auth","content_type","form":{...},"raw","at": ms since the epoch} to --record, and answers:
//   - 429 {"code":20429} with Retry-After: 1 for the first N requests (--throttle-first N),
//   - then 500 {"code":20500} for the next N (--fail-first N),
//   - 400 {"code":21610} for a To listed in --stopped,
//   - 400 {"code":21211} for a To listed in --invalid (not a valid phone number: permanent),
//   - 400 {"code":21604} when To is missing or Body is empty,
//   - else 201 with a Message resource ({"sid":"SM...","status":"queued",...}).
// Exits on SIGTERM/SIGINT after flushing the record.
'use strict';
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');

function parseArgs(argv) {
  const args = {stopped: [], invalid: [], throttleFirst: 0, failFirst: 0, quiet: false};
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--port-file') args.portFile = next();
    else if (a === '--record') args.record = next();
    else if (a === '--sid') args.sid = next();
    else if (a === '--token') args.token = next();
    else if (a === '--stopped') args.stopped = next().split(',').filter(Boolean);
    else if (a === '--invalid') args.invalid = next().split(',').filter(Boolean);
    else if (a === '--throttle-first') args.throttleFirst = parseInt(next(), 10);
    else if (a === '--fail-first') args.failFirst = parseInt(next(), 10);
    else if (a === '--quiet') args.quiet = true;
    else { process.stderr.write(`twilio_fake: unknown argument ${a}\n`); process.exit(2); }
  }
  if (!args.portFile || !args.sid || !args.token) {
    process.stderr.write('twilio_fake: --port-file, --sid and --token are required\n');
    process.exit(2);
  }
  return args;
}

const args = parseArgs(process.argv);
const expectedAuth = 'Basic ' + Buffer.from(`${args.sid}:${args.token}`).toString('base64');
const recordFd = args.record ? fs.openSync(args.record, 'a') : null;
let pending = [];
let requests = 0;

function flush() {
  if (recordFd !== null && pending.length > 0) {
    fs.writeSync(recordFd, pending.join(''));
    pending = [];
  }
}
setInterval(flush, 50).unref();

function send(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, Object.assign({
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  }, headers));
  res.end(body);
}

function twilioError(res, status, code, message, headers) {
  send(res, status, {code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status},
       headers);
}

const messagesPath = `/2010-04-01/Accounts/${args.sid}/Messages.json`;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = req.url.split('?')[0];
    if (req.method !== 'POST' || path !== messagesPath) {
      return twilioError(res, 404, 20404, 'The requested resource was not found');
    }
    if (req.headers.authorization !== expectedAuth) {
      return twilioError(res, 401, 20003, 'Authenticate');
    }
    const form = {};
    for (const [k, v] of new URLSearchParams(raw)) {
      if (k in form) form[k] = [].concat(form[k], v); else form[k] = v;
    }
    if (recordFd !== null) {
      pending.push(JSON.stringify({
        method: req.method, path, auth: req.headers.authorization,
        content_type: req.headers['content-type'] || '', form, raw, at: Date.now(),
      }) + '\n');
    }
    const n = ++requests;
    if (n <= args.throttleFirst) {
      return twilioError(res, 429, 20429, 'Too Many Requests', {'Retry-After': '1'});
    }
    if (n <= args.throttleFirst + args.failFirst) {
      return twilioError(res, 500, 20500, 'Internal Server Error');
    }
    if (!form.To || (!form.From && !form.MessagingServiceSid)) {
      return twilioError(res, 400, 21604, "A 'To' phone number is required.");
    }
    if (args.invalid.includes(form.To)) {
      return twilioError(res, 400, 21211, `The 'To' number ${form.To} is not a valid phone number.`);
    }
    if (args.stopped.includes(form.To)) {
      return twilioError(res, 400, 21610, 'Attempt to send to unsubscribed recipient');
    }
    if (!form.Body) return twilioError(res, 400, 21602, 'Message body is required.');
    const sid = 'SM' + crypto.randomBytes(16).toString('hex');
    const now = new Date().toUTCString();
    send(res, 201, {
      account_sid: args.sid, api_version: '2010-04-01', body: form.Body,
      date_created: now, date_updated: now, date_sent: null, direction: 'outbound-api',
      error_code: null, error_message: null, from: form.From || null,
      messaging_service_sid: form.MessagingServiceSid || null, num_media: '0',
      num_segments: '1', price: null, price_unit: 'USD', sid, status: 'queued',
      to: form.To, uri: `/2010-04-01/Accounts/${args.sid}/Messages/${sid}.json`,
    });
  });
});
server.keepAliveTimeout = 60000;

function stop() {
  flush();
  server.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  fs.writeFileSync(args.portFile + '.tmp', String(port));
  fs.renameSync(args.portFile + '.tmp', args.portFile);
  if (!args.quiet) process.stderr.write(`twilio_fake: listening on 127.0.0.1:${port}\n`);
});
