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
  if (claims.exp !== Number(a.exp)) fail('exp ' + claims.exp + ' != ' + a.exp);
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

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'keygen') keygen(args(rest));
else if (mode === 'check') check(args(rest));
else fail('usage: webpush_check.js keygen|check ...');
