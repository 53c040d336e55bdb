#!/usr/bin/env node
// Prints the X-Twilio-Signature the real npm `twilio` package expects for a request:
//   node twilio_sign.js AUTH_TOKEN URL PARAMS_JSON
// PARAMS_JSON is an object of string values, or arrays of strings for repeated keys. Nothing but
// the signature is printed (no newline), so a test can compare it byte for byte.
'use strict';
const path = require('path');
let webhooks;
try {
  webhooks = require(path.join(__dirname, '..', 'node_modules', 'twilio', 'lib', 'webhooks', 'webhooks'));
} catch (e) {
  webhooks = require('twilio');
}
const [token, url, json] = process.argv.slice(2);
if (token === undefined || url === undefined || json === undefined) {
  process.stderr.write('usage: twilio_sign.js AUTH_TOKEN URL PARAMS_JSON\n');
  process.exit(2);
}
process.stdout.write(webhooks.getExpectedTwilioSignature(token, url, JSON.parse(json)));
