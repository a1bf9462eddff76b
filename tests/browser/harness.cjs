// What every browser test here shares: launching Debian's headless chromium through
// playwright-core, the ok/FAIL check lines and the exit status, and collecting a page's
// errors (page errors, console errors, failed requests, HTTP error answers).
'use strict';
const { chromium } = require('playwright-core');

const BASE_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Headless chromium ($CHROMIUM or /usr/bin/chromium) with BASE_ARGS and EXTRA_ARGS.
async function launch(extraArgs = []) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...BASE_ARGS, ...extraArgs],
  });
  console.log(`chromium ${browser.version()}`);
  return browser;
}

// check(ok, what) prints one line and counts failures; finish() prints the summary and exits.
function checker() {
  let failures = 0;
  const check = (ok, what) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) failures++;
    return ok;
  };
  const finish = () => {
    console.log(failures ? `${failures} check(s) failed` : 'all ok');
    process.exit(failures ? 1 : 0);
  };
  return { check, finish, failures: () => failures };
}

// Collects PAGE's errors into the returned array. OPTIONS.http (default true): HTTP answers
// >= 400 count as errors; OPTIONS.ignore(url, status) may exempt some.
function watch(page, options = {}) {
  const errors = [];
  const http = options.http !== false;
  const ignore = options.ignore || (() => false);
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !(options.ignoreConsole && options.ignoreConsole(m.text()))) errors.push(`console: ${m.text()}`);
  });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.method()} ${r.url()} ${r.failure() && r.failure().errorText}`));
  if (http) {
    page.on('response', (r) => {
      if (r.status() >= 400 && !ignore(r.url(), r.status())) errors.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
    });
  }
  return errors;
}

// Runs MAIN; an exception is a failure (exit 1) with its stack.
function run(main) {
  main().catch((e) => {
    console.error('FAIL', e && (e.stack || e.message));
    process.exit(1);
  });
}

module.exports = { launch, checker, watch, run };
