#!/usr/bin/env node
// Web Push reference check for tests: a subscriber's side, built on npm http_ece and node crypto.
//
//   webpush_check.js keygen --out KEYS.json
//     A subscriber key pair and auth secret (base64url), like a browser's PushSubscription.
//   webpush_check.js check --keys KEYS.json --body BODY.bin --authorization 'vapid t=..., k=...'
//                          --vapid-public-key B64URL --aud ORIGIN --exp SECONDS --sub SUBJECT
//                          --out PLAINTEXT
//     Decrypts BODY (RFC 8291 aes128gcm) into PLAINTEXT and verifies the VAPID JWT (ES256, raw
//     r||s) and its claims. Exits 1 with a reason on any mismatch.
//   webpush_check.js serve --port-file FILE --keys KEYS.json --vapid-public-key B64URL
//                          --sub SUBJECT --exp SECONDS|any --record FILE [--gone PATH,PATH]
//     A loopback push service on 127.0.0.1:0 (port to --port-file): each POST must carry
//     Content-Encoding aes128gcm, a TTL and a VAPID JWT for aud http://127.0.0.1:PORT; the body is
//     decrypted and {path, plaintext, ttl, urgency} appended to --record (JSON lines). Answers 201
//     with a Location, 410 for a path in --gone, 400 with the reason when a check fails.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const ece = require(path.join(__dirname, '..', 'node_modules', 'http_ece'));

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const fail = (msg) => { console.error('webpush_check: ' + msg); process.exit(1); };

function keygen(a) {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  fs.writeFileSync(a.out, JSON.stringify({
    privateKey: b64url(ecdh.getPrivateKey()),
    p256dh: b64url(ecdh.getPublicKey()),
    auth: b64url(crypto.randomBytes(16)),
  }));
}

function verifyJwt(a) {
  const why = jwtProblem(a);
  if (why) fail(why);
}

// The first thing wrong with the VAPID Authorization in `a`, or ''.
function jwtProblem(a) {
  try {
    jwtCheck(a);
    return '';
  } catch (e) {
    return e.message;
  }
}

function jwtCheck(a) {
  const fail = (msg) => { throw new Error(msg); };
  const m = /^vapid t=([A-Za-z0-9_.-]+), k=([A-Za-z0-9_-]+)$/.exec(a.authorization || '');
  if (!m) fail('Authorization is not "vapid t=<jwt>, k=<key>": ' + a.authorization);
  const [, jwt, k] = m;
  if (k !== a['vapid-public-key']) fail('k= is not the VAPID public key');
  const [h, c, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(c, 'base64url'));
  if (header.typ !== 'JWT' || header.alg !== 'ES256') fail('JWT header ' + JSON.stringify(header));
  const point = Buffer.from(k, 'base64url');
  if (point.length !== 65 || point[0] !== 4) fail('VAPID key is not an uncompressed point');
  const key = crypto.createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) },
    format: 'jwk',
  });
  const sig = Buffer.from(s, 'base64url');
  if (sig.length !== 64) fail('ES256 signature is ' + sig.length + ' bytes, not raw r||s (64)');
  if (!crypto.verify('sha256', Buffer.from(h + '.' + c), { key, dsaEncoding: 'ieee-p1363' }, sig)) {
    fail('VAPID JWT signature does not verify');
  }
  if (claims.aud !== a.aud) fail('aud ' + claims.aud + ' != ' + a.aud);
  if (a.exp === 'any') {
    // A daemon on the real clock: RFC 8292 wants exp in the future and at most 24 h away.
    const now = Math.floor(Date.now() / 1000);
    if (!(claims.exp > now && claims.exp <= now + 86400)) fail('exp ' + claims.exp + ' not in (now, now+24h]');
  } else if (claims.exp !== Number(a.exp)) {
    fail('exp ' + claims.exp + ' != ' + a.exp);
  }
  if (claims.sub !== a.sub) fail('sub ' + claims.sub + ' != ' + a.sub);
}

function check(a) {
  const keys = JSON.parse(fs.readFileSync(a.keys, 'utf8'));
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(keys.privateKey, 'base64url'));
  verifyJwt(a);
  let plaintext;
  try {
    plaintext = ece.decrypt(fs.readFileSync(a.body), {
      version: 'aes128gcm', privateKey: ecdh, authSecret: keys.auth,
    });
  } catch (e) {
    fail('decrypt: ' + e.message);
  }
  fs.writeFileSync(a.out, plaintext);
  process.stdout.write(plaintext);
}

function serve(a) {
  const http = require('http');
  const keys = JSON.parse(fs.readFileSync(a.keys, 'utf8'));
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(keys.privateKey, 'base64url'));
  const gone = new Set((a.gone || '').split(',').filter(Boolean));
  let port = 0;
  let count = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const answer = (status, text, headers = {}) => {
        res.writeHead(status, headers);
        res.end(text);
      };
      if (gone.has(req.url)) return answer(410, 'subscription gone');
      const h = req.headers;
      const bad = req.method !== 'POST' ? 'method ' + req.method
        : h['content-encoding'] !== 'aes128gcm' ? 'Content-Encoding ' + h['content-encoding']
        : h['content-type'] !== 'application/octet-stream' ? 'Content-Type ' + h['content-type']
        : !/^[0-9]+$/.test(h.ttl || '') ? 'TTL ' + h.ttl
        : !['high', 'normal'].includes(h.urgency) ? 'Urgency ' + h.urgency
        : jwtProblem({ authorization: h.authorization, 'vapid-public-key': a['vapid-public-key'],
          aud: 'http://127.0.0.1:' + port, exp: a.exp, sub: a.sub });
      if (bad) return answer(400, bad);
      let plaintext;
      try {
        plaintext = ece.decrypt(Buffer.concat(chunks), {
          version: 'aes128gcm', privateKey: ecdh, authSecret: keys.auth,
        });
      } catch (e) {
        return answer(400, 'decrypt: ' + e.message);
      }
      fs.appendFileSync(a.record, JSON.stringify({
        path: req.url, plaintext: plaintext.toString('utf8'), ttl: h.ttl, urgency: h.urgency,
      }) + '\n');
      count++;
      answer(201, '', { Location: 'http://127.0.0.1:' + port + '/m/' + count });
    });
  });
  server.listen(0, '127.0.0.1', () => {
    port = server.address().port;
    fs.writeFileSync(a['port-file'] + '.tmp', String(port));
    fs.renameSync(a['port-file'] + '.tmp', a['port-file']);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'keygen') keygen(args(rest));
else if (mode === 'check') check(args(rest));
else if (mode === 'serve') serve(args(rest));
else fail('usage: webpush_check.js keygen|check|serve ...');
