#!/usr/bin/env node
// A loopback fake of Google's OAuth token endpoint and the FCM HTTP v1 send endpoint, for tests.
//
//   fcm_fake.js --port-file FILE --public-key SA_PUBLIC.pem --client-email EMAIL --project ID
//               [--unregistered TOKEN,TOKEN]
//
// One HTTP server on 127.0.0.1:0 (the port goes to --port-file):
//   POST /token   the jwt-bearer grant: verifies the assertion's RS256 signature with the service
//                 account's public key and its claims (iss, scope, aud = this URL, exp - iat =
//                 3600); answers {"access_token","expires_in":3600} or 400 invalid_grant.
//   POST /v1/projects/ID/messages:send  checks the Bearer token was issued here (else 401) and the
//                 message shape; answers {"name"} or 404 UNREGISTERED for a listed token.
//   GET /stats    {"token_requests","sends","messages":[...],"errors":[...]}: what the test asserts.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const a = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) a[argv[i].replace(/^--/, '')] = argv[i + 1];
const publicKey = crypto.createPublicKey(fs.readFileSync(a['public-key']));
const unregistered = new Set((a.unregistered || '').split(',').filter(Boolean));
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

const stats = { token_requests: 0, sends: 0, messages: [], errors: [] };
const issued = new Set();
let port = 0;

function reply(res, status, obj) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

function checkAssertion(jwt) {
  const parts = (jwt || '').split('.');
  if (parts.length !== 3) return 'assertion is not a JWT';
  const header = JSON.parse(Buffer.from(parts[0], 'base64url'));
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
  if (header.alg !== 'RS256') return 'alg ' + header.alg;
  const ok = crypto.verify('sha256', Buffer.from(parts[0] + '.' + parts[1]), publicKey,
    Buffer.from(parts[2], 'base64url'));
  if (!ok) return 'Invalid JWT Signature.';
  if (claims.iss !== a['client-email']) return 'iss ' + claims.iss;
  if (claims.scope !== SCOPE) return 'scope ' + claims.scope;
  const aud = 'http://127.0.0.1:' + port + '/token';
  if (claims.aud !== aud) return 'aud ' + claims.aud + ' != ' + aud;
  if (!Number.isInteger(claims.iat) || claims.exp - claims.iat !== 3600) return 'exp - iat != 3600';
  return '';
}

function onToken(req, res, body) {
  stats.token_requests++;
  const form = new URLSearchParams(body);
  if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
    stats.errors.push('token content-type ' + req.headers['content-type']);
  }
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    stats.errors.push('grant_type ' + form.get('grant_type'));
    return reply(res, 400, { error: 'unsupported_grant_type' });
  }
  const why = checkAssertion(form.get('assertion'));
  if (why) {
    stats.errors.push('assertion: ' + why);
    return reply(res, 400, { error: 'invalid_grant', error_description: why });
  }
  const token = 'ya29.fake-' + crypto.randomBytes(12).toString('hex');
  issued.add(token);
  reply(res, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
}

function onSend(req, res, body) {
  stats.sends++;
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  if (!m || !issued.has(m[1])) {
    return reply(res, 401, { error: { code: 401, status: 'UNAUTHENTICATED', message: 'bad token' } });
  }
  let doc;
  try { doc = JSON.parse(body); } catch (e) { doc = null; }
  const msg = doc && doc.message;
  if (!msg || typeof msg.token !== 'string' || !msg.notification) {
    return reply(res, 400, { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'bad message' } });
  }
  stats.messages.push(msg);
  if (unregistered.has(msg.token)) {
    return reply(res, 404, {
      error: {
        code: 404, status: 'NOT_FOUND', message: 'Requested entity was not found.',
        details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }],
      },
    });
  }
  reply(res, 200, { name: 'projects/' + a.project + '/messages/' + stats.sends });
}

const server = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    if (req.method === 'POST' && path === '/token') return onToken(req, res, body);
    if (req.method === 'POST' && path === '/v1/projects/' + a.project + '/messages:send') {
      return onSend(req, res, body);
    }
    if (req.method === 'GET' && path === '/stats') return reply(res, 200, stats);
    reply(res, 404, { error: { code: 404, status: 'NOT_FOUND', message: 'no route ' + req.url } });
  });
});
server.listen(0, '127.0.0.1', () => {
  port = server.address().port;
  fs.writeFileSync(a['port-file'] + '.tmp', String(port));
  fs.renameSync(a['port-file'] + '.tmp', a['port-file']);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
