// Browser sign-in with web auth on, in Debian's headless chromium (playwright-core): the page
// answers 401 with the sign-in form, a wrong password is refused in words, the right one (and,
// in a second browser, a bearer token) signs in, the study list shows SPEC.study, the session
// cookie is HttpOnly and SameSite=Strict, the viewer at /viewer loads with the cookie alone,
// and signing out brings the form back. Screenshots in OUT_DIR.
// Usage: node signin.cjs BASE_URL OUT_DIR SPEC.json
// SPEC: {"user", "password", "token", "study", "viewer": true|false}
'use strict';
const fs = require('fs');
const path = require('path');
const harness = require('./harness.cjs');

const [base, outDir, specFile] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const { check, finish } = harness.checker();

// The refusals this test provokes on purpose: the unauthenticated page (401), the wrong
// password (401), a sign-out without the page's header (403).
let sessionEnded = false;  // then the page's own requests get 401 until it signs in again
const provoked = (url, status) => (status === 401 && url === base + '/') ||
  (status === 401 && sessionEnded && (url.startsWith(base + '/api/') || url.startsWith(base + '/dicomweb/'))) ||
  ((status === 401 || status === 403) && url.startsWith(base + '/api/session'));

async function signIn(page, fields) {
  for (const [id, value] of Object.entries(fields)) await page.fill(id, value);
  await Promise.all([page.waitForNavigation(), page.click('#signin-submit')]);
}

harness.run(async () => {
  const browser = await harness.launch(['--lang=en-US']);
  for (const how of ['password', 'token']) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30000);
    const errors = harness.watch(page, {
      ignore: provoked,
      ignoreConsole: (text) => /status of 40[13]/.test(text),
    });

    const first = await page.goto(base + '/');
    check(first.status() === 401, `${how}: the page without a session answers ${first.status()}`);
    await page.waitForSelector('#signin-form');
    check(true, `${how}: the sign-in form is shown`);
    await page.screenshot({ path: path.join(outDir, `signin-form-${how}.png`) });

    if (how === 'password') {
      await page.fill('#signin-user', spec.user);
      await page.fill('#signin-password', spec.password + '-wrong');
      await page.click('#signin-submit');
      await page.waitForFunction(() => /Not signed in/.test(document.getElementById('signin-error').textContent));
      const msg = await page.$eval('#signin-error', (e) => e.textContent);
      check(/wrong user name or password/.test(msg), `a wrong password is refused in words: "${msg}"`);
      await signIn(page, { '#signin-user': spec.user, '#signin-password': spec.password });
    } else {
      await signIn(page, { '#signin-token': spec.token });
    }
    await page.waitForSelector(`tr.study-row[data-uid="${spec.study}"]`);
    check(true, `${how}: signed in, the study list shows the study`);
    await page.screenshot({ path: path.join(outDir, `signin-studies-${how}.png`) });

    const cookies = await context.cookies(base);
    const c = cookies.find((k) => k.name === 'strata_session');
    check(c && c.httpOnly && c.sameSite === 'Strict' && c.path === '/' && /^[0-9a-f]{64}$/.test(c.value),
      `${how}: session cookie ${c ? `httpOnly=${c.httpOnly} sameSite=${c.sameSite}` : 'missing'}`);
    const visible = await page.evaluate(() => document.cookie);
    check(!/strata_session/.test(visible), `${how}: page scripts cannot read the session cookie`);
    const noHeader = await page.evaluate(async () => {
      const r = await fetch('/api/session', { method: 'DELETE' });
      await r.text();
      return r.status;
    });
    check(noHeader === 403, `${how}: a change with the cookie but without X-Strata-Request is refused (${noHeader})`);

    // What OHIF at /viewer needs, with the cookie alone: its files, and same-origin DICOMweb.
    const qido = await page.evaluate(async (uid) => {
      const r = await fetch('/dicomweb/studies?StudyInstanceUID=' + uid, { headers: { Accept: 'application/dicom+json' } });
      return { status: r.status, text: await r.text() };
    }, spec.study);
    check(qido.status === 200 && qido.text.includes(spec.study), `${how}: QIDO from the page with the cookie alone (${qido.status})`);
    if (spec.viewer) {
      const statuses = [];
      for (const f of ['/viewer', '/viewer/app-config.js']) statuses.push((await page.request.get(base + f)).status());
      check(statuses.every((s) => s === 200), `${how}: the viewer's files with the cookie alone (${statuses.join(',')})`);
    }

    // Sign out: the page's own request (with the header), then the form is back.
    await page.goto(base + '/');
    await page.waitForSelector('tr.study-row');
    const out = await page.evaluate(async () => {
      const r = await fetch('/api/session', { method: 'DELETE', headers: { 'X-Strata-Request': '1' } });
      await r.text();
      return r.status;
    });
    check(out === 204, `${how}: signed out (${out})`);
    // The page open meanwhile: its next request gets 401, and it asks in its own dialog.
    sessionEnded = true;
    await page.evaluate(() => { location.hash = '#/archive'; });
    await page.waitForSelector('#auth-dialog[open]');
    if (how === 'password') {
      await page.fill('#auth-user', spec.user);
      await page.fill('#auth-password', spec.password);
    } else {
      await page.fill('#auth-token', spec.token);
    }
    await page.click('#auth-submit');
    await page.waitForSelector('#stats');
    check(true, `${how}: the page's own sign-in dialog signs in again and the archive page loads`);
    const again = await page.evaluate(async () => {
      const r = await fetch('/api/session', { method: 'DELETE', headers: { 'X-Strata-Request': '1' } });
      await r.text();
      return r.status;
    });
    check(again === 204, `${how}: signed out again (${again})`);
    const after = await page.goto(base + '/');
    check(after.status() === 401 && (await page.$('#signin-form')) !== null, `${how}: after signing out the form is back`);
    check(errors.length === 0, `${how}: no console error or failed request` + (errors.length ? `:\n  ${errors.join('\n  ')}` : ''));
    await context.close();
  }
  await browser.close();
  finish();
});
