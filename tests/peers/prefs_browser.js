// A family opens its preferences link in a real browser (Debian's headless chromium, driven by npm
// playwright-core) with JavaScript OFF, so the page must work as plain HTML: it puts one channel
// first, chooses a language, sets quiet hours and submits the form.
//
//   node prefs_browser.js URL --first sms --language es --quiet 20:00-07:00 --user-data-dir DIR
//
// Prints one JSON line: {"form": {...what the form page showed...}, "result": {status, lang,
// title, text}} for the page the submit led to. Exits non-zero (with the reason on stderr) when the
// browser cannot do what a person would.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const args = { url: argv[0], first: 'sms', language: 'es', quiet: '20:00-07:00', userDataDir: '' };
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (key === '--first') args.first = value;
    else if (key === '--language') args.language = value;
    else if (key === '--quiet') args.quiet = value;
    else if (key === '--user-data-dir') args.userDataDir = value;
    else throw new Error('unknown switch ' + key);
  }
  if (!args.url) throw new Error('usage: prefs_browser.js URL [--first CH] [--language L] ...');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const userDataDir = args.userDataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'prefs-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    javaScriptEnabled: false, // the page must work without JavaScript
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
    timeout: 30000,
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(15000);
    const opened = await page.goto(args.url);
    if (!opened || opened.status() !== 200) {
      throw new Error('opening the link gave HTTP ' + (opened ? opened.status() : 'nothing'));
    }
    const form = {
      lang: await page.getAttribute('html', 'lang'),
      heading: (await page.textContent('h1')).trim(),
      channel1: await page.inputValue('select[name=channel1]'),
      channel2: await page.inputValue('select[name=channel2]'),
      language: await page.inputValue('select[name=language]'),
    };

    // Reorder by label, as a person would: the first choice becomes args.first and the channel
    // that was first moves to second place.
    const previousFirst = form.channel1;
    await page.getByLabel(/^1st choice$|^1\.ª opción$/).selectOption(args.first);
    if (previousFirst !== args.first) {
      await page.getByLabel(/^2nd choice$|^2\.ª opción$/).selectOption(previousFirst);
    }
    await page.selectOption('select[name=language]', args.language);
    const [start, end] = args.quiet.split('-');
    await page.fill('input[name=quiet_start]', start);
    await page.fill('input[name=quiet_end]', end);
    const [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.click('button[type=submit]'),
    ]);
    const result = {
      status: response ? response.status() : 0,
      lang: await page.getAttribute('html', 'lang'),
      title: await page.title(),
      text: await page.innerText('body'),
    };
    process.stdout.write(JSON.stringify({ form, result }) + '\n');
  } finally {
    await context.close();
  }
}

main().catch((err) => {
  process.stderr.write('prefs_browser: ' + (err && err.stack ? err.stack : String(err)) + '\n');
  process.exit(1);
});
